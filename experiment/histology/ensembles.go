package histology

import (
	"context"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// curvePoint is one point of the OSP-vs-size curve of one group.
type curvePoint struct {
	Size       int      `json:"size"`
	OSPID      float64  `json:"osp_id"`
	OSPOOD     float64  `json:"osp_ood"`
	Accuracy   float64  `json:"accuracy"`
	NoAugOSPID *float64 `json:"noaug_osp_id,omitempty"`
	NoAugOOD   *float64 `json:"noaug_osp_ood,omitempty"`
}

// groupResult holds the ensembles' results under one group.
type groupResult struct {
	Order  int                              `json:"order"`
	Models map[string]experiment.ModelStats `json:"models"`
	Curve  []curvePoint                     `json:"curve"`
}

// runEnsembles trains the CNN ensembles, one per group with augmentation
// by it and, if asked for, one without, and evaluates them under each
// group. It returns the results by group name and the CNN's spec.
func runEnsembles(ctx context.Context, env *experiment.Env, p *params, groups []*group.Group, reps []*group.Rep, trainAll *data.Dataset, sets *experiment.EvalSets) (map[string]*groupResult, string, error) {
	groupRes := map[string]*groupResult{}
	var ensNo *train.Ensemble
	if p.NoAugMembers > 0 {
		mp := p.CNN
		mp.Members = p.NoAugMembers
		var err error
		if ensNo, err = experiment.TrainEnsemble(ctx, env, "cnn_noaug", trainConfig(env, p, mp, train.AugConfig{Mode: "none"}), trainAll, train.Options{}); err != nil {
			return nil, "", err
		}
	}
	var daSpec string
	for i, g := range groups {
		ens, err := experiment.TrainEnsemble(ctx, env, "cnn_da_"+g.Name(), trainConfig(env, p, p.CNN, train.AugConfig{Mode: "random", Group: g.Name()}), trainAll, train.Options{})
		if err != nil {
			return nil, "", err
		}
		daSpec = ens.Arch.Spec
		env.Logf("histology: evaluating under %s on %d test and %d out-of-distribution images", g.Name(), sets.ID.Len(), len(sets.OOD)*p.OODSize)
		if groupRes[g.Name()], err = evaluateGroup(ctx, p, g, reps[i], ens, ensNo, sets); err != nil {
			return nil, "", err
		}
	}
	return groupRes, daSpec, nil
}

// evaluateGroup evaluates the augmented ensemble ens and the one without
// augmentation ensNo (nil: none) on the orbits of g.
func evaluateGroup(ctx context.Context, p *params, g *group.Group, rep *group.Rep, ens, ensNo *train.Ensemble, sets *experiment.EvalSets) (*groupResult, error) {
	daOrb, err := experiment.EvalEnsemble(ctx, ens, rep, sets.ID, sets.OOD)
	if err != nil {
		return nil, err
	}
	var noOrb []*experiment.Orbits
	if ensNo != nil {
		if noOrb, err = experiment.EvalEnsemble(ctx, ensNo, rep, sets.ID, sets.OOD); err != nil {
			return nil, err
		}
	}
	gr := &groupResult{Order: g.Order(), Models: map[string]experiment.ModelStats{
		"member_da":   experiment.Stats(daOrb, sets, p.Seed),
		"ensemble_da": experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, experiment.Indices(len(daOrb)))}, sets, p.Seed),
	}}
	if noOrb != nil {
		gr.Models["ensemble_noaug"] = experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, experiment.Indices(len(noOrb)))}, sets, p.Seed)
	}
	for _, m := range p.Sizes {
		if m > len(daOrb) || m < 1 {
			continue
		}
		gr.Curve = append(gr.Curve, sizePoint(p, m, daOrb, noOrb, sets))
	}
	return gr, nil
}

// sizePoint is the mean OSP and accuracy of augmented ensembles of m
// members over up to 8 member subsets, with the OSP of ensembles without
// augmentation of the same size where there are enough members.
func sizePoint(p *params, m int, daOrb, noOrb []*experiment.Orbits, sets *experiment.EvalSets) curvePoint {
	cp := curvePoint{Size: m}
	subs := metrics.Subsets(len(daOrb), m, 8, p.Seed+uint64(m))
	wt := 1 / float64(len(subs))
	for _, sub := range subs {
		a := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, sub)}, sets, p.Seed)
		cp.OSPID += a.OSPID * wt
		cp.OSPOOD += a.OSPOOD * wt
		cp.Accuracy += a.Accuracy * wt
	}
	if noOrb != nil && m <= len(noOrb) {
		var oi, oo float64
		nsubs := metrics.Subsets(len(noOrb), m, 8, p.Seed+uint64(m))
		for _, sub := range nsubs {
			b := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, sub)}, sets, p.Seed)
			oi += b.OSPID / float64(len(nsubs))
			oo += b.OSPOOD / float64(len(nsubs))
		}
		cp.NoAugOSPID, cp.NoAugOOD = &oi, &oo
	}
	return cp
}
