package predict

import (
	"context"
	"errors"
	"fmt"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// Symmetry says how a group enters a prediction.
type Symmetry int

const (
	// NoSymmetry trains on the training set as given.
	NoSymmetry Symmetry = iota
	// Augment trains on the training set expanded by its orbit: block g of
	// the expanded set holds rho(g) X with targets Y (invariant targets) or
	// rho_Y(g) Y. It is what an infinite ensemble trained with full data
	// augmentation predicts; the training kernel is |G|² times larger.
	Augment
	// Average trains on the training set as given with the group-averaged
	// kernel (1/|G|) Σ_g k(x, rho(g) x'). For invariant targets it gives
	// the same prediction as Augment (with the regulariser of AveragedReg)
	// at |G|² less solve memory.
	Average
)

// Setup describes an infinite-ensemble prediction of an architecture. The
// zero value is the NTK regime without symmetry, learning rate 1 and no
// regulariser.
type Setup struct {
	// Regime says which kernel drives the dynamics (default RegimeNTK).
	Regime Regime
	// LearningRate, Reg and RegAbsolute are those of Options. A relative
	// Reg refers to the mean diagonal of the training kernel of the
	// augmented set (also under Average, where AveragedReg converts it).
	LearningRate float64
	Reg          float64
	RegAbsolute  bool
	// Symmetry picks how Input enters (Augment or Average); Input is the
	// action of the group on the (dataset-layout) inputs.
	Symmetry Symmetry
	Input    *group.Rep
	// Target is the action on the targets under Augment; nil means
	// invariant targets. Average supports invariant targets only.
	Target *group.Rep
	// Progress, if set, returns a progress callback for a kernel
	// computation (stage "kernel (train)" or "kernel (test)") and a
	// function to call when it is done.
	Progress func(stage string) (func(done, total int), func())
	// MeanOnly promises that Predict will not be asked for covariances:
	// the kernels are computed without the part the mean does not use (the
	// NNGP in the NTK regime, nn.KernelOptions.ThetaOnly; the NTK in the
	// NNGP regime). InfOnly promises that only t = +Inf will be asked for
	// (Options.InfOnly: the Cholesky factor overwrites the training
	// kernel). With both, a fitted model holds one n×n matrix.
	MeanOnly, InfOnly bool
}

// AveragedReg returns the absolute regulariser that makes the
// group-averaged kernel reproduce the prediction of the augmented training
// set with absolute regulariser reg: reg/|G|, because the eigenvalues of
// the averaged kernel on invariant functions are those of the augmented
// kernel divided by |G|. It is the one place of this rule.
func AveragedReg(reg float64, order int) float64 { return reg / float64(order) }

// Model is a fitted infinite-ensemble predictor of an architecture: the
// training kernels and their factorisations, ready for test points.
type Model struct {
	arch  *nn.Arch
	setup Setup
	x     []float64 // training inputs (augmented under Augment)
	n, k  int
	kopts nn.KernelOptions
	ktr   *nn.KernelResult
	reg   *Regressor
}

// Prediction holds the mean, times × test points × outputs, and, when
// asked for, the covariance, times × test points × test points.
type Prediction struct {
	Mean, Cov []float64
}

// Fit computes the training kernel of arch on the n training inputs x
// (dataset layout) with n×k targets y under the given setup and returns a
// Model for predictions.
func Fit(ctx context.Context, arch *nn.Arch, x []float64, n int, y []float64, k int, s Setup) (*Model, error) {
	if s.Symmetry != NoSymmetry && s.Input == nil {
		return nil, errors.New("predict.Fit: a symmetry needs the group's action on inputs (Setup.Input)")
	}
	m := &Model{arch: arch, setup: s, x: x, n: n, k: k}
	m.kopts = s.kernelOptions()
	switch s.Symmetry {
	case Augment:
		m.x, y = AugmentSet(s.Input, s.Target, x, y, n, k)
		m.n = n * s.Input.Group().Order()
	case Average:
		if s.Target != nil {
			return nil, errors.New("predict.Fit: the averaged kernel supports invariant targets only (augment for equivariant targets)")
		}
		m.kopts.Average = s.Input
	}
	var err error
	if m.ktr, err = m.kernel(ctx, "kernel (train)", m.x, m.n, nil, 0); err != nil {
		return nil, err
	}
	// The training kernel of the model's regime is used by nothing else
	// (the covariance reads the NNGP blocks): the regression takes it.
	opts := Options{Regime: s.Regime, LearningRate: s.LearningRate, Reg: s.Reg, RegAbsolute: s.RegAbsolute, InPlace: true, InfOnly: s.InfOnly}
	if s.Symmetry == Average && s.Reg > 0 {
		abs := s.Reg
		if !s.RegAbsolute {
			if abs, err = m.meanDiag(ctx); err != nil {
				return nil, err
			}
			abs *= s.Reg
		}
		opts.Reg, opts.RegAbsolute = AveragedReg(abs, s.Input.Group().Order()), true
	}
	if m.reg, err = NewRegressor(m.n, m.pick(m.ktr), y, k, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// kernelOptions returns the kernels a fit with s computes: the NTK regime
// needs K and Theta for covariances and Theta alone for means, the NNGP
// regime K for means (and Theta too for covariances, which use both).
func (s Setup) kernelOptions() nn.KernelOptions {
	switch {
	case !s.MeanOnly:
		return nn.KernelOptions{NTK: true}
	case s.Regime == RegimeNNGP:
		return nn.KernelOptions{}
	}
	return nn.KernelOptions{NTK: true, ThetaOnly: true}
}

// pick returns the kernel of the model's regime.
func (m *Model) pick(r *nn.KernelResult) []float64 {
	if m.setup.Regime == RegimeNNGP {
		return r.K
	}
	return r.Theta
}

// kernel computes the kernel between x1 and x2 (x1 with itself when x2 is
// nil) with the model's kernel options and progress.
func (m *Model) kernel(ctx context.Context, stage string, x1 []float64, n1 int, x2 []float64, n2 int) (*nn.KernelResult, error) {
	opts := m.kopts
	finish := func() {}
	if m.setup.Progress != nil {
		opts.Progress, finish = m.setup.Progress(stage)
	}
	r, err := m.arch.Kernel(ctx, x1, n1, x2, n2, opts)
	finish()
	return r, err
}

// meanDiag returns the mean diagonal of the plain (not averaged) training
// kernel of the model's regime: the mean diagonal of the augmented
// training kernel, to which a relative regulariser refers.
func (m *Model) meanDiag(ctx context.Context) (float64, error) {
	var mean float64
	d := len(m.x) / m.n
	ntk := m.setup.Regime != RegimeNNGP
	for i := 0; i < m.n; i++ {
		ki, err := m.arch.Kernel(ctx, m.x[i*d:(i+1)*d], 1, nil, 0, nn.KernelOptions{NTK: ntk})
		if err != nil {
			return 0, err
		}
		v := ki.K[0]
		if ntk {
			v = ki.Theta[0]
		}
		mean += v / float64(m.n)
	}
	return mean, nil
}

// Regressor returns the kernel regression behind the model.
func (m *Model) Regressor() *Regressor { return m.reg }

// Predict returns the prediction at the nt test inputs xt (dataset layout)
// at the given training times, with the covariance when cov is set.
func (m *Model) Predict(ctx context.Context, xt []float64, nt int, times []float64, cov bool) (*Prediction, error) {
	kte, err := m.kernel(ctx, "kernel (test)", xt, nt, m.x, m.n)
	if err != nil {
		return nil, err
	}
	test := m.pick(kte)
	p := &Prediction{}
	if p.Mean, err = m.reg.Mean(test, nt, times); err != nil {
		return nil, err
	}
	if !cov {
		return p, nil
	}
	if m.setup.MeanOnly {
		return nil, errors.New("predict: the model was fitted for means only (Setup.MeanOnly): no covariance")
	}
	opts := m.kopts
	ktt, err := m.arch.Kernel(ctx, xt, nt, nil, 0, opts)
	if err != nil {
		return nil, err
	}
	ck := CovarianceKernels{TestTrain: test, NNGPTestTest: ktt.K, NNGPTestTrain: kte.K, NNGPTrainTrain: m.ktr.K}
	if p.Cov, err = m.reg.Covariance(nt, ck, times); err != nil {
		return nil, err
	}
	return p, nil
}

// AugmentSet expands a training set of n samples by its orbit under the
// input action in: block g holds rho(g) X with targets Y (target nil:
// invariant targets) or rho_Y(g) Y.
func AugmentSet(in, target *group.Rep, x, y []float64, n, k int) ([]float64, []float64) {
	xo := group.OrbitBatch(in, x)
	if target != nil {
		return xo, group.OrbitBatch(target, y)
	}
	G := in.Group().Order()
	yo := make([]float64, 0, G*n*k)
	for range G {
		yo = append(yo, y[:n*k]...)
	}
	return xo, yo
}

// String returns "none", "augment" or "average".
func (s Symmetry) String() string {
	switch s {
	case NoSymmetry:
		return "none"
	case Augment:
		return "augment"
	case Average:
		return "average"
	}
	return fmt.Sprintf("Symmetry(%d)", int(s))
}

// MemoryPlan is the memory, in bytes, of Fit on n training inputs and
// Predict on nt test inputs, without computing anything (see Plan).
type MemoryPlan struct {
	// Train is the peak of the training kernel's computation (result,
	// inputs, workers' blocks), Kept the training kernels the model keeps,
	// Test the peak of the test kernels' computation and Solve the
	// factorisations and covariances beyond the kept kernels.
	Train, Kept, Test, Solve int64
}

// Peak returns the larger of the fit's and the prediction's peaks.
func (p MemoryPlan) Peak() int64 { return max(p.Train, p.Kept+p.Test+p.Solve) }

// Plan returns the memory Fit and Predict need with setup s for n training
// and nt test inputs (n times the group's order under Augment), with
// finite training times or not and with covariances or not.
func Plan(arch *nn.Arch, n, nt int, s Setup, finite, cov bool) MemoryPlan {
	kopts := s.kernelOptions()
	switch s.Symmetry {
	case Augment:
		n *= s.Input.Group().Order()
	case Average:
		kopts.Average = s.Input
	}
	tr := arch.PlanKernel(n, n, kopts)
	nn2 := 8 * int64(n) * int64(n)
	p := MemoryPlan{Train: tr.Total(), Kept: tr.ResultBytes, Test: arch.PlanKernel(nt, n, kopts).Total()}
	switch {
	case finite:
		p.Solve = 3 * nn2 // the eigenvectors and the eigensolver's workspace
	case !s.InfOnly:
		p.Solve = nn2 // the Cholesky factor beside the kernel
	}
	if cov {
		p.Solve += 8 * 3 * int64(nt) * int64(max(nt, n))
	}
	return p
}
