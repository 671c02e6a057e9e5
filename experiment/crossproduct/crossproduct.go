// The "cross-product" experiment: emergent SO(3) equivariance. MLP
// ensembles are trained on the cross-product regression (inputs (u, v) ∈ R⁶,
// target u × v, which rotates with the inputs) with partial augmentation by
// a finite set of rotations (a random element of the set per sample and
// step, targets rotated with the vector representation), and without
// augmentation. Their relative equivariance error
//
//	mean_{x, R} ||f(Rx) − R f(x)|| / mean_x ||f(x)||
//
// is measured under Haar-random rotations R that were never trained on, on
// the data manifold (test samples from the training distribution) and off
// it (u, v on the sphere of radius 3), for single members and ensembles of
// growing size, next to the infinite ensemble of infinitely wide networks
// trained on the same augmented data (the NTK mean at t = ∞).
//
// results.json (besides "meta", see Run) holds:
//
//   - "params": the parameters of the scale (experiments/cross-product.yaml).
//   - "eval_group": the evaluation rotations (a so3:<n>:<seed> sample whose
//     element 0 is the identity; the errors average over the others) and
//     "eval_rotations", their number besides the identity.
//   - "groups": the augmentation sets, each {"name", "order", "closed"}.
//   - "models": name → {"members", "label", "on", "off"}, where "on" (test
//     data from the training distribution) and "off" (off-manifold) each
//     hold "rel_mse" (Σ||f(x) − y||² / Σ||y||²), "eq_err" (the relative
//     equivariance error above under the evaluation rotations) and
//     "eq_err_train" (the same under the augmentation set's own rotations,
//     for augmented models), every one {"mean", "lo", "hi"}: the value and
//     its 95% bootstrap interval over test points. Names: "member_noaug",
//     "ensemble_noaug", "ntk_noaug", and "member_da_<group>",
//     "ensemble_da_<group>", "ntk_da_<group>" per augmentation set.
//     "member" rows average the members' values; "ntk" rows are absent
//     when ntk.arch is empty.
//   - "curve": the equivariance error and relative MSE against ensemble
//     size, {"group" ("none" without augmentation), "size", "subsets",
//     "eq_on", "eq_off", "rel_mse_on", "rel_mse_off"}, averaged over up to
//     8 groups of members.
//   - "ntk_checks": checks of the kernel identities, one per augmentation
//     set, on the first check_size training points: "group", "closed", "n",
//     "route" (how the NTK rows were computed: "averaged kernel" for
//     groups, "expanded set" otherwise), "averaged_asymmetry"
//     (max |K̄ − K̄ᵀ| / max |K̄| of the matrix-valued averaged kernel
//     K̄(x, x') = (1/|S|) Σ_s Θ(x, ρ(s)x') ρ_Y(s) on the n points),
//     "averaged_min_eig_rel" (smallest over largest eigenvalue of its
//     symmetric part), "averaged_vs_expanded_inf" and
//     "averaged_vs_expanded_t" (max |difference| / max |μ| between the
//     averaged kernel's prediction and kernel regression on the n·|S|
//     augmented points, at t = ∞ and at t = "t"; absent when the averaged
//     kernel is not positive semi-definite), "eq_err_own_group" and
//     "eq_err_own_group_averaged" (the relative equivariance error of the
//     two predictions under the set's own rotations).
//
// Tables: tables/summary.csv, curve.csv and ntk_checks.csv.

package crossproduct

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "cross-product",
		Summary: "SO(3) equivariance of MLP ensembles trained on cross products with partial rotation augmentation, on and off the data manifold, with the NTK",
		Run:     runCrossProduct,
	})
}

type cpParams struct {
	TrainSize    int                    `yaml:"train_size" json:"train_size"`
	TestSize     int                    `yaml:"test_size" json:"test_size"`
	OODSize      int                    `yaml:"ood_size" json:"ood_size"`
	Seed         uint64                 `yaml:"seed" json:"seed"`
	Groups       []string               `yaml:"groups" json:"groups"`
	EvalGroup    string                 `yaml:"eval_group" json:"eval_group"`
	Sizes        []int                  `yaml:"sizes" json:"sizes"`
	MLP          experiment.ModelParams `yaml:"mlp" json:"mlp"`
	NoAugMembers int                    `yaml:"noaug_members" json:"noaug_members"`
	NTK          struct {
		// Arch is the MLP in NTK parametrisation ("" skips the NTK).
		Arch string `yaml:"arch" json:"arch"`
		// Reg is the diagonal regulariser relative to the mean diagonal
		// of Θ(X, X) on the unaugmented training points.
		Reg float64 `yaml:"reg" json:"reg"`
		// TestSize is the number of test points (of each set) the NTK is
		// evaluated on (0: all).
		TestSize int `yaml:"test_size" json:"test_size"`
		// CheckSize is the number of training points of the kernel
		// identity checks.
		CheckSize int `yaml:"check_size" json:"check_size"`
		// MaxExpanded bounds the augmented training set n·|S| of the NTK
		// for sets that are not groups (whose NTK needs the whole
		// augmented set); larger ones are skipped.
		MaxExpanded int `yaml:"max_expanded" json:"max_expanded"`
	} `yaml:"ntk" json:"ntk"`
}

// cpSet is one model's per-point quantities on one test set: the numerator
// and denominator of the relative equivariance error (under the evaluation
// rotations and under the training set's rotations) and of the relative
// MSE.
type cpSet struct {
	eqNum, eqTrain, norm, sqErr, ySq []float64
}

// cpMeasure computes the per-point quantities of a model from its orbit o
// under the evaluation rotations (outputs K = 3) and, if ot is not nil, its
// orbit under the training rotations.
func cpMeasure(o, ot *metrics.Orbit, outEval, outTrain *group.Rep, y []float64) *cpSet {
	act := func(r *group.Rep) metrics.OutputAction {
		return func(g int, dst, src []float64) { group.Apply(r, g, dst, src) }
	}
	s := &cpSet{}
	s.eqNum, _ = metrics.EquivarianceError(o, act(outEval))
	if ot != nil {
		s.eqTrain, _ = metrics.EquivarianceError(ot, act(outTrain))
	}
	n := o.N
	s.norm, s.sqErr, s.ySq = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		f := o.At(0, i)
		var a, b, c float64
		for k, v := range f {
			t := y[i*o.K+k]
			a += v * v
			b += (v - t) * (v - t)
			c += t * t
		}
		s.norm[i], s.sqErr[i], s.ySq[i] = math.Sqrt(a), b, c
	}
	return s
}

// cpRatioBoot estimates the mean over models of Σ num / Σ den with a 95%
// percentile bootstrap interval over the points (resampled jointly for all
// models).
func cpRatioBoot(num, den [][]float64, seed uint64) metrics.Estimate {
	if len(num) == 0 || num[0] == nil {
		return metrics.Estimate{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	n := len(num[0])
	ratio := func(idx []int) float64 {
		var r float64
		for m := range num {
			var a, b float64
			if idx == nil {
				for i := 0; i < n; i++ {
					a += num[m][i]
					b += den[m][i]
				}
			} else {
				for _, i := range idx {
					a += num[m][i]
					b += den[m][i]
				}
			}
			r += a / b
		}
		return r / float64(len(num))
	}
	e := metrics.Estimate{Mean: ratio(nil)}
	const B = 500
	rng := rand.New(rand.NewPCG(seed, 0xc0557))
	rs := make([]float64, B)
	idx := make([]int, n)
	for b := range rs {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		rs[b] = ratio(idx)
	}
	slices.Sort(rs)
	lo, hi := 0.025*float64(B-1), 0.975*float64(B-1)
	e.Lo, e.Hi = rs[int(lo)], rs[int(math.Ceil(hi))]
	return e
}

// cpSetStats are a model's statistics on one test set.
type cpSetStats struct {
	RelMSE     metrics.Estimate  `json:"rel_mse"`
	EqErr      metrics.Estimate  `json:"eq_err"`
	EqErrTrain *metrics.Estimate `json:"eq_err_train,omitempty"`
}

type cpModel struct {
	Label   string     `json:"label"`
	Members int        `json:"members"`
	On      cpSetStats `json:"on"`
	Off     cpSetStats `json:"off"`
}

// cpStats summarises one or more models (members averaged) on a set.
func cpStats(sets []*cpSet, seed uint64) cpSetStats {
	var eqN, eqT, nrm, se, ys [][]float64
	for _, s := range sets {
		eqN, eqT, nrm, se, ys = append(eqN, s.eqNum), append(eqT, s.eqTrain), append(nrm, s.norm), append(se, s.sqErr), append(ys, s.ySq)
	}
	st := cpSetStats{RelMSE: cpRatioBoot(se, ys, seed), EqErr: cpRatioBoot(eqN, nrm, seed+1)}
	if sets[0].eqTrain != nil {
		e := cpRatioBoot(eqT, nrm, seed+2)
		st.EqErrTrain = &e
	}
	return st
}

// cpOrbits are a model's orbits on the two test sets, under the evaluation
// rotations and (augmented models) under the training rotations.
type cpOrbits struct {
	on, off, onT, offT *metrics.Orbit
}

// measure computes the per-point quantities on both sets; those under the
// training rotations only with outTrain set.
func (o *cpOrbits) measure(ev *cpEval, outTrain *group.Rep) (on, off *cpSet) {
	onT, offT := o.onT, o.offT
	if outTrain == nil {
		onT, offT = nil, nil
	}
	return cpMeasure(o.on, onT, ev.outRep, outTrain, ev.yOn), cpMeasure(o.off, offT, ev.outRep, outTrain, ev.yOff)
}

// cpRun is an augmented ensemble: its rotation set, the set's
// representations on inputs and outputs, and its members' orbits.
type cpRun struct {
	g       *group.Group
	in, out *group.Rep
	orbits  []*cpOrbits
}

// cpEval holds the evaluation setting.
type cpEval struct {
	g             *group.Group
	inRep, outRep *group.Rep
	on, off       *data.Dataset
	yOn, yOff     []float64
}

// cpCombine is the ensemble of members idx.
func cpCombine(ms []*cpOrbits, idx []int) *cpOrbits {
	pick := func(f func(*cpOrbits) *metrics.Orbit) *metrics.Orbit {
		if f(ms[0]) == nil {
			return nil
		}
		os := make([]*metrics.Orbit, len(ms))
		for i, m := range ms {
			os[i] = f(m)
		}
		return metrics.Combine(os, idx, false)
	}
	return &cpOrbits{
		on:   pick(func(o *cpOrbits) *metrics.Orbit { return o.on }),
		off:  pick(func(o *cpOrbits) *metrics.Orbit { return o.off }),
		onT:  pick(func(o *cpOrbits) *metrics.Orbit { return o.onT }),
		offT: pick(func(o *cpOrbits) *metrics.Orbit { return o.offT }),
	}
}

// cpEnsembleOrbits evaluates every member of ens on both sets under the
// evaluation rotations and, if trainIn is not nil, the training rotations.
func cpEnsembleOrbits(ctx context.Context, ens *train.Ensemble, ev *cpEval, trainIn *group.Rep) ([]*cpOrbits, error) {
	eval := func(ds *data.Dataset, rep *group.Rep) ([]*metrics.Orbit, error) {
		c := experiment.CloneSet(ds)
		if err := ens.PrepareData(c); err != nil {
			return nil, err
		}
		return experiment.EnsembleOrbits(ctx, ens, c, rep, 512)
	}
	out := make([]*cpOrbits, len(ens.Members))
	for i := range out {
		out[i] = &cpOrbits{}
	}
	for k, job := range []struct {
		ds  *data.Dataset
		rep *group.Rep
	}{{ev.on, ev.inRep}, {ev.off, ev.inRep}, {ev.on, trainIn}, {ev.off, trainIn}} {
		if job.rep == nil {
			continue
		}
		os, err := eval(job.ds, job.rep)
		if err != nil {
			return nil, err
		}
		for i, o := range os {
			switch k {
			case 0:
				out[i].on = o
			case 1:
				out[i].off = o
			case 2:
				out[i].onT = o
			case 3:
				out[i].offT = o
			}
		}
	}
	return out, nil
}

// cpNTKModel predicts the infinite ensemble's mean at t = ∞ (or the given
// finite times) for inputs in dataset layout.
type cpNTKModel struct {
	arch *nn.Arch
	// Exactly one route: the expanded (augmented) training set xe (ne
	// points) with its predictor, or the matrix-valued averaged kernel on
	// the n training points x with the set's representations.
	xe      []float64
	ne      int
	x       []float64
	n       int
	g       *group.Group
	in, out *group.Rep
	pred    *predict.Regressor
}

// cpNTKExpanded builds kernel regression on the n·|S| augmented training
// points {(ρ(s)x_i, ρ_Y(s)y_i)} (S nil: no augmentation) with the absolute
// regulariser r and learning rate lr (only used at finite times).
func cpNTKExpanded(ctx context.Context, arch *nn.Arch, x, y []float64, n int, in, out *group.Rep, r, lr float64) (*cpNTKModel, error) {
	G := 1
	if in != nil {
		G = in.Group().Order()
	}
	xe := make([]float64, G*n*6)
	ye := make([]float64, G*n*3)
	for s := 0; s < G; s++ {
		for i := 0; i < n; i++ {
			if in == nil {
				copy(xe[(s*n+i)*6:], x[i*6:i*6+6])
				copy(ye[(s*n+i)*3:], y[i*3:i*3+3])
				continue
			}
			group.Apply(in, s, xe[(s*n+i)*6:(s*n+i)*6+6], x[i*6:i*6+6])
			group.Apply(out, s, ye[(s*n+i)*3:(s*n+i)*3+3], y[i*3:i*3+3])
		}
	}
	kt, err := arch.Kernel(ctx, xe, G*n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	p, err := predict.NewRegressor(G*n, kt.Theta, ye, 3, predict.Options{Reg: r, RegAbsolute: true, LearningRate: lr})
	if err != nil {
		return nil, err
	}
	return &cpNTKModel{arch: arch, xe: xe, ne: G * n, pred: p}, nil
}

// cpAveraged returns the matrix-valued group-averaged kernel
//
//	K̄(a, b) = (1/|S|) Σ_s Θ(a, ρ(s) b) ρ_Y(s)
//
// between the m inputs xa and the n inputs xb as a (3m)×(3n) matrix, row
// (i, α), column (j, β).
func cpAveraged(ctx context.Context, arch *nn.Arch, xa []float64, m int, xb []float64, n int, in, out *group.Rep) ([]float64, error) {
	G := in.Group().Order()
	xg := make([]float64, G*n*6)
	for s := 0; s < G; s++ {
		group.ApplyBatch(in, s, xg[s*n*6:(s+1)*n*6], xb)
	}
	k, err := arch.Kernel(ctx, xa, m, xg, G*n, nn.KernelOptions{NTK: true})
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

// cpNTKAveraged builds the prediction of the averaged kernel on the n
// training points: for a closed group the same as kernel regression on the
// augmented set with regulariser r (which becomes r/|G| here) and time
// normalisation lr/(n|G|) (which becomes 3lr/(3n)); see the report.
func cpNTKAveraged(ctx context.Context, arch *nn.Arch, x, y []float64, n int, in, out *group.Rep, r, lr float64) (*cpNTKModel, error) {
	kb, err := cpAveraged(ctx, arch, x, n, x, n, in, out)
	if err != nil {
		return nil, err
	}
	p, err := predict.NewRegressor(3*n, kb, y, 1, predict.Options{Reg: predict.AveragedReg(r, in.Group().Order()), RegAbsolute: true, LearningRate: 3 * lr})
	if err != nil {
		return nil, err
	}
	return &cpNTKModel{arch: arch, x: slices.Clone(x), n: n, g: in.Group(), in: in, out: out, pred: p}, nil
}

// predict returns the m×3 mean outputs on xt at each time (len(times)×m×3).
func (c *cpNTKModel) predict(ctx context.Context, xt []float64, m int, times []float64) ([]float64, error) {
	const chunk = 256
	res := make([]float64, len(times)*m*3)
	for s := 0; s < m; s += chunk {
		b := min(chunk, m-s)
		xs := xt[s*6 : (s+b)*6]
		var mu []float64
		if c.xe != nil {
			k, err := c.arch.Kernel(ctx, xs, b, c.xe, c.ne, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, err
			}
			if mu, err = c.pred.Mean(k.Theta, b, times); err != nil {
				return nil, err
			}
		} else {
			kb, err := cpAveraged(ctx, c.arch, xs, b, c.x, c.n, c.in, c.out)
			if err != nil {
				return nil, err
			}
			if mu, err = c.pred.Mean(kb, 3*b, times); err != nil {
				return nil, err
			}
		}
		for t := range times {
			copy(res[(t*m+s)*3:(t*m+s+b)*3], mu[t*b*3:(t+1)*b*3])
		}
	}
	return res, nil
}

// orbit evaluates the t = ∞ mean on the orbit of ds under rep.
func (c *cpNTKModel) orbit(ctx context.Context, ds *data.Dataset, rep *group.Rep) (*metrics.Orbit, error) {
	G, n := rep.Group().Order(), ds.Len()
	x := make([]float64, G*n*6)
	src := experiment.ToF64(ds.X)
	for g := 0; g < G; g++ {
		group.ApplyBatch(rep, g, x[g*n*6:(g+1)*n*6], src)
	}
	mu, err := c.predict(ctx, x, G*n, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	return &metrics.Orbit{G: G, N: n, K: 3, Out: mu}, nil
}

// cpCheck is the kernel identity check of one augmentation set.
type cpCheck struct {
	Group  string `json:"group"`
	Closed bool   `json:"closed"`
	N      int    `json:"n"`
	Route  string `json:"route"`
	// AvgAsymmetry is max |K̄ − K̄ᵀ| / max |K̄| of the 3n×3n averaged
	// kernel, AvgMinEig the smallest eigenvalue of its symmetric part over
	// the largest.
	AvgAsymmetry float64 `json:"averaged_asymmetry"`
	AvgMinEig    float64 `json:"averaged_min_eig_rel"`
	// DiffInf and DiffT compare the two routes (absent when the averaged
	// kernel is not positive semi-definite and so cannot be used).
	DiffInf *float64 `json:"averaged_vs_expanded_inf,omitempty"`
	DiffT   *float64 `json:"averaged_vs_expanded_t,omitempty"`
	CheckT  float64  `json:"t"`
	// EqOwnGroup is the equivariance error of the augmented-set prediction
	// under the set's own rotations, EqOwnGroupAv that of the averaged
	// kernel's prediction.
	EqOwnGroup   float64  `json:"eq_err_own_group"`
	EqOwnGroupAv *float64 `json:"eq_err_own_group_averaged,omitempty"`
}

func cpMaxRelDiff(a, b []float64) float64 {
	var d, s float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		s = max(s, math.Abs(b[i]))
	}
	return d / s
}

// cpIdentityCheck compares, on the first n training points, kernel
// regression on the augmented set with the prediction of the matrix-valued
// averaged kernel, at t = ∞ and at a finite time, on the test points xt;
// and measures the equivariance of both under the set's own rotations. For
// a set that is not a group the averaged kernel is not symmetric; its
// symmetric part is used if it is positive semi-definite.
func cpIdentityCheck(ctx context.Context, arch *nn.Arch, x, y []float64, n int, xt []float64, m int, in, out *group.Rep, reg float64) (cpCheck, error) {
	g := in.Group()
	ck := cpCheck{Group: g.Name(), Closed: g.Closed(), N: n, CheckT: 100}
	base, err := arch.Kernel(ctx, x[:n*6], n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return ck, err
	}
	var tr float64
	for i := 0; i < n; i++ {
		tr += base.Theta[i*n+i]
	}
	r := reg * tr / float64(n)
	lr := 1.0 / (tr / float64(n)) // a stable step for the check's finite time
	ex, err := cpNTKExpanded(ctx, arch, x[:n*6], y[:n*3], n, in, out, r, lr)
	if err != nil {
		return ck, err
	}
	kb, err := cpAveraged(ctx, arch, x[:n*6], n, x[:n*6], n, in, out)
	if err != nil {
		return ck, err
	}
	N := 3 * n
	var asym, big float64
	for i := 0; i < N; i++ {
		for j := 0; j < N; j++ {
			asym = max(asym, math.Abs(kb[i*N+j]-kb[j*N+i]))
			big = max(big, math.Abs(kb[i*N+j]))
		}
	}
	ck.AvgAsymmetry = asym / big
	for i := 0; i < N; i++ {
		for j := 0; j < i; j++ {
			v := (kb[i*N+j] + kb[j*N+i]) / 2
			kb[i*N+j], kb[j*N+i] = v, v
		}
	}
	w := make([]float64, N)
	if err := linalg.EigSym(N, slices.Clone(kb), w); err != nil {
		return ck, err
	}
	ck.AvgMinEig = w[0] / w[N-1]
	ds := &data.Dataset{Name: "check", Shape: []int{6}, X: make([]float32, m*6), Y: make([]float32, m*3), TargetDim: 3}
	for i := range ds.X {
		ds.X[i] = float32(xt[i])
	}
	eq := func(model *cpNTKModel) (float64, error) {
		o, err := model.orbit(ctx, ds, in)
		if err != nil {
			return 0, err
		}
		s := cpMeasure(o, nil, out, nil, make([]float64, m*3))
		return metrics.Mean(s.eqNum) / metrics.Mean(s.norm), nil
	}
	if ck.EqOwnGroup, err = eq(ex); err != nil {
		return ck, err
	}
	if ck.AvgMinEig < -1e-8 {
		return ck, nil
	}
	p, err := predict.NewRegressor(N, kb, y[:n*3], 1, predict.Options{Reg: predict.AveragedReg(r, g.Order()), RegAbsolute: true, LearningRate: 3 * lr})
	if err != nil {
		return ck, err
	}
	av := &cpNTKModel{arch: arch, x: x[:n*6], n: n, g: g, in: in, out: out, pred: p}
	times := []float64{math.Inf(1), ck.CheckT}
	a, err := av.predict(ctx, xt, m, times)
	if err != nil {
		return ck, err
	}
	b, err := ex.predict(ctx, xt, m, times)
	if err != nil {
		return ck, err
	}
	di, dt := cpMaxRelDiff(a[:m*3], b[:m*3]), cpMaxRelDiff(a[m*3:], b[m*3:])
	ck.DiffInf, ck.DiffT = &di, &dt
	ea, err := eq(av)
	if err != nil {
		return ck, err
	}
	ck.EqOwnGroupAv = &ea
	return ck, nil
}

type cpCurvePoint struct {
	Group     string  `json:"group"`
	Size      int     `json:"size"`
	Subsets   int     `json:"subsets"`
	EqOn      float64 `json:"eq_on"`
	EqOff     float64 `json:"eq_off"`
	RelMSEOn  float64 `json:"rel_mse_on"`
	RelMSEOff float64 `json:"rel_mse_off"`
}

func cpRatio(num, den []float64) float64 {
	var a, b float64
	for i := range num {
		a += num[i]
		b += den[i]
	}
	return a / b
}

func runCrossProduct(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p cpParams
	if err := experiment.DecodeParams("cross-product", node, &p); err != nil {
		return nil, err
	}
	if p.TrainSize < 1 || p.TestSize < 2 || p.OODSize < 2 || p.MLP.Members < 2 || p.NoAugMembers < 2 {
		return nil, fmt.Errorf("experiments/cross-product.yaml: need train_size >= 1, test_size and ood_size >= 2, mlp.members and noaug_members >= 2")
	}
	eg, err := group.Parse(p.EvalGroup)
	if err != nil {
		return nil, fmt.Errorf("experiments/cross-product.yaml: eval_group: %w", err)
	}
	if eg.Dim() != 3 || eg.Order() < 2 {
		return nil, fmt.Errorf("experiments/cross-product.yaml: eval_group %s: want rotations of R^3, more than the identity", eg.Name())
	}
	ev := &cpEval{g: eg}
	if ev.inRep, err = group.VectorRep(eg, 2); err != nil {
		return nil, err
	}
	if ev.outRep, err = group.VectorRep(eg, 1); err != nil {
		return nil, err
	}
	dc := train.DataConfig{Name: train.CrossProductName, Size: p.TestSize, Seed: p.Seed}
	if ev.on, err = train.LoadData(dc, "test"); err != nil {
		return nil, err
	}
	dc.Size = p.OODSize
	if ev.off, err = train.LoadData(dc, "ood"); err != nil {
		return nil, err
	}
	ev.yOn, ev.yOff = experiment.ToF64(ev.on.Y), experiment.ToF64(ev.off.Y)

	var runs []*cpRun
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("experiments/cross-product.yaml: groups: %w", err)
		}
		if g.Dim() != 3 {
			return nil, fmt.Errorf("experiments/cross-product.yaml: groups: %s does not act on R^3", g.Name())
		}
		r := &cpRun{g: g}
		if r.in, err = group.VectorRep(g, 2); err != nil {
			return nil, err
		}
		if r.out, err = group.VectorRep(g, 1); err != nil {
			return nil, err
		}
		cfg := p.MLP.Config(train.CrossProductName, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "partial", Group: gs, Output: "vector"})
		ens, err := experiment.TrainEnsemble(ctx, env, "da-"+strings.ReplaceAll(gs, ":", "_"), cfg, nil, train.Options{})
		if err != nil {
			return nil, err
		}
		env.Logf("evaluating %d members (%s) on %d+%d test points under %d rotations", len(ens.Members), g.Name(), p.TestSize, p.OODSize, eg.Order())
		if r.orbits, err = cpEnsembleOrbits(ctx, ens, ev, r.in); err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	noCfgP := p.MLP
	noCfgP.Members = p.NoAugMembers
	ensNo, err := experiment.TrainEnsemble(ctx, env, "noaug", noCfgP.Config(train.CrossProductName, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "none"}), nil, train.Options{})
	if err != nil {
		return nil, err
	}
	env.Logf("evaluating %d members (no augmentation)", len(ensNo.Members))
	noOrb, err := cpEnsembleOrbits(ctx, ensNo, ev, nil)
	if err != nil {
		return nil, err
	}

	models := map[string]cpModel{}
	var order []string
	addModel := func(name, label string, sets [][2]*cpSet, seed uint64) {
		var on, off []*cpSet
		for _, s := range sets {
			on, off = append(on, s[0]), append(off, s[1])
		}
		models[name] = cpModel{Label: label, Members: len(sets), On: cpStats(on, seed), Off: cpStats(off, seed+10)}
		order = append(order, name)
	}
	memberSets := func(orbs []*cpOrbits, out *group.Rep) [][2]*cpSet {
		var s [][2]*cpSet
		for _, o := range orbs {
			a, b := o.measure(ev, out)
			s = append(s, [2]*cpSet{a, b})
		}
		return s
	}
	ensSet := func(orbs []*cpOrbits, idx []int, out *group.Rep) [2]*cpSet {
		a, b := cpCombine(orbs, idx).measure(ev, out)
		return [2]*cpSet{a, b}
	}
	addModel("member_noaug", fmt.Sprintf("single MLP, no DA (mean of %d)", len(noOrb)), memberSets(noOrb, nil), p.Seed)
	addModel("ensemble_noaug", fmt.Sprintf("ensemble of %d, no DA", len(noOrb)), [][2]*cpSet{ensSet(noOrb, experiment.Indices(len(noOrb)), nil)}, p.Seed)
	for _, r := range runs {
		addModel("member_da_"+r.g.Name(), fmt.Sprintf("single MLP + DA %s (mean of %d)", r.g.Name(), len(r.orbits)), memberSets(r.orbits, r.out), p.Seed)
		addModel("ensemble_da_"+r.g.Name(), fmt.Sprintf("ensemble of %d + DA %s", len(r.orbits), r.g.Name()), [][2]*cpSet{ensSet(r.orbits, experiment.Indices(len(r.orbits)), r.out)}, p.Seed)
	}

	// Against ensemble size.
	var curve []cpCurvePoint
	curveOf := func(name string, orbs []*cpOrbits) {
		for _, k := range p.Sizes {
			if k < 1 || k > len(orbs) {
				continue
			}
			subs := metrics.Subsets(len(orbs), k, 8, p.Seed+uint64(k))
			cp := cpCurvePoint{Group: name, Size: k, Subsets: len(subs)}
			w := 1 / float64(len(subs))
			for _, idx := range subs {
				s := ensSet(orbs, idx, nil)
				cp.EqOn += w * cpRatio(s[0].eqNum, s[0].norm)
				cp.EqOff += w * cpRatio(s[1].eqNum, s[1].norm)
				cp.RelMSEOn += w * cpRatio(s[0].sqErr, s[0].ySq)
				cp.RelMSEOff += w * cpRatio(s[1].sqErr, s[1].ySq)
			}
			curve = append(curve, cp)
		}
	}
	curveOf("none", noOrb)
	for _, r := range runs {
		curveOf(r.g.Name(), r.orbits)
	}

	// The NTK: the infinite ensemble at t = ∞.
	var checks []cpCheck
	var skipped []string
	ntkNote := "The NTK rows were skipped (ntk.arch is empty)."
	if p.NTK.Arch != "" {
		arch, err := nn.Parse(p.NTK.Arch, []int{6}, nn.NTK)
		if err != nil {
			return nil, fmt.Errorf("experiments/cross-product.yaml: ntk.arch: %w", err)
		}
		tr, err := train.LoadData(train.DataConfig{Name: train.CrossProductName, Size: p.TrainSize, Seed: p.Seed}, "train")
		if err != nil {
			return nil, err
		}
		n := tr.Len()
		x, y := experiment.ToF64(tr.X), experiment.ToF64(tr.Y)
		base, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		var trace float64
		for i := 0; i < n; i++ {
			trace += base.Theta[i*n+i]
		}
		r := p.NTK.Reg * trace / float64(n)
		nt := p.NTK.TestSize
		sub := func(ds *data.Dataset) *data.Dataset {
			if nt <= 0 || nt >= ds.Len() {
				return ds
			}
			return ds.Head(nt)
		}
		evN := &cpEval{g: eg, inRep: ev.inRep, outRep: ev.outRep, on: sub(ev.on), off: sub(ev.off)}
		evN.yOn, evN.yOff = experiment.ToF64(evN.on.Y), experiment.ToF64(evN.off.Y)
		ntkOrbits := func(model *cpNTKModel, trainIn *group.Rep) (*cpOrbits, error) {
			o := &cpOrbits{}
			var err error
			if o.on, err = model.orbit(ctx, evN.on, ev.inRep); err != nil {
				return nil, err
			}
			if o.off, err = model.orbit(ctx, evN.off, ev.inRep); err != nil {
				return nil, err
			}
			if trainIn != nil {
				if o.onT, err = model.orbit(ctx, evN.on, trainIn); err != nil {
					return nil, err
				}
				if o.offT, err = model.orbit(ctx, evN.off, trainIn); err != nil {
					return nil, err
				}
			}
			return o, nil
		}
		env.Logf("NTK: %s, no augmentation (%d training points)", arch.Spec, n)
		m0, err := cpNTKExpanded(ctx, arch, x, y, n, nil, nil, r, 1)
		if err != nil {
			return nil, err
		}
		o0, err := ntkOrbits(m0, nil)
		if err != nil {
			return nil, err
		}
		a, b := o0.measure(evN, nil)
		addModel("ntk_noaug", "NTK, no DA (infinite ensemble, t = ∞)", [][2]*cpSet{{a, b}}, p.Seed)
		for _, run := range runs {
			var mdl *cpNTKModel
			route := "expanded set"
			if !run.g.Closed() && p.NTK.MaxExpanded > 0 && n*run.g.Order() > p.NTK.MaxExpanded {
				skipped = append(skipped, fmt.Sprintf("%s (%d augmented points > max_expanded %d)", run.g.Name(), n*run.g.Order(), p.NTK.MaxExpanded))
				continue
			}
			if run.g.Closed() {
				route = "averaged kernel"
				env.Logf("NTK: %s augmentation through the %d×%d group-averaged (matrix-valued) kernel", run.g.Name(), 3*n, 3*n)
				mdl, err = cpNTKAveraged(ctx, arch, x, y, n, run.in, run.out, r, 1)
			} else {
				env.Logf("NTK: %s augmentation on the %d augmented training points", run.g.Name(), n*run.g.Order())
				mdl, err = cpNTKExpanded(ctx, arch, x, y, n, run.in, run.out, r, 1)
			}
			if err != nil {
				return nil, err
			}
			o, err := ntkOrbits(mdl, run.in)
			if err != nil {
				return nil, err
			}
			a, b := o.measure(evN, run.out)
			addModel("ntk_da_"+run.g.Name(), fmt.Sprintf("NTK + DA %s (infinite ensemble, t = ∞)", run.g.Name()), [][2]*cpSet{{a, b}}, p.Seed)
			if p.NTK.CheckSize > 0 {
				nc := min(p.NTK.CheckSize, n)
				mc := min(64, ev.on.Len())
				ck, err := cpIdentityCheck(ctx, arch, x, y, nc, experiment.ToF64(ev.on.X[:mc*6]), mc, run.in, run.out, p.NTK.Reg)
				if err != nil {
					return nil, err
				}
				ck.Route = route
				checks = append(checks, ck)
			}
		}
		if len(skipped) > 0 {
			ntkNote = "The NTK was skipped for " + strings.Join(skipped, ", ") + ": a set that is not a group has no averaged-kernel shortcut. "
		} else {
			ntkNote = ""
		}
		ntkNote += fmt.Sprintf("NTK rows: the mean of the infinite ensemble of infinitely wide %s (NTK parametrisation) trained to convergence (t = ∞) by gradient descent on the MSE over the augmented training set, with a diagonal regulariser of %g times the mean diagonal of Θ(X, X), on %d test points of each set. They are a reference for the trained ensembles, which use %s, not gradient descent to convergence.",
			arch.Spec, p.NTK.Reg, evN.on.Len(), cpOptName(p.MLP))
	}

	rep := cpReport(&p, eg, runs, models, order, curve, checks, ntkNote)
	res := map[string]any{
		"params":         p,
		"eval_group":     eg.Name(),
		"eval_rotations": eg.Order() - 1,
		"groups":         cpGroupsJSON(runs),
		"models":         models,
		"curve":          curve,
		"ntk_checks":     checks,
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "\ncross-product: relative equivariance error under %d unseen Haar-random rotations, and relative MSE\n", eg.Order()-1)
	fmt.Fprintf(&sum, "%-46s %-10s %-10s %-10s %-10s\n", "model", "eq on", "eq off", "rMSE on", "rMSE off")
	for _, name := range order {
		mo := models[name]
		fmt.Fprintf(&sum, "%-46s %-10.3g %-10.3g %-10.3g %-10.3g\n", mo.Label, mo.On.EqErr.Mean, mo.Off.EqErr.Mean, mo.On.RelMSE.Mean, mo.Off.RelMSE.Mean)
	}
	for _, c := range checks {
		if c.DiffInf != nil {
			fmt.Fprintf(&sum, "NTK identity check %s (closed: %v): averaged vs augmented kernel %.2g (t=∞), %.2g (t=%g); equivariance under its own rotations %.2g\n", c.Group, c.Closed, *c.DiffInf, *c.DiffT, c.CheckT, c.EqOwnGroup)
		} else {
			fmt.Fprintf(&sum, "NTK identity check %s (closed: %v): the averaged kernel is not symmetric (%.2g) and its symmetric part not positive semi-definite (min/max eigenvalue %.2g); equivariance of the augmented NTK under its own rotations %.2g\n", c.Group, c.Closed, c.AvgAsymmetry, c.AvgMinEig, c.EqOwnGroup)
		}
	}
	return &experiment.Result{JSON: res, Report: rep, Summary: sum.String()}, nil
}

func cpOptName(m experiment.ModelParams) string {
	s := fmt.Sprintf("%s (lr %g", m.Optimizer.Name, m.Optimizer.LR)
	if m.BatchSize > 0 {
		s += fmt.Sprintf(", batch %d", m.BatchSize)
	}
	return s + fmt.Sprintf(", %d steps)", m.Steps)
}

type cpGroupJSON struct {
	Name   string `json:"name"`
	Order  int    `json:"order"`
	Closed bool   `json:"closed"`
}

func cpGroupsJSON(runs []*cpRun) []cpGroupJSON {
	out := []cpGroupJSON{}
	for _, r := range runs {
		out = append(out, cpGroupJSON{Name: r.g.Name(), Order: r.g.Order(), Closed: r.g.Closed()})
	}
	return out
}

func cpPM(e metrics.Estimate) string {
	if math.IsNaN(e.Mean) {
		return "—"
	}
	return fmt.Sprintf("%s ± %s", experiment.G3(e.Mean), strconv.FormatFloat((e.Hi-e.Lo)/2, 'g', 2, 64))
}

func cpPMp(e *metrics.Estimate) string {
	if e == nil {
		return "—"
	}
	return cpPM(*e)
}

func cpReport(p *cpParams, eg *group.Group, runs []*cpRun, models map[string]cpModel, order []string, curve []cpCurvePoint, checks []cpCheck, ntkNote string) *report.Report {
	nrot := eg.Order() - 1
	// Summary table.
	tab := report.Table{Name: "summary", Caption: fmt.Sprintf("Relative MSE Σ||f(x) − y||²/Σ||y||² and relative equivariance error mean ||f(Rx) − R f(x)|| / mean ||f(x)|| under %d Haar-random rotations never trained on (eq) and under the augmentation set's own rotations (eq, train rot.), on %d test points from the training distribution (on) and %d off-manifold points with |u| = |v| = 3 (off). ±: half-width of the 95%% bootstrap interval over test points. Members: the mean over the members of each ensemble (%d with augmentation, %d without); ensembles: all members; NTK: the infinite ensemble at t = ∞.", nrot, p.TestSize, p.OODSize, p.MLP.Members, p.NoAugMembers),
		Columns: []string{"model", "rel. MSE on", "rel. MSE off", "eq on", "eq off", "eq on, train rot.", "eq off, train rot."}}
	for _, name := range order {
		m := models[name]
		tab.Rows = append(tab.Rows, []string{cpRowLabel(name, m), cpPM(m.On.RelMSE), cpPM(m.Off.RelMSE), cpPM(m.On.EqErr), cpPM(m.Off.EqErr), cpPMp(m.On.EqErrTrain), cpPMp(m.Off.EqErrTrain)})
	}
	// Curves against ensemble size.
	eqPlot := &report.Plot{Title: "Equivariance error vs ensemble size", XLabel: "ensemble size M", YLabel: fmt.Sprintf("relative equivariance error (%d unseen rotations)", nrot), LogX: true, LogY: true}
	msePlot := &report.Plot{Title: "Relative MSE vs ensemble size", XLabel: "ensemble size M", YLabel: "Σ||f(x) − y||² / Σ||y||²", LogX: true, LogY: true}
	ct := report.Table{Name: "curve", Caption: "Against ensemble size: relative equivariance error and relative MSE, averaged over up to 8 groups of members.", Columns: []string{"augmentation", "M", "groups", "eq on", "eq off", "rel. MSE on", "rel. MSE off"}}
	names := []string{"none"}
	for _, r := range runs {
		names = append(names, r.g.Name())
	}
	for ci, gname := range names {
		var xs, on, off, mon, moff []float64
		for _, c := range curve {
			if c.Group != gname {
				continue
			}
			xs = append(xs, float64(c.Size))
			on, off = append(on, c.EqOn), append(off, c.EqOff)
			mon, moff = append(mon, c.RelMSEOn), append(moff, c.RelMSEOff)
			ct.Rows = append(ct.Rows, []string{gname, strconv.Itoa(c.Size), strconv.Itoa(c.Subsets), experiment.G3(c.EqOn), experiment.G3(c.EqOff), experiment.G3(c.RelMSEOn), experiment.G3(c.RelMSEOff)})
		}
		lbl := "no DA"
		col := 2
		if gname != "none" {
			lbl = "DA " + gname
			col = []int{1, 3, 5, 6, 4}[(ci-1)%5]
		}
		eqPlot.Series = append(eqPlot.Series,
			report.Series{Name: lbl + ", on manifold", X: xs, Y: on, Points: true, Color: col},
			report.Series{Name: lbl + ", off manifold", X: xs, Y: off, Points: true, Dashed: true, Color: col})
		msePlot.Series = append(msePlot.Series,
			report.Series{Name: lbl + ", on manifold", X: xs, Y: mon, Points: true, Color: col},
			report.Series{Name: lbl + ", off manifold", X: xs, Y: moff, Points: true, Dashed: true, Color: col})
	}
	for _, r := range runs {
		if m, ok := models["ntk_da_"+r.g.Name()]; ok {
			eqPlot.HLines = append(eqPlot.HLines,
				report.RefLine{Y: m.On.EqErr.Mean, Label: fmt.Sprintf("NTK + DA %s (on %.3g, off %.3g)", r.g.Name(), m.On.EqErr.Mean, m.Off.EqErr.Mean)})
		}
	}
	// Bars per model.
	var labels []string
	var bOn, bOnLo, bOnHi, bOff, bOffLo, bOffHi []float64
	for _, name := range order {
		m := models[name]
		labels = append(labels, cpShort(name))
		bOn, bOnLo, bOnHi = append(bOn, m.On.EqErr.Mean), append(bOnLo, m.On.EqErr.Lo), append(bOnHi, m.On.EqErr.Hi)
		bOff, bOffLo, bOffHi = append(bOff, m.Off.EqErr.Mean), append(bOffLo, m.Off.EqErr.Lo), append(bOffHi, m.Off.EqErr.Hi)
	}
	bars := &report.Plot{Title: "Equivariance error by model", Kind: report.KindBar, YLabel: "relative equivariance error", LogY: true,
		Series: []report.Series{
			{Name: "on manifold", Labels: labels, Y: bOn, Lo: bOnLo, Hi: bOnHi},
			{Name: "off manifold", Labels: labels, Y: bOff, Lo: bOffLo, Hi: bOffHi},
		}}
	// Checks.
	cht := report.Table{Name: "ntk_checks", Caption: "Kernel identities on a subset of the training points: max |difference| / max |μ| between the prediction of the matrix-valued averaged kernel K̄(x, x') = (1/|S|) Σ_s Θ(x, ρ(s)x') ρ_Y(s) on n points (symmetrised where it is not symmetric) and kernel regression on the n·|S| augmented points, at t = ∞ and at a finite t; and the relative equivariance error of both predictions under the set's own rotations.",
		Columns: []string{"set S", "closed", "n", "route of the NTK rows", "K̄ asymmetry", "min/max eigenvalue of K̄", "averaged vs augmented, t = ∞", "at t", "t", "eq. error under S, augmented", "eq. error under S, averaged"}}
	e2 := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.2g", *v)
	}
	for _, c := range checks {
		cht.Rows = append(cht.Rows, []string{c.Group, strconv.FormatBool(c.Closed), strconv.Itoa(c.N), c.Route, fmt.Sprintf("%.2g", c.AvgAsymmetry), fmt.Sprintf("%.2g", c.AvgMinEig), e2(c.DiffInf), e2(c.DiffT), fmt.Sprintf("%g", c.CheckT), fmt.Sprintf("%.2g", c.EqOwnGroup), e2(c.EqOwnGroupAv)})
	}
	var gnames []string
	for _, r := range runs {
		gnames = append(gnames, fmt.Sprintf("%s (%d rotations, %s)", r.g.Name(), r.g.Order(), map[bool]string{true: "a group", false: "not closed under composition"}[r.g.Closed()]))
	}
	intro := fmt.Sprintf("Emergent SO(3) equivariance on the cross-product task: inputs (u, v) ∈ R⁶ with u, v ~ N(0, I₃), target u × v, which rotates with the inputs: (Ru) × (Rv) = R(u × v). Ensembles of %d MLPs %s (%s parametrisation) are trained on %d samples with %s, MSE loss, with partial augmentation by the rotation sets %s (each sample of each batch is rotated by a random element of the set, its target with it), and %d MLPs without augmentation. "+
		"Equivariance is measured under %d Haar-random rotations (%s, a different seed from any training set), on test data from the training distribution and off the manifold (u, v uniform on the sphere of radius 3). "+
		"What the theory predicts: for a group G ⊂ SO(3) (oct) the infinite augmented ensemble is exactly G-equivariant, on and off the data, but not SO(3)-equivariant; for a set that is not a group (a random sample) not even equivariance under the set itself is exact; under all of SO(3) both are only approximately equivariant, the better the denser the set. Finite ensembles are more equivariant than their members and approach the infinite ensemble as they grow.",
		p.MLP.Members, p.MLP.Arch, p.MLP.Param, p.TrainSize, cpOptName(p.MLP), strings.Join(gnames, ", "), p.NoAugMembers, nrot, eg.Name())
	measured := cpMeasured(models, runs, curve)
	identity := "Why the averaged kernel needs care: with augmentation by a set S the infinite ensemble is kernel regression on the n·|S| augmented points (X_S, Y_S) with Y_S = {ρ_Y(s) y_i}. " +
		"If S = G is a group acting orthogonally, Θ(ρ(g)x, ρ(h)x') = Θ(x, ρ(g⁻¹h)x') for an MLP, so the augmented kernel matrix maps the equivariant vectors F(g, i) = ρ_Y(g) f_i to equivariant vectors, acting on f as |G| K̄ with the matrix-valued kernel K̄(x, x') = (1/|G|) Σ_g Θ(x, ρ(g)x') ρ_Y(g) (3×3 blocks; symmetric as a 3n×3n matrix). Y_G lies in that subspace, so μ_t(x) = K̄(x, X) K̄⁻¹ (I − e^{−η t K̄/n}) y exactly: regression on the n original points with K̄, the learning rate becoming 3η for the 3n flattened targets and a regulariser r becoming r/|G|. " +
		"Without the ρ_Y(g) factor (the scalar averaged kernel) this holds only for invariant targets. For a set S that is not a group none of this holds: the S-averaged K̄ is not even symmetric (its transpose averages over S⁻¹), and the augmented prediction is not S-equivariant either (ρ(s)X_S ≠ X_S). The checks below confirm both: for a group the two routes agree to round-off and the prediction is equivariant under the group to round-off; for a sample they differ. The NTK rows therefore use the averaged kernel for groups (3n×3n instead of n|G|×n|G|) and the augmented set otherwise."
	sections := []report.Section{
		{Heading: "Summary", Text: measured + "\n\n" + ntkNote, Tables: []report.Table{tab}},
		{Heading: "Ensemble size", Text: "Averages over up to 8 groups of members; horizontal lines: the NTK (infinite ensemble) with the same augmentation, drawn at its on-manifold value.",
			Figures: []report.Figure{
				{Name: "cp_eq_vs_size", Caption: "Relative equivariance error under unseen rotations against ensemble size, on (solid) and off (dashed) the data manifold.", Plot: eqPlot},
				{Name: "cp_mse_vs_size", Caption: "Relative MSE against ensemble size.", Plot: msePlot},
			}, Tables: []report.Table{ct}},
		{Heading: "Models", Figures: []report.Figure{{Name: "cp_eq_models", Caption: "Relative equivariance error per model with 95% intervals (log scale).", Plot: bars}}},
	}
	if len(checks) > 0 {
		sections = append(sections, report.Section{Heading: "NTK with partial augmentation", Text: identity, Tables: []report.Table{cht}})
	}
	return &report.Report{Title: "Emergent SO(3) equivariance: cross products", Intro: intro, Sections: sections}
}

func cpShort(name string) string {
	r := strings.NewReplacer("member_da_", "member+DA ", "ensemble_da_", "ens.+DA ", "ntk_da_", "NTK+DA ", "member_noaug", "member, no DA", "ensemble_noaug", "ens., no DA", "ntk_noaug", "NTK, no DA")
	return r.Replace(name)
}

// cpMeasured states the main measurements, including where the
// expectations fail.
func cpMeasured(models map[string]cpModel, runs []*cpRun, curve []cpCurvePoint) string {
	var b strings.Builder
	no, nm := models["ensemble_noaug"], models["member_noaug"]
	fmt.Fprintf(&b, "Without augmentation: equivariance error %.3g (members %.3g) on the manifold, %.3g (members %.3g) off it.", no.On.EqErr.Mean, nm.On.EqErr.Mean, no.Off.EqErr.Mean, nm.Off.EqErr.Mean)
	for _, r := range runs {
		g := r.g.Name()
		m, e := models["member_da_"+g], models["ensemble_da_"+g]
		fmt.Fprintf(&b, " With augmentation by %s: members %.3g, ensemble of %d %.3g on the manifold (%.1f× smaller); off it %.3g and %.3g (%.1f×).",
			g, m.On.EqErr.Mean, len(r.orbits), e.On.EqErr.Mean, m.On.EqErr.Mean/e.On.EqErr.Mean, m.Off.EqErr.Mean, e.Off.EqErr.Mean, m.Off.EqErr.Mean/e.Off.EqErr.Mean)
		if e.On.EqErr.Mean >= m.On.EqErr.Mean || e.Off.EqErr.Mean >= m.Off.EqErr.Mean {
			b.WriteString(" Here the ensemble is NOT more equivariant than its members on both sets.")
		}
		if e.On.EqErr.Mean >= no.On.EqErr.Mean {
			b.WriteString(" The augmented ensemble is NOT more equivariant than the unaugmented one on the manifold.")
		}
		if t, ok := models["ntk_da_"+g]; ok {
			fmt.Fprintf(&b, " The NTK with the same augmentation: %.3g on, %.3g off", t.On.EqErr.Mean, t.Off.EqErr.Mean)
			if t.On.EqErrTrain != nil {
				fmt.Fprintf(&b, " (under the %d rotations of %s itself: %.2g on, %.2g off)", r.g.Order(), g, t.On.EqErrTrain.Mean, t.Off.EqErrTrain.Mean)
			}
			b.WriteString(".")
		}
	}
	if t, ok := models["ntk_noaug"]; ok {
		fmt.Fprintf(&b, " The NTK without augmentation: %.3g on, %.3g off.", t.On.EqErr.Mean, t.Off.EqErr.Mean)
	}
	// On vs off the manifold.
	var larger, total int
	for name, m := range models {
		if strings.HasPrefix(name, "ntk") {
			continue
		}
		total++
		if m.Off.EqErr.Mean > m.On.EqErr.Mean {
			larger++
		}
	}
	fmt.Fprintf(&b, " Off the manifold the relative equivariance error is larger than on it for %d of the %d trained models (members and ensembles)", larger, total)
	if 2*larger < total {
		b.WriteString(": the expectation that equivariance degrades away from the data does not show in this relative measure, while the relative MSE does grow off the manifold (see the table).")
	} else {
		b.WriteString(".")
	}
	return b.String()
}

// cpRowLabel is a compact table label.
func cpRowLabel(name string, m cpModel) string {
	switch {
	case name == "member_noaug":
		return "member, no DA"
	case name == "ensemble_noaug":
		return "ensemble, no DA"
	case name == "ntk_noaug":
		return "NTK, no DA"
	case strings.HasPrefix(name, "member_da_"):
		return "member + " + strings.TrimPrefix(name, "member_da_")
	case strings.HasPrefix(name, "ensemble_da_"):
		return "ensemble + " + strings.TrimPrefix(name, "ensemble_da_")
	case strings.HasPrefix(name, "ntk_da_"):
		return "NTK + " + strings.TrimPrefix(name, "ntk_da_")
	}
	return m.Label
}
