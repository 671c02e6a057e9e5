package experimenttest

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment"
)

// RunConfig runs the registered experiment name with the whole YAML config
// (as experiments/NAME.yaml holds it) at the quick scale into out and
// returns the decoded results.json.
func RunConfig(t testing.TB, name, config, out string) map[string]any {
	t.Helper()
	if err := runFile(t, name, config, "", out, nil); err != nil {
		t.Fatal(err)
	}
	return readResults(t, out)
}

// Run runs the registered experiment name with the parameters quick (the
// indented body of a scale section, used for both scales) and the data
// folder dataDir in a temporary folder, checks that the report was
// written, and returns the decoded results.json and the output folder.
func Run(t testing.TB, name, quick, dataDir string) (map[string]any, string) {
	t.Helper()
	var log strings.Builder
	out, err := run(t, name, quick, dataDir, &log)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	res := readResults(t, out)
	for _, f := range []string{"report.html", "report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("missing %s", f)
		}
	}
	return res, out
}

// RunErr is Run for a run that is expected to fail: it returns the output
// folder and the experiment's error (nil if it ran).
func RunErr(t testing.TB, name, quick, dataDir string) (string, error) {
	t.Helper()
	return run(t, name, quick, dataDir, io.Discard)
}

// run writes the config and runs the experiment into a temporary folder.
func run(t testing.TB, name, quick, dataDir string, log io.Writer) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	body := "name: " + name + "\ndescription: test\nquick:\n" + quick + "full:\n" + quick
	return out, runFile(t, name, body, dataDir, out, log)
}

// runFile writes the whole config into a temporary file and runs the
// registered experiment name with it at the quick scale into out.
func runFile(t testing.TB, name, config, dataDir, out string, log io.Writer) error {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	env := &experiment.Env{Out: out, Scale: "quick", DataDir: dataDir, Log: log}
	if log != nil {
		env.Command = "test"
	}
	return experiment.Run(context.Background(), e, env, cfg)
}

func readResults(t testing.TB, out string) map[string]any {
	t.Helper()
	var res map[string]any
	ReadResults(t, out, &res)
	return res
}

// ReadResults decodes the results.json of the run directory out into v.
func ReadResults(t testing.TB, out string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

// At follows keys (strings into objects, ints into lists) into decoded
// JSON.
func At(t testing.TB, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("missing key %q (have %v)", k, Keys(m))
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at index %d: not a long enough list: %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}

// Keys returns the keys of a decoded JSON object.
func Keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

// Num is At for a number.
func Num(t testing.TB, v any, keys ...any) float64 {
	t.Helper()
	f, ok := At(t, v, keys...).(float64)
	if !ok {
		t.Fatalf("%v: not a number", keys)
	}
	return f
}

// IsolateDataDirs makes sure no real dataset is found outside the returned
// data folder (EQENS_DATA and the user cache point into a temporary
// folder).
func IsolateDataDirs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("EQENS_DATA", "")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	return filepath.Join(dir, "data")
}

// CheckOrbitNTK asserts what the `ntk` block of a C4/D4 experiment.OrbitNTK
// result must show: the averaged CNN NTK equals the GCNN's for both groups
// (1e-10), the averaged predictors are invariant under their group (and
// the D4 one under C4), and the curve has 3 kernels × sizes points with
// accuracies in [0, 1].
func CheckOrbitNTK(t testing.TB, res map[string]any, sizes int) {
	t.Helper()
	for _, g := range []string{"c4", "d4"} {
		if d := Num(t, res, "ntk", "identity", g); d > 1e-10 {
			t.Errorf("%s: averaged CNN NTK vs GCNN NTK differ by %g", g, d)
		}
	}
	for _, tc := range []struct {
		kernel, group string
		want          float64
	}{{"gcnn-c4", "c4", 4}, {"gcnn-d4", "d4", 8}, {"gcnn-d4", "c4", 4}} {
		if o := Num(t, res, "ntk", "osp", tc.kernel, tc.group); math.Abs(o-tc.want) > 1e-12 {
			t.Errorf("%s predictor OSP under %s = %g, want %g", tc.kernel, tc.group, o, tc.want)
		}
	}
	curve := At(t, res, "ntk", "curve").([]any)
	if len(curve) != 3*sizes {
		t.Fatalf("ntk curve has %d points, want 3 kernels × %d sizes", len(curve), sizes)
	}
	for _, pt := range curve {
		if a := Num(t, pt, "accuracy"); a < 0 || a > 1 {
			t.Errorf("ntk accuracy %g", a)
		}
	}
}

// DecodeConfig decodes the scale section of the config file (a path) of
// the experiment name into dst (the experiment's parameters), failing the
// test on an error.
func DecodeConfig(t testing.TB, name, scale, file string, dst any) {
	t.Helper()
	node, err := experiment.LoadConfig(name, scale, file)
	if err != nil {
		t.Fatal(err)
	}
	if err := experiment.DecodeParams(name, node, dst); err != nil {
		t.Fatal(err)
	}
}
