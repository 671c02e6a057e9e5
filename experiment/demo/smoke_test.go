package demo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
)

// tinyConfig is a tiny scale of experiments/demo.yaml.
const tinyConfig = `name: demo
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

// TestSmokeDemo runs the demo on a tiny config, end to end through the
// registry: results, report and the OSP range of every model.
func TestSmokeDemo(t *testing.T) {
	out := t.TempDir()
	res := experimenttest.RunConfig(t, "demo", tinyConfig, filepath.Join(out, "demo"))
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
	if _, err := os.Stat(filepath.Join(out, "demo", "report.html")); err != nil {
		t.Error(err)
	}
}
