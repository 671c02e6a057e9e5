package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eqens/eqens/sphere"
)

// TestSphereGradients checks the spherical layers' backward passes
// against finite differences.
func TestSphereGradients(t *testing.T) {
	cases := []struct {
		name  string
		spec  string
		shape []int
		param Param
	}{
		{"s2conv pool", "s2conv(3,2,b_std=0.3),erf,so3pool,dense(2)", []int{2, 3, 5}, NTK},
		{"s2conv so3conv", "s2conv(3,3,w_std=1.2),tanh,so3conv(2,2,w_std=1.3,b_std=0.2),gelu,so3pool,dense(2)", []int{2, 3, 5}, NTK},
		{"standard", "s2conv(2,2,b_std=0.5),erf(a=1.2,b=0.8),so3conv(3,2,b_std=0.1),so3pool", []int{1, 2, 3}, Standard},
		{"relu dense", "s2conv(3,2),relu,so3conv(2,1),relu,dense(2)", []int{2, 4, 7}, NTK},
		{"quadratic", "s2conv(3,3,grid=4),quadratic,so3conv(2,2),quadratic(a=0.5,b=1.5),so3pool,dense(2)", []int{2, 3, 5}, NTK},
		{"oversampled grids", "s2conv(3,2,grid=3,b_std=0.2),erf,so3conv(2,2,grid=3),tanh,so3pool", []int{1, 3, 5}, NTK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.spec, tc.shape, tc.param)
			if err != nil {
				t.Fatal(err)
			}
			checkGradients(t, a, 2, 5)
		})
	}
}

// sphereLayer sets up a spherical convolution on an input of cin
// channels of band limit lin and returns its float64 implementation with
// random parameters.
func sphereLayer(t *testing.T, kind string, cin, lin, out, L, grid int, rng *rand.Rand) (*sphereConvImpl[float64], []float64) {
	t.Helper()
	c := &SphereConv{Kind: kind, Out: out, L: L, Grid: grid, WStd: 1.3, BStd: 0.4}
	in := Shape{lin, 2*lin - 1, 1, cin}
	ctx := &buildCtx{}
	if kind == "so3conv" {
		in = Shape{1, 1, sphere.SO3GridLen(lin), cin}
		ctx.so3 = lin
	}
	os, np, err := c.setup(in, ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := c.finite64(in, os, NTK).(*sphereConvImpl[float64])
	return m, randVec(rng, np)
}

// bandLimitedInput returns cin random band-limited signals of band limit
// lin (on S² or SO(3)), channels-last on their grid, and the same signals
// rotated by r: coefficients mapped by D(r), resynthesised on the grid.
func bandLimitedInput(so3 bool, cin, lin int, r sphere.Rotation, rng *rand.Rand) (x, xr []float64) {
	d := make([]float64, sphere.NumWigner(lin))
	sphere.WignerD(lin, r, d)
	nc, np := sphere.NumCoeffs(lin), sphere.S2GridLen(lin)
	if so3 {
		nc, np = sphere.NumWigner(lin), sphere.SO3GridLen(lin)
	}
	x, xr = make([]float64, np*cin), make([]float64, np*cin)
	f := make([]float64, np)
	cr := make([]float64, nc)
	for c := 0; c < cin; c++ {
		coef := randVec(rng, nc)
		for i, cf := range [][]float64{coef, cr} {
			if so3 {
				if i == 1 {
					sphere.RotateSO3(lin, d, coef, cr)
				}
				sphere.NewSO3Grid(lin).Inverse(cf, f)
			} else {
				if i == 1 {
					sphere.RotateS2(lin, d, coef, cr)
				}
				sphere.NewS2Grid(lin).Inverse(cf, f)
			}
			dst := [][]float64{x, xr}[i]
			for p, v := range f {
				dst[p*cin+c] = v
			}
		}
	}
	return x, xr
}

// so3Coeffs returns the Wigner coefficients of each channel of a
// channels-last SO(3) grid signal of band limit L.
func so3Coeffs(y []float64, L, C int) [][]float64 {
	g := sphere.NewSO3Grid(L)
	f := make([]float64, g.Len())
	var out [][]float64
	for c := 0; c < C; c++ {
		for q := range f {
			f[q] = y[q*C+c]
		}
		co := make([]float64, sphere.NumWigner(L))
		g.Forward(f, co)
		out = append(out, co)
	}
	return out
}

// TestSphereConvEquivariance checks z(λ(R)f) = λ(R) z(f) for random (not
// grid) rotations R: the output's Wigner coefficients for the rotated
// input are D^l(R) times those for the input, to 1e-10 relative.
func TestSphereConvEquivariance(t *testing.T) {
	cases := []struct {
		kind                      string
		cin, lin, out, lout, grid int
	}{
		{"s2conv", 3, 3, 4, 3, 3},
		{"s2conv", 2, 6, 3, 3, 3},
		{"s2conv", 1, 4, 2, 1, 1},
		{"s2conv", 2, 4, 3, 2, 5},
		{"so3conv", 3, 3, 2, 3, 3},
		{"so3conv", 2, 4, 3, 2, 2},
		{"so3conv", 2, 3, 2, 2, 4},
	}
	for _, tc := range cases {
		rng := rand.New(rand.NewPCG(uint64(tc.lin), uint64(tc.lout)))
		m, p := sphereLayer(t, tc.kind, tc.cin, tc.lin, tc.out, tc.lout, tc.grid, rng)
		r := sphere.Random(rng)
		x, xr := bandLimitedInput(tc.kind == "so3conv", tc.cin, tc.lin, r, rng)
		y := make([]float64, m.gout*m.out)
		yr := make([]float64, m.gout*m.out)
		m.forward(p, x, y, 1)
		m.forward(p, xr, yr, 1)
		// The transform on the (possibly finer) output grid: coefficients
		// of degrees >= lout vanish to round-off.
		c, cr := so3Coeffs(y, tc.grid, tc.out), so3Coeffs(yr, tc.grid, tc.out)
		d := make([]float64, sphere.NumWigner(tc.grid))
		sphere.WignerD(tc.grid, r, d)
		want := make([]float64, len(d))
		var worst, scale float64
		for o := range c {
			sphere.RotateSO3(tc.grid, d, c[o], want)
			for i, v := range want {
				worst = math.Max(worst, math.Abs(cr[o][i]-v))
				scale = math.Max(scale, math.Abs(v))
			}
		}
		if worst > 1e-10*scale {
			t.Errorf("%+v: equivariance error %.3g (scale %.3g)", tc, worst, scale)
		}
	}
}

// TestSO3PoolInvariance checks that linear spherical networks ending in
// so3pool give the same outputs for a band-limited input and its random
// rotations, to 1e-10 relative, and so do networks with quadratic
// activations on grids exact for their doubled degree; with other
// pointwise activations on the grid the error is only measured (it is not
// zero: their outputs are not band-limited).
func TestSO3PoolInvariance(t *testing.T) {
	cases := []struct {
		spec  string
		cin   int
		lin   int
		exact bool
	}{
		{"s2conv(4,3,b_std=0.2),so3pool", 3, 3, true},
		{"s2conv(4,4,w_std=1.5),so3conv(3,2,b_std=0.3),so3pool,dense(2)", 2, 5, true},
		{"s2conv(8,3),erf,so3conv(8,2),erf,so3pool,dense(2)", 2, 5, false},
		{"s2conv(8,3,grid=6),erf,so3conv(8,2,grid=6),erf,so3pool,dense(2)", 2, 5, false},
		{"s2conv(4,3,grid=5,b_std=0.1),so3conv(3,2,grid=4),so3pool", 2, 5, true},
		// The quadratic activation doubles the degree: after s2conv(·,3)
		// the integrand of so3conv(·,2) has degree 4+1, exact on grid 4;
		// the pooled one degree 2, exact on so3conv's own grid.
		{"s2conv(8,3,grid=4),quadratic,so3conv(8,2),quadratic,so3pool,dense(2)", 2, 5, true},
		{"s2conv(8,3),quadratic,so3conv(8,2),quadratic,so3pool,dense(2)", 2, 5, false},
	}
	for _, tc := range cases {
		a, err := Parse(tc.spec, []int{tc.cin, tc.lin, 2*tc.lin - 1}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		net := New[float64](a)
		net.Init(3)
		rng := rand.New(rand.NewPCG(9, uint64(tc.lin)))
		var worst, scale float64
		for trial := 0; trial < 3; trial++ {
			x, xr := bandLimitedInput(false, tc.cin, tc.lin, sphere.Random(rng), rng)
			y := append([]float64(nil), net.Forward(toDataset(x, tc.cin), 1)...)
			yr := net.Forward(toDataset(xr, tc.cin), 1)
			for i := range y {
				worst = math.Max(worst, math.Abs(y[i]-yr[i]))
				scale = math.Max(scale, math.Abs(y[i]))
			}
		}
		t.Logf("%s: invariance error %.3g relative", tc.spec, worst/scale)
		if tc.exact && worst > 1e-10*scale {
			t.Errorf("%s: invariance error %.3g (scale %.3g)", tc.spec, worst, scale)
		}
		if !tc.exact && worst < 1e-10*scale {
			t.Errorf("%s: invariance error %.3g: pointwise activations should not be exactly invariant", tc.spec, worst)
		}
	}
}

// toDataset converts a channels-last grid signal to the dataset layout
// [C, points].
func toDataset(x []float64, c int) []float64 {
	out := make([]float64, len(x))
	np := len(x) / c
	for p := 0; p < np; p++ {
		for ch := 0; ch < c; ch++ {
			out[ch*np+p] = x[p*c+ch]
		}
	}
	return out
}

// TestSphereFloat32 checks the float32 passes against float64.
func TestSphereFloat32(t *testing.T) {
	a, err := Parse("s2conv(4,3,b_std=0.2),erf,so3conv(3,2),relu,so3pool,dense(2)", []int{2, 4, 7}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	n64, n32 := New[float64](a), New[float32](a)
	n64.Init(1)
	n32.Init(1)
	x := randVec(rand.New(rand.NewPCG(1, 1)), 3*a.InputSize())
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	y64, y32 := n64.Forward(x, 3), n32.Forward(x32, 3)
	for i := range y64 {
		if math.Abs(y64[i]-float64(y32[i])) > 1e-4*(1+math.Abs(y64[i])) {
			t.Fatalf("output %d: float64 %v, float32 %v", i, y64[i], y32[i])
		}
	}
}

// TestSphereSpecs checks shapes, parameter counts, canonical specs and
// the errors of misplaced spherical layers.
func TestSphereSpecs(t *testing.T) {
	a, err := Parse("s2conv(4, 3, b_std=0.1), erf, so3conv(5, l=2, grid=2), so3pool, dense(1)", []int{2, 3, 5}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	if want := "s2conv(4,3,b_std=0.1),erf,so3conv(5,2),so3pool,dense(1)"; a.Spec != want {
		t.Errorf("spec %q, want %q", a.Spec, want)
	}
	if g := a.Shapes[1]; g != (Shape{1, 1, 3 * 5 * 5, 4}) {
		t.Errorf("s2conv output shape %v", g)
	}
	if g := a.Shapes[3]; g != (Shape{1, 1, 2 * 3 * 3, 5}) {
		t.Errorf("so3conv output shape %v", g)
	}
	if want := []int{9*2*4 + 4, 0, 10*4*5 + 5, 0, 5 + 1}; !equalInts(a.NParams, want) {
		t.Errorf("parameters %v, want %v", a.NParams, want)
	}
	bad := []struct {
		spec  string
		shape []int
		msg   string
	}{
		{"so3conv(2,2)", []int{1, 3, 5}, "needs SO(3) grid features"},
		{"s2conv(2,2)", []int{1, 3, 4}, "needs a signal on the sphere grid"},
		{"s2conv(2,4)", []int{1, 3, 5}, "exceeds the input's 3"},
		{"s2conv(2,0)", []int{1, 3, 5}, "band limit must be"},
		{"s2conv(2,3,grid=2)", []int{1, 3, 5}, "grid band limit must be"},
		{"s2conv(2,2,grid=4),so3conv(2,5)", []int{1, 3, 5}, "exceeds the input's 4"},
		{"s2conv(2,2),dense(3),so3pool", []int{1, 3, 5}, "needs SO(3) grid features"},
		{"s2conv(2,2),so3pool,so3pool", []int{1, 3, 5}, "needs SO(3) grid features"},
		{"dense(4),s2conv(2,1)", []int{8}, "needs a signal on the sphere grid"},
		{"s2conv(2,2),relu,gpool", []int{1, 3, 5}, "use so3pool"},
		{"s2conv(2,2),globalavgpool", []int{1, 3, 5}, "use so3pool"},
	}
	for _, tc := range bad {
		_, err := Parse(tc.spec, tc.shape, NTK)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s on %v: error %v, want %q", tc.spec, tc.shape, err, tc.msg)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSphereConvDefinition compares the Fourier-domain layers with their
// definitions evaluated by direct quadrature: z_o(R) = w/sqrt(4π C) Σ_c
// Σ_p w_p ψ_co(R⁻¹x_p) f_c(x_p) + b (s2conv) and z_o(R) = w/sqrt(C) Σ_c
// Σ_q w_q ψ_co(R⁻¹S_q) x_c(S_q) + b with ψ = Σ sqrt(2l+1) ψ̂^l_mn D^l_mn
// (so3conv), ψ evaluated pointwise from its coefficients.
func TestSphereConvDefinition(t *testing.T) {
	for _, tc := range []struct {
		kind                string
		cin, lin, out, lout int
		grid                int
	}{{"s2conv", 2, 3, 3, 2, 2}, {"s2conv", 1, 4, 2, 4, 4}, {"so3conv", 2, 3, 2, 2, 2}, {"s2conv", 2, 3, 2, 2, 4}, {"so3conv", 1, 3, 2, 2, 3}} {
		rng := rand.New(rand.NewPCG(4, uint64(tc.lin)))
		m, p := sphereLayer(t, tc.kind, tc.cin, tc.lin, tc.out, tc.lout, tc.grid, rng)
		so3 := tc.kind == "so3conv"
		np := sphere.S2GridLen(tc.lin)
		if so3 {
			np = sphere.SO3GridLen(tc.lin)
		}
		x := randVec(rng, np*tc.cin) // any grid values: the quadrature sees only these
		y := make([]float64, m.gout*m.out)
		m.forward(p, x, y, 1)
		nf := m.k * tc.cin * tc.out
		s2, gin, gout := sphere.NewS2Grid(tc.lin), sphere.NewSO3Grid(tc.lin), sphere.NewSO3Grid(tc.grid)
		scratch := make([]float64, sphere.NumWigner(tc.lout))
		norm := 1.3 / math.Sqrt(float64(tc.cin))
		if !so3 {
			norm /= math.Sqrt(4 * math.Pi)
		}
		for q := 0; q < gout.Len(); q += 3 {
			ri := gout.Rotation(q).Inv()
			for o := 0; o < tc.out; o++ {
				want := 0.4 * p[nf+o]
				for c := 0; c < tc.cin; c++ {
					psi := make([]float64, m.k)
					for i := range psi {
						psi[i] = p[(i*tc.cin+c)*tc.out+o]
					}
					if so3 {
						for l := 0; l < tc.lout; l++ {
							for i := sphere.WignerOffset(l); i < sphere.WignerOffset(l+1); i++ {
								psi[i] *= math.Sqrt(float64(2*l + 1))
							}
						}
					}
					for pt := 0; pt < np; pt++ {
						var v, w float64
						if so3 {
							v, w = sphere.EvalSO3(tc.lout, psi, ri.Mul(gin.Rotation(pt)), scratch), gin.Weight(pt)
						} else {
							v, w = sphere.EvalS2(tc.lout, psi, ri.Apply(s2.Point(pt)), scratch), s2.Weight(pt)
						}
						want += norm * w * v * x[pt*tc.cin+c]
					}
				}
				if got := y[q*tc.out+o]; math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
					t.Fatalf("%+v: z_%d(R_%d) = %.15g, direct quadrature %.15g", tc, o, q, got, want)
				}
			}
		}
	}
}
