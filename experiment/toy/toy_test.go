package toy

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
)

// testConfig is a tiny scale of experiments/toy.yaml.
const testConfig = `name: toy
quick:
  train_size: 6
  negative_fraction: 0
  noise: 0
  grid: 21
  seed: 3
  arch: "dense({w},b_std=1),relu,dense({w},b_std=1),relu,dense(1)"
  width: 32
  members: 6
  noaug_members: 3
  steps: 40
  lr: 0.4
  panels: [0, 1, 40]
  curve: [2, 10]
  sizes: [1, 2, 6]
  shown: 2
  widths: [16]
  width_members: 3
full:
  train_size: 1
`

func TestToyExperiment(t *testing.T) {
	out := t.TempDir()
	res := experimenttest.RunConfig(t, "toy", testConfig, out)
	for _, k := range []string{"meta", "params", "arch", "train", "grid", "lr", "lr_lambda_max_over_n", "curve", "sizes", "widths", "ntk_sym_rel_max", "panels"} {
		if _, ok := res[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	for _, f := range []string{"report.html", "report.md", "tables/curve.csv", "tables/toy_predictions.csv", "figures/toy_step0.png", "figures/toy_symmetry.svg", "figures/toy_widths.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	// The NTK mean of the augmented problem is symmetric at every step.
	if v := experimenttest.Num(t, res, "ntk_sym_rel_max"); !(v < 1e-10) {
		t.Errorf("NTK + DA symmetry error relative to its scale is %g, want < 1e-10", v)
	}
	if r := experimenttest.Num(t, res, "lr_lambda_max_over_n"); !(r > 0 && r < 2) {
		t.Errorf("η λ_max/N = %g: discrete gradient descent is unstable", r)
	}
	curve := res["curve"].([]any)
	if len(curve) != 5 { // steps 0, 1, 2, 10, 40
		t.Fatalf("curve has %d steps, want 5", len(curve))
	}
	for _, c := range curve {
		if v := experimenttest.Num(t, c, "sym_ntk_da"); v > 1e-12 {
			t.Errorf("step %v: NTK + DA symmetry error %g", experimenttest.Num(t, c, "step"), v)
		}
	}
	if v := experimenttest.Num(t, curve[0], "rmse_ntk_da"); v == 0 {
		t.Error("the NTK mean at initialisation should be 0, so its RMSE the truth's RMS, not 0")
	}
	last := curve[len(curve)-1]
	if m, e := experimenttest.Num(t, last, "sym_member_da"), experimenttest.Num(t, last, "sym_ensemble_da"); !(e < m) {
		t.Errorf("last step: ensemble symmetry error %g not below the members' %g", e, m)
	}
	if da, no := experimenttest.Num(t, last, "sym_ensemble_da"), experimenttest.Num(t, last, "sym_ensemble_noaug"); !(da < no) {
		t.Errorf("last step: augmented ensemble symmetry error %g not below the unaugmented %g", da, no)
	}
	if v := experimenttest.Num(t, last, "sym_ntk_noaug"); !(v > 0.05) {
		t.Errorf("without augmentation the NTK mean should not be symmetric (points on one side only); error %g", v)
	}
	if n := len(res["panels"].([]any)); n != 3 {
		t.Errorf("%d panels, want 3", n)
	}
	if n := len(res["widths"].([]any)); n != 2 {
		t.Errorf("%d widths, want 2 (16 and the main 32)", n)
	}
	// A second run into the same folder reuses the members and their
	// snapshots and gives the same numbers.
	again := experimenttest.RunConfig(t, "toy", testConfig, out)
	if !reflect.DeepEqual(res["curve"], again["curve"]) || !reflect.DeepEqual(res["sizes"], again["sizes"]) {
		t.Error("rerunning into the same output folder changed the results")
	}
}
