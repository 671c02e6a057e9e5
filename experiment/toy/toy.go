package toy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "toy",
		Summary: "toy regression with Z2 augmentation: single MLPs vs ensemble mean vs NTK over training (the talk's toy figure)",
		Run:     run,
	})
}

type params struct {
	TrainSize        int     `yaml:"train_size" json:"train_size"`
	NegativeFraction float64 `yaml:"negative_fraction" json:"negative_fraction"`
	Noise            float64 `yaml:"noise" json:"noise"`
	Grid             int     `yaml:"grid" json:"grid"`
	Seed             uint64  `yaml:"seed" json:"seed"`
	// Arch is a spec template: {w} is replaced by the width.
	Arch         string  `yaml:"arch" json:"arch"`
	Width        int     `yaml:"width" json:"width"`
	Members      int     `yaml:"members" json:"members"`
	NoAugMembers int     `yaml:"noaug_members" json:"noaug_members"`
	Steps        int     `yaml:"steps" json:"steps"`
	LR           float64 `yaml:"lr" json:"lr"`
	Panels       []int   `yaml:"panels" json:"panels"`
	Curve        []int   `yaml:"curve" json:"curve"`
	Sizes        []int   `yaml:"sizes" json:"sizes"`
	Shown        int     `yaml:"shown" json:"shown"`
	Widths       []int   `yaml:"widths" json:"widths"`
	WidthMembers int     `yaml:"width_members" json:"width_members"`
}

func (p *params) check() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/toy.yaml: "+f, a...)
	}
	switch {
	case p.TrainSize < 1:
		return bad("train_size must be at least 1")
	case p.Grid < 3:
		return bad("grid must be at least 3 points")
	case p.Width < 1 || !strings.Contains(p.Arch, "{w}"):
		return bad("need width >= 1 and an arch template with {w}")
	case p.Members < 2 || p.NoAugMembers < 2:
		return bad("members and noaug_members must be at least 2")
	case p.Steps < 1 || !(p.LR > 0):
		return bad("need steps >= 1 and lr > 0")
	case len(p.Panels) == 0:
		return bad("panels: list the steps to draw")
	}
	for _, s := range append(slices.Clone(p.Panels), p.Curve...) {
		if s < 0 || s > p.Steps {
			return bad("step %d outside 0..steps (%d)", s, p.Steps)
		}
	}
	for _, w := range p.Widths {
		if w < 1 {
			return bad("widths: %d is not a width", w)
		}
	}
	if len(p.Widths) > 0 && (p.WidthMembers < 2 || p.WidthMembers > p.Members) {
		return bad("width_members must be in 2..members")
	}
	return nil
}

// study is the state of one run, filled step by step: the data, the
// recorded steps, the members' predictions on the grid and the NTK means.
type study struct {
	p     *params
	tr    *data.Dataset // training set (before augmentation)
	gd    *data.Dataset // evaluation grid
	gridX []float64     // grid inputs
	truth []float64     // ground truth on the grid
	spec  string        // architecture at the main width
	arch  *nn.Arch      // its NTK
	label string        // data name of the training configs

	// steps are the recorded steps (sorted: the curve, the panels, 0 and
	// the last step), last the index of the last, stepAt the index of each.
	steps  []int
	last   int
	stepAt map[int]int

	// predDA and predNo are the members' predictions [member][step
	// index][grid point] with and without augmentation.
	predDA, predNo [][][]float32
	// ntkDA and ntkNo are the NTK means [step index][grid point] under
	// discrete gradient descent, contDA in continuous time; ratioDA and
	// ratioNo are lr·λ_max/N.
	ntkDA, contDA, ntkNo [][]float64
	ratioDA, ratioNo     float64
}

func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("toy", node, &p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	s, err := newStudy(&p)
	if err != nil {
		return nil, err
	}
	if err := s.trainMain(ctx, env); err != nil {
		return nil, err
	}
	if err := s.ntkMeans(ctx, env); err != nil {
		return nil, err
	}
	curve, ntkRel := s.overTraining()
	sizes := s.bySize()
	widths, err := s.byWidth(ctx, env)
	if err != nil {
		return nil, err
	}
	panels := s.panels()
	if err := writePredictions(env.Out, s.gridX, s.truth, panels); err != nil {
		return nil, err
	}

	res := map[string]any{
		"params":               p,
		"arch":                 s.spec,
		"train":                map[string]any{"x": experiment.ToF64(s.tr.X), "y": experiment.ToF64(s.tr.Y)},
		"grid":                 map[string]any{"x": s.gridX, "truth": s.truth},
		"lr":                   p.LR,
		"lr_lambda_max_over_n": s.ratioDA,
		"curve":                curve,
		"sizes":                sizes,
		"widths":               widths,
		"ntk_sym_rel_max":      ntkRel,
		"panels":               panels,
	}
	rep := s.report(panels, curve, sizes, widths, ntkRel)
	return &experiment.Result{JSON: res, Report: rep, Summary: s.summary(curve[s.last], ntkRel)}, nil
}

// newStudy loads the training data and the grid, parses the architecture
// and fixes the recorded steps.
func newStudy(p *params) (*study, error) {
	s := &study{p: p}
	var err error
	if s.tr, err = data.ToyRegression(p.TrainSize, p.Seed, data.ToyOptions{Noise: p.Noise, NegativeFraction: p.NegativeFraction}); err != nil {
		return nil, err
	}
	if s.gd, err = data.ToyGrid(p.Grid); err != nil {
		return nil, err
	}
	s.gridX = experiment.ToF64(s.gd.X)
	s.truth = experiment.ToF64(s.gd.Y)
	s.spec = experiment.ExpandSpec(p.Arch, p.Width)
	if s.arch, err = nn.Parse(s.spec, []int{1}, nn.NTK); err != nil {
		return nil, fmt.Errorf("experiments/toy.yaml: arch: %w", err)
	}
	// Recorded steps: the curve, the panels and the last step.
	steps := append(append(slices.Clone(p.Curve), p.Panels...), 0, p.Steps)
	slices.Sort(steps)
	s.steps = slices.Compact(steps)
	s.last = len(s.steps) - 1
	s.stepAt = map[int]int{}
	for i, st := range s.steps {
		s.stepAt[st] = i
	}
	s.label = fmt.Sprintf("toy(n=%d,neg=%g,noise=%g)", p.TrainSize, p.NegativeFraction, p.Noise)
	return s, nil
}

// config is the training configuration of an ensemble of the given width
// and size: full-batch gradient descent on the MSE in NTK parametrisation.
func (s *study) config(width, members int, aug train.AugConfig) *train.Config {
	p := s.p
	m := experiment.ModelParams{Arch: experiment.ExpandSpec(p.Arch, width), Param: "ntk", Members: members, Steps: p.Steps, BatchSize: 0,
		Optimizer: train.OptimizerConfig{Name: "gd", LR: p.LR}, Loss: "mse"}
	return m.Config(s.label, "", p.TrainSize, p.Seed, aug)
}

// trainMain trains (or reuses) the augmented and the unaugmented ensemble
// at the main width with snapshots at every recorded step.
func (s *study) trainMain(ctx context.Context, env *experiment.Env) error {
	var err error
	cfgDA := s.config(s.p.Width, s.p.Members, train.AugConfig{Mode: "full", Group: "z2"})
	cfgNo := s.config(s.p.Width, s.p.NoAugMembers, train.AugConfig{Mode: "none"})
	if s.predDA, err = trainWithSnapshots(ctx, env, "da", cfgDA, s.tr, s.steps, s.gd.X); err != nil {
		return err
	}
	s.predNo, err = trainWithSnapshots(ctx, env, "noaug", cfgNo, s.tr, s.steps, s.gd.X)
	return err
}

// summary is the summary printed at the end of the run.
func (s *study) summary(fin curvePoint, ntkRel float64) string {
	p := s.p
	var sum strings.Builder
	fmt.Fprintf(&sum, "\ntoy: %s, %d training points on one side, full Z2 augmentation, GD lr %g, %d steps\n", s.spec, s.tr.Len(), p.LR, p.Steps)
	fmt.Fprintf(&sum, "%-34s %-14s %-14s\n", "at the last step", "symmetry err", "RMSE vs truth")
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "single member + DA (mean)", fin.SymMemberDA, fin.RMSEMemberDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", fmt.Sprintf("ensemble of %d + DA", p.Members), fin.SymEnsembleDA, fin.RMSEEnsembleDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "NTK + DA (infinite ensemble)", fin.SymNTKDA, fin.RMSENTKDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), fin.SymEnsembleNoAug, fin.RMSEEnsembleNoAug)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "NTK, no DA", fin.SymNTKNoAug, fin.RMSENTKNoAug)
	fmt.Fprintf(&sum, "NTK + DA symmetry error relative to its scale, max over steps: %.2g; ensemble − NTK distance (RMS): %.3g\n", ntkRel, fin.DistEnsNTKDA)
	return sum.String()
}
