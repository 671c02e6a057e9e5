package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/kernel"
	"github.com/eqens/eqens/sphere"
)

// relativeKernel returns w² Σ_{l<L} <D^l(R_q R_q'⁻¹), T^l> + b² on the
// SO(3) grid of band limit grid (Out×Out), T^l at WignerOffset(l)
// row-major.
func relativeKernel(grid, L int, t []float64, w, b float64) []float64 {
	g := sphere.NewSO3Grid(grid)
	n := g.Len()
	out := make([]float64, n*n)
	d := make([]float64, sphere.NumWigner(L))
	for q := 0; q < n; q++ {
		for q2 := 0; q2 < n; q2++ {
			sphere.WignerD(L, g.Rotation(q).Mul(g.Rotation(q2).Inv()), d)
			var s float64
			for i, v := range d {
				s += v * t[i]
			}
			out[q*n+q2] = w*w*s + b*b
		}
	}
	return out
}

// TestSphereKernelMap checks the kernel maps of s2conv and so3conv on one
// pair against the relative-rotation form K'(R, R') = w² Σ_l <D^l(R R'⁻¹),
// T^l> + b², with T^l from the double transform of the input covariance
// (separable transforms of package sphere, Wigner-D matrices of the
// relative rotations), and Θ' = K' + w² (K' - b²)/w² for Θ = K. Inputs:
// covariances of random channels (full storage), and for so3conv also a
// right-invariant covariance g(R R'⁻¹), g not band-limited, stored as a
// slab.
func TestSphereKernelMap(t *testing.T) {
	const w, b = 1.3, 0.4
	for _, tc := range []struct {
		kind         string
		lin, L, grid int
		slab         bool
	}{
		{"s2conv", 4, 3, 3, false},
		{"s2conv", 2, 2, 2, false},
		{"s2conv", 3, 1, 1, false},
		{"s2conv", 3, 2, 4, false},
		{"so3conv", 3, 2, 2, false},
		{"so3conv", 3, 2, 2, true},
		{"so3conv", 2, 2, 2, true},
		{"so3conv", 3, 2, 4, true},
	} {
		spec := fmtSpec("s2conv(2,%d,grid=%d,w_std=%g,b_std=%g)", tc.L, tc.grid, w, b)
		shape, idx := []int{1, tc.lin, 2*tc.lin - 1}, 0
		if tc.kind == "so3conv" {
			spec, idx = fmtSpec("s2conv(2,%d),so3conv(2,%d,grid=%d,w_std=%g,b_std=%g)", tc.lin, tc.L, tc.grid, w, b), 1
		}
		a, err := Parse(spec, shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(tc.lin), uint64(tc.L)))
		kin := inputCovariance(tc.kind == "so3conv", tc.lin, tc.slab, rng)
		st := stateOf(tc.kind == "so3conv", tc.lin, tc.slab, kin)
		if err := a.Layers[idx].kernel(st); err != nil {
			t.Fatal(err)
		}
		want := relativeKernel(tc.grid, tc.L, transformedCovariance(tc.kind == "so3conv", tc.lin, tc.L, kin), w, b)
		order := so3StateOrder(tc.grid)
		n, cols := len(order), st.Cols()
		if st.P() != n || !st.Slab || cols != n/(2*tc.grid-1) {
			t.Fatalf("%s: state of %d positions (%d columns), want a slab of %d", spec, st.P(), cols, n)
		}
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for q, p := range order {
			for q2, p2 := range order {
				if p2 >= cols {
					continue
				}
				v := want[q*n+q2]
				if got := st.K[p*cols+p2]; math.Abs(got-v) > 1e-12*scale {
					t.Fatalf("%s: K'[%d,%d] = %.15g, relative-rotation form %.15g", spec, q, q2, got, v)
				}
				if th := 2*v - b*b; math.Abs(st.Theta[p*cols+p2]-th) > 1e-12*scale {
					t.Fatalf("%s: Θ'[%d,%d] = %.15g, want %.15g", spec, q, q2, st.Theta[p*cols+p2], th)
				}
			}
		}
	}
}

// inputCovariance returns a covariance over the points of the sphere grid
// (s2conv) or SO(3) grid (so3conv) of band limit L, in grid order: that of
// three random channels, or with invariant set g(R_q R_q'⁻¹) for
// g(U) = exp(tr(M U)/2), M random.
func inputCovariance(so3 bool, L int, invariant bool, rng *rand.Rand) []float64 {
	n := sphere.S2GridLen(L)
	if so3 {
		n = sphere.SO3GridLen(L)
	}
	k := make([]float64, n*n)
	if invariant {
		g := sphere.NewSO3Grid(L)
		var m sphere.Rotation
		for i := range m {
			for j := range m[i] {
				m[i][j] = rng.NormFloat64()
			}
		}
		for q := 0; q < n; q++ {
			for q2 := 0; q2 < n; q2++ {
				u := m.Mul(g.Rotation(q).Mul(g.Rotation(q2).Inv()))
				k[q*n+q2] = math.Exp((u[0][0] + u[1][1] + u[2][2]) / 2)
			}
		}
		return k
	}
	const C = 3
	xa, xb := randVec(rng, C*n), randVec(rng, C*n)
	for p := 0; p < n; p++ {
		for q := 0; q < n; q++ {
			var s float64
			for c := 0; c < C; c++ {
				s += xa[c*n+p] * xb[c*n+q]
			}
			k[p*n+q] = s / C
		}
	}
	return k
}

// stateOf returns a one-pair state holding the covariance k (grid order)
// in kernel-state order, as a slab if asked, with Θ = K.
func stateOf(so3 bool, L int, slab bool, k []float64) *kernel.State {
	st := &kernel.State{Pairs: 1, NTK: true}
	if !so3 {
		st.Reshape(1, L, 2*L-1, false)
		copy(st.K, k)
		copy(st.Theta, k)
		return st
	}
	order := so3StateOrder(L)
	n := len(order)
	if slab {
		st.Reshape(2*L-1, n/(2*L-1), 1, true)
	} else {
		st.Reshape(n, 1, 1, false)
	}
	cols := st.Cols()
	for q, p := range order {
		for q2, p2 := range order {
			if p2 < cols {
				st.K[p*cols+p2] = k[q*n+q2]
			}
		}
	}
	copy(st.Theta, st.K)
	return st
}

// transformedCovariance returns T^l (at WignerOffset(l), l < L) of the
// covariance k of signals of band limit lin: X̂ = F k Fᵀ with F the
// forward transform; T^l[r,r'] = X̂[(l,r),(l,r')]/(4π) on S², and
// Σ_n X̂[(l,r,n),(l,r',n)]/(2l+1) on SO(3).
func transformedCovariance(so3 bool, lin, L int, k []float64) []float64 {
	n := sphere.S2GridLen(lin)
	if so3 {
		n = sphere.SO3GridLen(lin)
	}
	nc := len(coefficients(so3, lin, make([]float64, n)))
	half := make([]float64, nc*n) // [coefficient][point]
	col := make([]float64, n)
	for q := 0; q < n; q++ {
		for p := 0; p < n; p++ {
			col[p] = k[p*n+q]
		}
		for i, v := range coefficients(so3, lin, col) {
			half[i*n+q] = v
		}
	}
	x := make([]float64, nc*nc)
	for i := 0; i < nc; i++ {
		copy(x[i*nc:], coefficients(so3, lin, half[i*n:(i+1)*n]))
	}
	t := make([]float64, sphere.NumWigner(L))
	for l := 0; l < L; l++ {
		d := 2*l + 1
		for r := 0; r < d; r++ {
			for r2 := 0; r2 < d; r2++ {
				var v float64
				if so3 {
					o := sphere.WignerOffset(l)
					for j := 0; j < d; j++ {
						v += x[(o+r*d+j)*nc+o+r2*d+j] / float64(d)
					}
				} else {
					v = x[(l*l+r)*nc+l*l+r2] / (4 * math.Pi)
				}
				t[sphere.WignerOffset(l)+r*d+r2] = v
			}
		}
	}
	return t
}

// TestSphereMonteCarloNNGP compares the analytic NNGP of spherical
// networks with the covariance of the outputs of random finite networks,
// within 4 standard errors plus a finite-width allowance (3%; the
// one-hidden-layer network's expectation is exact at every width).
func TestSphereMonteCarloNNGP(t *testing.T) {
	if testing.Short() {
		t.Skip("slow statistical test")
	}
	cases := []struct {
		spec    string
		shape   []int
		samples int
	}{
		{"s2conv(16,3,b_std=0.3),erf,so3pool,dense(2,b_std=0.1)", []int{2, 4, 7}, 400},
		{"s2conv(64,3,w_std=1.5),relu,so3conv(64,2,b_std=0.2),erf,so3pool,dense(2)", []int{2, 3, 5}, 300},
		{"s2conv(32,2,b_std=0.2),relu,dense(2)", []int{2, 3, 5}, 300},
		{"s2conv(32,2,grid=3),erf,so3conv(32,2,grid=4,b_std=0.1),relu,so3pool,dense(2)", []int{1, 3, 5}, 300},
		{"s2conv(64,3,grid=4),quadratic(a=1,b=0.5),so3conv(64,2,b_std=0.1),quadratic(a=1,b=0.5),so3pool,dense(2)", []int{2, 3, 5}, 300},
	}
	for _, tc := range cases {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		const n = 3
		x := randInputs(5, n, a.InputSize())
		r, err := a.Kernel(context.Background(), x, n, nil, 0, KernelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mean, se, err := MonteCarloNNGP(context.Background(), a, x, n, nil, 0, tc.samples, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i := range mean {
			if d := math.Abs(mean[i] - r.K[i]); d > 4*se[i]+0.03*math.Abs(r.K[i]) {
				t.Errorf("%s entry %d: Monte Carlo %.4f ± %.4f, analytic %.4f", tc.spec, i, mean[i], se[i], r.K[i])
			}
		}
	}
}

// TestSphereEmpiricalNTKConverges checks that empirical NTKs of wide
// spherical networks approach the analytic NTK, roughly like
// 1/sqrt(width).
func TestSphereEmpiricalNTKConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("slow statistical test")
	}
	spec := func(w int) string {
		return fmtSpec("s2conv(%d,3,b_std=0.1),erf,so3conv(%d,2),relu,so3pool,dense(1)", w, w)
	}
	shape := []int{1, 3, 5}
	x := randInputs(8, 4, sizeOf(shape))
	widths := []int{16, 64, 256}
	var errs []float64
	for _, w := range widths {
		a, err := Parse(spec(w), shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		r, err := a.Kernel(context.Background(), x, 4, nil, 0, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		var e float64
		const seeds = 6
		for seed := uint64(1); seed <= seeds; seed++ {
			net := New[float64](a)
			net.Init(seed)
			e += relFrob(EmpiricalNTK(net, x, 4, nil, 0), r.Theta) / seeds
		}
		errs = append(errs, e)
	}
	t.Logf("widths %v: relative Frobenius error %.4f", widths, errs)
	// Width ×16 should divide the error by about 4; allow noise.
	if errs[2] > 0.55*errs[0] || errs[2] > 0.1 {
		t.Errorf("empirical NTK does not converge like 1/sqrt(width): %.4f", errs)
	}
}

// TestSphereKernelInvariance checks that the NNGP and NTK of a linear
// spherical network ending in so3pool are invariant, to 1e-10 relative,
// when one input of each pair is a band-limited signal rotated by a
// random rotation, and so are those of networks with quadratic
// activations on grids exact for their doubled degree; with other
// pointwise activations on the grid the error is measured (not zero: the
// activations alias on the finite grid).
func TestSphereKernelInvariance(t *testing.T) {
	cases := []struct {
		spec  string
		exact bool
	}{
		{"s2conv(4,3,b_std=0.2),so3conv(3,2,b_std=0.1),so3pool,dense(1,b_std=0.3)", true},
		{"s2conv(8,3),erf,so3conv(8,2),erf,so3pool,dense(1)", false},
		{"s2conv(8,3,grid=6),erf,so3conv(8,2,grid=6),erf,so3pool,dense(1)", false},
		{"s2conv(4,3,grid=5),so3conv(3,2,grid=4),so3pool,dense(1)", true},
		{"s2conv(8,3,grid=4),quadratic,so3conv(8,2),quadratic,so3pool,dense(1)", true},
		{"s2conv(8,3,grid=4),quadratic(a=0.5,b=2),so3conv(8,2),erf,so3pool,dense(1)", false},
		{"s2conv(8,3),quadratic,so3conv(8,2),quadratic,so3pool,dense(1)", false},
	}
	const cin, lin = 2, 4
	for _, tc := range cases {
		a, err := Parse(tc.spec, []int{cin, lin, 2*lin - 1}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(17, 1))
		var x, xr []float64
		for i := 0; i < 3; i++ {
			xi, xri := bandLimitedInput(false, cin, lin, sphere.Random(rng), rng)
			x = append(x, toDataset(xi, cin)...)
			xr = append(xr, toDataset(xri, cin)...)
		}
		k1, err := a.Kernel(context.Background(), x, 3, x, 3, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		k2, err := a.Kernel(context.Background(), x, 3, xr, 3, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		var worst, scale float64
		for i := range k1.K {
			worst = math.Max(worst, math.Max(math.Abs(k1.K[i]-k2.K[i]), math.Abs(k1.Theta[i]-k2.Theta[i])))
			scale = math.Max(scale, math.Max(math.Abs(k1.K[i]), math.Abs(k1.Theta[i])))
		}
		t.Logf("%s: kernel invariance error %.3g relative", tc.spec, worst/scale)
		if tc.exact && worst > 1e-10*scale {
			t.Errorf("%s: invariance error %.3g (scale %.3g)", tc.spec, worst, scale)
		}
		if !tc.exact && worst < 1e-10*scale {
			t.Errorf("%s: invariance error %.3g: grid activations should alias", tc.spec, worst)
		}
	}
}

// coefficients returns the spherical-harmonic (S²) or Wigner (SO(3))
// coefficients of grid samples f of band limit L.
func coefficients(so3 bool, L int, f []float64) []float64 {
	if so3 {
		c := make([]float64, sphere.NumWigner(L))
		sphere.NewSO3Grid(L).Forward(f, c)
		return c
	}
	c := make([]float64, sphere.NumCoeffs(L))
	sphere.NewS2Grid(L).Forward(f, c)
	return c
}

// TestSphereKernelBlocks checks that spherical kernels do not depend on
// the workers or tiles (same bits) and that KernelBlock returns the bits
// of the whole kernel.
func TestSphereKernelBlocks(t *testing.T) {
	shape := []int{2, 3, 5}
	a, err := Parse("s2conv(4,3,grid=4,b_std=0.1),erf,so3conv(4,2),relu,so3pool,dense(1)", shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	const n = 9
	x := randInputs(3, n, sizeOf(shape))
	ctx := context.Background()
	full, err := a.Kernel(ctx, x, n, nil, 0, KernelOptions{NTK: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	tiled, err := a.Kernel(ctx, x, n, nil, 0, KernelOptions{NTK: true, Workers: 3, MemoryMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range full.Theta {
		if full.K[i] != tiled.K[i] || full.Theta[i] != tiled.Theta[i] {
			t.Fatalf("entry %d depends on workers or tiles", i)
		}
	}
	for _, r := range []Span{{0, 9}, {2, 5}, {6, 9}} {
		for _, c := range []Span{{0, 4}, {3, 8}} {
			b, err := a.KernelBlock(ctx, x, n, nil, 0, r, c, KernelOptions{NTK: true})
			if err != nil {
				t.Fatal(err)
			}
			checkBlock(t, "spherical", full, b, r, c)
		}
	}
}
