package fashion

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment/experimenttest"
)

func TestScaleChannels(t *testing.T) {
	const cnn = "conv(16,k=3),relu,maxpool(2),conv(32,k=3),relu,flatten,dense(10)"
	for _, tc := range []struct {
		arch  string
		m     float64
		want  string
		chans []int
		err   string
	}{
		{cnn, 1, cnn, []int{16, 32}, ""},
		{cnn, 0.5, "conv(8,k=3),relu,maxpool(2),conv(16,k=3),relu,flatten,dense(10)", []int{8, 16}, ""},
		{cnn, 2, "conv(32,k=3),relu,maxpool(2),conv(64,k=3),relu,flatten,dense(10)", []int{32, 64}, ""},
		{cnn, 0.3, "conv(5,k=3),relu,maxpool(2),conv(10,k=3),relu,flatten,dense(10)", []int{5, 10}, ""},
		{cnn, 0.01, "conv(1,k=3),relu,maxpool(2),conv(1,k=3),relu,flatten,dense(10)", []int{1, 1}, ""},
		{"canon(c4,8,k=5,pool=2),conv(8,k=3),relu,gconv(4,k=3)", 2, "canon(c4,8,k=5,pool=2),conv(16,k=3),relu,gconv(4,k=3)", []int{16}, ""},
		{"dense(64),relu,dense(10)", 2, "", nil, "no conv layer"},
	} {
		got, chans, err := scaleChannels(tc.arch, tc.m)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s ×%g: error %v, want one containing %q", tc.arch, tc.m, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || fmt.Sprint(chans) != fmt.Sprint(tc.chans) {
			t.Errorf("%s ×%g = %q %v (%v), want %q %v", tc.arch, tc.m, got, chans, err, tc.want, tc.chans)
		}
	}
}

// tinyWidth is a width sweep alone at a scale that runs in seconds; WIDTH
// is replaced by the width section.
const tinyWidth = `name: fashion
description: tiny width sweep
quick:
  groups: GROUPS
  train_size: 200
  test_size: 40
  ood_size: 30
  blur_sigma: 1.5
  seed: 3
  ensemble_size: 2
  cnn:
    arch: "conv(4,k=3),relu,maxpool(2),conv(8,k=3),relu,maxpool(2),flatten,dense(10)"
    param: standard
    members: 2
    steps: 30
    batch_size: 32
    optimizer: {name: adam, lr: 0.003}
  gcnn:
    arch: "lift({G},2,k=3),relu,gpool,dense(10)"
    param: standard
    members: 1
    steps: 10
    batch_size: 32
    optimizer: {name: adam, lr: 0.005}
  canon:
    arch: "canon({G},2,k=3,pool=2),{CNN}"
    param: standard
    members: 1
    steps: 10
    batch_size: 32
    optimizer: {name: adam, lr: 0.003}
  width:
    group: c8
    multipliers: [0.5, 1, 2]
    members: 4
full:
  groups: [c4]
`

// widthResults are the parts of results.json the width tests check.
type widthResults struct {
	Table map[string]json.RawMessage `json:"table"`
	Width struct {
		Group        string       `json:"group"`
		Multipliers  []float64    `json:"multipliers"`
		Members      int          `json:"members"`
		EnsembleSize int          `json:"ensemble_size"`
		Points       []widthPoint `json:"points"`
	} `json:"width"`
}

// TestFashionWidthTiny runs the width sweep alone (as
// experiments/fashion-width.yaml does) and with the comparison table.
func TestFashionWidthTiny(t *testing.T) {
	if _, err := data.FashionMNIST("test", ""); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	for _, tc := range []struct {
		name, groups string
		wantTable    bool
	}{
		{"alone", "[]", false},
		{"with the table", "[c4]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			experimenttest.RunConfig(t, "fashion", strings.Replace(tinyWidth, "GROUPS", tc.groups, 1), out)
			for _, f := range []string{"figures/osp_vs_width.png", "figures/osp_vs_width.svg", "tables/osp_vs_width.csv", "report.md"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("missing output %s: %v", f, err)
				}
			}
			var res widthResults
			experimenttest.ReadResults(t, out, &res)
			if (res.Table != nil) != tc.wantTable {
				t.Errorf("table in results.json: %v, want %v", res.Table != nil, tc.wantTable)
			}
			checkWidthPoints(t, &res)
		})
	}
}

// checkWidthPoints checks the sweep's points: one per multiplier with the
// scaled channels, four members and two ensembles of two, plausible OSP.
func checkWidthPoints(t *testing.T, res *widthResults) {
	w := res.Width
	if w.Group != "c8" || w.Members != 4 || w.EnsembleSize != 2 || len(w.Points) != 3 {
		t.Fatalf("width: group %s, %d members, ensembles of %d, %d points", w.Group, w.Members, w.EnsembleSize, len(w.Points))
	}
	wantChans := []string{"[2 4]", "[4 8]", "[8 16]"}
	for i, pt := range w.Points {
		if pt.Multiplier != w.Multipliers[i] || fmt.Sprint(pt.Channels) != wantChans[i] || pt.Parameters <= 0 {
			t.Errorf("point %d: ×%g, channels %v, %d parameters", i, pt.Multiplier, pt.Channels, pt.Parameters)
		}
		m, e := pt.Members, pt.Ensembles
		if m.Models != 4 || e.Models != 2 || e.Size != 2 {
			t.Errorf("×%g: %d members, %d ensembles of %d; want 4, 2 of 2", pt.Multiplier, m.Models, e.Models, e.Size)
		}
		for _, r := range []tableRow{m, e} {
			if r.OSPOOD < 1 || r.OSPOOD > 8 || r.OSPID < 1 || r.OSPID > 8 || r.Accuracy < 0 || r.Accuracy > 1 || r.Chance["pooled"] < 1 {
				t.Errorf("×%g: implausible row %+v", pt.Multiplier, r)
			}
		}
		if pt.Multiplier > 1 && pt.Parameters <= w.Points[i-1].Parameters {
			t.Errorf("×%g has %d parameters, not more than ×%g", pt.Multiplier, pt.Parameters, w.Points[i-1].Multiplier)
		}
	}
}

func TestFashionWidthConfigErrors(t *testing.T) {
	alone := strings.Replace(tinyWidth, "GROUPS", "[]", 1)
	checkConfigErrors(t, alone, []configEdit{
		{"multipliers: [0.5, 1, 2]", "multipliers: []", "width: multipliers: list at least one"},
		{"multipliers: [0.5, 1, 2]", "multipliers: [0.5, 0]", "multipliers must be in (0, 64]"},
		{"members: 4", "members: 1", "width: members (1) must be at least ensemble_size (2)"},
		{"group: c8", "group: d4", "width: group: d4 contains reflections"},
		{`arch: "conv(4,k=3),relu,maxpool(2),conv(8,k=3),relu,maxpool(2),flatten,dense(10)"`, `arch: "dense(8),relu,dense(10)"`, "no conv layer"},
		{"  width:\n    group: c8\n    multipliers: [0.5, 1, 2]\n    members: 4\n", "", "groups: list at least one group (c4, c8, c16), or configure width"},
		{"multipliers:", "multiplier:", "multiplier"},
	})
}

// TestFashionWidthConfigFile checks that both scales of
// experiments/fashion-width.yaml decode and pass the checks, and that its
// full scale trains the DeepEns+DA members of experiments/fashion.yaml at
// multiplier 1.
func TestFashionWidthConfigFile(t *testing.T) {
	load := func(file, scale string) *params {
		var p params
		experimenttest.DecodeConfig(t, "fashion", scale, filepath.Join("..", "..", "experiments", file), &p)
		if err := checkParams(&p); err != nil {
			t.Fatalf("%s %s: %v", file, scale, err)
		}
		return &p
	}
	for _, scale := range []string{"quick", "full"} {
		p := load("fashion-width.yaml", scale)
		if p.Width == nil || len(p.Groups) != 0 || len(p.Width.Multipliers) < 3 {
			t.Errorf("%s: width %+v, groups %v; want the sweep alone at three widths or more", scale, p.Width, p.Groups)
		}
	}
	w, f := load("fashion-width.yaml", "full"), load("fashion.yaml", "full")
	if w.TrainSize != f.TrainSize || w.TestSize != f.TestSize || w.OODSize != f.OODSize || w.Seed != f.Seed || w.BlurSigma != f.BlurSigma ||
		w.EnsembleSize != f.EnsembleSize || fmt.Sprintf("%+v", w.CNN.ModelParams) != fmt.Sprintf("%+v", f.CNN.ModelParams) {
		t.Errorf("fashion-width.yaml full differs from fashion.yaml full in data or CNN:\n%+v\n%+v", w, f)
	}
	if f.Width != nil {
		t.Error("fashion.yaml runs the width sweep: keep it in fashion-width.yaml (the full run's time)")
	}
}
