package main

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/sphere"
)

// sphericalInputs returns n random band-limited signals of c channels on
// the sphere grid of band limit L, in the input layout [n, c, L, 2L-1],
// and the same signals rotated by random rotations.
func sphericalInputs(n, c, L int, rng *rand.Rand) (x, xr []float64) {
	g := sphere.NewS2Grid(L)
	p := g.Len()
	coef, rot := make([]float64, L*L), make([]float64, L*L)
	d := make([]float64, sphere.NumWigner(L))
	x, xr = make([]float64, n*c*p), make([]float64, n*c*p)
	for i := 0; i < n; i++ {
		sphere.WignerD(L, sphere.Random(rng), d)
		for ch := 0; ch < c; ch++ {
			for k := range coef {
				coef[k] = rng.NormFloat64()
			}
			sphere.RotateS2(L, d, coef, rot)
			off := (i*c + ch) * p
			g.Inverse(coef, x[off:off+p])
			g.Inverse(rot, xr[off:off+p])
		}
	}
	return x, xr
}

// TestKernelSphericalInputs runs eqens kernel on spherical inputs given as
// .npy [N, C, L, 2L-1] and compares with the library's kernel.
func TestKernelSphericalInputs(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	const n, c, L = 4, 2, 3
	x, _ := sphericalInputs(n, c, L, rand.New(rand.NewPCG(1, 1)))
	writeF64(t, p("x.npy"), []int{n, c, L, 2*L - 1}, x)
	arch := "s2conv(4,3,grid=4),erf,so3conv(4,2,b_std=0.1),relu,so3pool,dense(1)"
	if out, code := runCLI("kernel", "--arch", arch, "--x", p("x.npy"), "--kind", "ntk", "--out", p("k.npy")); code != 0 {
		t.Fatal(out)
	}
	k, err := npy.ReadFile(p("k.npy"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := k.Float64()
	a, err := nn.Parse(arch, []int{c, L, 2*L - 1}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.Kernel(context.Background(), x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n*n {
		t.Fatalf("kernel of shape %v", k.Shape)
	}
	for i, v := range want.Theta {
		if math.Abs(got[i]-v) > 1e-12*math.Abs(v) {
			t.Fatalf("entry %d: eqens kernel %v, library %v", i, got[i], v)
		}
	}
}

// TestPredictSphericalInputs runs eqens predict on spherical inputs with
// the NTK of a linear SO(3)-invariant network: the predictions for test
// signals and their random rotations agree to round-off.
func TestPredictSphericalInputs(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	const c, L = 2, 3
	rng := rand.New(rand.NewPCG(2, 2))
	train, _ := sphericalInputs(12, c, L, rng)
	test, rotated := sphericalInputs(3, c, L, rng)
	shape := func(n int) []int { return []int{n, c, L, 2*L - 1} }
	writeF64(t, p("x.npy"), shape(12), train)
	writeF64(t, p("t.npy"), shape(3), test)
	writeF64(t, p("r.npy"), shape(3), rotated)
	writeNpy(t, p("y.npy"), []int{12, 1}, 3, 1)
	arch := "s2conv(4,3,b_std=0.1),so3conv(4,2,b_std=0.1),so3pool,dense(1,b_std=0.1)"
	for _, f := range []string{"t", "r"} {
		if out, code := runCLI("predict", "--arch", arch, "--train-x", p("x.npy"), "--train-y", p("y.npy"), "--test-x", p(f+".npy"), "--time", "inf", "--reg", "1e-3", "--out", p(f+"_pred.npy")); code != 0 {
			t.Fatal(out)
		}
	}
	a, err := npy.ReadFile(p("t_pred.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := npy.ReadFile(p("r_pred.npy"))
	if err != nil {
		t.Fatal(err)
	}
	av, _ := a.Float64()
	bv, _ := b.Float64()
	var scale float64
	for _, v := range av {
		scale = math.Max(scale, math.Abs(v))
	}
	if len(av) != 3 || scale == 0 {
		t.Fatalf("predictions %v of shape %v", av, a.Shape)
	}
	for i := range av {
		if math.Abs(av[i]-bv[i]) > 1e-9*scale {
			t.Fatalf("prediction %d: signal %v, rotated signal %v", i, av[i], bv[i])
		}
	}
}
