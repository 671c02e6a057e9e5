package train

import (
	"context"
	"fmt"
	"math"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
)

// EvalOptions control Evaluate.
type EvalOptions struct {
	// Group, if not nil, also evaluates every member on the transformed
	// inputs rho(g)x for every element g (acting by group.InputRepLayout
	// with the run's augmentation.input layout) and reports the orbit
	// metrics.
	Group *group.Group
	// Workers is the number of members evaluated at once (0: GOMAXPROCS).
	Workers int
}

// Metrics maps metric names to values: "accuracy" (fraction correct) and
// "nll" (mean negative log-likelihood of the softmax) for classifiers;
// "mse", the mean over samples and outputs of (f − y)², for regression.
type Metrics map[string]float64

// MemberMetrics are the metrics of one member.
type MemberMetrics struct {
	Member  int     `json:"member"`
	Metrics Metrics `json:"metrics"`
}

// GroupMetrics are the orbit metrics of Evaluate with a group.
type GroupMetrics struct {
	Group string `json:"group"`
	Order int    `json:"order"`
	// ByElement holds the metrics of the ensemble mean of outputs on the
	// inputs transformed by each element g (against the targets rho_Y(g)y
	// for regression).
	ByElement []Metrics `json:"by_element"`
	// OSP (classifiers; metrics.OSP averaged over the test points) is the
	// mean number of orbit elements g whose prediction on rho(g)x agrees
	// with that on x (1 ≤ OSP ≤ |G|), per member and for the two ensemble
	// means; OSPChance* is metrics.ChanceOSP, the value expected if the
	// predictions on the orbit were unrelated, 1 + (|G| − 1) Σ_c p_c² with
	// p_c the frequency of class c among the model's orbit predictions.
	OSPMembers      []float64 `json:"osp_members,omitempty"`
	OSPMeanOutput   float64   `json:"osp_mean_output,omitempty"`
	OSPMeanSoftmax  float64   `json:"osp_mean_softmax,omitempty"`
	OSPChanceMean   float64   `json:"osp_chance_mean_output,omitempty"`
	OSPChanceMember []float64 `json:"osp_chance_members,omitempty"`
	// Equivariance* (regression) is the relative equivariance error, per
	// member and for the ensemble mean: the mean over points and elements
	// g ≠ e of ||f(rho(g)x) − rho_Y(g) f(x)|| (metrics.EquivarianceError)
	// divided by the mean of ||f(x)||, with rho_Y the run's output
	// representation.
	EquivarianceMembers []float64 `json:"equivariance_error_members,omitempty"`
	EquivarianceMean    float64   `json:"equivariance_error_mean_output,omitempty"`
}

// EvalResult is what Evaluate measured.
type EvalResult struct {
	Data string   `json:"data"`
	N    int      `json:"n"`
	Task string   `json:"task"` // "classification" or "regression"
	Runs []string `json:"runs"`
	// Members holds each member's metrics (on untransformed inputs).
	Members []MemberMetrics `json:"members"`
	// Ensemble holds the metrics of the mean of outputs ("mean_output")
	// and, for classifiers, of the mean of softmax probabilities
	// ("mean_softmax").
	Ensemble map[string]Metrics `json:"ensemble"`
	Group    *GroupMetrics      `json:"group,omitempty"`
	// Predictions[g][i] holds member i's outputs (N×OutputDim) on the
	// inputs transformed by element g; without a group only g = 0.
	Predictions [][][]float32 `json:"-"`
}

// Evaluate predicts ds (raw: Evaluate applies the run's preprocessing to
// a copy) with every member of e and measures the members and the ensemble.
func Evaluate(ctx context.Context, e *Ensemble, ds *data.Dataset, opts EvalOptions) (*EvalResult, error) {
	if err := checkEvalData(e, ds); err != nil {
		return nil, err
	}
	k := e.Arch.OutputDim()
	ds = ds.Subset(identity(ds.Len()))
	if err := e.PrepareData(ds); err != nil {
		return nil, err
	}
	n := ds.Len()
	res := &EvalResult{Data: ds.Name, N: n, Task: "regression", Runs: e.Dirs, Ensemble: map[string]Metrics{}}
	if ds.IsClassification() {
		res.Task = "classification"
	}
	inRep, outRep, order, err := evalReps(e, ds, opts.Group, k)
	if err != nil {
		return nil, err
	}
	if res.Predictions, err = predictOrbit(ctx, e, ds, inRep, order, opts.Workers); err != nil {
		return nil, err
	}
	p0 := res.Predictions[0]
	for i, m := range e.Members {
		res.Members = append(res.Members, MemberMetrics{Member: m, Metrics: score(ds, p0[i], k, false)})
	}
	res.Ensemble["mean_output"] = score(ds, MeanOutputs(p0), k, false)
	if ds.IsClassification() {
		res.Ensemble["mean_softmax"] = score(ds, MeanSoftmax(p0, k), k, true)
	}
	if opts.Group == nil {
		return res, nil
	}
	res.Group = orbitMetrics(e, ds, res.Predictions, opts.Group, outRep, k)
	return res, nil
}

// checkEvalData checks that ds is valid and has the targets the ensemble
// predicts.
func checkEvalData(e *Ensemble, ds *data.Dataset) error {
	if err := ds.Validate(); err != nil {
		return err
	}
	k := e.Arch.OutputDim()
	if ds.IsClassification() && ds.Classes > k {
		return fmt.Errorf("dataset %s has %d classes, the ensemble predicts %d", ds.Name, ds.Classes, k)
	}
	if !ds.IsClassification() && ds.TargetDim != k {
		return fmt.Errorf("dataset %s has %d-dimensional targets, the ensemble predicts %d", ds.Name, ds.TargetDim, k)
	}
	return nil
}

// evalReps returns the representations of group g (nil: none) on the
// inputs and, for regression, on the k outputs, and the number of orbit
// elements to evaluate (1 without a group). With a group it masks ds.X in
// place.
func evalReps(e *Ensemble, ds *data.Dataset, g *group.Group, k int) (inRep, outRep *group.Rep, order int, err error) {
	if g == nil {
		return nil, nil, 1, nil
	}
	if inRep, err = group.InputRepLayout(g, ds.Shape, e.Config.Augmentation.Input); err != nil {
		return nil, nil, 0, fmt.Errorf("--group: %w", err)
	}
	if !ds.IsClassification() {
		if outRep, err = group.OutputRep(g, e.Config.Augmentation.Output, k); err != nil {
			return nil, nil, 0, fmt.Errorf("--group: %w", err)
		}
	}
	// Orbits are only well defined on masked inputs.
	group.MaskInPlace(inRep, ds.X)
	return inRep, outRep, g.Order(), nil
}

// predictOrbit predicts the inputs of ds transformed by each of the first
// order elements of inRep's group with every member: out[g][i] holds member
// i's outputs on element g.
func predictOrbit(ctx context.Context, e *Ensemble, ds *data.Dataset, inRep *group.Rep, order, workers int) ([][][]float32, error) {
	var out [][][]float32
	xt := make([]float32, len(ds.X))
	for el := 0; el < order; el++ {
		x := ds.X
		if el > 0 {
			group.ApplyBatch(inRep, el, xt, ds.X)
			x = xt
		}
		p, err := e.Predict(ctx, x, ds.Len(), workers)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// orbitMetrics measures the predictions preds[el][member] on the orbit
// under g: the metrics by element and the orbit agreement (classifiers) or
// the equivariance error (regression, outputs acted on by outRep).
func orbitMetrics(e *Ensemble, ds *data.Dataset, preds [][][]float32, g *group.Group, outRep *group.Rep, k int) *GroupMetrics {
	order, n := len(preds), ds.Len()
	gm := &GroupMetrics{Group: g.Name(), Order: order}
	means := make([][]float32, order)
	for el := range order {
		means[el] = MeanOutputs(preds[el])
		target := ds
		if outRep != nil && el > 0 {
			// Equivariant targets of rho(g)x are rho_Y(g)y.
			target = &data.Dataset{Name: ds.Name, Shape: ds.Shape, Y: make([]float32, len(ds.Y)), TargetDim: k}
			group.ApplyBatch(outRep, el, target.Y, ds.Y)
		}
		gm.ByElement = append(gm.ByElement, score(target, means[el], k, false))
	}
	meanOrbit := orbitOf(order, n, k, func(el int) []float32 { return means[el] })
	if ds.IsClassification() {
		for i := range e.Members {
			o := orbitOf(order, n, k, func(el int) []float32 { return preds[el][i] })
			gm.OSPMembers = append(gm.OSPMembers, metrics.Mean(metrics.OSP(o)))
			gm.OSPChanceMember = append(gm.OSPChanceMember, metrics.ChanceOSP(o))
		}
		gm.OSPMeanOutput, gm.OSPChanceMean = metrics.Mean(metrics.OSP(meanOrbit)), metrics.ChanceOSP(meanOrbit)
		soft := orbitOf(order, n, k, func(el int) []float32 { return MeanSoftmax(preds[el], k) })
		gm.OSPMeanSoftmax = metrics.Mean(metrics.OSP(soft))
		return gm
	}
	act := outputAction(outRep, k)
	for i := range e.Members {
		o := orbitOf(order, n, k, func(el int) []float32 { return preds[el][i] })
		gm.EquivarianceMembers = append(gm.EquivarianceMembers, relativeEquivarianceError(o, act))
	}
	gm.EquivarianceMean = relativeEquivarianceError(meanOrbit, act)
	return gm
}

// orbitOf gathers the predictions of one model on the whole orbit (order
// elements, n points, k outputs).
func orbitOf(order, n, k int, pred func(el int) []float32) *metrics.Orbit {
	o := metrics.NewOrbit(order, n, k)
	for el := range order {
		for i, v := range pred(el) {
			o.Out[el*n*k+i] = float64(v)
		}
	}
	return o
}

// outputAction is the action of outRep on k outputs, in float32 like the
// network's outputs.
func outputAction(outRep *group.Rep, k int) metrics.OutputAction {
	in, out := make([]float32, k), make([]float32, k)
	return func(el int, dst, src []float64) {
		for c, v := range src {
			in[c] = float32(v)
		}
		group.Apply(outRep, el, out, in)
		for c, v := range out {
			dst[c] = float64(v)
		}
	}
}

// score measures predictions out (logits, or probabilities when probs)
// against ds.
func score(ds *data.Dataset, out []float32, k int, probs bool) Metrics {
	n := ds.Len()
	if !ds.IsClassification() {
		var s float64
		for i, v := range out {
			d := float64(v) - float64(ds.Y[i])
			s += d * d
		}
		return Metrics{"mse": s / float64(len(out))}
	}
	correct := 0
	var nll float64
	for i := 0; i < n; i++ {
		row := out[i*k : (i+1)*k]
		if metrics.Argmax(row) == ds.Labels[i] {
			correct++
		}
		if probs {
			nll -= math.Log(math.Max(float64(row[ds.Labels[i]]), 1e-30))
		} else {
			nll += logSumExp(row) - float64(row[ds.Labels[i]])
		}
	}
	return Metrics{"accuracy": float64(correct) / float64(n), "nll": nll / float64(n)}
}

// relativeEquivarianceError is the mean equivariance error of an orbit
// divided by the mean norm of the predictions on the untransformed points.
func relativeEquivarianceError(o *metrics.Orbit, act metrics.OutputAction) float64 {
	mean, _ := metrics.EquivarianceError(o, act)
	var norm float64
	for i := 0; i < o.N; i++ {
		var s float64
		for _, v := range o.At(0, i) {
			s += v * v
		}
		norm += math.Sqrt(s)
	}
	if norm == 0 {
		return 0
	}
	return metrics.Mean(mean) / (norm / float64(o.N))
}
