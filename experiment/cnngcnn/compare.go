package cnngcnn

import (
	"math"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/metrics"
)

// curvePoint is one point of the curves against CNN ensemble size: means
// over up to 8 member subsets of that size. Agreement and distance compare
// the CNN ensemble mean with the mean of the whole GCNN ensemble on every
// element of every test orbit (see orbitAgreement, orbitDistance).
type curvePoint struct {
	Size     int     `json:"size"`
	AgreeID  float64 `json:"agree_id"`
	AgreeOOD float64 `json:"agree_ood"`
	DistID   float64 `json:"dist_id"`
	DistOOD  float64 `json:"dist_ood"`
	OSPID    float64 `json:"osp_id"`
	OSPOOD   float64 `json:"osp_ood"`
	Accuracy float64 `json:"accuracy"`
}

// comparison compares two ensembles with 95% bootstrap intervals over
// test images.
type comparison struct {
	// A and B name the ensembles, e.g. "cnn_da" and "gcnn".
	A, B     string
	AMembers int              `json:"a_members"`
	BMembers int              `json:"b_members"`
	AgreeID  metrics.Estimate `json:"agree_id"`
	AgreeOOD metrics.Estimate `json:"agree_ood"`
	DistID   metrics.Estimate `json:"dist_id"`
	DistOOD  metrics.Estimate `json:"dist_ood"`
}

// orbitAgreement returns, per point, the share of orbit elements g on
// which two models predict the same class for rho(g)x.
func orbitAgreement(a, b *metrics.Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		for g := 0; g < a.G; g++ {
			if metrics.Argmax(a.At(g, i)) == metrics.Argmax(b.At(g, i)) {
				out[i]++
			}
		}
		out[i] /= float64(a.G)
	}
	return out
}

// orbitDistance returns, per point, the mean over orbit elements g of
// ||f_a(rho(g)x) - f_b(rho(g)x)|| / ||f_b(rho(g)x)||.
func orbitDistance(a, b *metrics.Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		for g := 0; g < a.G; g++ {
			var d, n float64
			fb := b.At(g, i)
			for c, v := range a.At(g, i) {
				d += (v - fb[c]) * (v - fb[c])
				n += fb[c] * fb[c]
			}
			out[i] += math.Sqrt(d / math.Max(n, 1e-300))
		}
		out[i] /= float64(a.G)
	}
	return out
}

// sizeCurve computes the curve of an ensemble family against the reference
// (GCNN) ensemble by ensemble size.
func sizeCurve(members []*experiment.Orbits, ref *experiment.Orbits, sets *experiment.EvalSets, sizes []int, seed uint64) []curvePoint {
	refPool := ref.Pooled()
	var out []curvePoint
	for _, m := range sizes {
		if m > len(members) || m < 1 {
			continue
		}
		cp := curvePoint{Size: m}
		subs := metrics.Subsets(len(members), m, 8, seed+uint64(m))
		w := 1 / float64(len(subs))
		for _, sub := range subs {
			e := experiment.Ensemble(members, sub)
			st := experiment.Stats([]*experiment.Orbits{e}, sets, seed)
			ep := e.Pooled()
			cp.AgreeID += metrics.Mean(orbitAgreement(e.ID, ref.ID)) * w
			cp.AgreeOOD += metrics.Mean(orbitAgreement(ep, refPool)) * w
			cp.DistID += metrics.Mean(orbitDistance(e.ID, ref.ID)) * w
			cp.DistOOD += metrics.Mean(orbitDistance(ep, refPool)) * w
			cp.OSPID += st.OSPID * w
			cp.OSPOOD += st.OSPOOD * w
			cp.Accuracy += st.Accuracy * w
		}
		out = append(out, cp)
	}
	return out
}

// compareEnsembles compares two ensembles (orbits of their means) with bootstrap
// intervals over test images.
func compareEnsembles(an, bn string, a, b *experiment.Orbits, am, bm int, seed uint64) comparison {
	ap, bp := a.Pooled(), b.Pooled()
	return comparison{
		A: an, B: bn, AMembers: am, BMembers: bm,
		AgreeID:  metrics.Bootstrap(orbitAgreement(a.ID, b.ID), 1000, 0.95, seed+21),
		AgreeOOD: metrics.Bootstrap(orbitAgreement(ap, bp), 1000, 0.95, seed+22),
		DistID:   metrics.Bootstrap(orbitDistance(a.ID, b.ID), 1000, 0.95, seed+23),
		DistOOD:  metrics.Bootstrap(orbitDistance(ap, bp), 1000, 0.95, seed+24),
	}
}
