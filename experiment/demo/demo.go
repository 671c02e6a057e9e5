package demo

import (
	"context"
	"fmt"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "demo",
		Summary: "MNIST, C4: augmented MLP ensembles vs members, no augmentation, a GCNN and the NTK (eqens demo)",
		Run:     run,
	})
}

// params are the parameters of experiments/demo.yaml.
type params struct {
	Group     string                 `yaml:"group"`
	TrainSize int                    `yaml:"train_size"`
	TestSize  int                    `yaml:"test_size"`
	OODSize   int                    `yaml:"ood_size"`
	Seed      uint64                 `yaml:"seed"`
	Sizes     []int                  `yaml:"sizes"`
	MLP       experiment.ModelParams `yaml:"mlp"`
	GCNN      experiment.ModelParams `yaml:"gcnn"`
	NTK       struct {
		Arch      string  `yaml:"arch"`
		TrainSize int     `yaml:"train_size"`
		Reg       float64 `yaml:"reg"`
	} `yaml:"ntk"`
}

// run runs the demo. results.json holds
//
//	group, group_order   the rotation group
//	models               statistics of every model (see modelOrder)
//	labels               their names in the report
//	ood_sets             the out-of-distribution sets
//	curve                OSP against ensemble size (curvePoint)
//	params
//
// Tables: summary, context. Figures: osp_vs_size, osp_models, accuracy.
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("demo", node, &p); err != nil {
		return nil, err
	}
	g, rep, err := parseGroup(p.Group)
	if err != nil {
		return nil, err
	}
	id, ood, oodNames, notes, err := loadSets(env, &p)
	if err != nil {
		return nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}
	cfgDA := p.MLP.Config("mnist", env.DataDir, p.TrainSize, p.Seed, train.AugConfig{Mode: "random", Group: p.Group})
	orb, err := trainAndEvaluate(ctx, env, &p, cfgDA, rep, id, ood)
	if err != nil {
		return nil, err
	}
	ntkOrb, ntkNote, err := ntkOrbits(ctx, env, &p, cfgDA, rep, id, ood)
	if err != nil {
		return nil, err
	}
	models := modelStats(orb, ntkOrb, sets, p.Seed)
	curve := sizeCurve(orb, sets, &p)
	labels := modelLabels(g, orb)
	r, sum := buildReport(&p, g, id, oodNames, models, labels, curve, append(notes, ntkNote))
	res := map[string]any{
		"group":       g.Name(),
		"group_order": g.Order(),
		"models":      models,
		"labels":      labels,
		"ood_sets":    oodNames,
		"curve":       curve,
		"params":      p,
	}
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// parseGroup returns the configured group and its exact action on 28×28
// images.
func parseGroup(name string) (*group.Group, *group.Rep, error) {
	g, err := group.Parse(name)
	if err != nil {
		return nil, nil, fmt.Errorf("experiments/demo.yaml: group: %w", err)
	}
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return nil, nil, err
	}
	if !rep.Exact() {
		return nil, nil, fmt.Errorf("experiments/demo.yaml: group %s acts by interpolation; the demo uses exact rotations (c4, d4)", g.Name())
	}
	return g, rep, nil
}
