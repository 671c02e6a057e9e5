package fashion

import (
	"context"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// tableRow is one method on one group: statistics over its models (the
// disjoint ensembles for DeepEns+DA, the single networks otherwise).
type tableRow struct {
	// Models is the number of models the mean and std are over, Size the
	// number of networks per model.
	Models int `json:"models"`
	Size   int `json:"size"`
	// OSPOOD is the mean over models of the OSP on the pooled
	// out-of-distribution sets, OSPOODStd its standard deviation over
	// models (0 for a single model); OSPOODSet the mean per set.
	OSPOOD    float64            `json:"osp_ood"`
	OSPOODStd float64            `json:"osp_ood_std"`
	OSPOODSet map[string]float64 `json:"osp_ood_by_set"`
	OSPID     float64            `json:"osp_id"`
	OSPIDStd  float64            `json:"osp_id_std"`
	Accuracy  float64            `json:"accuracy"`
	AccStd    float64            `json:"accuracy_std"`
	// Majority and Chance are the mean majority share and chance-level OSP
	// per set ("test", each OOD set, "pooled").
	Majority map[string]float64 `json:"majority"`
	Chance   map[string]float64 `json:"chance"`
	// SymKLOOD is the mean symmetric KL divergence on the pooled OOD sets,
	// SymKLID on the test set.
	SymKLOOD float64 `json:"sym_kl_ood"`
	SymKLID  float64 `json:"sym_kl_id"`
}

// tableRowOf summarises models (each an Orbits of one network or one
// ensemble).
func tableRowOf(models []*experiment.Orbits, size int, sets *experiment.EvalSets, seed uint64) tableRow {
	r := tableRow{Models: len(models), Size: size, OSPOODSet: map[string]float64{}, Majority: map[string]float64{}, Chance: map[string]float64{}}
	var ood, id, acc []float64
	w := 1 / float64(len(models))
	for _, m := range models {
		st := experiment.Stats([]*experiment.Orbits{m}, sets, seed)
		ood = append(ood, st.OSPOOD)
		id = append(id, st.OSPID)
		acc = append(acc, st.Accuracy)
		r.Majority["test"] += st.ID.MajorityShare * w
		r.Chance["test"] += st.ID.ChanceOSP * w
		for name, s := range st.OOD {
			if name != "pooled" {
				r.OSPOODSet[name] += s.OSP.Mean * w
			}
			r.Majority[name] += s.MajorityShare * w
			r.Chance[name] += s.ChanceOSP * w
		}
		r.SymKLOOD += st.OOD["pooled"].SymKL.Mean * w
		r.SymKLID += st.ID.SymKL.Mean * w
	}
	r.OSPOOD, r.OSPOODStd = experiment.MeanSD(ood)
	r.OSPID, r.OSPIDStd = experiment.MeanSD(id)
	r.Accuracy, r.AccStd = experiment.MeanSD(acc)
	return r
}

// evaluateGroup evaluates a group's models on its orbits: the table rows
// (DeepEns+DA over disjoint ensembles of p.EnsembleSize augmented CNNs,
// the single networks otherwise, and the CNNs without augmentation if
// trained) and the OSP of augmented ensembles against their size.
func evaluateGroup(ctx context.Context, p *params, sets *experiment.EvalSets, rep *group.Rep, models groupModels, noaug *train.Ensemble) (map[string]tableRow, []curvePoint, error) {
	daOrb, err := experiment.MemberOrbits(ctx, models.da, rep, sets)
	if err != nil {
		return nil, nil, err
	}
	gOrb, err := experiment.MemberOrbits(ctx, models.gcnn, rep, sets)
	if err != nil {
		return nil, nil, err
	}
	cOrb, err := experiment.MemberOrbits(ctx, models.canon, rep, sets)
	if err != nil {
		return nil, nil, err
	}
	S := p.EnsembleSize
	seed := p.Seed + 1000
	rows := map[string]tableRow{
		"deepens_da": tableRowOf(disjointEnsembles(daOrb, S), S, sets, seed),
		"only_da":    tableRowOf(daOrb, 1, sets, seed),
		"e2cnn":      tableRowOf(gOrb, 1, sets, seed),
		"canon":      tableRowOf(cOrb, 1, sets, seed),
	}
	if noaug != nil {
		nOrb, err := experiment.MemberOrbits(ctx, noaug, rep, sets)
		if err != nil {
			return nil, nil, err
		}
		rows["noaug"] = tableRowOf(nOrb, 1, sets, seed)
	}
	return rows, sizeCurve(p, daOrb, sets, seed), nil
}

// disjointEnsembles splits the members into consecutive ensembles of size
// S (a remainder of fewer than S members is left out).
func disjointEnsembles(members []*experiment.Orbits, S int) []*experiment.Orbits {
	var ens []*experiment.Orbits
	for k := 0; k+S <= len(members); k += S {
		idx := make([]int, S)
		for i := range idx {
			idx[i] = k + i
		}
		ens = append(ens, experiment.Ensemble(members, idx))
	}
	return ens
}

// sizeCurve is the OSP and accuracy of augmented ensembles of the sizes
// p.Sizes, averaged over up to 8 member subsets per size.
func sizeCurve(p *params, daOrb []*experiment.Orbits, sets *experiment.EvalSets, seed uint64) []curvePoint {
	var curve []curvePoint
	for _, m := range p.Sizes {
		if m > len(daOrb) {
			continue
		}
		subs := metrics.Subsets(len(daOrb), m, 8, p.Seed+uint64(m))
		cp := curvePoint{Size: m, Subsets: len(subs)}
		for _, sub := range subs {
			st := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, sub)}, sets, seed)
			w := 1 / float64(len(subs))
			cp.OSPOOD += st.OSPOOD * w
			cp.OSPID += st.OSPID * w
			cp.Accuracy += st.Accuracy * w
		}
		curve = append(curve, cp)
	}
	return curve
}

// curvePoint is the OSP of augmented ensembles of one size.
type curvePoint struct {
	Size     int     `json:"size"`
	OSPOOD   float64 `json:"osp_ood"`
	OSPID    float64 `json:"osp_id"`
	Accuracy float64 `json:"accuracy"`
	Subsets  int     `json:"subsets"`
}
