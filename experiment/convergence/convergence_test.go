package convergence

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
)

// tinyConfig is a tiny scale of experiments/kernel-convergence.yaml.
const tinyConfig = `name: kernel-convergence
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

// TestSmokeConvergence runs kernel-convergence on a tiny config, end to end
// through the registry: results, report and the size of every NTK error.
func TestSmokeConvergence(t *testing.T) {
	out := t.TempDir()
	res := experimenttest.RunConfig(t, "kernel-convergence", tinyConfig, out)
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
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
