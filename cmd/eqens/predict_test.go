package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/npy"
)

func writeNpy(t *testing.T, path string, shape []int, seed uint64, scale float64) {
	t.Helper()
	n := 1
	for _, s := range shape {
		n *= s
	}
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64() * scale
	}
	if err := npy.WriteFile(path, npy.FromFloat64(shape, v)); err != nil {
		t.Fatal(err)
	}
}

func runCLI(args ...string) (string, int) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	code := 0
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		out.WriteString(err.Error())
		code = 1
	}
	return out.String(), code
}

// TestPredictAugmentEqualsAverage runs eqens predict with --augment and with
// --average and checks that the predictions agree (the papers' identity),
// with a relative regulariser, at finite and infinite times.
func TestPredictAugmentEqualsAverage(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	writeNpy(t, p("x.npy"), []int{10, 1, 5, 5}, 1, 1)
	writeNpy(t, p("y.npy"), []int{10, 2}, 2, 1)
	writeNpy(t, p("t.npy"), []int{4, 1, 5, 5}, 3, 2)
	common := []string{"predict", "--arch", "dense(16),relu,dense(16),relu,dense(1)", "--train-x", p("x.npy"), "--train-y", p("y.npy"), "--test-x", p("t.npy"), "--time", "1,50,inf", "--reg", "1e-3"}
	if out, code := runCLI(append(common, "--augment", "c4", "--out", p("aug.npy"))...); code != 0 {
		t.Fatal(out)
	}
	if out, code := runCLI(append(common, "--average", "c4", "--out", p("avg.npy"), "--cov", p("cov.npy"))...); code != 0 {
		t.Fatal(out)
	}
	a, err := npy.ReadFile(p("aug.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := npy.ReadFile(p("avg.npy"))
	c, _ := npy.ReadFile(p("cov.npy"))
	if len(a.Shape) != 3 || a.Shape[0] != 3 || a.Shape[1] != 4 || a.Shape[2] != 2 || len(c.Shape) != 3 || c.Shape[2] != 4 {
		t.Fatalf("shapes %v %v", a.Shape, c.Shape)
	}
	av, _ := a.Float64()
	bv, _ := b.Float64()
	for i := range av {
		if math.Abs(av[i]-bv[i]) > 1e-7*(1+math.Abs(av[i])) {
			t.Fatalf("entry %d: augmented %v, averaged %v", i, av[i], bv[i])
		}
	}
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	writeNpy(t, p("x.npy"), []int{6, 4}, 1, 1)
	writeNpy(t, p("y.npy"), []int{5, 1}, 2, 1)
	writeNpy(t, p("t.npy"), []int{3, 5}, 3, 1)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--time", "1,-2"}, "--time"},
		{[]string{"--kind", "rbf"}, "--kind"},
		{[]string{"--reg", "-1"}, "--reg"},
		{[]string{"--augment", "c4", "--average", "c4"}, "exclude each other"},
		{[]string{}, "--train-y"},
	}
	for _, tc := range cases {
		args := append([]string{"predict", "--arch", "dense(4),relu,dense(1)", "--train-x", p("x.npy"), "--train-y", p("y.npy"), "--test-x", p("t.npy"), "--out", p("o.npy")}, tc.args...)
		out, code := runCLI(args...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, output %q, want mention of %q", tc.args, code, out, tc.want)
		}
	}
}
