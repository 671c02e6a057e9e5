package ising

// The networks' evaluation: relative std and MSE curves of ensembles and
// members, their values at the last step, the ensemble-size dependence and
// the check of the element subset against the whole orbit.

import (
	"context"
	"math"
	"slices"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/metrics"
)

// curve is the relative std over the orbit (its mean and median over
// points) and the MSE of one model on one set at every evaluation step.
type curve struct {
	Model  string    `json:"model"`
	Width  int       `json:"width"`
	Set    string    `json:"set"`
	Points int       `json:"points"`
	Mean   []float64 `json:"rel_std_mean"`
	Median []float64 `json:"rel_std_median"`
	MSE    []float64 `json:"mse"`
}

// stat returns the curve of the statistic ("mean" or "median").
func (c *curve) stat(statistic string) []float64 {
	if statistic == "mean" {
		return c.Mean
	}
	return c.Median
}

// findCurve returns the curve of a model, width and set.
func findCurve(cs []curve, model string, w int, set string) *curve {
	for i := range cs {
		if cs[i].Model == model && cs[i].Width == w && cs[i].Set == set {
			return &cs[i]
		}
	}
	return nil
}

// finalValue is a curve's value at the last step, with a bootstrap
// interval of the mean over points.
type finalValue struct {
	Model  string  `json:"model"`
	Width  int     `json:"width"`
	Set    string  `json:"set"`
	Mean   float64 `json:"rel_std_mean"`
	Lo     float64 `json:"rel_std_lo"`
	Hi     float64 `json:"rel_std_hi"`
	Median float64 `json:"rel_std_median"`
	MSE    float64 `json:"mse"`
}

// sizePoint is the statistic of ensembles of Size members at the last
// step, averaged over disjoint member subsets.
type sizePoint struct {
	Width   int     `json:"width"`
	Set     string  `json:"set"`
	Size    int     `json:"size"`
	RelStd  float64 `json:"rel_std"`
	Subsets int     `json:"subsets"`
}

// fullOrbitRow is the statistic at the last step on the first points of a
// set, over the element subset and over the whole group.
type fullOrbitRow struct {
	Width  int     `json:"width"`
	Set    string  `json:"set"`
	Model  string  `json:"model"`
	Points int     `json:"points"`
	Subset float64 `json:"subset"`
	Full   float64 `json:"full"`
}

// stat picks the per-point average the figures, tables and claims use
// (params.Statistic) from the mean and the median.
func (p *params) stat(mean, med float64) float64 {
	if p.Statistic == "mean" {
		return mean
	}
	return med
}

// statOf is the statistic of per-point values.
func (p *params) statOf(pts []float64) float64 { return p.stat(metrics.Mean(pts), median(pts)) }

// evalNetworks computes the ensembles' and members' curves, their final
// values, the finite-M split and the ensemble-size dependence from the
// recorded snapshots, width after width.
func evalNetworks(p *params, in *inputs, widths []*widthRun) *measured {
	ms := &measured{}
	for _, wr := range widths {
		for j, s := range in.sets {
			cm, ce := evalSet(p, wr, j, s, len(in.steps), ms)
			ms.curves = append(ms.curves, cm, ce)
		}
		ms.sizes = append(ms.sizes, ensembleSizes(p, wr, len(in.sets), len(in.steps)-1)...)
	}
	return ms
}

// evalSet returns the members' and the ensemble's curves of one width on
// set j over the nsteps steps, and adds their final values and the
// finite-M split at the last step to ms.
func evalSet(p *params, wr *widthRun, j int, s *testSet, nsteps int, ms *measured) (cm, ce curve) {
	ce = curve{Model: "ensemble", Width: wr.width, Set: s.Name, Points: s.N}
	cm = curve{Model: "member", Width: wr.width, Set: s.Name, Points: s.N}
	all := experiment.Indices(p.Members)
	for si := 0; si < nsteps; si++ {
		mem := make([]*metrics.Orbit, p.Members)
		var mm, mmed, mmse float64
		memPts := make([]float64, s.N)
		for m := range mem {
			mem[m] = wr.recs.orbit(m, si, j)
			pts, mean, med := relStats(mem[m])
			mm += mean / float64(p.Members)
			mmed += med / float64(p.Members)
			mmse += orbitMSE(mem[m], s.y) / float64(p.Members)
			for i, v := range pts {
				memPts[i] += v / float64(p.Members)
			}
		}
		ens := metrics.Combine(mem, all, false)
		pts, mean, med := relStats(ens)
		ce.Mean = append(ce.Mean, mean)
		ce.Median = append(ce.Median, med)
		ce.MSE = append(ce.MSE, orbitMSE(ens, s.y))
		cm.Mean = append(cm.Mean, mm)
		cm.Median = append(cm.Median, mmed)
		cm.MSE = append(cm.MSE, mmse)
		if si == nsteps-1 {
			fm := finiteM{Width: wr.width, Set: s.Name}
			fm.Excess, fm.ExcessLo, fm.ExcessHi, fm.Ensemble, fm.InfiniteM = finiteMStats(mem)
			ms.finM = append(ms.finM, fm)
			b := metrics.Bootstrap(pts, 1000, 0.95, p.Seed+uint64(j))
			ms.finals = append(ms.finals, finalValue{Model: "ensemble", Width: wr.width, Set: s.Name, Mean: mean, Lo: b.Lo, Hi: b.Hi, Median: med, MSE: ce.MSE[si]})
			bm := metrics.Bootstrap(memPts, 1000, 0.95, p.Seed+uint64(j))
			ms.finals = append(ms.finals, finalValue{Model: "member", Width: wr.width, Set: s.Name, Mean: mm, Lo: bm.Lo, Hi: bm.Hi, Median: mmed, MSE: mmse})
		}
	}
	return cm, ce
}

// ensembleSizes returns the statistic at step index last of ensembles of
// 1, 2, 4, ... members: in distribution (set 0) and on the
// out-of-distribution sets (the other nsets-1) pooled.
func ensembleSizes(p *params, wr *widthRun, nsets, last int) []sizePoint {
	var sizes []sizePoint
	for size := 1; ; size *= 2 {
		size = min(size, p.Members)
		subs := metrics.Subsets(p.Members, size, 8, p.Seed+uint64(size))
		var idv, oodv float64
		for _, sub := range subs {
			var oodPts []float64
			for j := 0; j < nsets; j++ {
				mem := make([]*metrics.Orbit, p.Members)
				for _, m := range sub {
					mem[m] = wr.recs.orbit(m, last, j)
				}
				pts := metrics.RelativeStd(metrics.Combine(mem, sub, false))
				if j == 0 {
					idv += p.statOf(pts) / float64(len(subs))
				} else {
					oodPts = append(oodPts, pts...)
				}
			}
			oodv += p.statOf(oodPts) / float64(len(subs))
		}
		sizes = append(sizes, sizePoint{Width: wr.width, Set: "id", Size: size, RelStd: idv, Subsets: len(subs)},
			sizePoint{Width: wr.width, Set: "ood", Size: size, RelStd: oodv, Subsets: len(subs)})
		if size == p.Members {
			return sizes
		}
	}
}

// fullOrbitCheck compares, at the last step on the first
// params.FullOrbitPoints points of each set, the statistic over the
// element subset with that over the whole group (nil when the subset is
// the whole group or the check is off).
func fullOrbitCheck(ctx context.Context, env *experiment.Env, p *params, in *inputs, widths []*widthRun) ([]fullOrbitRow, error) {
	fp, S, last := p.FullOrbitPoints, len(in.elems), len(in.steps)-1
	if fp <= 0 || S >= in.g.Order() {
		return nil, nil
	}
	env.Logf("full-orbit check: %d points per set over all %d elements", fp, in.g.Order())
	all := experiment.Indices(p.Members)
	var rows []fullOrbitRow
	for _, wr := range widths {
		for j, s := range in.sets {
			q := min(fp, s.N)
			sub := experiment.CloneSet(s.data.Head(q))
			if err := wr.ens.PrepareData(sub); err != nil {
				return nil, err
			}
			orbs, err := experiment.EnsembleOrbits(ctx, wr.ens, sub, in.rep, 256)
			if err != nil {
				return nil, err
			}
			// The same points from the snapshots, over the subset.
			subOrb := make([]*metrics.Orbit, p.Members)
			for m := range subOrb {
				o := wr.recs.orbit(m, last, j)
				h := metrics.NewOrbit(S, q, 1)
				for e := 0; e < S; e++ {
					copy(h.Out[e*q:(e+1)*q], o.Out[e*s.N:e*s.N+q])
				}
				subOrb[m] = h
			}
			var memSub, memFull float64
			for m := range orbs {
				memSub += p.statOf(metrics.RelativeStd(subOrb[m])) / float64(p.Members)
				memFull += p.statOf(metrics.RelativeStd(orbs[m])) / float64(p.Members)
			}
			rows = append(rows,
				fullOrbitRow{Width: wr.width, Set: s.Name, Model: "member", Points: q, Subset: memSub, Full: memFull},
				fullOrbitRow{Width: wr.width, Set: s.Name, Model: "ensemble", Points: q,
					Subset: p.statOf(metrics.RelativeStd(metrics.Combine(subOrb, all, false))),
					Full:   p.statOf(metrics.RelativeStd(metrics.Combine(orbs, all, false)))})
		}
	}
	return rows, nil
}

// relStats returns the per-point relative stds of an orbit with their mean
// and median.
func relStats(o *metrics.Orbit) (pts []float64, mean, med float64) {
	pts = metrics.RelativeStd(o)
	return pts, metrics.Mean(pts), median(pts)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// orbitMSE is the mean squared error of the outputs on the untransformed
// points (element 0) against y.
func orbitMSE(o *metrics.Orbit, y []float64) float64 {
	var s float64
	for i := 0; i < o.N; i++ {
		d := o.At(0, i)[0] - y[i]
		s += d * d
	}
	return s / float64(o.N)
}
