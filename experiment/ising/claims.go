package ising

// The paper's statements as measured in a run.

import (
	"fmt"
	"math"
	"strings"

	"github.com/eqens/eqens/metrics"
)

// claim is one of the paper's statements, whether it holds and the
// numbers behind it.
type claim struct {
	Claim  string `json:"claim"`
	Holds  bool   `json:"holds"`
	Detail string `json:"detail"`
}

// makeClaims checks the paper's statements against the curves (networks
// and NTK), the ensemble sizes and the finite-M split at step index last.
func makeClaims(p *params, sets []*testSet, ms *measured, last int) []claim {
	ntkMax := ms.ntk.maxRel
	out := []claim{{
		Claim:  "The infinite ensemble trained with full augmentation (group-averaged NTK) is invariant at every training time, in and out of distribution",
		Holds:  ntkMax < 1e-12,
		Detail: fmt.Sprintf("largest relative std over all %d times, %d sets and the measured points: %.2g (float64 round-off is ~1e-16)", last+1, len(sets), ntkMax),
	}, membersClaim(p, sets, ms.curves, last)}
	if len(p.Widths) > 1 {
		out = append(out, widthClaim(p, sets, ms.curves, last))
	}
	out = append(out, finiteMClaim(ms.finM))
	if c, ok := sizeClaim(p, ms.sizes); ok {
		out = append(out, c)
	}
	return append(out, oodClaim(p, sets, ms.curves, ntkMax, last))
}

// lastStat is the statistic of a curve at step index last.
func lastStat(p *params, c *curve, last int) float64 { return p.stat(c.Mean[last], c.Median[last]) }

// membersClaim compares the ensembles with their members at the last step.
func membersClaim(p *params, sets []*testSet, curves []curve, last int) claim {
	var n, ok int
	var ratios []string
	for _, w := range p.Widths {
		for _, s := range sets {
			ev := lastStat(p, findCurve(curves, "ensemble", w, s.Name), last)
			mv := lastStat(p, findCurve(curves, "member", w, s.Name), last)
			n++
			if ev < mv {
				ok++
			}
			ratios = append(ratios, fmt.Sprintf("%.1f", mv/ev))
		}
	}
	return claim{
		Claim: "The ensemble mean is much more invariant than its members",
		Holds: ok == n,
		Detail: fmt.Sprintf("at the last step the ensemble's relative std is below the members' in %d of %d (width, set) cases; member/ensemble ratios %s (√M = %.1f for independent member deviations)",
			ok, n, strings.Join(ratios, ", "), math.Sqrt(float64(p.Members))),
	}
}

// widthClaim checks that the ensembles' relative std at the last step
// decreases with width on every set.
func widthClaim(p *params, sets []*testSet, curves []curve, last int) claim {
	var mono, cnt int
	var det []string
	for _, s := range sets {
		var vals []string
		dec := true
		prev := math.Inf(1)
		for _, w := range p.Widths {
			v := lastStat(p, findCurve(curves, "ensemble", w, s.Name), last)
			vals = append(vals, fmt.Sprintf("%.3g", v))
			if v >= prev {
				dec = false
			}
			prev = v
		}
		cnt++
		if dec {
			mono++
		}
		det = append(det, s.Name+": "+strings.Join(vals, " → "))
	}
	return claim{
		Claim:  "Wider ensembles are more invariant (closer to the NTK)",
		Holds:  mono == cnt,
		Detail: fmt.Sprintf("ensemble relative std decreases monotonically with width on %d of %d sets at the last step (%s)", mono, cnt, strings.Join(det, "; ")),
	}
}

// finiteMClaim checks that the ensembles' remaining non-invariance is
// consistent with finite-M noise: the infinite ensemble at finite width.
func finiteMClaim(finM []finiteM) claim {
	var zero, cnt int
	lo, hi, ub := math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, f := range finM {
		cnt++
		if f.ExcessLo <= 0 && f.ExcessHi >= 0 {
			zero++
		}
		lo, hi, ub = math.Min(lo, f.Excess), math.Max(hi, f.Excess), math.Max(ub, f.ExcessHi)
	}
	return claim{
		Claim:  "At finite width the infinite ensemble is invariant too: the ensemble's remaining non-invariance is finite-M noise",
		Holds:  zero == cnt,
		Detail: fmt.Sprintf("the share of the ensemble's orbit variance not explained by the finite number of members is consistent with 0 (95%% jackknife interval over members) in %d of %d (width, set) cases; shares %.2f to %.2f, largest upper bound %.2f (table finite_m)", zero, cnt, lo, hi, ub),
	}
}

// sizeClaim fits the slope of log rel std against log ensemble size
// (widest width, in distribution); ok is false with fewer than two sizes.
func sizeClaim(p *params, sizes []sizePoint) (c claim, ok bool) {
	wmax := p.Widths[len(p.Widths)-1]
	var xs, ys []float64
	for _, sp := range sizes {
		if sp.Width == wmax && sp.Set == "id" && sp.RelStd > 0 {
			xs = append(xs, math.Log(float64(sp.Size)))
			ys = append(ys, math.Log(sp.RelStd))
		}
	}
	if len(xs) < 2 {
		return claim{}, false
	}
	sl := slope(xs, ys)
	return claim{
		Claim:  "The ensemble's non-invariance shrinks with the number of members like 1/√M",
		Holds:  sl < -0.35 && sl > -0.65,
		Detail: fmt.Sprintf("fitted exponent of relative std vs ensemble size (width %d, in distribution, last step): %.2f (−0.5 expected)", wmax, sl),
	}, true
}

// oodClaim checks that the ensembles still beat their members off the
// data and that the NTK is invariant there.
func oodClaim(p *params, sets []*testSet, curves []curve, ntkMax float64, last int) claim {
	wmax := p.Widths[len(p.Widths)-1]
	var od []string
	for _, s := range sets[1:] {
		e := findCurve(curves, "ensemble", wmax, s.Name)
		id := findCurve(curves, "ensemble", wmax, "id")
		od = append(od, fmt.Sprintf("%s %.2g vs id %.2g", s.Name, lastStat(p, e, last), lastStat(p, id, last)))
	}
	var oodOK, oodN int
	for _, w := range p.Widths {
		for _, s := range sets[1:] {
			e := findCurve(curves, "ensemble", w, s.Name)
			m := findCurve(curves, "member", w, s.Name)
			oodN++
			if lastStat(p, e, last) < lastStat(p, m, last) {
				oodOK++
			}
		}
	}
	return claim{
		Claim:  "Emergent invariance holds off the data (out of distribution)",
		Holds:  oodOK == oodN && ntkMax < 1e-12,
		Detail: fmt.Sprintf("ensemble below members on %d of %d out-of-distribution (width, set) cases; widest ensemble: %s", oodOK, oodN, strings.Join(od, "; ")),
	}
}

// slope is the least-squares slope of y against x.
func slope(x, y []float64) float64 {
	mx, my := metrics.Mean(x), metrics.Mean(y)
	var num, den float64
	for i := range x {
		num += (x[i] - mx) * (y[i] - my)
		den += (x[i] - mx) * (x[i] - mx)
	}
	return num / den
}
