package crossproduct

import (
	"context"
	"fmt"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "cross-product",
		Summary: "SO(3) equivariance of MLP ensembles trained on cross products with partial rotation augmentation, on and off the data manifold, with the NTK",
		Run:     run,
	})
}

type params struct {
	TrainSize    int                    `yaml:"train_size" json:"train_size"`
	TestSize     int                    `yaml:"test_size" json:"test_size"`
	OODSize      int                    `yaml:"ood_size" json:"ood_size"`
	Seed         uint64                 `yaml:"seed" json:"seed"`
	Groups       []string               `yaml:"groups" json:"groups"`
	EvalGroup    string                 `yaml:"eval_group" json:"eval_group"`
	Sizes        []int                  `yaml:"sizes" json:"sizes"`
	MLP          experiment.ModelParams `yaml:"mlp" json:"mlp"`
	NoAugMembers int                    `yaml:"noaug_members" json:"noaug_members"`
	NTK          struct {
		// Arch is the MLP in NTK parametrisation ("" skips the NTK).
		Arch string `yaml:"arch" json:"arch"`
		// Reg is the diagonal regulariser relative to the mean diagonal
		// of Θ(X, X) on the unaugmented training points.
		Reg float64 `yaml:"reg" json:"reg"`
		// TestSize is the number of test points (of each set) the NTK is
		// evaluated on (0: all).
		TestSize int `yaml:"test_size" json:"test_size"`
		// CheckSize is the number of training points of the kernel
		// identity checks.
		CheckSize int `yaml:"check_size" json:"check_size"`
		// MaxExpanded bounds the augmented training set n·|S| of the NTK
		// for sets that are not groups (whose NTK needs the whole
		// augmented set); larger ones are skipped.
		MaxExpanded int `yaml:"max_expanded" json:"max_expanded"`
	} `yaml:"ntk" json:"ntk"`
}

// augRun is an augmented ensemble: its rotation set, the set's
// representations on inputs and outputs, and its members' orbits.
type augRun struct {
	g       *group.Group
	in, out *group.Rep
	orbits  []*modelOrbits
}

// evalSetting holds the evaluation setting: the evaluation rotations, their
// actions on inputs and outputs, and the two test sets with their targets.
type evalSetting struct {
	g             *group.Group
	inRep, outRep *group.Rep
	on, off       *data.Dataset
	yOn, yOff     []float64
}

// head returns the setting on the first nt points of each test set (all
// for nt <= 0).
func (ev *evalSetting) head(nt int) *evalSetting {
	sub := func(ds *data.Dataset) *data.Dataset {
		if nt <= 0 || nt >= ds.Len() {
			return ds
		}
		return ds.Head(nt)
	}
	h := &evalSetting{g: ev.g, inRep: ev.inRep, outRep: ev.outRep, on: sub(ev.on), off: sub(ev.off)}
	h.yOn, h.yOff = experiment.ToF64(h.on.Y), experiment.ToF64(h.off.Y)
	return h
}

// vectorReps returns the action of g on the inputs (u, v) and on the
// target u × v.
func vectorReps(g *group.Group) (in, out *group.Rep, err error) {
	if in, err = group.VectorRep(g, 2); err != nil {
		return nil, nil, err
	}
	if out, err = group.VectorRep(g, 1); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("cross-product", node, &p); err != nil {
		return nil, err
	}
	if p.TrainSize < 1 || p.TestSize < 2 || p.OODSize < 2 || p.MLP.Members < 2 || p.NoAugMembers < 2 {
		return nil, fmt.Errorf("experiments/cross-product.yaml: need train_size >= 1, test_size and ood_size >= 2, mlp.members and noaug_members >= 2")
	}
	ev, err := loadEval(&p)
	if err != nil {
		return nil, err
	}
	runs, err := trainAugmented(ctx, env, &p, ev)
	if err != nil {
		return nil, err
	}
	noOrb, err := trainUnaugmented(ctx, env, &p, ev)
	if err != nil {
		return nil, err
	}
	tab := &modelTable{models: map[string]modelRow{}}
	tab.addTrained(&p, ev, noOrb, runs)
	curve := sizeCurve(&p, ev, noOrb, runs)
	checks, ntkNote, err := ntkRows(ctx, env, &p, ev, runs, tab)
	if err != nil {
		return nil, err
	}

	rep := buildReport(&p, ev.g, runs, tab, curve, checks, ntkNote)
	res := map[string]any{
		"params":         p,
		"eval_group":     ev.g.Name(),
		"eval_rotations": ev.g.Order() - 1,
		"groups":         groupsJSON(runs),
		"models":         tab.models,
		"curve":          curve,
		"ntk_checks":     checks,
	}
	return &experiment.Result{JSON: res, Report: rep, Summary: summaryText(ev.g, tab, checks)}, nil
}

// loadEval parses the evaluation rotations and loads the on-manifold test
// set and the off-manifold set.
func loadEval(p *params) (*evalSetting, error) {
	eg, err := group.Parse(p.EvalGroup)
	if err != nil {
		return nil, fmt.Errorf("experiments/cross-product.yaml: eval_group: %w", err)
	}
	if eg.Dim() != 3 || eg.Order() < 2 {
		return nil, fmt.Errorf("experiments/cross-product.yaml: eval_group %s: want rotations of R^3, more than the identity", eg.Name())
	}
	ev := &evalSetting{g: eg}
	if ev.inRep, ev.outRep, err = vectorReps(eg); err != nil {
		return nil, err
	}
	dc := train.DataConfig{Name: train.CrossProductName, Size: p.TestSize, Seed: p.Seed}
	if ev.on, err = train.LoadData(dc, "test"); err != nil {
		return nil, err
	}
	dc.Size = p.OODSize
	if ev.off, err = train.LoadData(dc, "ood"); err != nil {
		return nil, err
	}
	ev.yOn, ev.yOff = experiment.ToF64(ev.on.Y), experiment.ToF64(ev.off.Y)
	return ev, nil
}

// trainAugmented trains (or reuses) one ensemble per augmentation set and
// evaluates its members' orbits.
func trainAugmented(ctx context.Context, env *experiment.Env, p *params, ev *evalSetting) ([]*augRun, error) {
	var runs []*augRun
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("experiments/cross-product.yaml: groups: %w", err)
		}
		if g.Dim() != 3 {
			return nil, fmt.Errorf("experiments/cross-product.yaml: groups: %s does not act on R^3", g.Name())
		}
		r := &augRun{g: g}
		if r.in, r.out, err = vectorReps(g); err != nil {
			return nil, err
		}
		cfg := p.MLP.Config(train.CrossProductName, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "partial", Group: gs, Output: "vector"})
		ens, err := experiment.TrainEnsemble(ctx, env, "da-"+strings.ReplaceAll(gs, ":", "_"), cfg, nil, train.Options{})
		if err != nil {
			return nil, err
		}
		env.Logf("evaluating %d members (%s) on %d+%d test points under %d rotations", len(ens.Members), g.Name(), p.TestSize, p.OODSize, ev.g.Order())
		if r.orbits, err = ensembleOrbits(ctx, ens, ev, r.in); err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// trainUnaugmented trains (or reuses) the ensemble without augmentation and
// evaluates its members' orbits.
func trainUnaugmented(ctx context.Context, env *experiment.Env, p *params, ev *evalSetting) ([]*modelOrbits, error) {
	mp := p.MLP
	mp.Members = p.NoAugMembers
	ens, err := experiment.TrainEnsemble(ctx, env, "noaug", mp.Config(train.CrossProductName, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "none"}), nil, train.Options{})
	if err != nil {
		return nil, err
	}
	env.Logf("evaluating %d members (no augmentation)", len(ens.Members))
	return ensembleOrbits(ctx, ens, ev, nil)
}

// summaryText is the summary printed at the end of the run.
func summaryText(eg *group.Group, tab *modelTable, checks []identityCheck) string {
	var sum strings.Builder
	fmt.Fprintf(&sum, "\ncross-product: relative equivariance error under %d unseen Haar-random rotations, and relative MSE\n", eg.Order()-1)
	fmt.Fprintf(&sum, "%-46s %-10s %-10s %-10s %-10s\n", "model", "eq on", "eq off", "rMSE on", "rMSE off")
	for _, name := range tab.order {
		mo := tab.models[name]
		fmt.Fprintf(&sum, "%-46s %-10.3g %-10.3g %-10.3g %-10.3g\n", mo.Label, mo.On.EqErr.Mean, mo.Off.EqErr.Mean, mo.On.RelMSE.Mean, mo.Off.RelMSE.Mean)
	}
	for _, c := range checks {
		if c.DiffInf != nil {
			fmt.Fprintf(&sum, "NTK identity check %s (closed: %v): averaged vs augmented kernel %.2g (t=∞), %.2g (t=%g); equivariance under its own rotations %.2g\n", c.Group, c.Closed, *c.DiffInf, *c.DiffT, c.CheckT, c.EqOwnGroup)
		} else {
			fmt.Fprintf(&sum, "NTK identity check %s (closed: %v): the averaged kernel is not symmetric (%.2g) and its symmetric part not positive semi-definite (min/max eigenvalue %.2g); equivariance of the augmented NTK under its own rotations %.2g\n", c.Group, c.Closed, c.AvgAsymmetry, c.AvgMinEig, c.EqOwnGroup)
		}
	}
	return sum.String()
}
