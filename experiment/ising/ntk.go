package ising

// The infinite ensemble: the group-averaged NTK, as gradient flow and as
// discrete gradient descent.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// ntkResult is what evalNTK computes.
type ntkResult struct {
	// curves: "ntk" (gradient flow, predict.Regressor) and "ntk_gd" (the
	// same kernel, discrete full-batch GD steps) per set.
	curves []curve
	// maxRel is the largest relative std of either over all times, sets
	// and points.
	maxRel float64
	// etaLamMax and etaLamMin are eta*lambda/N for the extreme
	// eigenvalues of the group-averaged training kernel.
	etaLamMax, etaLamMin float64
	took                 time.Duration
}

// evalNTK evaluates the infinite ensemble trained with full augmentation
// (the group-averaged NTK, with the networks' learning rate and t = GD
// steps) on every test point and on the orbit subset of the first
// ntk.orbit_points points of each set, at every step: as the gradient flow
// of predict.Regressor, mu_t = Θ̄(x,X) Θ̄^-1 (1 - exp(-η t Θ̄/N)) Y, and as
// discrete gradient descent, mu_t = Θ̄(x,X) Θ̄^-1 (1 - (1 - η Θ̄/N)^t) Y,
// which is what the networks' optimiser does at infinite width.
//
// It computes the kernels itself rather than through predict.Fit, since
// the discrete GD variant needs the training and test kernels as well.
func evalNTK(ctx context.Context, env *experiment.Env, p *params, in *inputs) (*ntkResult, error) {
	start := time.Now()
	raw, rep := in.train, in.rep
	arch, err := nn.Parse(experiment.ExpandSpec(p.Arch, p.Widths[0]), raw.Shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("experiments/ising.yaml: arch: %w", err)
	}
	n := raw.Len()
	xtr := experiment.ToF64(raw.X)
	y := experiment.ToF64(raw.Y)
	env.Logf("NTK: group-averaged kernel of %s over the %d elements of %s on %d training configurations", arch.Spec, rep.Group().Order(), rep.Group().Name(), n)
	ktr, err := arch.Kernel(ctx, xtr, n, nil, 0, nn.KernelOptions{NTK: true, Average: rep})
	if err != nil {
		return nil, err
	}
	pred, err := predict.NewRegressor(n, ktr.Theta, y, 1, predict.Options{LearningRate: p.LR, Reg: p.NTK.Reg})
	if err != nil {
		return nil, err
	}
	coef, lam, err := gdCoefficients(n, ktr.Theta, pred.Regulariser(), y, p.LR, in.steps)
	if err != nil {
		return nil, err
	}
	res := &ntkResult{etaLamMax: p.LR * lam[n-1] / float64(n), etaLamMin: p.LR * lam[0] / float64(n)}
	env.Logf("NTK: eta*lambda/N of the averaged training kernel in [%.3g, %.3g] (discrete GD is stable below 2)", res.etaLamMin, res.etaLamMax)

	xt, blocks := ntkTestInputs(p, in)
	m := len(xt) / raw.SampleSize()
	env.Logf("NTK: kernel of %d test inputs (orbits of %d points per set over %d elements) with the %d training configurations", m, min(p.NTK.OrbitPoints, in.sets[0].N), len(in.elems), n)
	kt, err := arch.Kernel(ctx, xt, m, xtr, n, nn.KernelOptions{NTK: true, Average: rep})
	if err != nil {
		return nil, err
	}
	nt := len(in.steps)
	times := make([]float64, nt)
	for i, s := range in.steps {
		times[i] = float64(s)
	}
	flow, err := pred.Mean(kt.Theta, m, times)
	if err != nil {
		return nil, err
	}
	gdT := make([]float64, m*nt) // m × nt
	linalg.Dgemm(false, false, m, nt, n, 1, kt.Theta, n, coef, nt, 0, gdT, nt)
	gd := make([]float64, nt*m)
	for i := 0; i < m; i++ {
		for si := 0; si < nt; si++ {
			gd[si*m+i] = gdT[i*nt+si]
		}
	}
	for _, mv := range []struct {
		model string
		mu    []float64
	}{{"ntk", flow}, {"ntk_gd", gd}} {
		res.addCurves(mv.model, mv.mu, m, nt, in.sets, blocks, len(in.elems))
	}
	res.took = time.Since(start)
	return res, nil
}

// gdCoefficients returns the coefficients of discrete GD with learning
// rate eta after each of the steps, n × len(steps): the prediction after
// steps[s] is Θ(x,X) coef[:, s], with coef = V diag((1 - (1 - ηλ/N)^t)/λ)
// V^T Y from the eigendecomposition V diag(λ) V^T of the training kernel
// ktr (n×n) plus reg on the diagonal. It also returns the eigenvalues λ,
// ascending.
func gdCoefficients(n int, ktr []float64, reg float64, y []float64, eta float64, steps []int) (coef, lam []float64, err error) {
	vecs := slices.Clone(ktr)
	for i := 0; i < n; i++ {
		vecs[i*n+i] += reg
	}
	lam = make([]float64, n)
	if err := linalg.EigSym(n, vecs, lam); err != nil {
		return nil, nil, err
	}
	vty := make([]float64, n)
	linalg.Dgemv(true, n, n, 1, vecs, n, y, 0, vty)
	nt := len(steps)
	gain := make([]float64, n*nt) // gain[j*nt+s] * vty[j]
	for j, l := range lam {
		x := eta * math.Max(l, 0) / float64(n)
		for si, t := range steps {
			var gv float64
			if x < 1e-300 {
				gv = eta * float64(t) / float64(n)
			} else {
				gv = -math.Expm1(float64(t)*math.Log1p(-x)) / math.Max(l, 0)
			}
			gain[j*nt+si] = gv * vty[j]
		}
	}
	coef = make([]float64, n*nt)
	linalg.Dgemm(false, false, n, nt, n, 1, vecs, n, gain, nt, 0, coef, nt)
	return coef, lam, nil
}

// ntkBlock locates one test set among the NTK's test inputs: its n points
// start at id, the images of its first q points under the non-identity
// elements of the subset at orb (element after element).
type ntkBlock struct{ id, orb, n, q int }

// ntkTestInputs returns the NTK's test inputs: every point of every set,
// then the images of the first ntk.orbit_points points under the
// non-identity elements of the subset; and where each set's are.
func ntkTestInputs(p *params, in *inputs) ([]float64, []ntkBlock) {
	S := len(in.elems)
	var xt []float64
	var blocks []ntkBlock
	tmp := make([]float32, in.train.SampleSize())
	m := 0
	for _, s := range in.sets {
		q := min(p.NTK.OrbitPoints, s.N)
		b := ntkBlock{id: m, n: s.N, q: q}
		xt = append(xt, experiment.ToF64(s.data.X)...)
		m += s.N
		b.orb = m
		for e := 1; e < S; e++ {
			for i := 0; i < q; i++ {
				group.Apply(in.rep, in.elems[e], tmp, s.data.Input(i))
				for _, v := range tmp {
					xt = append(xt, float64(v))
				}
			}
		}
		m += (S - 1) * q
		blocks = append(blocks, b)
	}
	return xt, blocks
}

// addCurves adds the curves of one NTK variant, whose predictions on the
// m test inputs at the nt steps are mu (step after step), and records
// their largest relative std.
func (res *ntkResult) addCurves(model string, mu []float64, m, nt int, sets []*testSet, blocks []ntkBlock, S int) {
	for j, s := range sets {
		b := blocks[j]
		c := curve{Model: model, Set: s.Name, Points: b.q}
		for ti := 0; ti < nt; ti++ {
			row := mu[ti*m : (ti+1)*m]
			var se float64
			for i := 0; i < b.n; i++ {
				dv := row[b.id+i] - s.y[i]
				se += dv * dv
			}
			o := metrics.NewOrbit(S, b.q, 1)
			for i := 0; i < b.q; i++ {
				o.Out[i] = row[b.id+i]
				for e := 1; e < S; e++ {
					o.Out[e*b.q+i] = row[b.orb+(e-1)*b.q+i]
				}
			}
			pts, mean, med := relStats(o)
			for _, v := range pts {
				res.maxRel = math.Max(res.maxRel, v)
			}
			c.Mean = append(c.Mean, mean)
			c.Median = append(c.Median, med)
			c.MSE = append(c.MSE, se/float64(b.n))
		}
		res.curves = append(res.curves, c)
	}
}
