package histology

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eqens/eqens/experiment/experimenttest"
	"github.com/eqens/eqens/npy"
)

// writePathMNISTFixture writes a PathMNIST-format npz (SPLIT_images
// N×28×28×3 uint8, SPLIT_labels N×1 uint8) whose 9 classes differ by
// colour and texture, like tissue types.
func writePathMNISTFixture(t *testing.T, p string, counts map[string]int) {
	t.Helper()
	const size = 28
	rng := rand.New(rand.NewPCG(7, 8))
	arrays := map[string]*npy.Array{}
	for split, n := range counts {
		pix := make([]uint8, n*size*size*3)
		labels := make([]uint8, n)
		for i := range n {
			c := i % 9
			labels[i] = uint8(c)
			freq := 0.3 + 0.15*float64(c%3)
			for y := range size {
				for x := range size {
					tex := math.Sin(freq*float64(x)+rng.Float64()) * math.Cos(freq*float64(y))
					for ch := range 3 {
						base := 60 + 20*float64((c+ch*4)%9)
						v := base + 30*tex + 15*rng.NormFloat64()
						pix[((i*size+y)*size+x)*3+ch] = uint8(math.Max(0, math.Min(255, v)))
					}
				}
			}
		}
		arrays[split+"_images"] = npy.FromUint8([]int{n, size, size, 3}, pix)
		arrays[split+"_labels"] = npy.FromUint8([]int{n, 1}, labels)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteNPZCompressed(p, arrays); err != nil {
		t.Fatal(err)
	}
}

const tinyConfig = `  dataset: pathmnist
  file: FILE
  groups: [c4, d4]
  train_size: 90
  test_size: 30
  ood_size: 10
  blur: 2
  seed: 1
  sizes: [1, 2]
  cnn:
    arch: "conv(4,k=3),relu,maxpool(2),conv(4,k=3),relu,maxpool(2),conv(9,k=7,padding=valid)"
    param: standard
    members: 2
    steps: 10
    batch_size: 16
    optimizer: {name: adam, lr: 0.003}
  noaug_members: 1
  ntk:
    pool: 4
    arch: "conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)"
    gcnn: "lift({group},4,k=3),relu,gconv(4,k=3,support=e),relu,gpool,dense(1)"
    check_inputs: 2
    train_sizes: [9, 18]
    test_size: 30
    reg: 0.001
`

func TestHistologyExperiment(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	fixture := filepath.Join(t.TempDir(), "pathmnist.npz")
	writePathMNISTFixture(t, fixture, map[string]int{"train": 120, "val": 9, "test": 60})
	res, out := experimenttest.Run(t, "histology", strings.Replace(tinyConfig, "FILE", fixture, 1), dataDir)
	for _, g := range []string{"c4", "d4"} {
		gr := experimenttest.At(t, res, "groups", g)
		for _, m := range []string{"member_da", "ensemble_da", "ensemble_noaug"} {
			if a := experimenttest.Num(t, gr, "models", m, "accuracy"); a < 0 || a > 1 {
				t.Errorf("%s %s accuracy %g", g, m, a)
			}
			if o, max := experimenttest.Num(t, gr, "models", m, "osp_ood"), experimenttest.Num(t, gr, "order"); o < 1 || o > max {
				t.Errorf("%s %s OOD OSP %g outside 1..%g", g, m, o, max)
			}
		}
		if n := len(experimenttest.At(t, gr, "curve").([]any)); n != 2 {
			t.Errorf("%s curve has %d points", g, n)
		}
	}
	experimenttest.CheckOrbitNTK(t, res, 2)
	if o := experimenttest.Num(t, res, "ntk", "osp", "cnn", "d4"); o < 1 || o > 8 {
		t.Errorf("CNN NTK OSP %g", o)
	}
	for _, f := range []string{"tables/models-c4.csv", "tables/models-d4.csv", "tables/ntk-curve.csv", "tables/ntk-osp.csv", "figures/osp-d4.png", "figures/ntk-accuracy.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestHistologyMissingData checks that without PathMNIST the experiment
// fails at once with a message that says where it looked and how to get
// the data, and that a file failing its checksum is reported as such.
func TestHistologyMissingData(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	cfg := strings.Replace(tinyConfig, "  file: FILE\n", "", 1)
	start := time.Now()
	out, err := experimenttest.RunErr(t, "histology", cfg, dataDir)
	if err == nil {
		t.Fatal("ran without PathMNIST")
	}
	for _, want := range []string{"eqens data fetch pathmnist", filepath.Join(dataDir, "pathmnist"), "pathmnist.npz", "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
	if _, err := os.Stat(filepath.Join(out, "runs")); err == nil {
		t.Error("trained something before failing")
	}
	// A file in the data directory that is not the published one.
	writePathMNISTFixture(t, filepath.Join(dataDir, "pathmnist", "pathmnist.npz"), map[string]int{"train": 9, "val": 9, "test": 9})
	_, err = experimenttest.RunErr(t, "histology", cfg, dataDir)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "eqens data fetch pathmnist") {
		t.Errorf("corrupt file: %v", err)
	}
}

// TestHistologyBadKernelNetwork checks that a kernel network that does not
// fit the pooled tiles is refused before any ensemble is trained.
func TestHistologyBadKernelNetwork(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	fixture := filepath.Join(t.TempDir(), "pathmnist.npz")
	writePathMNISTFixture(t, fixture, map[string]int{"train": 30, "val": 9, "test": 30})
	cfg := strings.Replace(tinyConfig, "FILE", fixture, 1)
	for _, tc := range []struct{ old, new, want string }{
		{"    pool: 4\n", "    pool: 3\n", "ntk.pool: 3 does not divide"},
		{`conv(4,k=3),relu,globalavgpool`, `conv(4,k=3),relu,avgpool(4),globalavgpool`, "ntk.arch"},
		{`gconv(4,k=3,support=e),relu,gpool`, `gconv(4,k=9,padding=valid,support=e),relu,gpool`, "ntk.gcnn"},
	} {
		out, err := experimenttest.RunErr(t, "histology", strings.Replace(cfg, tc.old, tc.new, 1), dataDir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %s", tc.new, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(out, "runs")); err == nil {
			t.Errorf("%s: trained something before failing", tc.new)
		}
	}
}

// TestConfigNetworks checks that the kernel networks of both scales of
// experiments/histology.yaml fit PathMNIST's 3×28×28 tiles, which a run
// finds out only once the data is there.
func TestConfigNetworks(t *testing.T) {
	for _, scale := range []string{"quick", "full"} {
		var p params
		experimenttest.DecodeConfig(t, "histology", scale, "../../experiments/histology.yaml", &p)
		groups, err := parseGroups(&p)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.NTK.CheckNetworks(scale+": ntk", []int{3, 28, 28}, groups); err != nil {
			t.Error(err)
		}
	}
}
