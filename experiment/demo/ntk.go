package demo

import (
	"context"
	"fmt"
	"math"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/train"
)

// ntkOrbits computes the prediction of the infinite ensemble of the MLP
// trained (to convergence, t = inf) with full augmentation, through the
// group-averaged NTK without expanding the training set, on the orbits of
// the test sets. It returns the orbits and a note for the report.
//
// The regression is built with predict.NewRegressor rather than
// predict.Fit: its regulariser is relative to the mean diagonal of the
// averaged kernel, where predict.Fit would take that of the plain kernel
// divided by |G| (predict.AveragedReg), which changes the results.
func ntkOrbits(ctx context.Context, env *experiment.Env, p *params, cfg *train.Config, rep *group.Rep, id *data.Dataset, ood []*data.Dataset) (*experiment.Orbits, string, error) {
	s, err := train.Prepare(cfg.Clone(), nil)
	if err != nil {
		return nil, "", err
	}
	tr := s.Data.Head(p.NTK.TrainSize)
	n := tr.Len()
	arch, err := nn.Parse(p.NTK.Arch, tr.Shape, nn.NTK)
	if err != nil {
		return nil, "", fmt.Errorf("experiments/demo.yaml: ntk.arch: %w", err)
	}
	m := &ntkModel{arch: arch, rep: rep, prep: s.Preprocess, x: experiment.ToF64(tr.X), n: n, k: tr.Classes}
	y := experiment.CentredOneHot(tr.Labels, m.k)
	env.Logf("NTK: group-averaged kernel of %s on %d training digits", arch.Spec, n)
	ktr, err := arch.Kernel(ctx, m.x, n, nil, 0, nn.KernelOptions{NTK: true, Average: rep})
	if err != nil {
		return nil, "", err
	}
	if m.reg, err = predict.NewRegressor(n, ktr.Theta, y, m.k, predict.Options{Reg: p.NTK.Reg}); err != nil {
		return nil, "", err
	}
	out := &experiment.Orbits{}
	if out.ID, err = m.orbit(ctx, id); err != nil {
		return nil, "", err
	}
	for _, d := range ood {
		o, err := m.orbit(ctx, d)
		if err != nil {
			return nil, "", err
		}
		out.OOD = append(out.OOD, o)
	}
	note := fmt.Sprintf("The NTK prediction uses the analytic NTK of %s (NTK parametrisation), the mean of the infinite ensemble at t = ∞ with centred one-hot targets and a diagonal regulariser of %g times the mean diagonal, trained on the first %d of the training digits.", arch.Spec, p.NTK.Reg, n)
	return out, note, nil
}

// ntkModel is the kernel regression with the group-averaged NTK on n
// training inputs x (preprocessed with prep) and k outputs.
type ntkModel struct {
	arch *nn.Arch
	rep  *group.Rep
	prep *train.Preprocess
	x    []float64
	n, k int
	reg  *predict.Regressor
}

// orbit returns the prediction at t = ∞ on the orbits of the images of ds
// (preprocessed like the training set).
func (m *ntkModel) orbit(ctx context.Context, ds *data.Dataset) (*metrics.Orbit, error) {
	c := experiment.CloneSet(ds)
	if err := m.prep.Apply(c, nil); err != nil {
		return nil, err
	}
	G := m.rep.Group().Order()
	nt := c.Len()
	xt := group.OrbitBatch(m.rep, experiment.ToF64(c.X)[:nt*m.rep.Dim()])
	kt, err := m.arch.Kernel(ctx, xt, G*nt, m.x, m.n, nn.KernelOptions{NTK: true, Average: m.rep})
	if err != nil {
		return nil, err
	}
	mu, err := m.reg.Mean(kt.Theta, G*nt, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	return &metrics.Orbit{G: G, N: nt, K: m.k, Out: mu}, nil
}
