package fashion

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/experiment/experimenttest"
)

// tinyConfig has the layout of experiments/fashion.yaml at a scale
// that runs in seconds.
const tinyConfig = `name: fashion
description: tiny test configuration
quick:
  groups: [c4, c8]
  train_size: 200
  test_size: 40
  ood_size: 30
  blur_sigma: 1.5
  seed: 3
  ensemble_size: 2
  sizes: [1, 2, 4]
  cnn:
    arch: "conv(4,k=3),relu,maxpool(2),conv(8,k=3),relu,maxpool(2),flatten,dense(10)"
    param: standard
    members: 4
    steps: 40
    batch_size: 32
    optimizer: {name: adam, lr: 0.003}
  noaug_members: 2
  gcnn:
    arch: "lift({G},2,k=5,basis=fourier),relu,maxpool(2),gconv(4,k=3,basis=fourier),relu,gpool,dense(10)"
    param: standard
    members: 2
    steps: 20
    batch_size: 32
    optimizer: {name: adam, lr: 0.005}
  canon:
    arch: "canon({G},2,k=3,pool=2),{CNN}"
    param: standard
    members: 2
    steps: 20
    batch_size: 32
    optimizer: {name: adam, lr: 0.003}
  steps_curve:
    points: 4
    size: 10
  so2:
    angles: 8
    size: 20
full:
  groups: [c4]
`

// tinyResults are the parts of results.json the tiny run checks.
type tinyResults struct {
	Meta    map[string]any                 `json:"meta"`
	Groups  []string                       `json:"groups"`
	Methods []string                       `json:"methods"`
	OODSets []string                       `json:"ood_sets"`
	Table   map[string]map[string]tableRow `json:"table"`
	Paper   map[string]map[string]map[string]float64
	Curve   map[string][]curvePoint    `json:"curve"`
	Steps   map[string][]stepPoint     `json:"steps_curve"`
	SO2     map[string]json.RawMessage `json:"so2"`
	Timing  map[string]float64         `json:"timing"`
}

func TestFashionTiny(t *testing.T) {
	if _, err := data.FashionMNIST("test", ""); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	out := filepath.Join(t.TempDir(), "out")
	experimenttest.RunConfig(t, "fashion", tinyConfig, out)
	for _, f := range []string{"results.json", "report.md", "report.html", "figures/osp_paper_vs_ours.png", "figures/so2_agreement.png", "tables/paper_vs_ours.csv", "figures/osp_vs_steps.png", "tables/osp_vs_steps.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output %s: %v", f, err)
		}
	}
	var res tinyResults
	experimenttest.ReadResults(t, out, &res)
	if strings.Join(res.Groups, ",") != "c4,c8" || len(res.Methods) != 4 || strings.Join(res.OODSets, ",") != "mnist,blurred-noise" {
		t.Fatalf("groups %v, methods %v, ood sets %v", res.Groups, res.Methods, res.OODSets)
	}
	if res.Meta["experiment"] != "fashion" || res.Timing["total"] <= 0 {
		t.Errorf("meta %v, timing %v", res.Meta, res.Timing)
	}
	checkTinyRows(t, &res)
	checkTinySO2(t, &res)
	checkTinySteps(t, &res)
	// A second run reuses the members and their snapshots.
	experimenttest.RunConfig(t, "fashion", tinyConfig, out)
	var res2 tinyResults
	experimenttest.ReadResults(t, out, &res2)
	if !reflect.DeepEqual(res2.Steps, res.Steps) {
		t.Errorf("the rerun's steps curve differs:\n%+v\n%+v", res2.Steps, res.Steps)
	}
}

// checkTinySteps checks the OSP-vs-steps curve: the snapshot steps, the
// model counts and the initial CNNs' plausible (untrained) accuracy.
func checkTinySteps(t *testing.T, res *tinyResults) {
	for _, g := range res.Groups {
		c := res.Steps[g]
		var steps []int
		for _, pt := range c {
			steps = append(steps, pt.Step)
			if pt.Members.Models != 4 || pt.Ensembles.Models != 2 || pt.Ensembles.Size != 2 || pt.Members.OSPOOD < 1 || pt.Ensembles.OSPOOD < 1 {
				t.Errorf("%s step %d: members %+v, ensembles %+v", g, pt.Step, pt.Members, pt.Ensembles)
			}
		}
		if fmt.Sprint(steps) != "[0 10 20 40]" || c[len(c)-1].Fraction != 1 {
			t.Fatalf("%s: steps %v, want [0 10 20 40]", g, steps)
		}
		// The last snapshot is the trained network of the table.
		if last, da := c[len(c)-1].Members, res.Table[g]["only_da"]; last.Accuracy < da.Accuracy-0.3 || last.Accuracy > da.Accuracy+0.3 {
			t.Errorf("%s: accuracy at the last snapshot %.3f, table %.3f", g, last.Accuracy, da.Accuracy)
		}
	}
}

// checkTinyRows checks the table rows and curves of every group and the
// invariance of the GCNN and canonicalisation.
func checkTinyRows(t *testing.T, res *tinyResults) {
	for _, g := range res.Groups {
		rows := res.Table[g]
		for _, m := range append(res.Methods, "noaug") {
			r, ok := rows[m]
			if !ok {
				t.Fatalf("%s: no row %s", g, m)
			}
			if r.OSPOOD < 1 || r.Accuracy < 0 || r.Accuracy > 1 || r.Chance["pooled"] < 1 || r.Majority["pooled"] <= 0 {
				t.Errorf("%s %s: implausible row %+v", g, m, r)
			}
			if _, ok := r.OSPOODSet["mnist"]; !ok {
				t.Errorf("%s %s: no OSP on the MNIST digits", g, m)
			}
		}
		if rows["deepens_da"].Models != 2 || rows["deepens_da"].Size != 2 || rows["only_da"].Models != 4 {
			t.Errorf("%s: DeepEns+DA over %d ensembles of %d, only DA over %d CNNs; want 2 of 2 and 4", g, rows["deepens_da"].Models, rows["deepens_da"].Size, rows["only_da"].Models)
		}
		// An ensemble is at least as invariant as its average member (with
		// a small margin: this is typical, not a theorem, at this scale).
		if de, da := rows["deepens_da"], rows["only_da"]; de.OSPOOD < da.OSPOOD-0.05 || de.OSPID < da.OSPID-0.05 {
			t.Errorf("%s: DeepEns+DA OSP (OOD %.3f, test %.3f) below the mean member (%.3f, %.3f)", g, de.OSPOOD, de.OSPID, da.OSPOOD, da.OSPID)
		}
		if len(res.Curve[g]) != 3 || res.Paper[g]["deepens_da"]["osp_ood"] == 0 {
			t.Errorf("%s: curve %v, paper %v", g, res.Curve[g], res.Paper[g])
		}
		if _, ok := res.SO2[g]; !ok {
			t.Errorf("%s: no SO(2) evaluation", g)
		}
	}
	// C4 acts by pixel permutations: the GCNN and canonicalisation are
	// exactly invariant, on and off the data.
	for _, m := range []string{"e2cnn", "canon"} {
		r := res.Table["c4"][m]
		if r.OSPOOD != 4 || r.OSPID != 4 || r.OSPOODSet["mnist"] != 4 || r.OSPOODSet["blurred-noise"] != 4 {
			t.Errorf("c4 %s: OSP OOD %v (%v), test %v; want exactly 4", m, r.OSPOOD, r.OSPOODSet, r.OSPID)
		}
	}
	// C8 rotations interpolate: approximately, not exactly, invariant.
	if r := res.Table["c8"]["e2cnn"]; r.OSPID < 5 {
		t.Errorf("c8 GCNN OSP on test images %.2f, want close to 8", r.OSPID)
	}
}

// checkTinySO2 checks the SO(2) evaluation.
func checkTinySO2(t *testing.T, res *tinyResults) {
	var so2 so2Result
	if err := json.Unmarshal(res.SO2["c4"], &so2); err != nil {
		t.Fatal(err)
	}
	if len(so2.EnsembleAgreement) != 8 || so2.EnsembleAgreement[0] != 1 || so2.Ensemble.AgreeInGroup <= 0 {
		t.Errorf("SO(2) evaluation: %+v", so2)
	}
	var angles []float64
	if err := json.Unmarshal(res.SO2["angles"], &angles); err != nil || len(angles) != 8 || angles[2] != 90 {
		t.Errorf("SO(2) angles %v (%v), want multiples of 45", angles, err)
	}
}

func TestFashionConfigErrors(t *testing.T) {
	checkConfigErrors(t, tinyConfig, []configEdit{
		{"ensemble_size: 2", "ensemble_size: 5", "ensemble_size must be between 1 and cnn.members"},
		{"groups: [c4, c8]", "groups: [so2:8]", "not a finite rotation group"},
		{"angles: 8", "angles: 0", "so2: angles and size"},
		{"blur_sigma: 1.5", "blur_sigmas: 1.5", "blur_sigmas"},
		{"groups: [c4, c8]", "groups: [c4, d4]", "d4 contains reflections"},
		{"sizes: [1, 2, 4]", "sizes: [1, 0]", "sizes: ensemble sizes must be between 1 and cnn.members"},
		{"points: 4", "points: 1", "steps_curve.points must be 0"},
		{"size: 10", "size: 31", "steps_curve.size must be between 1 and min(test_size, ood_size) = 30"},
	})
}

// configEdit replaces from by to in a config, which must then fail with
// an error containing msg.
type configEdit struct{ from, to, msg string }

// checkConfigErrors runs the fashion experiment on base with each edit
// applied and checks its error.
func checkConfigErrors(t *testing.T, base string, edits []configEdit) {
	t.Helper()
	e, _ := experiment.Lookup("fashion")
	dir := t.TempDir()
	for _, tc := range edits {
		cfg := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(cfg, []byte(strings.Replace(base, tc.from, tc.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		env := &experiment.Env{Out: filepath.Join(dir, "out"), Scale: "quick"}
		err := experiment.Run(context.Background(), e, env, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want one containing %q", tc.to, err, tc.msg)
		}
	}
}
