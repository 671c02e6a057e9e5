package ising

// The finite-M split: how much of the ensemble's non-invariance the finite
// number of members explains.

import (
	"math"
	"slices"

	"github.com/eqens/eqens/metrics"
)

// finiteM splits the ensemble's orbit variance at the last step into
// the part expected from the finite number of members and the rest, the
// estimated orbit variance of the infinite ensemble of networks of this
// width: per point, V_mu = V_F - W/(M-1), with V_F the orbit variance of
// the ensemble mean and W the members' mean orbit variance around it (an
// unbiased estimate when members are independent).
type finiteM struct {
	Width int    `json:"width"`
	Set   string `json:"set"`
	// Excess is sum_i V_mu / sum_i V_F with a 95% interval (jackknife over
	// members): 0 when all non-invariance of the ensemble is finite-M
	// noise.
	Excess   float64 `json:"excess_fraction"`
	ExcessLo float64 `json:"excess_lo"`
	ExcessHi float64 `json:"excess_hi"`
	// Pooled relative stds sqrt(mean V / mean F̄²) of the ensemble and of
	// its infinite-M extrapolation (negative estimates clamped at 0).
	Ensemble  float64 `json:"pooled_rel_std_ensemble"`
	InfiniteM float64 `json:"pooled_rel_std_infinite_m"`
}

// finiteMStats computes finiteM from the members' orbits; the interval
// of the excess share is mean ± 1.96 jackknife standard errors over
// members (leave one member out), since the members, not the points, are
// the independent draws.
func finiteMStats(mem []*metrics.Orbit) (excess, lo, hi, ens, inf float64) {
	M := len(mem)
	vF, vMu, f2 := finiteMParts(mem)
	excess = sumOf(vMu) / sumOf(vF)
	ens = math.Sqrt(metrics.Mean(vF) / metrics.Mean(f2))
	inf = math.Sqrt(math.Max(0, metrics.Mean(vMu)) / metrics.Mean(f2))
	jk := make([]float64, M)
	for k := range jk {
		sub := append(slices.Clone(mem[:k]), mem[k+1:]...)
		a, b, _ := finiteMParts(sub)
		jk[k] = sumOf(b) / sumOf(a)
	}
	mj := metrics.Mean(jk)
	var v float64
	for _, x := range jk {
		v += (x - mj) * (x - mj)
	}
	se := math.Sqrt(v * float64(M-1) / float64(M))
	return excess, excess - 1.96*se, excess + 1.96*se, ens, inf
}

// finiteMParts returns per point the orbit variance of the ensemble mean
// V_F, the estimate V_F - W/(M-1) of the infinite ensemble's orbit
// variance and the squared orbit mean.
func finiteMParts(mem []*metrics.Orbit) (vF, vMu, f2 []float64) {
	M := len(mem)
	S, n := mem[0].G, mem[0].N
	vF = make([]float64, n)
	vMu = make([]float64, n)
	f2 = make([]float64, n)
	F := make([]float64, S)
	for i := 0; i < n; i++ {
		var fm float64
		for e := 0; e < S; e++ {
			var s float64
			for _, o := range mem {
				s += o.Out[e*n+i]
			}
			F[e] = s / float64(M)
			fm += F[e] / float64(S)
		}
		for e := 0; e < S; e++ {
			vF[i] += (F[e] - fm) * (F[e] - fm) / float64(S)
		}
		var w float64
		for _, o := range mem {
			var dm float64
			for e := 0; e < S; e++ {
				dm += (o.Out[e*n+i] - F[e]) / float64(S)
			}
			for e := 0; e < S; e++ {
				d := o.Out[e*n+i] - F[e] - dm
				w += d * d / float64(S*M)
			}
		}
		vMu[i] = vF[i] - w/float64(M-1)
		f2[i] = fm * fm
	}
	return vF, vMu, f2
}

// sumOf is the sum of v.
func sumOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
