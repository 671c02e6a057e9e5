package crossproduct

// This file holds the infinite ensemble of infinitely wide networks (the
// NTK mean at t = ∞): kernel regression on the augmented training set
// (predict.Fit) or, for groups, with the matrix-valued group-averaged
// kernel on the original training points; and the NTK rows of the run.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/train"
)

// ntkModel predicts the infinite ensemble's mean at t = ∞ (or the given
// finite times) for inputs in dataset layout. Exactly one route is set:
// fit, kernel regression on the expanded (augmented) training set, or the
// matrix-valued averaged kernel on the n training points x with the set's
// representations and its regression pred.
type ntkModel struct {
	fit *predict.Model

	arch    *nn.Arch
	x       []float64
	n       int
	in, out *group.Rep
	pred    *predict.Regressor
}

// ntkExpanded builds kernel regression on the n·|S| augmented training
// points {(ρ(s)x_i, ρ_Y(s)y_i)} (in nil: no augmentation) with the absolute
// regulariser r and learning rate lr (only used at finite times).
func ntkExpanded(ctx context.Context, arch *nn.Arch, x, y []float64, n int, in, out *group.Rep, r, lr float64) (*ntkModel, error) {
	s := predict.Setup{LearningRate: lr, Reg: r, RegAbsolute: true}
	if in != nil {
		s.Symmetry, s.Input, s.Target = predict.Augment, in, out
	}
	fit, err := predict.Fit(ctx, arch, x, n, y, 3, s)
	if err != nil {
		return nil, err
	}
	return &ntkModel{fit: fit}, nil
}

// averagedKernel returns the matrix-valued group-averaged kernel
//
//	K̄(a, b) = (1/|S|) Σ_s Θ(a, ρ(s) b) ρ_Y(s)
//
// between the m inputs xa and the n inputs xb as a (3m)×(3n) matrix, row
// (i, α), column (j, β).
func averagedKernel(ctx context.Context, arch *nn.Arch, xa []float64, m int, xb []float64, n int, in, out *group.Rep) ([]float64, error) {
	G := in.Group().Order()
	k, err := arch.Kernel(ctx, xa, m, group.OrbitBatch(in, xb[:n*in.Dim()]), G*n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kb := make([]float64, 9*m*n)
	for s := 0; s < G; s++ {
		R := out.Dense(s)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				t := k.Theta[i*G*n+s*n+j] / float64(G)
				for a := 0; a < 3; a++ {
					for b := 0; b < 3; b++ {
						kb[(3*i+a)*3*n+3*j+b] += t * R[a*3+b]
					}
				}
			}
		}
	}
	return kb, nil
}

// averagedModel is kernel regression with the averaged kernel kb on the n
// training points x: for a closed group the same as kernel regression on
// the augmented set with regulariser r (which becomes r/|G| here) and time
// normalisation lr/(n|G|) (which becomes 3lr/(3n)); see the report.
func averagedModel(arch *nn.Arch, x, y []float64, n int, in, out *group.Rep, kb []float64, r, lr float64) (*ntkModel, error) {
	p, err := predict.NewRegressor(3*n, kb, y, 1, predict.Options{Reg: predict.AveragedReg(r, in.Group().Order()), RegAbsolute: true, LearningRate: 3 * lr})
	if err != nil {
		return nil, err
	}
	return &ntkModel{arch: arch, x: x, n: n, in: in, out: out, pred: p}, nil
}

// ntkAveraged builds the prediction of the averaged kernel on the n
// training points (see averagedModel).
func ntkAveraged(ctx context.Context, arch *nn.Arch, x, y []float64, n int, in, out *group.Rep, r, lr float64) (*ntkModel, error) {
	kb, err := averagedKernel(ctx, arch, x, n, x, n, in, out)
	if err != nil {
		return nil, err
	}
	return averagedModel(arch, slices.Clone(x), y, n, in, out, kb, r, lr)
}

// predict returns the m×3 mean outputs on xt at each time (len(times)×m×3).
func (c *ntkModel) predict(ctx context.Context, xt []float64, m int, times []float64) ([]float64, error) {
	const chunk = 256
	res := make([]float64, len(times)*m*3)
	for s := 0; s < m; s += chunk {
		b := min(chunk, m-s)
		mu, err := c.mean(ctx, xt[s*6:(s+b)*6], b, times)
		if err != nil {
			return nil, err
		}
		for t := range times {
			copy(res[(t*m+s)*3:(t*m+s+b)*3], mu[t*b*3:(t+1)*b*3])
		}
	}
	return res, nil
}

// mean returns the mean outputs on the b inputs xs at each time.
func (c *ntkModel) mean(ctx context.Context, xs []float64, b int, times []float64) ([]float64, error) {
	if c.fit != nil {
		pr, err := c.fit.Predict(ctx, xs, b, times, false)
		if err != nil {
			return nil, err
		}
		return pr.Mean, nil
	}
	kb, err := averagedKernel(ctx, c.arch, xs, b, c.x, c.n, c.in, c.out)
	if err != nil {
		return nil, err
	}
	return c.pred.Mean(kb, 3*b, times)
}

// orbit evaluates the t = ∞ mean on the orbit of ds under rep.
func (c *ntkModel) orbit(ctx context.Context, ds *data.Dataset, rep *group.Rep) (*metrics.Orbit, error) {
	G, n := rep.Group().Order(), ds.Len()
	mu, err := c.predict(ctx, group.OrbitBatch(rep, experiment.ToF64(ds.X)[:n*rep.Dim()]), G*n, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	return &metrics.Orbit{G: G, N: n, K: 3, Out: mu}, nil
}

// orbits evaluates the model on both test sets of ev under the evaluation
// rotations and, if trainIn is not nil, under the training rotations.
func (c *ntkModel) orbits(ctx context.Context, ev *evalSetting, trainIn *group.Rep) (*modelOrbits, error) {
	o := &modelOrbits{}
	var err error
	if o.on, err = c.orbit(ctx, ev.on, ev.inRep); err != nil {
		return nil, err
	}
	if o.off, err = c.orbit(ctx, ev.off, ev.inRep); err != nil {
		return nil, err
	}
	if trainIn != nil {
		if o.onT, err = c.orbit(ctx, ev.on, trainIn); err != nil {
			return nil, err
		}
		if o.offT, err = c.orbit(ctx, ev.off, trainIn); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// ntkTrace returns the trace of Θ(X, X) on the n inputs x, to which the
// regulariser refers.
func ntkTrace(ctx context.Context, arch *nn.Arch, x []float64, n int) (float64, error) {
	base, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return 0, err
	}
	var tr float64
	for i := 0; i < n; i++ {
		tr += base.Theta[i*n+i]
	}
	return tr, nil
}

// ntkRows adds the NTK rows (without augmentation and per augmentation
// set) to tab and runs the kernel identity checks. It returns the checks
// and the note on the NTK rows for the report.
func ntkRows(ctx context.Context, env *experiment.Env, p *params, ev *evalSetting, runs []*augRun, tab *modelTable) ([]identityCheck, string, error) {
	if p.NTK.Arch == "" {
		return nil, "The NTK rows were skipped (ntk.arch is empty).", nil
	}
	arch, err := nn.Parse(p.NTK.Arch, []int{6}, nn.NTK)
	if err != nil {
		return nil, "", fmt.Errorf("experiments/cross-product.yaml: ntk.arch: %w", err)
	}
	tr, err := train.LoadData(train.DataConfig{Name: train.CrossProductName, Size: p.TrainSize, Seed: p.Seed}, "train")
	if err != nil {
		return nil, "", err
	}
	n := tr.Len()
	x, y := experiment.ToF64(tr.X), experiment.ToF64(tr.Y)
	trace, err := ntkTrace(ctx, arch, x, n)
	if err != nil {
		return nil, "", err
	}
	r := p.NTK.Reg * trace / float64(n)
	evN := ev.head(p.NTK.TestSize)

	env.Logf("NTK: %s, no augmentation (%d training points)", arch.Spec, n)
	m0, err := ntkExpanded(ctx, arch, x, y, n, nil, nil, r, 1)
	if err != nil {
		return nil, "", err
	}
	o0, err := m0.orbits(ctx, evN, nil)
	if err != nil {
		return nil, "", err
	}
	tab.add("ntk_noaug", "NTK, no DA (infinite ensemble, t = ∞)", [][2]*perPoint{o0.measure(evN, nil)}, p.Seed)

	var checks []identityCheck
	var skipped []string
	for _, run := range runs {
		if !run.g.Closed() && p.NTK.MaxExpanded > 0 && n*run.g.Order() > p.NTK.MaxExpanded {
			skipped = append(skipped, fmt.Sprintf("%s (%d augmented points > max_expanded %d)", run.g.Name(), n*run.g.Order(), p.NTK.MaxExpanded))
			continue
		}
		route, err := ntkAugmentedRow(ctx, env, arch, x, y, n, r, run, evN, tab, p.Seed)
		if err != nil {
			return nil, "", err
		}
		if p.NTK.CheckSize > 0 {
			nc := min(p.NTK.CheckSize, n)
			mc := min(64, ev.on.Len())
			ck, err := checkIdentity(ctx, arch, x, y, nc, experiment.ToF64(ev.on.X[:mc*6]), mc, run.in, run.out, p.NTK.Reg)
			if err != nil {
				return nil, "", err
			}
			ck.Route = route
			checks = append(checks, ck)
		}
	}
	var note string
	if len(skipped) > 0 {
		note = "The NTK was skipped for " + strings.Join(skipped, ", ") + ": a set that is not a group has no averaged-kernel shortcut. "
	}
	note += fmt.Sprintf("NTK rows: the mean of the infinite ensemble of infinitely wide %s (NTK parametrisation) trained to convergence (t = ∞) by gradient descent on the MSE over the augmented training set, with a diagonal regulariser of %g times the mean diagonal of Θ(X, X), on %d test points of each set. They are a reference for the trained ensembles, which use %s, not gradient descent to convergence.",
		arch.Spec, p.NTK.Reg, evN.on.Len(), optName(p.MLP))
	return checks, note, nil
}

// ntkAugmentedRow adds the NTK row of one augmentation set: through the
// averaged kernel for a group, on the augmented set otherwise. It returns
// the route taken.
func ntkAugmentedRow(ctx context.Context, env *experiment.Env, arch *nn.Arch, x, y []float64, n int, r float64, run *augRun, evN *evalSetting, tab *modelTable, seed uint64) (string, error) {
	var mdl *ntkModel
	var err error
	route := "expanded set"
	if run.g.Closed() {
		route = "averaged kernel"
		env.Logf("NTK: %s augmentation through the %d×%d group-averaged (matrix-valued) kernel", run.g.Name(), 3*n, 3*n)
		mdl, err = ntkAveraged(ctx, arch, x, y, n, run.in, run.out, r, 1)
	} else {
		env.Logf("NTK: %s augmentation on the %d augmented training points", run.g.Name(), n*run.g.Order())
		mdl, err = ntkExpanded(ctx, arch, x, y, n, run.in, run.out, r, 1)
	}
	if err != nil {
		return "", err
	}
	o, err := mdl.orbits(ctx, evN, run.in)
	if err != nil {
		return "", err
	}
	tab.add("ntk_da_"+run.g.Name(), fmt.Sprintf("NTK + DA %s (infinite ensemble, t = ∞)", run.g.Name()), [][2]*perPoint{o.measure(evN, run.out)}, seed)
	return route, nil
}
