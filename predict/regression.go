package predict

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/eqens/eqens/internal/linalg"
)

// This file implements kernel regression with gradient-descent dynamics: the
// mean and covariance of an infinite ensemble of infinitely wide networks
// trained by full-batch gradient descent on the MSE loss, as in
// neural-tangents' predict.gradient_descent_mse_ensemble. docs/predict.md
// derives the formulas and gives the conversion to neural-tangents' time.

// Regime says which kernel drives the training dynamics, that is which
// kernel the training kernel passed to NewRegressor is. It corresponds to
// the get argument of neural-tangents' prediction functions.
type Regime int

const (
	// RegimeNTK trains with the neural tangent kernel Theta: the infinite
	// ensemble of infinitely wide networks trained by gradient descent.
	// Predictive covariances need NNGP blocks besides the NTK blocks.
	RegimeNTK Regime = iota
	// RegimeNNGP trains with the NNGP kernel K (only the readout layer is
	// trained). At t = +Inf the mean and covariance are the exact Gaussian
	// process posterior with observation noise variance equal to the
	// regulariser.
	RegimeNNGP
)

// String returns "ntk" or "nngp".
func (r Regime) String() string {
	switch r {
	case RegimeNTK:
		return "ntk"
	case RegimeNNGP:
		return "nngp"
	}
	return fmt.Sprintf("Regime(%d)", int(r))
}

// Options configures a Regressor. The zero value is valid: the NTK
// regime, learning rate 1 and no regulariser.
type Options struct {
	// Regime says which kernel the training kernel is (default RegimeNTK).
	Regime Regime
	// LearningRate is eta, the step size of full-batch gradient descent on
	// L = 1/(2N) sum_i ||f(x_i) - y_i||^2 over the N training samples.
	// Zero means 1; it must be positive and finite otherwise.
	LearningRate float64
	// Reg is the diagonal regulariser: the dynamics use Theta(X,X) + r*I.
	// By default r = Reg * mean(diag Theta(X,X)), as neural-tangents'
	// diag_reg with diag_reg_absolute_scale=False; with RegAbsolute r = Reg.
	// It must be non-negative and finite.
	Reg float64
	// RegAbsolute makes Reg an absolute value instead of a multiple of the
	// mean diagonal of the training kernel (neural-tangents'
	// diag_reg_absolute_scale).
	RegAbsolute bool
	// InPlace hands ktrain over to the Regressor instead of copying it: it
	// is regularised and symmetrised in place, and must not be used by the
	// caller afterwards. The Regressor still keeps it next to the first
	// factorisation, in case finite and infinite times both come; with
	// InfOnly as well, one n×n matrix is all a prediction holds (a
	// 40,000-point kernel is 12.8 GB).
	InPlace bool
	// InfOnly promises that only t = +Inf will be asked for: the Cholesky
	// factorisation overwrites the training kernel instead of a copy of it,
	// and finite times return an error.
	InfOnly bool
}

// Regressor predicts the outputs of an infinite ensemble of infinitely wide
// networks trained by full-batch gradient descent on the MSE loss, given
// the kernels of the network. With the training kernel Theta = Theta(X,X) +
// r*I of the N training points X, targets Y (N×k) and c = eta*t/N,
//
//	mu_t(x) = Theta(x,X) Theta^-1 (I - exp(-c Theta)) Y
//
// for t >= 0 gradient-descent steps, including t = +Inf. See Mean and
// Covariance for the formulas and docs/predict.md for the derivation.
//
// NewRegressor only validates and copies the inputs. The first call that
// needs a finite time computes the eigendecomposition of the training
// kernel, the first call that needs t = +Inf its Cholesky factorisation;
// both are kept for later calls (see Options.InPlace and InfOnly for
// holding less). A Regressor is safe for concurrent use.
type Regressor struct {
	n, k   int
	regime Regime
	eta    float64   // learning rate
	reg    float64   // absolute regulariser added to the diagonal
	y      []float64 // n×k targets

	mu       sync.Mutex
	a        []float64 // regularised training kernel; nil once no factorisation needs it
	eig      *eigenFactor
	eigErr   error
	chol     *cholFactor
	cholErr  error
	eigDone  bool
	cholDone bool
}

// eigenFactor is the eigendecomposition Theta = V diag(vals) V^T.
type eigenFactor struct {
	vals []float64 // ascending, clamped at 0
	vecs []float64 // n×n, eigenvectors as columns
	vty  []float64 // V^T Y, n×k
}

// cholFactor is the Cholesky factorisation Theta = L L^T.
type cholFactor struct {
	l     []float64 // n×n lower triangle
	alpha []float64 // Theta^-1 Y, n×k
}

// predictBlockRows is the number of test points whose means are computed
// by one matrix product; it bounds the scratch memory of Mean.
const predictBlockRows = 256

// predictSymTol is the largest asymmetry |a_ij - a_ji| of the training
// kernel accepted as round-off, relative to its largest diagonal entry.
const predictSymTol = 1e-6

// predictNegEigTol is the most negative eigenvalue of the regularised
// training kernel accepted as round-off, relative to the largest one;
// eigenvalues in [-tol, 0) are set to 0.
const predictNegEigTol = 0x1p-26 // sqrt(machine epsilon) ≈ 1.5e-8

// NewRegressor returns a Regressor for n training points with the n×n
// training kernel ktrain (row-major; Theta(X,X) for RegimeNTK, K(X,X) for
// RegimeNNGP) and the n×k targets y (row-major: y[i*k+j] is output j of
// sample i). ktrain must be symmetric (up to round-off; it is symmetrised)
// and positive semi-definite; y and ktrain are copied (ktrain not with
// Options.InPlace).
func NewRegressor(n int, ktrain []float64, y []float64, k int, opts Options) (*Regressor, error) {
	const fn = "predict.NewRegressor"
	switch {
	case n < 1:
		return nil, fmt.Errorf("%s: n = %d training points, need at least 1", fn, n)
	case k < 1:
		return nil, fmt.Errorf("%s: k = %d outputs, need at least 1", fn, k)
	case len(ktrain) != n*n:
		return nil, fmt.Errorf("%s: ktrain has %d elements, want n×n = %d×%d = %d", fn, len(ktrain), n, n, n*n)
	case len(y) != n*k:
		return nil, fmt.Errorf("%s: y has %d elements, want n×k = %d×%d = %d", fn, len(y), n, k, n*k)
	case opts.Regime != RegimeNTK && opts.Regime != RegimeNNGP:
		return nil, fmt.Errorf("%s: unknown regime %v (want RegimeNTK or RegimeNNGP)", fn, opts.Regime)
	case opts.LearningRate < 0 || math.IsNaN(opts.LearningRate) || math.IsInf(opts.LearningRate, 0):
		return nil, fmt.Errorf("%s: learning rate %g, want a positive finite number (0 means 1)", fn, opts.LearningRate)
	case opts.Reg < 0 || math.IsNaN(opts.Reg) || math.IsInf(opts.Reg, 0):
		return nil, fmt.Errorf("%s: regulariser %g, want a non-negative finite number", fn, opts.Reg)
	}
	if err := checkFinite(fn, "y", y, k); err != nil {
		return nil, err
	}
	a := ktrain
	if !opts.InPlace {
		a = make([]float64, n*n)
	}
	for i, x := range ktrain {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%s: ktrain[%d,%d] = %g is not finite", fn, i/n, i%n, x)
		}
		a[i] = x
	}
	maxDiag, sumDiag := 0.0, 0.0
	for i := 0; i < n; i++ {
		maxDiag = max(maxDiag, a[i*n+i])
		sumDiag += a[i*n+i]
	}
	for i := 0; i < n; i++ {
		if d := a[i*n+i]; d < -predictNegEigTol*maxDiag || (d < 0 && maxDiag == 0) {
			return nil, fmt.Errorf("%s: ktrain[%d,%d] = %g is negative, so the training kernel is not positive semi-definite", fn, i, i, d)
		}
	}
	if i, j, ok := symmetrize(n, a, predictSymTol*maxDiag); !ok {
		return nil, fmt.Errorf("%s: ktrain is not symmetric: ktrain[%d,%d] = %g but ktrain[%d,%d] = %g (is it an n×n row-major matrix?)",
			fn, i, j, a[i*n+j], j, i, a[j*n+i])
	}
	reg := opts.Reg
	if !opts.RegAbsolute {
		reg *= sumDiag / float64(n)
	}
	for i := 0; i < n; i++ {
		a[i*n+i] += reg
	}
	eta := opts.LearningRate
	if eta == 0 {
		eta = 1
	}
	p := &Regressor{
		n: n, k: k, regime: opts.Regime, eta: eta, reg: reg,
		y: append([]float64(nil), y...),
		a: a,
	}
	if opts.InfOnly {
		// No eigendecomposition will ever be made: the Cholesky factor may
		// take the kernel itself (see take).
		p.eigDone = true
		p.eigErr = errors.New("finite times need the eigendecomposition of the training kernel, " +
			"but the predictor was made for t = +Inf only (Options.InfOnly)")
	}
	return p, nil
}

// N returns the number of training points.
func (p *Regressor) N() int { return p.n }

// Outputs returns the number of outputs k per point.
func (p *Regressor) Outputs() int { return p.k }

// Regime returns the regime the Regressor was made for.
func (p *Regressor) Regime() Regime { return p.regime }

// Regulariser returns the absolute value r added to the diagonal of the
// training kernel (Reg, or Reg times the mean diagonal).
func (p *Regressor) Regulariser() float64 { return p.reg }

// Mean returns the ensemble mean on m test points at every time in times:
//
//	mu_t(x) = Theta(x,X) Theta^-1 (I - exp(-eta Theta t / N)) Y,
//
// where Theta is the regularised training kernel and t counts full-batch
// gradient-descent steps of learning rate eta (continuous in t). ktest is the
// m×n block Theta(x,X) of the same kernel between the test and training
// points (K(x,X) in RegimeNNGP), row-major. The times must be >= 0 and may
// include math.Inf(1), which is computed by a Cholesky solve. The result has
// len(times)×m×k entries: element (s, i, j) at (s*m+i)*k+j is output j on
// test point i at times[s].
//
// Besides the result, Mean needs the n×(len(times)·k) regression
// coefficients and one block of 256 test rows: the test points are
// processed in blocks, so memory does not grow with m beyond the result.
func (p *Regressor) Mean(ktest []float64, m int, times []float64) ([]float64, error) {
	const fn = "predict.Regressor.Mean"
	n, k := p.n, p.k
	if m < 0 {
		return nil, fmt.Errorf("%s: m = %d test points, want at least 0", fn, m)
	}
	if len(ktest) != m*n {
		return nil, fmt.Errorf("%s: ktest has %d elements, want m×n = %d×%d = %d", fn, len(ktest), m, n, m*n)
	}
	sched, err := p.schedule(fn, times)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(fn, "ktest", ktest, n); err != nil {
		return nil, err
	}
	nt := len(times)
	out := make([]float64, nt*m*k)
	if nt == 0 || m == 0 {
		return out, nil
	}

	// coef is n × (nt*k): column block s holds the coefficients A_s with
	// mu_s(test) = ktest A_s, finite times first, then infinite ones.
	cols := nt * k
	coef := make([]float64, n*cols)
	if nf := len(sched.finite); nf > 0 {
		e, err := p.eigen()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		// S = diag(g(lambda, c_s)) V^T Y for every finite time s; then
		// coef[:, finite] = V S in one product.
		s := make([]float64, n*nf*k)
		for i, lam := range e.vals {
			row := e.vty[i*k : i*k+k]
			for f, c := range sched.finite {
				g := gain(lam, c)
				dst := s[(i*nf+f)*k : (i*nf+f)*k+k]
				for j, v := range row {
					dst[j] = g * v
				}
			}
		}
		linalg.Dgemm(false, false, n, nf*k, n, 1, e.vecs, n, s, nf*k, 0, coef, cols)
	}
	if ni := sched.inf; ni > 0 {
		ch, err := p.cholesky()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		off := len(sched.finite) * k
		for i := 0; i < n; i++ {
			for s := 0; s < ni; s++ {
				copy(coef[i*cols+off+s*k:i*cols+off+s*k+k], ch.alpha[i*k:i*k+k])
			}
		}
	}

	bs := min(m, predictBlockRows)
	tmp := make([]float64, bs*cols)
	for i0 := 0; i0 < m; i0 += bs {
		rows := min(bs, m-i0)
		linalg.Dgemm(false, false, rows, cols, n, 1, ktest[i0*n:], n, coef, cols, 0, tmp, cols)
		for s, slot := range sched.slot {
			for i := 0; i < rows; i++ {
				copy(out[(s*m+i0+i)*k:(s*m+i0+i)*k+k], tmp[i*cols+slot*k:i*cols+slot*k+k])
			}
		}
	}
	return out, nil
}

// CovarianceKernels holds the kernel blocks that involve the m test points
// x, besides the training kernel of the Regressor. All are row-major.
type CovarianceKernels struct {
	// TestTrain is the m×n block of the training kernel between test and
	// training points: Theta(x,X) in RegimeNTK, K(x,X) in RegimeNNGP.
	TestTrain []float64
	// NNGPTestTest is the m×m NNGP kernel K(x,x') of the test points, the
	// covariance of the outputs at initialisation.
	NNGPTestTest []float64
	// NNGPTestTrain is the m×n NNGP block K(x,X). Required in RegimeNTK;
	// ignored in RegimeNNGP, where TestTrain is this block.
	NNGPTestTrain []float64
	// NNGPTrainTrain is the n×n NNGP kernel K(X,X) of the training points,
	// without regulariser. Required in RegimeNTK; ignored in RegimeNNGP,
	// where the (regularised) training kernel of the Regressor is used.
	NNGPTrainTrain []float64
}

// Covariance returns the covariance over the m test points of the outputs
// of the infinite ensemble at every time in times (each output has the same
// covariance; different outputs are independent). With Theta the
// regularised training kernel, c = eta*t/N and
// B_t = Theta^-1 (I - exp(-c Theta)) Theta(X,x) (n×m), in RegimeNTK
//
//	Sigma_t = K(x,x') + B_t^T K(X,X) B_t - K(x,X) B_t - B_t^T K(X,x'),
//
// the distribution of the network outputs trained from their Gaussian
// initialisation. In RegimeNNGP the training kernel is K + r*I itself and
// this simplifies to
//
//	Sigma_t = K(x,x') - K(x,X) (K + r I)^-1 (I - exp(-2c (K + r I))) K(X,x'),
//
// which at t = +Inf is the Gaussian-process posterior with noise variance r.
// Both agree with neural-tangents' gradient_descent_mse_ensemble and
// gp_inference. The result has len(times)×m×m entries, block s at
// s*m*m; it is symmetrised exactly.
//
// Memory: a few n×m scratch matrices besides the result.
func (p *Regressor) Covariance(m int, kern CovarianceKernels, times []float64) ([]float64, error) {
	const fn = "predict.Regressor.Covariance"
	if m < 0 {
		return nil, fmt.Errorf("%s: m = %d test points, want at least 0", fn, m)
	}
	checks := p.covarianceBlocks(m, kern)
	if err := checkBlockSizes(fn, checks, p.regime == RegimeNTK); err != nil {
		return nil, err
	}
	sched, err := p.schedule(fn, times)
	if err != nil {
		return nil, err
	}
	for _, c := range checks {
		if err := checkFinite(fn, c.name, c.v, c.col); err != nil {
			return nil, err
		}
	}
	out := make([]float64, len(times)*m*m)
	if len(times) == 0 || m == 0 {
		return out, nil
	}
	w := p.newCovWork(m, kern)
	if len(sched.finite) > 0 {
		if err := p.covarianceFinite(w, sched, out); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	if sched.inf > 0 {
		if err := p.covarianceInf(w, sched, out); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	return out, nil
}

// kernelBlock is a kernel block to validate: its name, values and shape.
type kernelBlock struct {
	name      string
	v         []float64
	rows, col int
}

// covarianceBlocks lists the blocks Covariance needs in the Regressor's
// regime.
func (p *Regressor) covarianceBlocks(m int, kern CovarianceKernels) []kernelBlock {
	n := p.n
	checks := []kernelBlock{
		{"TestTrain", kern.TestTrain, m, n},
		{"NNGPTestTest", kern.NNGPTestTest, m, m},
	}
	if p.regime == RegimeNTK {
		checks = append(checks,
			kernelBlock{"NNGPTestTrain", kern.NNGPTestTrain, m, n},
			kernelBlock{"NNGPTrainTrain", kern.NNGPTrainTrain, n, n})
	}
	return checks
}

// checkBlockSizes checks the sizes of the blocks, with a hint for missing
// NNGP blocks in the NTK regime.
func checkBlockSizes(fn string, checks []kernelBlock, ntk bool) error {
	for _, c := range checks {
		if len(c.v) != c.rows*c.col {
			hint := ""
			if c.v == nil && ntk && (c.name == "NNGPTestTrain" || c.name == "NNGPTrainTrain") {
				hint = " (the NTK regime needs the NNGP blocks too)"
			}
			return fmt.Errorf("%s: %s has %d elements, want %d×%d = %d%s", fn, c.name, len(c.v), c.rows, c.col, c.rows*c.col, hint)
		}
	}
	return nil
}

// covWork holds the blocks and scratch matrices of one Covariance call.
type covWork struct {
	m, n     int
	ntk      bool
	kern     CovarianceKernels
	ktt, ktd []float64 // K(x,x') and K(x,X)
	b, d     []float64 // n×m scratch
}

func (p *Regressor) newCovWork(m int, kern CovarianceKernels) *covWork {
	w := &covWork{m: m, n: p.n, ntk: p.regime == RegimeNTK, kern: kern,
		ktt: kern.NNGPTestTest, ktd: kern.TestTrain,
		b: make([]float64, p.n*m), d: make([]float64, p.n*m)}
	if w.ntk {
		w.ktd = kern.NNGPTestTrain
	}
	return w
}

// ntkCov writes K(x,x') + B^T (K(X,X) B - K(X,x')) - K(x,X) B, symmetrised,
// into dst, with B in w.b.
func (w *covWork) ntkCov(dst []float64) {
	m, n := w.m, w.n
	transpose(m, n, w.ktd, w.d) // d = K(X,x')
	linalg.Dgemm(false, false, n, m, n, 1, w.kern.NNGPTrainTrain, n, w.b, m, -1, w.d, m)
	copy(dst, w.ktt)
	linalg.Dgemm(true, false, m, m, n, 1, w.b, m, w.d, m, 1, dst, m)
	linalg.Dgemm(false, false, m, m, n, -1, w.ktd, n, w.b, m, 1, dst, m)
	symmetrize(m, dst, math.Inf(1))
}

// covarianceFinite fills the blocks of the finite times from the
// eigendecomposition of the training kernel.
func (p *Regressor) covarianceFinite(w *covWork, sched timeSchedule, out []float64) error {
	e, err := p.eigen()
	if err != nil {
		return err
	}
	m, n := w.m, w.n
	// vtk = V^T Theta(X,x) (n×m), shared by all finite times.
	vtk := make([]float64, n*m)
	linalg.Dgemm(true, true, n, m, n, 1, e.vecs, n, w.kern.TestTrain, n, 0, vtk, m)
	for f, c := range sched.finite {
		dst := out[sched.index[f]*m*m : (sched.index[f]+1)*m*m]
		if w.ntk {
			// B = V diag(g(lambda, c)) V^T Theta(X,x).
			for i, lam := range e.vals {
				g := gain(lam, c)
				for j, v := range vtk[i*m : i*m+m] {
					w.d[i*m+j] = g * v
				}
			}
			linalg.Dgemm(false, false, n, m, n, 1, e.vecs, n, w.d, m, 0, w.b, m)
			w.ntkCov(dst)
			continue
		}
		// R = diag(sqrt(g(lambda, 2c))) V^T K(X,x); Sigma = K(x,x') - R^T R.
		for i, lam := range e.vals {
			g := math.Sqrt(gain(lam, 2*c))
			for j, v := range vtk[i*m : i*m+m] {
				w.b[i*m+j] = g * v
			}
		}
		copy(dst, w.ktt)
		linalg.Dgemm(true, false, m, m, n, -1, w.b, m, w.b, m, 1, dst, m)
		symmetrize(m, dst, math.Inf(1))
	}
	return nil
}

// covarianceInf fills the blocks of t = +Inf from the Cholesky factor of
// the training kernel (computed once, copied to every +Inf slot).
func (p *Regressor) covarianceInf(w *covWork, sched timeSchedule, out []float64) error {
	ch, err := p.cholesky()
	if err != nil {
		return err
	}
	m, n := w.m, w.n
	// B = Theta^-1 Theta(X,x).
	transpose(m, n, w.kern.TestTrain, w.b)
	if err := linalg.CholeskySolve(n, m, ch.l, w.b); err != nil {
		return err
	}
	first := -1
	for s, slot := range sched.slot {
		if slot < len(sched.finite) {
			continue
		}
		dst := out[s*m*m : (s+1)*m*m]
		if first >= 0 {
			copy(dst, out[first*m*m:(first+1)*m*m])
			continue
		}
		first = s
		if w.ntk {
			w.ntkCov(dst)
			continue
		}
		// Sigma = K(x,x') - K(x,X) (K + r I)^-1 K(X,x').
		copy(dst, w.ktt)
		linalg.Dgemm(false, false, m, m, n, -1, w.ktd, n, w.b, m, 1, dst, m)
		symmetrize(m, dst, math.Inf(1))
	}
	return nil
}

// timeSchedule sorts the requested times into finite ones (as c = eta*t/N)
// and infinite ones. slot[s] is the position of times[s] in the order
// finite..., infinite...; index[f] is the position in times of finite[f].
type timeSchedule struct {
	finite []float64
	index  []int
	inf    int
	slot   []int
}

func (p *Regressor) schedule(fn string, times []float64) (timeSchedule, error) {
	var sc timeSchedule
	sc.slot = make([]int, len(times))
	var inf []int
	for s, t := range times {
		if math.IsNaN(t) || t < 0 {
			return sc, fmt.Errorf("%s: times[%d] = %g, want t >= 0 (gradient-descent steps) or +Inf", fn, s, t)
		}
		// c overflows to +Inf only for t = +Inf or absurdly large t; both
		// are the t = +Inf limit.
		c := p.eta * t / float64(p.n)
		if math.IsInf(c, 1) {
			inf = append(inf, s)
			continue
		}
		sc.slot[s] = len(sc.finite)
		sc.finite = append(sc.finite, c)
		sc.index = append(sc.index, s)
	}
	for i, s := range inf {
		sc.slot[s] = len(sc.finite) + i
	}
	sc.inf = len(inf)
	return sc, nil
}

// take returns the regularised training kernel to be overwritten by a
// factorisation: the kernel itself if the other factorisation no longer
// needs it, a copy otherwise. p.mu must be held.
func (p *Regressor) take(otherDone bool) []float64 {
	if otherDone {
		a := p.a
		p.a = nil
		return a
	}
	return append([]float64(nil), p.a...)
}

// eigen returns the eigendecomposition of the regularised training kernel,
// computing it on first use.
func (p *Regressor) eigen() (*eigenFactor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eigDone {
		return p.eig, p.eigErr
	}
	p.eigDone = true
	n, k := p.n, p.k
	v := p.take(p.cholDone)
	w := make([]float64, n)
	if err := linalg.EigSym(n, v, w); err != nil {
		p.eigErr = fmt.Errorf("eigendecomposition of the %s training kernel: %w", p.regime, err)
		return nil, p.eigErr
	}
	lo, hi := w[0], w[n-1]
	if tol := predictNegEigTol * math.Abs(hi); lo < -tol {
		p.eigErr = fmt.Errorf("the %s training kernel is not positive semi-definite: eigenvalues from %.6g to %.6g with regulariser %g added; "+
			"check the kernel or add a diagonal regulariser (Options.Reg, --reg)", p.regime, lo, hi, p.reg)
		return nil, p.eigErr
	}
	for i, l := range w {
		w[i] = max(l, 0)
	}
	vty := make([]float64, n*k)
	linalg.Dgemm(true, false, n, k, n, 1, v, n, p.y, k, 0, vty, k)
	p.eig = &eigenFactor{vals: w, vecs: v, vty: vty}
	return p.eig, nil
}

// cholesky returns the Cholesky factorisation of the regularised training
// kernel, computing it on first use.
func (p *Regressor) cholesky() (*cholFactor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cholDone {
		return p.chol, p.cholErr
	}
	p.cholDone = true
	n, k := p.n, p.k
	l := p.take(p.eigDone)
	if err := linalg.Cholesky(n, l); err != nil {
		if errors.Is(err, linalg.ErrNotPositiveDefinite) {
			p.cholErr = fmt.Errorf("t = +Inf needs a positive definite %s training kernel (regulariser %g): %w; "+
				"add a diagonal regulariser (Options.Reg, --reg) or use finite times", p.regime, p.reg, err)
		} else {
			p.cholErr = fmt.Errorf("factorising the %s training kernel: %w", p.regime, err)
		}
		return nil, p.cholErr
	}
	alpha := append([]float64(nil), p.y...)
	if err := linalg.CholeskySolve(n, k, l, alpha); err != nil {
		p.cholErr = fmt.Errorf("solving with the %s training kernel: %w", p.regime, err)
		return nil, p.cholErr
	}
	p.chol = &cholFactor{l: l, alpha: alpha}
	return p.chol, nil
}

// gain returns (1 - exp(-c*lam))/lam, the eigenvalue function of
// Theta^-1 (I - exp(-c Theta)), for lam >= 0 and finite c >= 0. It is
// evaluated with expm1, which is accurate for small c*lam, and equals its
// limit c at lam = 0.
func gain(lam, c float64) float64 {
	if lam <= 0 {
		return c
	}
	return -math.Expm1(-c*lam) / lam
}

// checkFinite reports the first non-finite element of the row-major
// matrix v with cols columns.
func checkFinite(fn, name string, v []float64, cols int) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %s[%d,%d] = %g is not finite", fn, name, i/cols, i%cols, x)
		}
	}
	return nil
}

// symmetrize replaces the n×n matrix a by (a + a^T)/2. If some
// |a_ij - a_ji| exceeds tol it stops and returns i, j and false; a is then
// partly symmetrised. It works on tiles to stay cache friendly.
func symmetrize(n int, a []float64, tol float64) (int, int, bool) {
	const tile = 64
	for i0 := 0; i0 < n; i0 += tile {
		for j0 := 0; j0 <= i0; j0 += tile {
			for i := i0; i < min(i0+tile, n); i++ {
				for j := j0; j < min(j0+tile, i); j++ {
					u, v := a[i*n+j], a[j*n+i]
					if math.Abs(u-v) > tol {
						return i, j, false
					}
					h := 0.5 * (u + v)
					a[i*n+j], a[j*n+i] = h, h
				}
			}
		}
	}
	return 0, 0, true
}

// transpose writes the transpose of the rows×cols matrix a into
// dst (cols×rows).
func transpose(rows, cols int, a, dst []float64) {
	const tile = 64
	for i0 := 0; i0 < rows; i0 += tile {
		for j0 := 0; j0 < cols; j0 += tile {
			for i := i0; i < min(i0+tile, rows); i++ {
				for j := j0; j < min(j0+tile, cols); j++ {
					dst[j*rows+i] = a[i*cols+j]
				}
			}
		}
	}
}
