package crossproduct

// This file holds the measurements of trained models: per-point errors on
// the orbits of the test sets, their bootstrap statistics, the table of
// models and the curve against ensemble size.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// perPoint is one model's per-point quantities on one test set: the
// numerator and denominator of the relative equivariance error (under the
// evaluation rotations and under the training set's rotations) and of the
// relative MSE.
type perPoint struct {
	eqNum, eqTrain, norm, sqErr, ySq []float64
}

// measureOrbit computes the per-point quantities of a model from its orbit
// o under the evaluation rotations (outputs K = 3) and, if ot is not nil,
// its orbit under the training rotations.
func measureOrbit(o, ot *metrics.Orbit, outEval, outTrain *group.Rep, y []float64) *perPoint {
	act := func(r *group.Rep) metrics.OutputAction {
		return func(g int, dst, src []float64) { group.Apply(r, g, dst, src) }
	}
	s := &perPoint{}
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

// ratio is Σ num / Σ den.
func ratio(num, den []float64) float64 {
	var a, b float64
	for i := range num {
		a += num[i]
		b += den[i]
	}
	return a / b
}

// ratioBoot estimates the mean over models of Σ num / Σ den with a 95%
// percentile bootstrap interval over the points (resampled jointly for all
// models).
func ratioBoot(num, den [][]float64, seed uint64) metrics.Estimate {
	if len(num) == 0 || num[0] == nil {
		return metrics.Estimate{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	n := len(num[0])
	// mean is the mean ratio over models on the points idx (nil: all).
	mean := func(idx []int) float64 {
		var r float64
		for m := range num {
			if idx == nil {
				r += ratio(num[m], den[m])
				continue
			}
			var a, b float64
			for _, i := range idx {
				a += num[m][i]
				b += den[m][i]
			}
			r += a / b
		}
		return r / float64(len(num))
	}
	e := metrics.Estimate{Mean: mean(nil)}
	const B = 500
	rng := rand.New(rand.NewPCG(seed, 0xc0557))
	rs := make([]float64, B)
	idx := make([]int, n)
	for b := range rs {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		rs[b] = mean(idx)
	}
	slices.Sort(rs)
	lo, hi := 0.025*float64(B-1), 0.975*float64(B-1)
	e.Lo, e.Hi = rs[int(lo)], rs[int(math.Ceil(hi))]
	return e
}

// setStats are a model's statistics on one test set.
type setStats struct {
	RelMSE     metrics.Estimate  `json:"rel_mse"`
	EqErr      metrics.Estimate  `json:"eq_err"`
	EqErrTrain *metrics.Estimate `json:"eq_err_train,omitempty"`
}

// modelRow is one entry of results.json's "models".
type modelRow struct {
	Label   string   `json:"label"`
	Members int      `json:"members"`
	On      setStats `json:"on"`
	Off     setStats `json:"off"`
}

// stats summarises one or more models (members averaged) on a set.
func stats(sets []*perPoint, seed uint64) setStats {
	var eqN, eqT, nrm, se, ys [][]float64
	for _, s := range sets {
		eqN, eqT, nrm, se, ys = append(eqN, s.eqNum), append(eqT, s.eqTrain), append(nrm, s.norm), append(se, s.sqErr), append(ys, s.ySq)
	}
	st := setStats{RelMSE: ratioBoot(se, ys, seed), EqErr: ratioBoot(eqN, nrm, seed+1)}
	if sets[0].eqTrain != nil {
		e := ratioBoot(eqT, nrm, seed+2)
		st.EqErrTrain = &e
	}
	return st
}

// modelOrbits are a model's orbits on the two test sets, under the
// evaluation rotations and (augmented models) under the training rotations.
type modelOrbits struct {
	on, off, onT, offT *metrics.Orbit
}

// measure computes the per-point quantities on both sets; those under the
// training rotations only with outTrain set.
func (o *modelOrbits) measure(ev *evalSetting, outTrain *group.Rep) [2]*perPoint {
	onT, offT := o.onT, o.offT
	if outTrain == nil {
		onT, offT = nil, nil
	}
	return [2]*perPoint{measureOrbit(o.on, onT, ev.outRep, outTrain, ev.yOn), measureOrbit(o.off, offT, ev.outRep, outTrain, ev.yOff)}
}

// combine is the ensemble of members idx.
func combine(ms []*modelOrbits, idx []int) *modelOrbits {
	pick := func(f func(*modelOrbits) *metrics.Orbit) *metrics.Orbit {
		if f(ms[0]) == nil {
			return nil
		}
		os := make([]*metrics.Orbit, len(ms))
		for i, m := range ms {
			os[i] = f(m)
		}
		return metrics.Combine(os, idx, false)
	}
	return &modelOrbits{
		on:   pick(func(o *modelOrbits) *metrics.Orbit { return o.on }),
		off:  pick(func(o *modelOrbits) *metrics.Orbit { return o.off }),
		onT:  pick(func(o *modelOrbits) *metrics.Orbit { return o.onT }),
		offT: pick(func(o *modelOrbits) *metrics.Orbit { return o.offT }),
	}
}

// ensembleOrbits evaluates every member of ens on both sets under the
// evaluation rotations and, if trainIn is not nil, the training rotations.
func ensembleOrbits(ctx context.Context, ens *train.Ensemble, ev *evalSetting, trainIn *group.Rep) ([]*modelOrbits, error) {
	out := make([]*modelOrbits, len(ens.Members))
	for i := range out {
		out[i] = &modelOrbits{}
	}
	for _, job := range []struct {
		ds    *data.Dataset
		rep   *group.Rep
		field func(*modelOrbits) **metrics.Orbit
	}{
		{ev.on, ev.inRep, func(o *modelOrbits) **metrics.Orbit { return &o.on }},
		{ev.off, ev.inRep, func(o *modelOrbits) **metrics.Orbit { return &o.off }},
		{ev.on, trainIn, func(o *modelOrbits) **metrics.Orbit { return &o.onT }},
		{ev.off, trainIn, func(o *modelOrbits) **metrics.Orbit { return &o.offT }},
	} {
		if job.rep == nil {
			continue
		}
		c := experiment.CloneSet(job.ds)
		if err := ens.PrepareData(c); err != nil {
			return nil, err
		}
		os, err := experiment.EnsembleOrbits(ctx, ens, c, job.rep, 512)
		if err != nil {
			return nil, err
		}
		for i, o := range os {
			*job.field(out[i]) = o
		}
	}
	return out, nil
}

// modelTable collects the models' statistics ("models" in results.json) in
// the order of the report.
type modelTable struct {
	models map[string]modelRow
	order  []string
}

// add summarises the per-point quantities of one or more models ([on,
// off] each; members averaged) as the row name.
func (t *modelTable) add(name, label string, sets [][2]*perPoint, seed uint64) {
	var on, off []*perPoint
	for _, s := range sets {
		on, off = append(on, s[0]), append(off, s[1])
	}
	t.models[name] = modelRow{Label: label, Members: len(sets), On: stats(on, seed), Off: stats(off, seed+10)}
	t.order = append(t.order, name)
}

// addTrained adds the rows of the trained members and ensembles, without
// augmentation and with each augmentation set.
func (t *modelTable) addTrained(p *params, ev *evalSetting, noOrb []*modelOrbits, runs []*augRun) {
	memberSets := func(orbs []*modelOrbits, out *group.Rep) [][2]*perPoint {
		var s [][2]*perPoint
		for _, o := range orbs {
			s = append(s, o.measure(ev, out))
		}
		return s
	}
	ensSet := func(orbs []*modelOrbits, out *group.Rep) [][2]*perPoint {
		return [][2]*perPoint{combine(orbs, experiment.Indices(len(orbs))).measure(ev, out)}
	}
	t.add("member_noaug", fmt.Sprintf("single MLP, no DA (mean of %d)", len(noOrb)), memberSets(noOrb, nil), p.Seed)
	t.add("ensemble_noaug", fmt.Sprintf("ensemble of %d, no DA", len(noOrb)), ensSet(noOrb, nil), p.Seed)
	for _, r := range runs {
		t.add("member_da_"+r.g.Name(), fmt.Sprintf("single MLP + DA %s (mean of %d)", r.g.Name(), len(r.orbits)), memberSets(r.orbits, r.out), p.Seed)
		t.add("ensemble_da_"+r.g.Name(), fmt.Sprintf("ensemble of %d + DA %s", len(r.orbits), r.g.Name()), ensSet(r.orbits, r.out), p.Seed)
	}
}

// curvePoint is one entry of results.json's "curve".
type curvePoint struct {
	Group     string  `json:"group"`
	Size      int     `json:"size"`
	Subsets   int     `json:"subsets"`
	EqOn      float64 `json:"eq_on"`
	EqOff     float64 `json:"eq_off"`
	RelMSEOn  float64 `json:"rel_mse_on"`
	RelMSEOff float64 `json:"rel_mse_off"`
}

// sizeCurve measures the ensembles of the sizes p.Sizes, averaged over up
// to 8 groups of members: first without augmentation ("none"), then per
// augmentation set.
func sizeCurve(p *params, ev *evalSetting, noOrb []*modelOrbits, runs []*augRun) []curvePoint {
	var curve []curvePoint
	curveOf := func(name string, orbs []*modelOrbits) {
		for _, k := range p.Sizes {
			if k < 1 || k > len(orbs) {
				continue
			}
			subs := metrics.Subsets(len(orbs), k, 8, p.Seed+uint64(k))
			cp := curvePoint{Group: name, Size: k, Subsets: len(subs)}
			w := 1 / float64(len(subs))
			for _, idx := range subs {
				s := combine(orbs, idx).measure(ev, nil)
				cp.EqOn += w * ratio(s[0].eqNum, s[0].norm)
				cp.EqOff += w * ratio(s[1].eqNum, s[1].norm)
				cp.RelMSEOn += w * ratio(s[0].sqErr, s[0].ySq)
				cp.RelMSEOff += w * ratio(s[1].sqErr, s[1].ySq)
			}
			curve = append(curve, cp)
		}
	}
	curveOf("none", noOrb)
	for _, r := range runs {
		curveOf(r.g.Name(), r.orbits)
	}
	return curve
}
