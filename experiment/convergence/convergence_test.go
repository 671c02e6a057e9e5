package convergence

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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

// TestConfigErrors checks that an out-of-range field is named in the error.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"inputs: 4", "inputs: 1", "inputs: 1, want at least 2"},
		{"pool: 4", "pool: 5", "pool: 5, want a divisor of 28"},
		{"seeds: 2", "seeds: 1", "seeds: 1, want at least 2"},
		{"widths: [16]", "widths: [0]", `archs "C4 GCNN": width 0`},
	} {
		quick := tinyConfig[strings.Index(tinyConfig, "quick:\n")+len("quick:\n") : strings.Index(tinyConfig, "full:")]
		_, err := experimenttest.RunErr(t, "kernel-convergence", strings.Replace(quick, tc.old, tc.new, 1), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.new, err, tc.want)
		}
	}
}

// TestPooledConfig checks that experiments/kernel-convergence-pooled.yaml
// is experiments/kernel-convergence.yaml with the digits of the full scale
// pooled to 7x7 and more widths: the quick scales are the same, and at the
// full scale the pooled config runs every width of the full-size one.
func TestPooledConfig(t *testing.T) {
	load := func(file, scale string) (p params) {
		experimenttest.DecodeConfig(t, "kernel-convergence", scale, file, &p)
		return p
	}
	const pooledFile, plainFile = "../../experiments/kernel-convergence-pooled.yaml", "../../experiments/kernel-convergence.yaml"
	if q1, q2 := load(pooledFile, "quick"), load(plainFile, "quick"); !reflect.DeepEqual(q1, q2) {
		t.Errorf("quick scales differ:\n%+v\n%+v", q1, q2)
	}
	pooled, plain := load(pooledFile, "full"), load(plainFile, "full")
	if pooled.Pool != 4 || plain.Pool != 1 {
		t.Errorf("full scale: pool %d (pooled config), %d; want 4 and 1", pooled.Pool, plain.Pool)
	}
	if len(pooled.Archs) != len(plain.Archs) {
		t.Fatalf("full scale: %d architectures (pooled config), %d", len(pooled.Archs), len(plain.Archs))
	}
	for i, a := range plain.Archs {
		b := pooled.Archs[i]
		if a.Name != b.Name || a.Spec != b.Spec {
			t.Errorf("architecture %d: %q %q (pooled config: %q %q)", i, a.Name, a.Spec, b.Name, b.Spec)
		}
		for _, w := range a.Widths {
			if !slices.Contains(b.Widths, w) {
				t.Errorf("%s: width %d not in the pooled config", a.Name, w)
			}
		}
		pooled.Archs[i].Widths, plain.Archs[i].Widths = nil, nil
	}
	pooled.Pool = plain.Pool
	if !reflect.DeepEqual(pooled, plain) {
		t.Errorf("full scales differ beyond pool and widths:\n%+v\n%+v", pooled, plain)
	}
}
