package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eqens/eqens/group"
	"gonum.org/v1/gonum/integrate/quad"
)

func randInputs(seed uint64, n, d int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	return randVec(rng, n*d)
}

func kernelOf(t *testing.T, spec string, shape []int, x1 []float64, n1 int, x2 []float64, n2 int, opts KernelOptions) *KernelResult {
	t.Helper()
	a, err := Parse(spec, shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	opts.NTK = true
	r, err := a.Kernel(context.Background(), x1, n1, x2, n2, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// integrate computes ∫_lo^hi f(z) φ(z) dz with a 400-point Gauss–Legendre
// rule (φ the standard normal density). Keep [lo, hi] within about ±12:
// wider intervals space the nodes too far apart at the centre for the
// narrow integrands of large variances.
func integrate(f func(z float64) float64, lo, hi float64) float64 {
	return quad.Fixed(func(z float64) float64 {
		return f(z) * math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	}, lo, hi, 400, quad.Legendre{}, 0)
}

// refExpect returns E[phi(u)phi(v)] and E[phi'(u)phi'(v)] for the given
// activation by one-dimensional numerical integration over u, with the
// conditional expectation over v given u in closed form: an independent
// route to the closed-form kernels.
func refExpect(act string, k, v1, v2 float64) (float64, float64) {
	s1, s2 := math.Sqrt(v1), math.Sqrt(v2)
	rho := math.Max(-1, math.Min(1, k/(s1*s2))) // round-off can leave |rho| just above 1 on the diagonal
	sc := s2 * math.Sqrt(1-rho*rho)             // conditional sd of v given z
	mean := func(z float64) float64 { return rho * s2 * z }
	switch act {
	case "relu":
		phi := func(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
		Phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
		kk := integrate(func(z float64) float64 {
			m := mean(z)
			return s1 * z * (m*Phi(m/sc) + sc*phi(m/sc))
		}, 0, 12)
		kd := integrate(func(z float64) float64 { return Phi(mean(z) / sc) }, 0, 12)
		return kk, kd
	case "erf":
		kk := integrate(func(z float64) float64 {
			return math.Erf(s1*z) * math.Erf(mean(z)/math.Sqrt(1+2*sc*sc))
		}, -12, 12)
		kd := integrate(func(z float64) float64 {
			u := s1 * z
			m := mean(z)
			c := 1 + 2*sc*sc
			return (2 / math.Sqrt(math.Pi)) * math.Exp(-u*u) * (2 / math.Sqrt(math.Pi)) * math.Exp(-m*m/c) / math.Sqrt(c)
		}, -12, 12)
		return kk, kd
	case "quadratic": // a = 1, b = 1: v given u has mean m and variance sc²
		kk := integrate(func(z float64) float64 {
			u, m := s1*z, mean(z)
			return (u + u*u) * (m + m*m + sc*sc)
		}, -12, 12)
		kd := integrate(func(z float64) float64 { return (1 + 2*s1*z) * (1 + 2*mean(z)) }, -12, 12)
		return kk, kd
	}
	panic(act)
}

// TestMLPKernelAgainstQuadrature compares the closed-form ReLU, Erf and
// quadratic kernels of a deep MLP with a recursion that integrates every layer
// numerically.
func TestMLPKernelAgainstQuadrature(t *testing.T) {
	const d = 5
	x := randInputs(1, 3, d)
	for _, act := range []string{"relu", "erf", "quadratic"} {
		spec := "dense(64,w_std=1.5,b_std=0.2)," + act + ",dense(64,w_std=1.2,b_std=0.1)," + act + ",dense(1,w_std=0.9,b_std=0.3)"
		r := kernelOf(t, spec, []int{d}, x, 3, nil, 0, KernelOptions{})
		ws := []float64{1.5, 1.2, 0.9}
		bs := []float64{0.2, 0.1, 0.3}
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				xi, xj := x[i*d:(i+1)*d], x[j*d:(j+1)*d]
				k, v1, v2 := dot(xi, xj)/d, dot(xi, xi)/d, dot(xj, xj)/d
				th, t1, t2 := 0.0, 0.0, 0.0
				for l := 0; l < 3; l++ {
					w2, b2 := ws[l]*ws[l], bs[l]*bs[l]
					k, v1, v2 = w2*k+b2, w2*v1+b2, w2*v2+b2
					th, t1, t2 = k+w2*th, v1+w2*t1, v2+w2*t2
					if l == 2 {
						break
					}
					kk, kd := refExpect(act, k, v1, v2)
					a1, _ := refExpect(act, v1, v1, v1)
					a2, _ := refExpect(act, v2, v2, v2)
					k, v1, v2 = kk, a1, a2
					th *= kd
				}
				gotK, gotT := r.K[i*3+j], r.Theta[i*3+j]
				if !(math.Abs(gotK-k) <= 1e-10*math.Abs(k)) || !(math.Abs(gotT-th) <= 1e-10*math.Abs(th)) { // NaN fails
					t.Errorf("%s (%d,%d): K %.12g vs quadrature %.12g; Theta %.12g vs %.12g", act, i, j, gotK, k, gotT, th)
				}
			}
		}
	}
}

// TestActivationQuadratureKernels checks the Gauss–Hermite kernels (tanh,
// GELU) and the Erf closed form against the same quadrature machinery on a
// case where a closed form exists: erf(b x) evaluated through quadrature
// must match the closed form.
func TestActivationQuadratureKernels(t *testing.T) {
	x := randInputs(2, 4, 6)
	closed := kernelOf(t, "dense(8,b_std=0.1),erf(a=1.3,b=0.8),dense(1)", []int{6}, x, 4, nil, 0, KernelOptions{})
	a, err := Parse("dense(8,b_std=0.1),erf(a=1.3,b=0.8),dense(1)", []int{6}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	// Swap in a quadrature version of the same activation.
	act := a.Layers[1].(*Activation)
	q := &quadActivation{Activation: *act}
	a.Layers[1] = q
	r, err := a.Kernel(context.Background(), x, 4, nil, 0, KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.K {
		if math.Abs(r.K[i]-closed.K[i]) > 1e-9 || math.Abs(r.Theta[i]-closed.Theta[i]) > 1e-9 {
			t.Fatalf("entry %d: quadrature K %.12g Theta %.12g, closed form %.12g %.12g", i, r.K[i], r.Theta[i], closed.K[i], closed.Theta[i])
		}
	}
	// tanh and gelu kernels are finite, symmetric and PSD-looking.
	for _, act := range []string{"tanh", "gelu"} {
		r := kernelOf(t, "dense(8,b_std=0.1),"+act+",dense(8),"+act+",dense(1)", []int{6}, x, 4, nil, 0, KernelOptions{})
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				if math.IsNaN(r.K[i*4+j]) || r.K[i*4+j] != r.K[j*4+i] {
					t.Fatalf("%s kernel not symmetric/finite at (%d,%d)", act, i, j)
				}
				if r.K[i*4+j]*r.K[i*4+j] > r.K[i*4+i]*r.K[j*4+j]*(1+1e-12) {
					t.Fatalf("%s kernel violates Cauchy–Schwarz at (%d,%d)", act, i, j)
				}
			}
		}
	}
}

// quadActivation is an Activation whose kernel always uses quadrature.
type quadActivation struct{ Activation }

func (q *quadActivation) kernel(s *kernelState) error {
	a, b, c := q.A, q.B, q.C
	s.Activation(newQuad(64),
		func(x float64) float64 { return a*math.Erf(b*x) + c },
		func(x float64) float64 { return a * b * 2 / math.Sqrt(math.Pi) * math.Exp(-b*b*x*x) })
	return nil
}

// TestMonteCarloNNGP compares the analytic NNGP kernel of an MLP, a CNN and
// a C4 GCNN with the empirical covariance of the outputs over random
// initialisations of wide networks, within 4 standard errors plus a small
// finite-width allowance.
func TestMonteCarloNNGP(t *testing.T) {
	if testing.Short() {
		t.Skip("slow statistical test")
	}
	cases := []struct {
		spec    string
		shape   []int
		samples int
	}{
		{"dense(256,b_std=0.1),relu,dense(256),erf,dense(2)", []int{5}, 400},
		{"dense(256,b_std=0.1),quadratic(a=1,b=0.5),dense(256),quadratic(a=1,b=0.5),dense(2)", []int{5}, 400},
		{"conv(64,k=3,b_std=0.1),relu,conv(64,k=3),relu,globalavgpool,dense(2)", []int{1, 5, 5}, 300},
		{"lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(2)", []int{1, 5, 5}, 200},
	}
	for _, tc := range cases {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		n := 3
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

func relFrob(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// TestEmpiricalNTKConverges checks that empirical NTKs of wide networks
// approach the analytic NTK as the width grows, roughly like 1/sqrt(width).
// The widths here are kept small for CI; the kernel-convergence experiment
// runs 64 ... 4096.
func TestEmpiricalNTKConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("slow statistical test")
	}
	cases := []struct {
		name   string
		spec   func(w int) string
		shape  []int
		widths []int
		final  float64
	}{
		{"mlp", func(w int) string { return fmtSpec("dense(%d,b_std=0.1),relu,dense(%d),relu,dense(1)", w, w) }, []int{6}, []int{64, 256, 1024}, 0.12},
		{"cnn", func(w int) string { return fmtSpec("conv(%d,k=3),relu,conv(%d,k=3),relu,globalavgpool,dense(1)", w, w) }, []int{1, 5, 5}, []int{32, 128, 512}, 0.06},
		{"c4 gcnn", func(w int) string { return fmtSpec("lift(c4,%d,k=3),relu,gconv(%d,k=3),relu,gpool,dense(1)", w, w) }, []int{1, 5, 5}, []int{16, 64, 256}, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := randInputs(8, 4, sizeOf(tc.shape))
			var errs []float64
			for _, w := range tc.widths {
				a, err := Parse(tc.spec(w), tc.shape, NTK)
				if err != nil {
					t.Fatal(err)
				}
				r, err := a.Kernel(context.Background(), x, 4, nil, 0, KernelOptions{NTK: true})
				if err != nil {
					t.Fatal(err)
				}
				var e float64
				for seed := uint64(1); seed <= 3; seed++ {
					net := New[float64](a)
					net.Init(seed)
					e += relFrob(EmpiricalNTK(net, x, 4, nil, 0), r.Theta) / 3
				}
				errs = append(errs, e)
			}
			t.Logf("%s widths %v: relative Frobenius error %.4f", tc.name, tc.widths, errs)
			// Width x16 should divide the error by about 4; allow noise.
			if errs[len(errs)-1] > 0.55*errs[0] {
				t.Errorf("error did not fall with width: %.4f", errs)
			}
			if last := errs[len(errs)-1]; last > tc.final {
				t.Errorf("error %.4f at width %d above %.2f", last, tc.widths[len(tc.widths)-1], tc.final)
			}
		})
	}
}

func sizeOf(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// TestGCNNEqualsAveragedMLP checks the identity of Gerken & Kessel and
// Misof et al.: the NTK (and NNGP) of the GCNN with a full-support lifting
// layer, pointwise group convolutions and group pooling equals the group
// average (1/|G|) Σ_g Theta_MLP(x, rho(g) x').
func TestGCNNEqualsAveragedMLP(t *testing.T) {
	for _, gname := range []string{"c4", "d4"} {
		g, _ := group.Parse(gname)
		shape := []int{2, 6, 6}
		rep, err := group.ImageRep(g, 2, 6, 6)
		if err != nil {
			t.Fatal(err)
		}
		x1 := randInputs(3, 4, 72)
		x2 := randInputs(4, 3, 72)
		mlp := kernelOf(t, "dense(8,b_std=0.2),relu,dense(8,w_std=1.3,b_std=0.1),erf,dense(1,b_std=0.5)", shape, x1, 4, x2, 3, KernelOptions{Average: rep})
		gcnn := kernelOf(t, "liftdense("+gname+",8,b_std=0.2),relu,gconv(8,k=1,support=e,w_std=1.3,b_std=0.1),erf,gpool,dense(1,b_std=0.5)", shape, x1, 4, x2, 3, KernelOptions{})
		for i := range mlp.K {
			if math.Abs(mlp.K[i]-gcnn.K[i]) > 1e-10 || math.Abs(mlp.Theta[i]-gcnn.Theta[i]) > 1e-10 {
				t.Fatalf("%s entry %d: averaged MLP K %.15g Theta %.15g, GCNN %.15g %.15g", gname, i, mlp.K[i], mlp.Theta[i], gcnn.K[i], gcnn.Theta[i])
			}
		}
	}
}

// TestCNNAveragedEqualsGCNN checks the CNN version: the C4-averaged kernel of
// a CNN with global average pooling equals the kernel of the roto-translation
// GCNN whose group convolutions act within each rotation channel
// (support=e), for exact (90-degree) rotations of square images.
func TestCNNAveragedEqualsGCNN(t *testing.T) {
	g, _ := group.Parse("c4")
	shape := []int{1, 5, 5}
	rep, _ := group.ImageRep(g, 1, 5, 5)
	x1 := randInputs(6, 3, 25)
	x2 := randInputs(7, 2, 25)
	cnn := kernelOf(t, "conv(4,k=3,b_std=0.1),relu,conv(4,k=3),relu,globalavgpool,dense(1)", shape, x1, 3, x2, 2, KernelOptions{Average: rep})
	gcnn := kernelOf(t, "lift(c4,4,k=3,b_std=0.1),relu,gconv(4,k=3,support=e),relu,gpool,dense(1)", shape, x1, 3, x2, 2, KernelOptions{})
	for i := range cnn.K {
		if math.Abs(cnn.K[i]-gcnn.K[i]) > 1e-10 || math.Abs(cnn.Theta[i]-gcnn.Theta[i]) > 1e-10 {
			t.Fatalf("entry %d: averaged CNN K %.15g Theta %.15g, GCNN %.15g %.15g", i, cnn.K[i], cnn.Theta[i], gcnn.K[i], gcnn.Theta[i])
		}
	}
	// At infinite width the group support of an exact group convolution does
	// not matter: the kernel state is invariant under right translation of
	// both group indices, so every support element contributes the same
	// term. The full-support GCNN therefore has the same kernel.
	full := kernelOf(t, "lift(c4,4,k=3,b_std=0.1),relu,gconv(4,k=3),relu,gpool,dense(1)", shape, x1, 3, x2, 2, KernelOptions{})
	if d := relFrob(full.Theta, cnn.Theta); d > 1e-12 {
		t.Fatalf("full-support GCNN differs from the averaged CNN by %g", d)
	}
}

// TestReducedGroupConvKernel checks the shortcut that evaluates the kernel
// of a full-support exact group convolution with the identity support term
// alone against the unreduced sum, and that the shortcut is not taken for
// interpolated groups.
func TestReducedGroupConvKernel(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		reduced bool
	}{
		{"lift(d4,3,k=3,b_std=0.1),relu,gconv(3,k=3,b_std=0.2),erf,gconv(2,k=3),relu,gpool,dense(1)", true},
		{"lift(c8,3,k=3),relu,gconv(3,k=3),relu,gpool,dense(1)", false},
	} {
		a, err := Parse(tc.spec, []int{1, 5, 5}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		x := randInputs(12, 3, 25)
		fast, err := a.Kernel(context.Background(), x, 3, nil, 0, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		hasReduced := false
		for _, l := range a.Layers {
			if c, ok := l.(*Conv); ok && c.op.Reduced != nil {
				hasReduced = true
				c.op.Reduced = nil
			}
		}
		if hasReduced != tc.reduced {
			t.Fatalf("%s: reduced kernel op present = %v, want %v", tc.spec, hasReduced, tc.reduced)
		}
		slow, err := a.Kernel(context.Background(), x, 3, nil, 0, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		if d := relFrob(fast.Theta, slow.Theta) + relFrob(fast.K, slow.K); d > 1e-13 {
			t.Fatalf("%s: reduced and full group sums differ by %g", tc.spec, d)
		}
	}
}

// TestKernelDeterminism checks that the symmetric shortcut, the tiling and
// the number of workers do not change a single bit.
func TestKernelDeterminism(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"dense(16,b_std=0.1),relu,dense(1)", []int{7}},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 4, 4}},
		{"conv(4,k=5),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{2, 5, 5}}, // first layer from patches
	} {
		d := sizeOf(tc.shape)
		x := randInputs(9, 37, d)
		sym := kernelOf(t, tc.spec, tc.shape, x, 37, nil, 0, KernelOptions{Workers: 1})
		sym3 := kernelOf(t, tc.spec, tc.shape, x, 37, nil, 0, KernelOptions{Workers: 3, MemoryMB: 1})
		full := kernelOf(t, tc.spec, tc.shape, x, 37, x, 37, KernelOptions{Workers: 3, MemoryMB: 1})
		full1 := kernelOf(t, tc.spec, tc.shape, x, 37, x, 37, KernelOptions{Workers: 1})
		for i := range sym.K {
			if sym.K[i] != sym3.K[i] || sym.Theta[i] != sym3.Theta[i] || full.Theta[i] != full1.Theta[i] {
				t.Fatalf("%s: entry %d depends on workers or tiles", tc.spec, i)
			}
		}
		// The symmetric shortcut mirrors k(x_j, x_i) into k(x_i, x_j):
		// equal up to the order of floating-point operations.
		if d := relFrob(sym.Theta, full.Theta); d > 1e-14 {
			t.Fatalf("%s: symmetric and full computation differ by %g", tc.spec, d)
		}
	}
}

// TestEmpiricalNNGPConverges checks that the readout covariance of single
// wide networks approaches the analytic NNGP.
func TestEmpiricalNNGPConverges(t *testing.T) {
	x := randInputs(13, 4, 6)
	var errs []float64
	for _, w := range []int{64, 1024} {
		a, err := Parse(fmtSpec("dense(%d,b_std=0.1),relu,dense(%d),erf,dense(3,b_std=0.2)", w, w), []int{6}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		r, err := a.Kernel(context.Background(), x, 4, nil, 0, KernelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var e float64
		for seed := uint64(1); seed <= 4; seed++ {
			net := New[float64](a)
			net.Init(seed)
			k, err := EmpiricalNNGP(net, x, 4, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			e += relFrob(k, r.K) / 4
		}
		errs = append(errs, e)
	}
	t.Logf("empirical NNGP error at widths 64, 1024: %.4f", errs)
	if errs[1] > 0.5*errs[0] || errs[1] > 0.08 {
		t.Fatalf("empirical NNGP does not converge: %.4f", errs)
	}
}

// TestSlabKernels checks the slab storage of exact GCNN kernels (only the
// identity group column, |G| times less work) against the full group-indexed
// recursion on architectures that exercise every operator.
func TestSlabKernels(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"lift(c4,3,k=3,b_std=0.1),relu,gconv(3,k=3),erf,gconv(2,k=3,support=e),relu,gpool,dense(1)", []int{1, 5, 5}},
		{"lift(d4,3,k=3),relu,avgpool(2),gconv(3,k=3,b_std=0.2),relu,globalavgpool,dense(1,b_std=0.1)", []int{2, 6, 6}},
		{"lift(c4,3,k=3,padding=valid),erf,gconv(3,k=3,padding=circular),relu,flatten,dense(1)", []int{1, 7, 7}},
		{"liftdense(d4,5,b_std=0.1),relu,gconv(5,k=1),erf,gpool,dense(1)", []int{1, 4, 4}},
		{"conv(3,k=3),relu,avgpool(2),liftdense(c4,4),relu,gpool,dense(1)", []int{1, 6, 6}},
	} {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		x := randInputs(31, 3, a.InputSize())
		x2 := randInputs(32, 2, a.InputSize())
		slab, err := a.Kernel(context.Background(), x, 3, x2, 2, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		if !a.setSlab(false) {
			t.Fatalf("%s: no layer used the slab form", tc.spec)
		}
		full, err := a.Kernel(context.Background(), x, 3, x2, 2, KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		if d := relFrob(slab.Theta, full.Theta) + relFrob(slab.K, full.K); d > 1e-12 {
			t.Errorf("%s: slab and full kernels differ by %g", tc.spec, d)
		}
	}
}

// TestEmpiricalNTKBlocked checks that streaming the Jacobian in blocks of
// any size gives the kernel of the whole Jacobian, J1 J2ᵀ averaged over the
// output diagonal, for a kernel of inputs with themselves and with others.
func TestEmpiricalNTKBlocked(t *testing.T) {
	a, err := Parse("conv(3,k=3),relu,globalavgpool,dense(5),relu,dense(2)", []int{1, 4, 4}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	net := New[float64](a)
	net.Init(3)
	n1, n2, k, p := 5, 3, 2, len(net.Params)
	x1 := randInputs(1, n1, 16)
	x2 := randInputs(2, n2, 16)
	ref := func(xa []float64, na int, xb []float64, nb int) []float64 {
		ja := Jacobian(net, xa, na)
		jb := Jacobian(net, xb, nb)
		out := make([]float64, na*nb)
		for i := 0; i < na; i++ {
			for j := 0; j < nb; j++ {
				for c := 0; c < k; c++ {
					for q := 0; q < p; q++ {
						out[i*nb+j] += ja[(i*k+c)*p+q] * jb[(j*k+c)*p+q] / float64(k)
					}
				}
			}
		}
		return out
	}
	self, cross := ref(x1, n1, x1, n1), ref(x1, n1, x2, n2)
	for _, rows := range []int{1, 2, 3, 4, 7, 10, 100} {
		got := EmpiricalNTKBlocked(net, x1, n1, nil, 0, rows*8*p)
		if e := relFrob(got, self); e > 1e-13 {
			t.Errorf("blocks of %d rows: kernel with itself off by %.2g", rows, e)
		}
		for i := 0; i < n1; i++ {
			for j := 0; j < i; j++ {
				if got[i*n1+j] != got[j*n1+i] {
					t.Fatalf("blocks of %d rows: not symmetric at (%d,%d)", rows, i, j)
				}
			}
		}
		got = EmpiricalNTKBlocked(net, x1, n1, x2, n2, rows*8*p)
		if e := relFrob(got, cross); e > 1e-13 {
			t.Errorf("blocks of %d rows: kernel with other inputs off by %.2g", rows, e)
		}
	}
	if e := relFrob(EmpiricalNTKBlocked(net, x1, n1, nil, 0, 0), self); e > 1e-13 {
		t.Errorf("no budget (one row at a time): off by %.2g", e)
	}
}

// TestKernelSymmetricOption checks KernelOptions.Symmetric on the kernel of
// images against their reflections (an involution under whose
// simultaneous action a CNN kernel is invariant): exactly symmetric and
// equal to the full computation up to the order of operations; and that
// unequal sides are refused.
func TestKernelSymmetricOption(t *testing.T) {
	g, err := group.Parse("d4")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := group.ImageRep(g, 1, 6, 6)
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	spec, shape := "conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 6, 6}
	x := randInputs(3, n, 36)
	for a := 0; a < g.Order(); a++ {
		if g.Mul(a, a) != g.Identity() {
			continue
		}
		xa := make([]float64, len(x))
		group.ApplyBatch(rep, a, xa, x)
		full := kernelOf(t, spec, shape, x, n, xa, n, KernelOptions{Workers: 2, MemoryMB: 1})
		sym := kernelOf(t, spec, shape, x, n, xa, n, KernelOptions{Workers: 2, MemoryMB: 1, Symmetric: true})
		for i := range n {
			for j := range n {
				if sym.Theta[i*n+j] != sym.Theta[j*n+i] || sym.K[i*n+j] != sym.K[j*n+i] {
					t.Fatalf("element %d: not exactly symmetric at (%d,%d)", a, i, j)
				}
			}
		}
		if d := relFrob(sym.Theta, full.Theta); d > 1e-14 {
			t.Fatalf("element %d: symmetric and full computation differ by %g", a, d)
		}
		if d := relFrob(sym.K, full.K); d > 1e-14 {
			t.Fatalf("element %d: NNGP: symmetric and full computation differ by %g", a, d)
		}
	}
	a, err := Parse(spec, shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Kernel(context.Background(), x, n, x[:36*(n-1)], n-1, KernelOptions{Symmetric: true}); err == nil || !strings.Contains(err.Error(), "symmetric") {
		t.Fatalf("unequal sides: got %v, want an error about the symmetric kernel", err)
	}
}
