package experiment

import (
	"os"
	"path/filepath"
	"testing"
)

// demoTestConfig is a tiny scale of experiments/demo.yaml.
const demoTestConfig = `name: demo
quick:
  group: c4
  train_size: 200
  test_size: 60
  ood_size: 30
  seed: 1
  sizes: [1, 2]
  mlp:
    arch: "dense(32),relu,dense(10)"
    param: standard
    members: 2
    steps: 20
    batch_size: 32
    optimizer: {name: adam, lr: 0.001}
  gcnn:
    arch: "liftdense(c4,16),relu,gconv(16,k=1,support=e),relu,gpool,dense(10)"
    param: standard
    members: 1
    steps: 20
    batch_size: 32
    optimizer: {name: adam, lr: 0.001}
  ntk:
    arch: "dense(32),relu,dense(10)"
    train_size: 100
    reg: 0.0001
full:
  group: c4
`

// convTestConfig is a tiny scale of experiments/kernel-convergence.yaml.
const convTestConfig = `name: kernel-convergence
quick:
  inputs: 4
  pool: 4
  seeds: 2
  seed: 1
  archs:
    - name: MLP
      spec: "dense({w}),relu,dense(1)"
      widths: [16, 64]
    - name: C4 GCNN
      spec: "lift(c4,{w4},k=3),relu,gpool,dense(1)"
      widths: [16]
full:
  inputs: 4
`

// TestSmokeDemoAndConvergence runs the two experiments that have no test
// of their own on tiny configs, end to end through the registry: results,
// report and the OSP range of every model.
func TestSmokeDemoAndConvergence(t *testing.T) {
	out := t.TempDir()
	res := toyRunTiny(t, "demo", demoTestConfig, filepath.Join(out, "demo"))
	models, ok := res["models"].(map[string]any)
	if !ok || len(models) < 5 {
		t.Fatalf("demo results.json: models %v, want the five models", res["models"])
	}
	for name, m := range models {
		osp, _ := m.(map[string]any)["osp_id"].(float64)
		if osp < 1 || osp > 4 {
			t.Errorf("demo model %s: osp_id %v, want a value in [1, 4]", name, osp)
		}
	}
	res = toyRunTiny(t, "kernel-convergence", convTestConfig, filepath.Join(out, "kc"))
	rows, ok := res["rows"].([]any)
	if !ok || len(rows) != 3 {
		t.Fatalf("kernel-convergence results.json: rows %v, want 3", res["rows"])
	}
	for _, r := range rows {
		e, _ := r.(map[string]any)["ntk_rel_error"].(float64)
		if !(e > 0 && e < 2) {
			t.Errorf("row %v: NTK error %v, want a small positive number", r, e)
		}
	}
	for _, d := range []string{"demo", "kc"} {
		if _, err := os.Stat(filepath.Join(out, d, "report.html")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}
