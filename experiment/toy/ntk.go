package toy

// This file computes the NTK means μ_t: the infinite ensemble of infinitely
// wide networks under discrete gradient descent (what the networks do) and
// in continuous time (predict.Regressor).

import (
	"context"
	"slices"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// ntkMeans computes the NTK means with and without augmentation (the
// augmented set in train's orbit order: sample i, then its mirror image).
func (s *study) ntkMeans(ctx context.Context, env *experiment.Env) error {
	tr := s.tr
	n := tr.Len()
	xa := make([]float64, 2*n)
	ya := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		xa[2*i], xa[2*i+1] = float64(tr.X[i]), -float64(tr.X[i])
		ya[2*i], ya[2*i+1] = float64(tr.Y[i]), float64(tr.Y[i])
	}
	env.Logf("NTK means of %s on %d (augmented) and %d training points", s.spec, 2*n, n)
	var err error
	if s.ntkDA, s.contDA, s.ratioDA, err = ntkDynamics(ctx, s.arch, xa, ya, s.gridX, s.steps, s.p.LR); err != nil {
		return err
	}
	s.ntkNo, _, s.ratioNo, err = ntkDynamics(ctx, s.arch, experiment.ToF64(tr.X), experiment.ToF64(tr.Y), s.gridX, s.steps, s.p.LR)
	return err
}

// ntkDynamics returns the infinite-ensemble mean on the grid at the given
// steps for the training set (x, y) (N points): under discrete full-batch
// gradient descent with learning rate lr on L = 1/(2N) Σ (f − y)², the
// exact infinite-width dynamics f ← f − (lr/N) Θ(·,X)(f(X) − Y) from f = 0,
// and in continuous time from predict.Regressor. It also returns
// lr·λ_max/N. The kernel matrices serve all three, so predict.Fit is not
// used.
func ntkDynamics(ctx context.Context, arch *nn.Arch, x, y, grid []float64, steps []int, lr float64) (disc, cont [][]float64, ratio float64, err error) {
	n, m := len(x), len(grid)
	kt, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, nil, 0, err
	}
	kg, err := arch.Kernel(ctx, grid, m, x, n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, nil, 0, err
	}
	vals := make([]float64, n)
	if err := linalg.EigSym(n, slices.Clone(kt.Theta), vals); err != nil {
		return nil, nil, 0, err
	}
	ratio = lr * vals[n-1] / float64(n)
	disc = discreteDynamics(kt.Theta, kg.Theta, n, m, y, steps, lr)
	// Continuous time.
	pred, err := predict.NewRegressor(n, kt.Theta, y, 1, predict.Options{LearningRate: lr})
	if err != nil {
		return nil, nil, 0, err
	}
	times := make([]float64, len(steps))
	for i, s := range steps {
		times[i] = float64(s)
	}
	mu, err := pred.Mean(kg.Theta, m, times)
	if err != nil {
		return nil, nil, 0, err
	}
	cont = make([][]float64, len(steps))
	for i := range steps {
		cont[i] = mu[i*m : (i+1)*m]
	}
	return disc, cont, ratio, nil
}

// discreteDynamics runs f ← f − (lr/n) Θ(·,X)(f(X) − Y) from f = 0 on the
// n training points (kernel kt) and the m grid points (kernel kg against
// the training points) and returns f on the grid at the given steps.
func discreteDynamics(kt, kg []float64, n, m int, y []float64, steps []int, lr float64) [][]float64 {
	at := map[int]int{}
	last := 0
	for i, s := range steps {
		at[s] = i
		last = max(last, s)
	}
	disc := make([][]float64, len(steps))
	fx := make([]float64, n)
	fg := make([]float64, m)
	r := make([]float64, n)
	c := lr / float64(n)
	for s := 0; ; s++ {
		if i, ok := at[s]; ok {
			disc[i] = slices.Clone(fg)
		}
		if s == last {
			break
		}
		for i := range r {
			r[i] = fx[i] - y[i]
		}
		for i := 0; i < n; i++ {
			fx[i] -= c * dot(kt[i*n:(i+1)*n], r)
		}
		for i := 0; i < m; i++ {
			fg[i] -= c * dot(kg[i*n:(i+1)*n], r)
		}
	}
	return disc
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
