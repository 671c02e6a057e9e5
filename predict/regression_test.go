package predict

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eqens/eqens/internal/linalg"
)

// The references in this file avoid the code paths under test: finite times
// integrate the matrix ODE dM/dc = I - Theta M with RK4 (no eigenvectors,
// no matrix exponential), t = +Inf solves by LU (gonum), never by Cholesky.

// ptProblem is a training/test set with jointly positive semi-definite NNGP
// and NTK kernels on the n+m points.
type ptProblem struct {
	n, m, k            int
	kdd, kdt, ktd, ktt []float64 // NNGP blocks: train-train, train-test, test-train, test-test
	tdd, ttd           []float64 // NTK blocks: train-train, test-train
	y                  []float64
}

// ptMatMul returns a (r×q) times b (q×c), naively.
func ptMatMul(r, q, c int, a, b []float64) []float64 {
	out := make([]float64, r*c)
	for i := 0; i < r; i++ {
		for l := 0; l < q; l++ {
			x := a[i*q+l]
			for j := 0; j < c; j++ {
				out[i*c+j] += x * b[l*c+j]
			}
		}
	}
	return out
}

func ptT(r, c int, a []float64) []float64 {
	out := make([]float64, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = a[i*c+j]
		}
	}
	return out
}

func ptAdd(alpha float64, a []float64, beta float64, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = alpha*a[i] + beta*b[i]
	}
	return out
}

// ptGram returns the joint (n+m)×(n+m) Gram matrix F F^T/d + bias of random
// Gaussian features F ((n+m)×d).
func ptGram(r *rand.Rand, p, d int, bias float64) []float64 {
	f := make([]float64, p*d)
	for i := range f {
		f[i] = r.NormFloat64()
	}
	g := ptMatMul(p, d, p, f, ptT(p, d, f))
	for i := range g {
		g[i] = g[i]/float64(d) + bias
	}
	return g
}

// ptBlock extracts rows [r0,r1) and columns [c0,c1) of the p×p matrix g.
func ptBlock(p int, g []float64, r0, r1, c0, c1 int) []float64 {
	out := make([]float64, 0, (r1-r0)*(c1-c0))
	for i := r0; i < r1; i++ {
		out = append(out, g[i*p+c0:i*p+c1]...)
	}
	return out
}

func ptNewProblem(seed uint64, n, m, k, d int) *ptProblem {
	r := rand.New(rand.NewPCG(seed, 7))
	p := n + m
	kj := ptGram(r, p, d, 0.1)
	tj := ptAdd(1, kj, 1, ptGram(r, p, d, 0.2)) // Theta = K + another PSD kernel
	pr := &ptProblem{n: n, m: m, k: k,
		kdd: ptBlock(p, kj, 0, n, 0, n), kdt: ptBlock(p, kj, 0, n, n, p),
		ktd: ptBlock(p, kj, n, p, 0, n), ktt: ptBlock(p, kj, n, p, n, p),
		tdd: ptBlock(p, tj, 0, n, 0, n), ttd: ptBlock(p, tj, n, p, 0, n),
		y: make([]float64, n*k),
	}
	for i := range pr.y {
		pr.y[i] = r.NormFloat64()
	}
	return pr
}

// train returns the training kernel and test-train block of the regime.
func (pr *ptProblem) train(reg Regime) (dd, td []float64) {
	if reg == RegimeNTK {
		return pr.tdd, pr.ttd
	}
	return pr.kdd, pr.ktd
}

func (pr *ptProblem) covKernels(reg Regime) CovarianceKernels {
	_, td := pr.train(reg)
	ck := CovarianceKernels{TestTrain: td, NNGPTestTest: pr.ktt}
	if reg == RegimeNTK {
		ck.NNGPTestTrain, ck.NNGPTrainTrain = pr.ktd, pr.kdd
	}
	return ck
}

// ptSymEig returns the ascending eigenvalues of the symmetric n×n matrix a
// (gonum, independent of internal/linalg's openblas build).
func ptSymEig(n int, a []float64) []float64 {
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, slices.Clone(a)), false) {
		panic("EigenSym failed")
	}
	return es.Values(nil)
}

// ptIntegrate returns M(c) = Theta^-1 (I - exp(-c Theta)) for each c in cs
// (ascending) by integrating dM/dc = I - Theta M, M(0) = 0, with classical
// RK4 steps of size h <= 0.004/lambda_max. For this linear ODE one RK4 step
// is the affine map M -> R M + Q with R = 1 - z + z^2/2 - z^3/6 + z^4/24,
// Q = h (1 - z/2 + z^2/6 - z^3/24), z = h Theta; 2^s steps are taken
// exactly by squaring the map s times.
func ptIntegrate(n int, theta []float64, cs []float64) [][]float64 {
	ev := ptSymEig(n, theta)
	lmax := math.Max(ev[n-1], 1e-12)
	eye := make([]float64, n*n)
	for i := 0; i < n; i++ {
		eye[i*n+i] = 1
	}
	mcur := make([]float64, n*n)
	var res [][]float64
	c0 := 0.0
	for _, c := range cs {
		if c > c0 {
			s := max(0, int(math.Ceil(math.Log2((c-c0)*lmax/0.004))))
			h := (c - c0) / math.Ldexp(1, s)
			z := ptAdd(h, theta, 0, theta)
			z2 := ptMatMul(n, n, n, z, z)
			z3 := ptMatMul(n, n, n, z2, z)
			z4 := ptMatMul(n, n, n, z3, z)
			rm, q := make([]float64, n*n), make([]float64, n*n)
			for i := range rm {
				rm[i] = eye[i] - z[i] + z2[i]/2 - z3[i]/6 + z4[i]/24
				q[i] = h * (eye[i] - z[i]/2 + z2[i]/6 - z3[i]/24)
			}
			for range s {
				q = ptAdd(1, ptMatMul(n, n, n, rm, q), 1, q)
				rm = ptMatMul(n, n, n, rm, rm)
			}
			mcur = ptAdd(1, ptMatMul(n, n, n, rm, mcur), 1, q)
		}
		c0 = c
		res = append(res, slices.Clone(mcur))
	}
	return res
}

// ptInverse returns Theta^-1 by an LU solve (gonum).
func ptInverse(n int, a []float64) []float64 {
	var inv mat.Dense
	if err := inv.Inverse(mat.NewDense(n, n, slices.Clone(a))); err != nil {
		panic(err)
	}
	return slices.Clone(inv.RawMatrix().Data)
}

// ptReference returns mean (m×k) and covariance (m×m) for the solution
// operator M (n×n, symmetric) of the training kernel, with kddMid the
// middle kernel of the covariance (K(X,X) in the NTK regime).
func ptReference(pr *ptProblem, reg Regime, mop, kddMid []float64) (mean, cov []float64) {
	n, m, k := pr.n, pr.m, pr.k
	_, td := pr.train(reg)
	b := ptMatMul(n, n, m, mop, ptT(m, n, td)) // M Theta(X,x)
	mean = ptMatMul(m, n, k, td, ptMatMul(n, n, k, mop, pr.y))
	quad := ptMatMul(m, n, m, ptT(n, m, b), ptMatMul(n, n, m, kddMid, b))
	cross := ptMatMul(m, n, m, pr.ktd, b)
	cov = make([]float64, m*m)
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			cov[i*m+j] = pr.ktt[i*m+j] + quad[i*m+j] - cross[i*m+j] - cross[j*m+i]
		}
	}
	return mean, cov
}

// ptRelErr returns max|got-want| / max(max|want|, floor).
func ptRelErr(got, want []float64, floor float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	e, s := 0.0, floor
	for i := range want {
		e = math.Max(e, math.Abs(got[i]-want[i]))
		s = math.Max(s, math.Abs(want[i]))
	}
	return e / s
}

func ptRegKernel(n int, a []float64, r float64) []float64 {
	out := slices.Clone(a)
	for i := 0; i < n; i++ {
		out[i*n+i] += r
	}
	return out
}

func ptMeanDiag(n int, a []float64) float64 {
	s := 0.0
	for i := 0; i < n; i++ {
		s += a[i*n+i]
	}
	return s / float64(n)
}

// TestPredictAgainstODE compares Mean and Covariance at finite times with an
// RK4 integration of the training dynamics and at t = +Inf with an LU solve,
// for both regimes, with and without regulariser.
func TestPredictAgainstODE(t *testing.T) {
	const n, m, k = 30, 7, 3
	cs := []float64{0, 0.05, 0.4, 1.5, 6} // c = eta*t/N
	cases := []struct {
		name    string
		regime  Regime
		eta     float64
		reg     float64
		regAbs  bool
		seed    uint64
		meanTol float64
		covTol  float64
	}{
		{"ntk", RegimeNTK, 1, 0, false, 1, 1e-10, 1e-10},
		{"ntk/eta=0.3/relreg", RegimeNTK, 0.3, 0.05, false, 2, 1e-10, 1e-10},
		{"ntk/absreg", RegimeNTK, 2, 0.01, true, 3, 1e-10, 1e-10},
		{"nngp", RegimeNNGP, 1, 0, false, 4, 1e-10, 1e-10},
		{"nngp/absreg", RegimeNNGP, 0.7, 0.02, true, 5, 1e-10, 1e-10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr := ptNewProblem(tc.seed, n, m, k, 40)
			dd, td := pr.train(tc.regime)
			p, err := NewRegressor(n, dd, pr.y, k, Options{Regime: tc.regime, LearningRate: tc.eta, Reg: tc.reg, RegAbsolute: tc.regAbs})
			if err != nil {
				t.Fatal(err)
			}
			r := tc.reg
			if !tc.regAbs {
				r *= ptMeanDiag(n, dd)
			}
			if math.Abs(p.Regulariser()-r) > 1e-15*math.Max(r, 1) {
				t.Fatalf("Regulariser() = %g, want %g", p.Regulariser(), r)
			}
			theta := ptRegKernel(n, dd, r)
			// The middle kernel: K(X,X) for NTK; for NNGP the regularised
			// training kernel itself (neural-tangents' convention).
			mid := pr.kdd
			if tc.regime == RegimeNNGP {
				mid = theta
			}
			times := make([]float64, 0, len(cs)+1)
			for _, c := range cs {
				times = append(times, c*float64(n)/tc.eta)
			}
			times = append(times, math.Inf(1))
			mops := append(ptIntegrate(n, theta, cs), ptInverse(n, theta))

			mean, err := p.Mean(td, m, times)
			if err != nil {
				t.Fatal(err)
			}
			cov, err := p.Covariance(m, pr.covKernels(tc.regime), times)
			if err != nil {
				t.Fatal(err)
			}
			// The order of the times does not matter.
			rev := slices.Clone(times)
			slices.Reverse(rev)
			rmean, err := p.Mean(td, m, rev)
			if err != nil {
				t.Fatal(err)
			}
			rcov, err := p.Covariance(m, pr.covKernels(tc.regime), rev)
			if err != nil {
				t.Fatal(err)
			}
			for s := range times {
				q := len(times) - 1 - s
				if ptRelErr(rmean[q*m*k:(q+1)*m*k], mean[s*m*k:(s+1)*m*k], 1e-3) > 1e-14 ||
					ptRelErr(rcov[q*m*m:(q+1)*m*m], cov[s*m*m:(s+1)*m*m], 1e-3) > 1e-14 {
					t.Fatalf("results for times[%d] depend on the order of the times", s)
				}
			}
			worstM, worstC := 0.0, 0.0
			for s := range times {
				wm, wc := ptReference(pr, tc.regime, mops[s], mid)
				em := ptRelErr(mean[s*m*k:(s+1)*m*k], wm, 1e-3)
				ec := ptRelErr(cov[s*m*m:(s+1)*m*m], wc, 1e-3)
				if em > tc.meanTol || ec > tc.covTol {
					t.Errorf("t=%g (c=%g): mean error %.3g (tol %g), covariance error %.3g (tol %g)", times[s], p.eta*times[s]/n, em, tc.meanTol, ec, tc.covTol)
				}
				worstM, worstC = math.Max(worstM, em), math.Max(worstC, ec)
			}
			t.Logf("%s backend: max relative error vs RK4/LU reference: mean %.2g, covariance %.2g", linalg.Backend, worstM, worstC)

			if tc.regime == RegimeNNGP {
				// The simplified NNGP form equals the general one with
				// Theta -> K + rI, and at +Inf the GP posterior with noise r.
				for s, c := range cs {
					var m2 []float64
					if c == 0 {
						m2 = make([]float64, n*n)
					} else {
						m2 = ptIntegrate(n, theta, []float64{2 * c})[0]
					}
					want := ptAdd(1, pr.ktt, -1, ptMatMul(m, n, m, pr.ktd, ptMatMul(n, n, m, m2, pr.kdt)))
					if e := ptRelErr(cov[s*m*m:(s+1)*m*m], want, 1e-3); e > 1e-9 {
						t.Errorf("NNGP covariance at c=%g differs from K - K M(2c) K by %.3g", c, e)
					}
				}
				post := ptAdd(1, pr.ktt, -1, ptMatMul(m, n, m, pr.ktd, ptMatMul(n, n, m, ptInverse(n, theta), pr.kdt)))
				last := len(times) - 1
				if e := ptRelErr(cov[last*m*m:], post, 1e-3); e > 1e-10 {
					t.Errorf("NNGP covariance at t=+Inf differs from the GP posterior by %.3g", e)
				}
			}
		})
	}
}

// TestPredictInfinityLimit checks that large finite times (eigendecomposition
// path) converge to t = +Inf (Cholesky path).
func TestPredictInfinityLimit(t *testing.T) {
	const n, m, k = 30, 5, 2
	for _, regime := range []Regime{RegimeNTK, RegimeNNGP} {
		t.Run(regime.String(), func(t *testing.T) {
			pr := ptNewProblem(11, n, m, k, 60)
			dd, td := pr.train(regime)
			p, err := NewRegressor(n, dd, pr.y, k, Options{Regime: regime})
			if err != nil {
				t.Fatal(err)
			}
			ev := ptSymEig(n, dd)
			big := 50 / ev[0] * n // exp(-c lambda_min) = e^-50
			times := []float64{big, math.Inf(1)}
			mean, err := p.Mean(td, m, times)
			if err != nil {
				t.Fatal(err)
			}
			cov, err := p.Covariance(m, pr.covKernels(regime), times)
			if err != nil {
				t.Fatal(err)
			}
			cond := ev[n-1] / ev[0]
			em := ptRelErr(mean[:m*k], mean[m*k:], 1e-3)
			ec := ptRelErr(cov[:m*m], cov[m*m:], 1e-3)
			t.Logf("cond %.3g: large-t vs +Inf: mean %.2g, covariance %.2g", cond, em, ec)
			if tol := 1e-14 * cond * n; em > tol || ec > tol {
				t.Errorf("large t differs from +Inf: mean %.3g, covariance %.3g (tol %.3g)", em, ec, tol)
			}
		})
	}
}

// TestPredictTimeZero: no training means zero mean and the prior covariance.
func TestPredictTimeZero(t *testing.T) {
	const n, m, k = 12, 4, 2
	for _, regime := range []Regime{RegimeNTK, RegimeNNGP} {
		pr := ptNewProblem(21, n, m, k, 20)
		dd, td := pr.train(regime)
		p, err := NewRegressor(n, dd, pr.y, k, Options{Regime: regime, Reg: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		mean, err := p.Mean(td, m, []float64{0})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range mean {
			if v != 0 {
				t.Fatalf("%v: mean[%d] at t=0 is %g, want 0", regime, i, v)
			}
		}
		cov, err := p.Covariance(m, pr.covKernels(regime), []float64{0})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cov, pr.ktt) {
			t.Fatalf("%v: covariance at t=0 is %v, want the prior %v", regime, cov, pr.ktt)
		}
	}
}

// TestPredictScalar checks a single training point against the closed form.
func TestPredictScalar(t *testing.T) {
	const th, kap, y = 2.0, 1.5, 0.7 // Theta(X,X), K(X,X), target
	const a, b, s = 1.2, 0.9, 1.1    // Theta(x,X), K(x,X), K(x,x)
	for _, tc := range []struct{ eta, t float64 }{{1, 0.3}, {0.5, 2}, {3, 10}, {1, math.Inf(1)}} {
		p, err := NewRegressor(1, []float64{th}, []float64{y}, 1, Options{LearningRate: tc.eta})
		if err != nil {
			t.Fatal(err)
		}
		u := (1 - math.Exp(-tc.eta*th*tc.t)) / th // Theta^-1 (1 - e^{-eta Theta t / N}), N = 1
		mean, err := p.Mean([]float64{a}, 1, []float64{tc.t})
		if err != nil {
			t.Fatal(err)
		}
		cov, err := p.Covariance(1, CovarianceKernels{TestTrain: []float64{a}, NNGPTestTest: []float64{s},
			NNGPTestTrain: []float64{b}, NNGPTrainTrain: []float64{kap}}, []float64{tc.t})
		if err != nil {
			t.Fatal(err)
		}
		wm := a * u * y
		wc := s + a*u*kap*u*a - 2*a*u*b
		if math.Abs(mean[0]-wm) > 1e-15 || math.Abs(cov[0]-wc) > 1e-15 {
			t.Errorf("eta=%g t=%g: mean %.17g cov %.17g, want %.17g %.17g", tc.eta, tc.t, mean[0], cov[0], wm, wc)
		}
	}
}

// ptRBF is a rotation-invariant kernel on the plane.
func ptRBF(x, z [2]float64, ell float64) float64 {
	dx, dy := x[0]-z[0], x[1]-z[1]
	return math.Exp(-(dx*dx + dy*dy) / (2 * ell * ell))
}

func ptRot(x [2]float64, q int) [2]float64 {
	for ; q > 0; q-- {
		x = [2]float64{-x[1], x[0]}
	}
	return x
}

// TestPredictInvariance: with a C4-closed training set, C4-invariant targets
// and a rotation-invariant kernel, Theta(X,X) commutes with the permutation
// of the samples, so the ensemble mean and covariance are invariant at every
// time, on and off the data. Dropping one orbit element breaks this.
func TestPredictInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var base [][2]float64
	for range 5 {
		base = append(base, [2]float64{r.NormFloat64(), r.NormFloat64()})
	}
	target := func(x [2]float64) float64 { return math.Sin(x[0]*x[0] + x[1]*x[1]) }
	theta := func(x, z [2]float64) float64 { return ptRBF(x, z, 0.8) + 0.5*ptRBF(x, z, 2) }
	nngp := func(x, z [2]float64) float64 { return ptRBF(x, z, 0.8) }
	test := [2]float64{0.3, -1.1}
	var xs [][2]float64
	for _, b := range base {
		for q := range 4 {
			xs = append(xs, ptRot(b, q))
		}
	}
	times := []float64{3, 40, math.Inf(1)}
	spread := func(xs [][2]float64) (float64, float64) {
		n := len(xs)
		gram := func(f func(x, z [2]float64) float64, a, b [][2]float64) []float64 {
			out := make([]float64, 0, len(a)*len(b))
			for _, x := range a {
				for _, z := range b {
					out = append(out, f(x, z))
				}
			}
			return out
		}
		y := make([]float64, n)
		for i, x := range xs {
			y[i] = target(x)
		}
		orbit := [][2]float64{test, ptRot(test, 1), ptRot(test, 2), ptRot(test, 3)}
		p, err := NewRegressor(n, gram(theta, xs, xs), y, 1, Options{Reg: 1e-6, RegAbsolute: true})
		if err != nil {
			t.Fatal(err)
		}
		mean, err := p.Mean(gram(theta, orbit, xs), 4, times)
		if err != nil {
			t.Fatal(err)
		}
		cov, err := p.Covariance(4, CovarianceKernels{TestTrain: gram(theta, orbit, xs), NNGPTestTest: gram(nngp, orbit, orbit),
			NNGPTestTrain: gram(nngp, orbit, xs), NNGPTrainTrain: gram(nngp, xs, xs)}, times)
		if err != nil {
			t.Fatal(err)
		}
		dm, dc := 0.0, 0.0
		for s := range times {
			for q := 1; q < 4; q++ {
				dm = math.Max(dm, math.Abs(mean[s*4+q]-mean[s*4]))
				dc = math.Max(dc, math.Abs(cov[s*16+q*5]-cov[s*16]))
			}
		}
		return dm, dc
	}
	dm, dc := spread(xs)
	t.Logf("closed training set: orbit spread of mean %.2g, of variance %.2g", dm, dc)
	if dm > 1e-10 || dc > 1e-10 {
		t.Errorf("mean/variance not invariant on a C4-closed training set: spread %.3g / %.3g", dm, dc)
	}
	dm, dc = spread(xs[1:])
	t.Logf("orbit broken: spread of mean %.2g, of variance %.2g", dm, dc)
	if dm < 1e-6 {
		t.Errorf("without closure the mean should not be invariant (spread %.3g)", dm)
	}
}

// TestPredictCovariancePSD: the covariance is symmetric and positive
// semi-definite up to round-off at all times.
func TestPredictCovariancePSD(t *testing.T) {
	const n, m, k = 40, 25, 1
	for _, regime := range []Regime{RegimeNTK, RegimeNNGP} {
		pr := ptNewProblem(31, n, m, k, 30) // rank 30 < n: singular training kernels
		dd, _ := pr.train(regime)
		p, err := NewRegressor(n, dd, pr.y, k, Options{Regime: regime, Reg: 1e-4})
		if err != nil {
			t.Fatal(err)
		}
		times := []float64{0, 1, 10, 100, 1e4, math.Inf(1)}
		cov, err := p.Covariance(m, pr.covKernels(regime), times)
		if err != nil {
			t.Fatal(err)
		}
		for s := range times {
			c := cov[s*m*m : (s+1)*m*m]
			for i := 0; i < m; i++ {
				for j := 0; j < i; j++ {
					if c[i*m+j] != c[j*m+i] {
						t.Fatalf("%v t=%g: covariance not symmetric at (%d,%d)", regime, times[s], i, j)
					}
				}
			}
			ev := ptSymEig(m, c)
			if ev[0] < -1e-10*math.Max(ev[m-1], 1) {
				t.Errorf("%v t=%g: covariance has eigenvalue %.3g (largest %.3g)", regime, times[s], ev[0], ev[m-1])
			}
		}
	}
}

// TestPredictNeuralTangentsTime re-implements neural-tangents'
// gradient_descent_mse_ensemble (exponent -lr*t_NT*lambda/y_train.size,
// relative diag_reg times the mean diagonal) and checks that our time t
// equals t_NT = k*t at the same learning rate.
func TestPredictNeuralTangentsTime(t *testing.T) {
	const n, m, k = 20, 4, 3
	const lr, diagReg = 0.8, 0.01
	pr := ptNewProblem(41, n, m, k, 30)
	// neural-tangents, predict.py: _add_diagonal_regularizer, eigh,
	// neg_inv_expm1 = -expm1(-max(evals,0) * t / y_train.size) / |evals|.
	theta := ptRegKernel(n, pr.tdd, diagReg*ptMeanDiag(n, pr.tdd))
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, slices.Clone(theta)), true) {
		t.Fatal("eigh failed")
	}
	evals := es.Values(nil)
	var ev mat.Dense
	es.VectorsTo(&ev)
	ntMean := func(tNT float64) []float64 {
		tt := tNT * lr
		mop := make([]float64, n*n)
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				for i := 0; i < n; i++ {
					g := -math.Expm1(-math.Max(evals[i], 0)*tt/float64(n*k)) / math.Abs(evals[i])
					mop[a*n+b] += ev.At(a, i) * g * ev.At(b, i)
				}
			}
		}
		return ptMatMul(m, n, k, pr.ttd, ptMatMul(n, n, k, mop, pr.y))
	}
	p, err := NewRegressor(n, pr.tdd, pr.y, k, Options{LearningRate: lr, Reg: diagReg})
	if err != nil {
		t.Fatal(err)
	}
	for _, steps := range []float64{1, 17, 250} {
		got, err := p.Mean(pr.ttd, m, []float64{steps})
		if err != nil {
			t.Fatal(err)
		}
		if e := ptRelErr(got, ntMean(float64(k)*steps), 1e-3); e > 1e-12 {
			t.Errorf("t=%g steps: differs from neural-tangents at t_NT=%d*t by %.3g", steps, k, e)
		}
		if e := ptRelErr(got, ntMean(steps), 1e-3); e < 1e-6 {
			t.Errorf("t=%g steps: should differ from neural-tangents at t_NT=t (k=%d), error only %.3g", steps, k, e)
		}
	}
}

// TestPredictSingularKernel: duplicated training points make the kernel
// singular; finite times still work (round-off eigenvalues are clamped and
// evaluated at their limit), t = +Inf asks for a regulariser.
func TestPredictSingularKernel(t *testing.T) {
	const n0, m, k = 15, 4, 1
	pr := ptNewProblem(51, n0, m, k, 30)
	n := n0 + 3
	// Training points 0, 1, 2 appear twice (same targets).
	idx := append([]int{0, 1, 2}, make([]int, 0, n0)...)
	for i := 0; i < n0; i++ {
		idx = append(idx, i)
	}
	dd := make([]float64, n*n)
	td := make([]float64, m*n)
	y := make([]float64, n)
	for a, i := range idx {
		for b, j := range idx {
			dd[a*n+b] = pr.tdd[i*n0+j]
		}
		for r := 0; r < m; r++ {
			td[r*n+a] = pr.ttd[r*n0+i]
		}
		y[a] = pr.y[i]
	}
	p, err := NewRegressor(n, dd, y, k, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := []float64{0.5, 3}
	times := []float64{cs[0] * float64(n), cs[1] * float64(n)}
	got, err := p.Mean(td, m, times)
	if err != nil {
		t.Fatal(err)
	}
	mops := ptIntegrate(n, dd, cs)
	for s := range times {
		want := ptMatMul(m, n, k, td, ptMatMul(n, n, k, mops[s], y))
		e := ptRelErr(got[s*m*k:(s+1)*m*k], want, 1e-3)
		t.Logf("singular kernel, c=%g: error %.2g", cs[s], e)
		if e > 1e-9 {
			t.Errorf("singular kernel, c=%g: error %.3g", cs[s], e)
		}
	}
	// A test kernel inconsistent with the training kernel (random rows)
	// sees the null directions: the gradient flow moves it linearly in t
	// there, which the limit value c of the eigenvalue function reproduces.
	r := rand.New(rand.NewPCG(52, 1))
	rnd := make([]float64, m*n)
	for i := range rnd {
		rnd[i] = r.NormFloat64()
	}
	got, err = p.Mean(rnd, m, times)
	if err != nil {
		t.Fatal(err)
	}
	for s := range times {
		want := ptMatMul(m, n, k, rnd, ptMatMul(n, n, k, mops[s], y))
		if e := ptRelErr(got[s*m*k:(s+1)*m*k], want, 1e-3); e > 1e-9 {
			t.Errorf("singular kernel, inconsistent test rows, c=%g: error %.3g", cs[s], e)
		}
	}
	_, err = p.Mean(td, m, []float64{math.Inf(1)})
	if err == nil || !strings.Contains(err.Error(), "--reg") || !strings.Contains(err.Error(), "positive definite") {
		t.Errorf("t=+Inf on a singular kernel: error %v, want a positive-definite error suggesting --reg", err)
	}
	p, err = NewRegressor(n, dd, y, k, Options{Reg: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Mean(td, m, []float64{math.Inf(1)}); err != nil {
		t.Errorf("regularised singular kernel at +Inf: %v", err)
	}
}

// TestPredictGain checks the eigenvalue function (1 - exp(-c lam))/lam,
// including its limit c at lam -> 0 and 1/lam at large c*lam.
func TestPredictGain(t *testing.T) {
	cases := []struct{ lam, c, want float64 }{
		{0, 3, 3},
		{1e-300, 3, 3},
		{1e-20, 2.5, 2.5},
		{1e-9, 1e3, (1e3 - 0.5e-6*1e3 + 1e-12*1e3/6) * (1 - 1e-18)}, // series c - c^2 lam/2 + c^3 lam^2/6
		{1e-3, 1e-3, 1e-3 * (1 - 0.5e-6 + 1e-12/6)},
		{2, 0.5, (1 - math.Exp(-1)) / 2},
		{4, 1e6, 0.25},
		{4, 1e308, 0.25},
		{3, 0, 0},
		{0, 0, 0},
	}
	for _, tc := range cases {
		if got := gain(tc.lam, tc.c); math.Abs(got-tc.want) > 1e-15*tc.want {
			t.Errorf("gain(%g, %g) = %.17g, want %.17g", tc.lam, tc.c, got, tc.want)
		}
	}
}

// TestPredictIndefinite: a kernel with a genuinely negative eigenvalue is
// rejected with an error that suggests a regulariser.
func TestPredictIndefinite(t *testing.T) {
	dd := []float64{1, 2, 2, 1} // eigenvalues 3 and -1
	p, err := NewRegressor(2, dd, []float64{1, 0}, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range []float64{1, math.Inf(1)} {
		_, err := p.Mean([]float64{1, 1}, 1, []float64{tm})
		if err == nil || !strings.Contains(err.Error(), "Options.Reg") {
			t.Errorf("t=%g: error %v, want one suggesting a regulariser", tm, err)
		}
		if tm == 1 && !strings.Contains(err.Error(), "not positive semi-definite") {
			t.Errorf("t=%g: error %v, want 'not positive semi-definite'", tm, err)
		}
	}
}

// TestPredictBlocks: results do not depend on how test points are blocked.
func TestPredictBlocks(t *testing.T) {
	const n, k = 6, 2
	m := 2*predictBlockRows + 37
	r := rand.New(rand.NewPCG(61, 1))
	pr := ptNewProblem(61, n, 1, k, 10)
	td := make([]float64, m*n)
	for i := range td {
		td[i] = r.NormFloat64()
	}
	p, err := NewRegressor(n, pr.tdd, pr.y, k, Options{Reg: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	times := []float64{math.Inf(1), 2, 0, 50}
	all, err := p.Mean(td, m, times)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, predictBlockRows - 1, predictBlockRows, m - 1} {
		one, err := p.Mean(td[i*n:(i+1)*n], 1, times)
		if err != nil {
			t.Fatal(err)
		}
		for s := range times {
			for j := 0; j < k; j++ {
				g, w := all[(s*m+i)*k+j], one[s*k+j]
				if math.Abs(g-w) > 1e-13*(1+math.Abs(w)) {
					t.Fatalf("row %d time %g output %d: %g in a block, %g alone", i, times[s], j, g, w)
				}
			}
		}
	}
}

// TestPredictConcurrent: concurrent first calls share one factorisation.
func TestPredictConcurrent(t *testing.T) {
	const n, m, k = 25, 6, 2
	pr := ptNewProblem(71, n, m, k, 30)
	ref, err := NewRegressor(n, pr.tdd, pr.y, k, Options{Reg: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	times := []float64{5, math.Inf(1)}
	want, err := ref.Mean(pr.ttd, m, times)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewRegressor(n, pr.tdd, pr.y, k, Options{Reg: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Go(func() {
			var got []float64
			var err error
			if g%2 == 0 {
				got, err = p.Mean(pr.ttd, m, times)
			} else {
				got, err = p.Mean(pr.ttd, m, []float64{times[1], times[0]})
				if err == nil {
					got = append(got[m*k:], got[:m*k]...)
				}
			}
			if err == nil && ptRelErr(got, want, 1e-3) > 1e-13 {
				err = fmt.Errorf("goroutine %d: results differ", g)
			}
			errs[g] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPredictValidation: bad inputs give errors naming the argument.
func TestPredictValidation(t *testing.T) {
	good := []float64{2, 1, 1, 2}
	y := []float64{1, -1}
	nan := math.NaN()
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"n=0", func() error { _, err := NewRegressor(0, nil, nil, 1, Options{}); return err }, "n = 0"},
		{"k=0", func() error { _, err := NewRegressor(2, good, y, 0, Options{}); return err }, "k = 0"},
		{"ktrain length", func() error { _, err := NewRegressor(2, good[:3], y, 1, Options{}); return err }, "ktrain has 3 elements, want n×n = 2×2 = 4"},
		{"y length", func() error { _, err := NewRegressor(2, good, y, 2, Options{}); return err }, "y has 2 elements, want n×k = 2×2 = 4"},
		{"ktrain NaN", func() error { _, err := NewRegressor(2, []float64{2, 1, nan, 2}, y, 1, Options{}); return err }, "ktrain[1,0] = NaN"},
		{"y Inf", func() error {
			_, err := NewRegressor(2, good, []float64{1, math.Inf(-1)}, 1, Options{})
			return err
		}, "y[1,0] = -Inf"},
		{"asymmetric", func() error { _, err := NewRegressor(2, []float64{2, 1, 0.5, 2}, y, 1, Options{}); return err }, "not symmetric"},
		{"negative diagonal", func() error { _, err := NewRegressor(2, []float64{2, 0, 0, -1}, y, 1, Options{}); return err }, "ktrain[1,1] = -1 is negative"},
		{"learning rate", func() error { _, err := NewRegressor(2, good, y, 1, Options{LearningRate: -1}); return err }, "learning rate -1"},
		{"reg NaN", func() error { _, err := NewRegressor(2, good, y, 1, Options{Reg: nan}); return err }, "regulariser NaN"},
		{"reg negative", func() error { _, err := NewRegressor(2, good, y, 1, Options{Reg: -1e-3}); return err }, "regulariser -0.001"},
		{"regime", func() error { _, err := NewRegressor(2, good, y, 1, Options{Regime: 7}); return err }, "unknown regime Regime(7)"},
	}
	p, err := NewRegressor(2, good, y, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ck := CovarianceKernels{TestTrain: []float64{1, 1}, NNGPTestTest: []float64{1}, NNGPTestTrain: []float64{1, 1}, NNGPTrainTrain: good}
	cases = append(cases, []struct {
		name string
		run  func() error
		want string
	}{
		{"ktest length", func() error { _, err := p.Mean([]float64{1, 2, 3}, 2, []float64{1}); return err }, "ktest has 3 elements, want m×n = 2×2 = 4"},
		{"ktest NaN", func() error { _, err := p.Mean([]float64{1, nan}, 1, []float64{1}); return err }, "ktest[0,1] = NaN"},
		{"negative m", func() error { _, err := p.Mean(nil, -1, []float64{1}); return err }, "m = -1"},
		{"negative time", func() error { _, err := p.Mean([]float64{1, 1}, 1, []float64{1, -2}); return err }, "times[1] = -2"},
		{"NaN time", func() error { _, err := p.Mean([]float64{1, 1}, 1, []float64{nan}); return err }, "times[0] = NaN"},
		{"cov missing NNGP", func() error {
			c := ck
			c.NNGPTrainTrain = nil
			_, err := p.Covariance(1, c, []float64{1})
			return err
		}, "NNGPTrainTrain has 0 elements, want 2×2 = 4 (the NTK regime needs the NNGP blocks too)"},
		{"cov test-test length", func() error {
			c := ck
			c.NNGPTestTest = []float64{1, 2}
			_, err := p.Covariance(1, c, []float64{1})
			return err
		}, "NNGPTestTest has 2 elements, want 1×1 = 1"},
		{"cov NaN", func() error {
			c := ck
			c.NNGPTestTrain = []float64{1, nan}
			_, err := p.Covariance(1, c, []float64{1})
			return err
		}, "NNGPTestTrain[0,1] = NaN"},
		{"cov negative time", func() error { _, err := p.Covariance(1, ck, []float64{-1}); return err }, "times[0] = -1"},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Empty requests are fine.
	if out, err := p.Mean(nil, 0, []float64{1}); err != nil || len(out) != 0 {
		t.Errorf("m=0: %v, %v", out, err)
	}
	if out, err := p.Mean([]float64{1, 1}, 1, nil); err != nil || len(out) != 0 {
		t.Errorf("no times: %v, %v", out, err)
	}
}

// ExamplePredictor predicts, for two training points, the ensemble mean and
// variance at a test point before training, after 3 gradient-descent steps
// and at convergence.
func ExampleRegressor() {
	ntk := []float64{ // Theta(X,X)
		2.0, 0.5,
		0.5, 1.0,
	}
	nngp := []float64{ // K(X,X)
		1.0, 0.2,
		0.2, 0.5,
	}
	y := []float64{1, -1} // one output per training point
	p, err := NewRegressor(2, ntk, y, 1, Options{LearningRate: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	times := []float64{0, 3, math.Inf(1)}
	ntkTest := []float64{1.0, 0.8} // Theta(x,X) for one test point x
	mean, err := p.Mean(ntkTest, 1, times)
	if err != nil {
		fmt.Println(err)
		return
	}
	cov, err := p.Covariance(1, CovarianceKernels{
		TestTrain:      ntkTest,
		NNGPTestTest:   []float64{0.9},      // K(x,x)
		NNGPTestTrain:  []float64{0.4, 0.3}, // K(x,X)
		NNGPTrainTrain: nngp,
	}, times)
	if err != nil {
		fmt.Println(err)
		return
	}
	for s, t := range times {
		fmt.Printf("t=%v: mean %.4f, variance %.4f\n", t, mean[s], cov[s])
	}
	// Output:
	// t=0: mean 0.0000, variance 0.9000
	// t=3: mean -0.0193, variance 0.6415
	// t=+Inf: mean -0.2857, variance 0.6499
}

// TestPredictInPlaceInfOnly: handing the kernel over (InPlace) and promising
// t = +Inf only (InfOnly) gives the same predictions as the copying
// predictor, overwrites the caller's matrix, and refuses finite times with
// an error that names the option.
func TestPredictInPlaceInfOnly(t *testing.T) {
	const n, m, k = 25, 4, 3
	pr := ptNewProblem(5, n, m, k, 40)
	dd, td := pr.train(RegimeNTK)
	ref, err := NewRegressor(n, dd, pr.y, k, Options{Reg: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Mean(td, m, []float64{math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{
		{Reg: 1e-3, InPlace: true},
		{Reg: 1e-3, InfOnly: true},
		{Reg: 1e-3, InPlace: true, InfOnly: true},
	} {
		a := append([]float64(nil), dd...)
		p, err := NewRegressor(n, a, pr.y, k, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Mean(td, m, []float64{math.Inf(1)})
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if e := ptRelErr(want, got, 0); e > 1e-12 {
			t.Errorf("%+v: t = +Inf differs from the copying predictor by %.3g", opts, e)
		}
		if opts.InPlace && slices.Equal(a, dd) {
			t.Errorf("%+v: the caller's kernel was not used in place", opts)
		}
		if !opts.InPlace && !slices.Equal(a, dd) {
			t.Errorf("%+v: the caller's kernel was modified without InPlace", opts)
		}
		_, err = p.Mean(td, m, []float64{1})
		if opts.InfOnly {
			if err == nil || !strings.Contains(err.Error(), "InfOnly") {
				t.Errorf("%+v: finite time: error %v, want one naming InfOnly", opts, err)
			}
		} else if err != nil {
			t.Errorf("%+v: finite time after +Inf: %v", opts, err)
		}
	}
}
