package experiment

import (
	"context"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// Predictor evaluates a model on n inputs (dataset layout) and returns
// n×K outputs.
type Predictor func(x []float32, n int) []float32

// OrbitOf evaluates a model on every transform rho(g) x of the samples of
// ds (whose inputs must already be masked when rep is interpolated), in
// batches of at most batch samples.
func OrbitOf(p Predictor, ds *data.Dataset, rep *group.Rep, k, batch int) *metrics.Orbit {
	o := metrics.NewOrbit(rep.Group().Order(), ds.Len(), k)
	_ = forOrbitBatches(ds, rep, batch, func(g, s, m int, x []float32) error {
		storeOutputs(o, g, s, m, p(x, m))
		return nil
	})
	return o
}

// forOrbitBatches calls f for every group element g and batch of at most
// batch samples starting at sample s: x holds rho(g) applied to the m
// samples (a buffer reused between calls). It stops at the first error.
func forOrbitBatches(ds *data.Dataset, rep *group.Rep, batch int, f func(g, s, m int, x []float32) error) error {
	n, d := ds.Len(), ds.SampleSize()
	buf := make([]float32, min(batch, n)*d)
	for g := 0; g < rep.Group().Order(); g++ {
		for s := 0; s < n; s += batch {
			m := min(batch, n-s)
			x := buf[:m*d]
			group.ApplyBatch(rep, g, x, ds.X[s*d:(s+m)*d])
			if err := f(g, s, m, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// storeOutputs copies the outputs y of samples s..s+m-1 under element g
// into the orbit.
func storeOutputs(o *metrics.Orbit, g, s, m int, y []float32) {
	for i := 0; i < m; i++ {
		row := o.At(g, s+i)
		for c := range row {
			row[c] = float64(y[i*o.K+c])
		}
	}
}

// SetStats are the equivariance statistics of one model on one test set.
type SetStats struct {
	// OSP is the mean orbit-same-prediction count (1..|G|) with its
	// bootstrap 95% interval.
	OSP metrics.Estimate `json:"osp"`
	// MajorityShare is the share of the most frequently predicted class:
	// near 1, OSP is trivially |G|.
	MajorityShare float64 `json:"majority_share"`
	// ChanceOSP is the OSP of unrelated predictions with the same class
	// frequencies.
	ChanceOSP float64 `json:"chance_osp"`
	// SymKL is the mean symmetric KL divergence between p(x) and p(gx).
	SymKL metrics.Estimate `json:"sym_kl"`
	// MemberKL, for rows of several members, is the mean symmetric KL
	// divergence between the predictions of every two members on the
	// same point (metrics.MemberKL).
	MemberKL *metrics.Estimate `json:"member_sym_kl,omitempty"`
	// Accuracy is set for labelled sets.
	Accuracy *metrics.Estimate `json:"accuracy,omitempty"`
}

// statsOf computes the statistics of one or more orbits of the same set
// (several for "single member" rows: per-point values are averaged over the
// members before bootstrapping).
func statsOf(orbits []*metrics.Orbit, labels []int, seed uint64) SetStats {
	n := orbits[0].N
	osp := make([]float64, n)
	kl := make([]float64, n)
	acc := make([]float64, n)
	var maj, chance float64
	inv := 1 / float64(len(orbits))
	for _, o := range orbits {
		for i, v := range metrics.OSP(o) {
			osp[i] += v * inv
		}
		for i, v := range metrics.SymmetricKL(o) {
			kl[i] += v * inv
		}
		if labels != nil {
			for i, v := range metrics.Correct(o, labels) {
				acc[i] += v * inv
			}
		}
		maj += metrics.MajorityShare(o) * inv
		chance += metrics.ChanceOSP(o) * inv
	}
	s := SetStats{
		OSP:           metrics.Bootstrap(osp, 1000, 0.95, seed),
		MajorityShare: maj,
		ChanceOSP:     chance,
		SymKL:         metrics.Bootstrap(kl, 1000, 0.95, seed+1),
	}
	if labels != nil {
		a := metrics.Bootstrap(acc, 1000, 0.95, seed+2)
		s.Accuracy = &a
	}
	if len(orbits) > 1 {
		m := metrics.Bootstrap(metrics.MemberKL(orbits), 1000, 0.95, seed+3)
		s.MemberKL = &m
	}
	return s
}

// ModelStats summarises a classifier in and out of distribution.
type ModelStats struct {
	// Accuracy on the in-distribution test set.
	Accuracy float64 `json:"accuracy"`
	// OSPID and OSPOOD are the mean OSP in and out of distribution (all
	// out-of-distribution sets pooled).
	OSPID  float64 `json:"osp_id"`
	OSPOOD float64 `json:"osp_ood"`
	// Members is the number of networks behind the row (1 for a single
	// model; for "member" rows the statistics are averaged over members).
	Members int `json:"members"`
	// ID is the in-distribution breakdown, OOD the one per
	// out-of-distribution set plus "pooled".
	ID  SetStats            `json:"id"`
	OOD map[string]SetStats `json:"ood"`
}

// EvalSets are the test sets a classifier is evaluated on: the
// in-distribution test set with labels and named out-of-distribution sets.
type EvalSets struct {
	ID      *data.Dataset
	OOD     []*data.Dataset // Name fields name them
	OODName []string
}

// Orbits holds a model's orbits on every evaluation set.
type Orbits struct {
	ID  *metrics.Orbit
	OOD []*metrics.Orbit
}

// Pooled concatenates the out-of-distribution orbits point-wise.
func (o *Orbits) Pooled() *metrics.Orbit {
	G, K := o.OOD[0].G, o.OOD[0].K
	n := 0
	for _, p := range o.OOD {
		n += p.N
	}
	out := metrics.NewOrbit(G, n, K)
	for g := 0; g < G; g++ {
		off := 0
		for _, p := range o.OOD {
			for i := 0; i < p.N; i++ {
				copy(out.At(g, off+i), p.At(g, i))
			}
			off += p.N
		}
	}
	return out
}

// Stats computes the statistics of a model given by one or more orbits
// (members averaged).
func Stats(models []*Orbits, sets *EvalSets, seed uint64) ModelStats {
	var id []*metrics.Orbit
	for _, m := range models {
		id = append(id, m.ID)
	}
	ms := ModelStats{Members: len(models), OOD: map[string]SetStats{}}
	ms.ID = statsOf(id, sets.ID.Labels, seed)
	ms.Accuracy = ms.ID.Accuracy.Mean
	ms.OSPID = ms.ID.OSP.Mean
	for j, name := range sets.OODName {
		var os []*metrics.Orbit
		for _, m := range models {
			os = append(os, m.OOD[j])
		}
		ms.OOD[name] = statsOf(os, nil, seed+10*uint64(j+1))
	}
	if len(sets.OODName) > 0 {
		var pool []*metrics.Orbit
		for _, m := range models {
			pool = append(pool, m.Pooled())
		}
		p := statsOf(pool, nil, seed+7)
		ms.OOD["pooled"] = p
		ms.OSPOOD = p.OSP.Mean
	}
	return ms
}

// Ensemble averages the outputs (logits) of the given members on every set.
func Ensemble(members []*Orbits, idx []int) *Orbits {
	id := make([]*metrics.Orbit, len(members))
	for i, m := range members {
		id[i] = m.ID
	}
	out := &Orbits{ID: metrics.Combine(id, idx, false)}
	for j := range members[0].OOD {
		os := make([]*metrics.Orbit, len(members))
		for i, m := range members {
			os[i] = m.OOD[j]
		}
		out.OOD = append(out.OOD, metrics.Combine(os, idx, false))
	}
	return out
}

// MemberOrbits evaluates every member of an ensemble on the orbits of the
// (preprocessed) evaluation sets.
func MemberOrbits(ctx context.Context, ens *train.Ensemble, rep *group.Rep, sets *EvalSets) ([]*Orbits, error) {
	all := append([]*data.Dataset{sets.ID}, sets.OOD...)
	per := make([][]*metrics.Orbit, len(all))
	for j, s := range all {
		o, err := EnsembleOrbits(ctx, ens, s, rep, 256)
		if err != nil {
			return nil, err
		}
		per[j] = o
	}
	out := make([]*Orbits, len(ens.Members))
	for m := range out {
		out[m] = &Orbits{ID: per[0][m]}
		for j := 1; j < len(all); j++ {
			out[m].OOD = append(out[m].OOD, per[j][m])
		}
	}
	return out, nil
}

// CloneSet returns a deep copy of a dataset (preprocessing works in place).
func CloneSet(d *data.Dataset) *data.Dataset {
	idx := make([]int, d.Len())
	for i := range idx {
		idx[i] = i
	}
	c := d.Subset(idx)
	c.Classes = d.Classes
	return c
}

// EvalEnsemble evaluates an ensemble's members on the test sets (prepared
// with the ensemble's own preprocessing).
func EvalEnsemble(ctx context.Context, ens *train.Ensemble, rep *group.Rep, id *data.Dataset, ood []*data.Dataset) ([]*Orbits, error) {
	prep := &EvalSets{}
	for j, s := range append([]*data.Dataset{id}, ood...) {
		c := CloneSet(s)
		if err := ens.PrepareData(c); err != nil {
			return nil, err
		}
		if j == 0 {
			prep.ID = c
		} else {
			prep.OOD = append(prep.OOD, c)
		}
	}
	return MemberOrbits(ctx, ens, rep, prep)
}

// EnsembleOrbits evaluates every member of an ensemble on the orbits of a
// prepared dataset: one orbit per member.
func EnsembleOrbits(ctx context.Context, ens *train.Ensemble, ds *data.Dataset, rep *group.Rep, batch int) ([]*metrics.Orbit, error) {
	out := make([]*metrics.Orbit, len(ens.Members))
	for m := range out {
		out[m] = metrics.NewOrbit(rep.Group().Order(), ds.Len(), ens.Arch.OutputDim())
	}
	err := forOrbitBatches(ds, rep, batch, func(g, s, b int, x []float32) error {
		preds, err := ens.Predict(ctx, x, b, 0)
		if err != nil {
			return err
		}
		for m, y := range preds {
			storeOutputs(out[m], g, s, b, y)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
