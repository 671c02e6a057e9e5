package demo

import (
	"context"
	"fmt"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// memberOrbits holds, for each trained ensemble, the outputs of its
// members on the orbits of the test sets.
type memberOrbits struct {
	da, noAug, gcnn []*experiment.Orbits
}

// trainAndEvaluate trains the augmented MLP ensemble (cfgDA), the same
// ensemble without augmentation and the GCNN, then evaluates their members
// on the orbits of the test sets.
func trainAndEvaluate(ctx context.Context, env *experiment.Env, p *params, cfgDA *train.Config, rep *group.Rep, id *data.Dataset, ood []*data.Dataset) (*memberOrbits, error) {
	none := train.AugConfig{Mode: "none"}
	runs := []struct {
		name string
		cfg  *train.Config
	}{
		{"mlp_da", cfgDA},
		{"mlp_noaug", p.MLP.Config("mnist", env.DataDir, p.TrainSize, p.Seed, none)},
		{"gcnn", p.GCNN.Config("mnist", env.DataDir, p.TrainSize, p.Seed, none)},
	}
	ens := make([]*train.Ensemble, len(runs))
	for i, r := range runs {
		var err error
		if ens[i], err = experiment.TrainEnsemble(ctx, env, r.name, r.cfg, nil, train.Options{}); err != nil {
			return nil, err
		}
	}
	env.Logf("evaluating on the %d-element orbits of %d test and %d out-of-distribution images", rep.Group().Order(), id.Len(), len(ood)*p.OODSize)
	orb := make([][]*experiment.Orbits, len(ens))
	for i, e := range ens {
		var err error
		if orb[i], err = experiment.EvalEnsemble(ctx, e, rep, id, ood); err != nil {
			return nil, err
		}
	}
	return &memberOrbits{da: orb[0], noAug: orb[1], gcnn: orb[2]}, nil
}

// modelOrder is the order of the models in tables and figures.
var modelOrder = []string{"member_da", "ensemble_da", "ensemble_noaug", "gcnn", "ntk_da"}

// modelStats returns the statistics of every model of modelOrder: single
// augmented members (averaged), the three whole ensembles and the NTK.
func modelStats(o *memberOrbits, ntk *experiment.Orbits, sets *experiment.EvalSets, seed uint64) map[string]experiment.ModelStats {
	whole := func(members []*experiment.Orbits) experiment.ModelStats {
		return experiment.Stats([]*experiment.Orbits{experiment.Ensemble(members, experiment.Indices(len(members)))}, sets, seed)
	}
	return map[string]experiment.ModelStats{
		"member_da":      experiment.Stats(o.da, sets, seed),
		"ensemble_da":    whole(o.da),
		"ensemble_noaug": whole(o.noAug),
		"gcnn":           whole(o.gcnn),
		"ntk_da":         experiment.Stats([]*experiment.Orbits{ntk}, sets, seed),
	}
}

// modelLabels names the models in the summary table.
func modelLabels(g *group.Group, o *memberOrbits) map[string]string {
	return map[string]string{
		"member_da":      fmt.Sprintf("MLP + DA, single members (mean of %d)", len(o.da)),
		"ensemble_da":    fmt.Sprintf("MLP + DA, ensemble of %d", len(o.da)),
		"ensemble_noaug": fmt.Sprintf("MLP, no DA, ensemble of %d", len(o.noAug)),
		"gcnn":           fmt.Sprintf("GCNN (MLP averaged over %s) ×%d, no DA", g.Name(), len(o.gcnn)),
		"ntk_da":         "NTK (infinite ensemble, full DA)",
	}
}

// shortLabel names a model in the context table and the bar charts.
func shortLabel(name string) string {
	switch name {
	case "member_da":
		return "member+DA"
	case "ensemble_da":
		return "ensemble+DA"
	case "ensemble_noaug":
		return "ensemble, no DA"
	case "gcnn":
		return "GCNN"
	case "ntk_da":
		return "NTK+DA"
	}
	return name
}

// curvePoint is the OSP of ensembles of one size, with and without
// augmentation, averaged over disjoint member groups.
type curvePoint struct {
	Size       int     `json:"size"`
	OSPID      float64 `json:"osp_id"`
	OSPOOD     float64 `json:"osp_ood"`
	NoAugOSPID float64 `json:"noaug_osp_id"`
	NoAugOOD   float64 `json:"noaug_osp_ood"`
	Accuracy   float64 `json:"accuracy"`
}

// sizeCurve returns the OSP against ensemble size for the configured sizes
// up to the number of members, averaged over disjoint member groups.
func sizeCurve(o *memberOrbits, sets *experiment.EvalSets, p *params) []curvePoint {
	var curve []curvePoint
	for _, m := range p.Sizes {
		if m > len(o.da) {
			continue
		}
		var cp curvePoint
		cp.Size = m
		subs := metrics.Subsets(len(o.da), m, 8, p.Seed+uint64(m))
		for _, sub := range subs {
			a := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(o.da, sub)}, sets, p.Seed)
			b := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(o.noAug, sub)}, sets, p.Seed)
			w := 1 / float64(len(subs))
			cp.OSPID += a.OSPID * w
			cp.OSPOOD += a.OSPOOD * w
			cp.Accuracy += a.Accuracy * w
			cp.NoAugOSPID += b.OSPID * w
			cp.NoAugOOD += b.OSPOOD * w
		}
		curve = append(curve, cp)
	}
	return curve
}
