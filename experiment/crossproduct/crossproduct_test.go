package crossproduct

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
)

// testConfig is a tiny scale of experiments/cross-product.yaml.
const testConfig = `name: cross-product
quick:
  train_size: 24
  test_size: 16
  ood_size: 16
  seed: 2
  groups: ["so3:4", "oct"]
  eval_group: "so3:6:7"
  sizes: [1, 2, 4]
  mlp:
    arch: "dense(32,b_std=0.5),relu,dense(3)"
    param: standard
    members: 4
    steps: 60
    batch_size: 16
    optimizer: {name: sgd, lr: 0.01, momentum: 0.9}
    loss: mse
  noaug_members: 4
  ntk:
    arch: "dense(32,b_std=0.5),relu,dense(3)"
    reg: 0.0001
    test_size: 8
    check_size: 5
    max_expanded: 4096
full:
  train_size: 1
`

func TestCrossProductExperiment(t *testing.T) {
	out := t.TempDir()
	res := experimenttest.RunConfig(t, "cross-product", testConfig, out)
	for _, k := range []string{"meta", "params", "eval_group", "eval_rotations", "groups", "models", "curve", "ntk_checks"} {
		if _, ok := res[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	for _, f := range []string{"report.html", "tables/summary.csv", "tables/curve.csv", "tables/ntk_checks.csv", "figures/cp_eq_vs_size.png", "figures/cp_eq_models.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if v := experimenttest.Num(t, res, "eval_rotations"); v != 5 {
		t.Errorf("eval_rotations = %v, want 5", v)
	}
	models := res["models"].(map[string]any)
	for _, name := range []string{"member_noaug", "ensemble_noaug", "ntk_noaug", "member_da_so3:4:1", "ensemble_da_so3:4:1", "ntk_da_so3:4:1", "member_da_oct", "ensemble_da_oct", "ntk_da_oct"} {
		m, ok := models[name]
		if !ok {
			t.Errorf("models lacks %q", name)
			continue
		}
		for _, set := range []string{"on", "off"} {
			for _, k := range []string{"rel_mse", "eq_err"} {
				mean, lo, hi := experimenttest.Num(t, m, set, k, "mean"), experimenttest.Num(t, m, set, k, "lo"), experimenttest.Num(t, m, set, k, "hi")
				if !(lo <= mean && mean <= hi) || !(mean >= 0) {
					t.Errorf("%s %s %s: mean %g outside [%g, %g]", name, set, k, mean, lo, hi)
				}
			}
		}
	}
	// Ensembles are more equivariant than their members.
	for _, g := range []string{"noaug", "da_so3:4:1", "da_oct"} {
		for _, set := range []string{"on", "off"} {
			mem := experimenttest.Num(t, models["member_"+g], set, "eq_err", "mean")
			ens := experimenttest.Num(t, models["ensemble_"+g], set, "eq_err", "mean")
			if !(ens < mem) {
				t.Errorf("%s, %s manifold: ensemble equivariance error %g not below the members' %g", g, set, ens, mem)
			}
		}
	}
	// The NTK trained with the cube group is equivariant under it.
	for _, set := range []string{"on", "off"} {
		if v := experimenttest.Num(t, models["ntk_da_oct"], set, "eq_err_train", "mean"); !(v < 1e-10) {
			t.Errorf("NTK + oct, %s manifold: equivariance error under oct %g, want < 1e-10", set, v)
		}
		if v := experimenttest.Num(t, models["ntk_da_oct"], set, "eq_err", "mean"); !(v > 1e-6) {
			t.Errorf("NTK + oct, %s manifold: equivariance error %g under random rotations; a finite group should not give SO(3) equivariance", set, v)
		}
	}
	checks := res["ntk_checks"].([]any)
	if len(checks) != 2 {
		t.Fatalf("%d ntk_checks, want 2", len(checks))
	}
	for _, c := range checks {
		cm := c.(map[string]any)
		switch cm["group"] {
		case "oct":
			for _, k := range []string{"averaged_vs_expanded_inf", "averaged_vs_expanded_t", "eq_err_own_group", "eq_err_own_group_averaged", "averaged_asymmetry"} {
				if v := experimenttest.Num(t, c, k); !(v < 1e-8) {
					t.Errorf("oct check: %s = %g, want < 1e-8 (exact identity)", k, v)
				}
			}
		case "so3:4:1":
			if v := experimenttest.Num(t, c, "averaged_asymmetry"); !(v > 1e-3) {
				t.Errorf("so3:4 check: the averaged kernel of a non-closed set should not be symmetric; asymmetry %g", v)
			}
			if v := experimenttest.Num(t, c, "eq_err_own_group"); !(v > 1e-6) {
				t.Errorf("so3:4 check: the augmented NTK of a non-closed set is not equivariant under it, but the error is %g", v)
			}
		default:
			t.Errorf("unexpected check %v", cm["group"])
		}
	}
}
