package fashion

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "fashion",
		Summary: "Fashion-MNIST, C4/C8/C16: deep ensembles with augmentation vs single augmented CNNs, GCNNs and canonicalisation (the talk's comparison table), and invariance under SO(2)",
		Run:     run,
	})
}

// modelFamily is a model family of the fashion experiment. Its arch may
// contain {G} (the group name, e.g. c8) and, for canonicalisation, {CNN}
// (the architecture of the augmented CNN members); arch_by_group replaces
// arch for the named groups.
type modelFamily struct {
	experiment.ModelParams `yaml:",inline"`
	ArchByGroup            map[string]string `yaml:"arch_by_group"`
}

// archFor expands the architecture template for a group.
func (m modelFamily) archFor(g, cnn string) string {
	a := m.Arch
	if s, ok := m.ArchByGroup[g]; ok {
		a = s
	}
	return strings.NewReplacer("{G}", g, "{CNN}", cnn).Replace(a)
}

type params struct {
	// Groups are the rotation groups C_n trained and evaluated (c4, c8, c16).
	Groups []string `yaml:"groups"`
	// TrainSize Fashion-MNIST training images (a random subset), TestSize
	// test images, OODSize images per out-of-distribution set.
	TrainSize int `yaml:"train_size"`
	TestSize  int `yaml:"test_size"`
	OODSize   int `yaml:"ood_size"`
	// BlurSigma is the width (pixels) of the blurred-noise OOD images.
	BlurSigma float64 `yaml:"blur_sigma"`
	Seed      uint64  `yaml:"seed"`
	// EnsembleSize is the size of the DeepEns+DA ensembles: the CNN members
	// are split into members/ensemble_size disjoint ensembles, whose spread
	// gives the ± of that row.
	EnsembleSize int `yaml:"ensemble_size"`
	// Sizes are the ensemble sizes of the OSP-vs-size curve.
	Sizes []int `yaml:"sizes"`
	// CNN: the members, trained with random C_n augmentation.
	CNN modelFamily `yaml:"cnn"`
	// NoAugMembers CNNs are trained without augmentation as a baseline
	// (0: none).
	NoAugMembers int `yaml:"noaug_members"`
	// GCNN: the regular-field group CNN (E2CNN row), no augmentation.
	GCNN modelFamily `yaml:"gcnn"`
	// Canon: canonicalisation + the members' CNN, no augmentation.
	Canon modelFamily `yaml:"canon"`
	// StepsCurve records the augmented CNNs during training for the OSP
	// against training steps (points 0: none).
	StepsCurve stepsCurveParams `yaml:"steps_curve"`
	// SO2 evaluates the augmented CNNs on Angles equally spaced rotations
	// of Size test images.
	SO2 struct {
		Angles int `yaml:"angles"`
		Size   int `yaml:"size"`
	} `yaml:"so2"`
	// Width, if set, trains augmented CNNs of several widths for one group
	// (OSP against width). A config with width and no groups runs this
	// part alone (experiments/fashion-width.yaml).
	Width *widthParams `yaml:"width"`
}

// The talk's table (Gerken & Kessel): orbit same predictions out of
// distribution of models trained on rotated Fashion-MNIST, mean ± std.
var paperTable = map[string]map[string][2]float64{
	"c4":  {"deepens_da": {3.85, 0.12}, "only_da": {3.41, 0.18}, "e2cnn": {4, 0}, "canon": {4, 0}},
	"c8":  {"deepens_da": {7.72, 0.34}, "only_da": {6.73, 0.24}, "e2cnn": {7.71, 0.21}, "canon": {7.45, 0.14}},
	"c16": {"deepens_da": {15.24, 0.69}, "only_da": {12.77, 0.71}, "e2cnn": {15.08, 0.34}, "canon": {12.41, 0.85}},
}

var methods = []string{"deepens_da", "only_da", "e2cnn", "canon"}

var methodLabel = map[string]string{
	"deepens_da": "DeepEns+DA",
	"only_da":    "only DA",
	"e2cnn":      "E2CNN",
	"canon":      "Canon",
	"noaug":      "CNN, no DA",
}

func checkParams(p *params) error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/fashion.yaml: "+f, a...)
	}
	switch {
	case len(p.Groups) == 0 && p.Width == nil:
		return bad("groups: list at least one group (c4, c8, c16), or configure width")
	case p.TrainSize < 1 || p.TestSize < 1 || p.OODSize < 1:
		return bad("train_size, test_size and ood_size must be positive")
	case p.BlurSigma <= 0:
		return bad("blur_sigma must be positive")
	case p.EnsembleSize < 1 || (len(p.Groups) > 0 && p.CNN.Members < p.EnsembleSize):
		return bad("ensemble_size must be between 1 and cnn.members (%d), got %d", p.CNN.Members, p.EnsembleSize)
	}
	if p.Width != nil {
		if err := checkWidth(p); err != nil {
			return err
		}
	}
	if len(p.Groups) == 0 {
		return nil
	}
	return checkComparison(p)
}

// checkComparison validates the parameters of the comparison table, the
// curves and the SO(2) evaluation (the part run for groups).
func checkComparison(p *params) error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/fashion.yaml: "+f, a...)
	}
	switch {
	case p.GCNN.Members < 1 || p.Canon.Members < 1:
		return bad("gcnn.members and canon.members must be positive")
	case p.StepsCurve.Points < 0 || p.StepsCurve.Points == 1:
		return bad("steps_curve.points must be 0 (no curve) or at least 2 (step 0 and the end), got %d", p.StepsCurve.Points)
	case p.StepsCurve.Points > 0 && (p.StepsCurve.Size < 1 || p.StepsCurve.Size > min(p.TestSize, p.OODSize)):
		return bad("steps_curve.size must be between 1 and min(test_size, ood_size) = %d, got %d", min(p.TestSize, p.OODSize), p.StepsCurve.Size)
	case p.SO2.Angles < 0 || p.SO2.Size < 0 || (p.SO2.Angles > 0) != (p.SO2.Size > 0):
		return bad("so2: angles and size must both be positive (or both 0 to skip)")
	}
	for _, gn := range p.Groups {
		if err := checkGroup("groups", gn); err != nil {
			return err
		}
	}
	for _, m := range p.Sizes {
		if m < 1 || m > p.CNN.Members {
			return bad("sizes: ensemble sizes must be between 1 and cnn.members (%d), got %d", p.CNN.Members, m)
		}
	}
	return nil
}

// checkGroup checks that gn, the value of the config key key, names a
// finite rotation group of the plane.
func checkGroup(key, gn string) error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/fashion.yaml: "+key+": "+f, a...)
	}
	g, err := group.Parse(gn)
	if err != nil {
		return bad("%v", err)
	}
	if g.Dim() != 2 || !g.Closed() {
		return bad("%s is not a finite rotation group of the plane (want c4, c8, c16, ...)", gn)
	}
	for a := 0; a < g.Order(); a++ {
		if m := g.Matrix(a); m[0]*m[3]-m[1]*m[2] < 0 {
			return bad("%s contains reflections; the experiment compares rotation groups (want c4, c8, c16, ...)", gn)
		}
	}
	return nil
}

// outcome collects what run measures, group by group, for results.json
// and the report.
type outcome struct {
	rows      map[string]map[string]tableRow
	curves    map[string][]curvePoint
	steps     map[string][]stepPoint
	so2       map[string]*so2Result
	so2Angles []float64
	so2NoAug  *so2Result
	archs     map[string]map[string]string
	width     []widthPoint
	timing    map[string]float64
}

// lap adds the time since start to the timing entry name.
func (o *outcome) lap(name string, start time.Time) {
	o.timing[name] += time.Since(start).Seconds()
}

// run runs the fashion experiment: the CNNs without augmentation once
// (they are the same for every group), then per group the augmented CNNs,
// the GCNN and the canonicalised CNN, evaluated on the group's orbits, and
// the CNNs on equally spaced rotations (SO(2)).
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("fashion", node, &p); err != nil {
		return nil, err
	}
	if err := checkParams(&p); err != nil {
		return nil, err
	}
	t0 := time.Now()
	fd, err := loadData(env, &p)
	if err != nil {
		return nil, err
	}
	o := &outcome{
		rows:   map[string]map[string]tableRow{},
		curves: map[string][]curvePoint{},
		steps:  map[string][]stepPoint{},
		so2:    map[string]*so2Result{},
		archs:  map[string]map[string]string{},
		timing: map[string]float64{},
	}
	var noaug *train.Ensemble
	if p.NoAugMembers > 0 && len(p.Groups) > 0 {
		start := time.Now()
		if noaug, err = trainNoAug(ctx, env, &p, fd); err != nil {
			return nil, err
		}
		o.lap("train", start)
	}
	for _, gn := range p.Groups {
		if err := runGroup(ctx, env, &p, fd, noaug, gn, o); err != nil {
			return nil, err
		}
	}
	if p.Width != nil {
		if err := runWidth(ctx, env, &p, fd, o); err != nil {
			return nil, err
		}
	}
	if p.SO2.Angles > 0 && noaug != nil {
		start := time.Now()
		g, _ := group.Parse(p.Groups[0])
		if o.so2NoAug, _, err = evalSO2(ctx, noaug, fd.so2, p.SO2.Angles, g); err != nil {
			return nil, err
		}
		o.lap("so2", start)
	}
	o.timing["total"] = time.Since(t0).Seconds()
	for k, v := range o.timing {
		o.timing[k] = experiment.Round3(v)
	}
	return o.result(&p, fd.sets), nil
}

// runGroup trains the models of the group named gn, evaluates them on its
// orbits (and the augmented CNNs under SO(2)) and logs the main numbers.
func runGroup(ctx context.Context, env *experiment.Env, p *params, fd *preparedData, noaug *train.Ensemble, gn string, o *outcome) error {
	g, _ := group.Parse(gn)
	gn = g.Name()
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return err
	}
	cnnArch := p.CNN.Arch
	o.archs[gn] = map[string]string{
		"cnn":   cnnArch,
		"gcnn":  p.GCNN.archFor(gn, cnnArch),
		"canon": p.Canon.archFor(gn, cnnArch),
	}
	start := time.Now()
	models, err := trainGroup(ctx, env, p, fd, gn, o.archs[gn])
	if err != nil {
		return err
	}
	o.lap("train", start)

	start = time.Now()
	env.Logf("%s: evaluating on the %d-element orbits of %d test and %d out-of-distribution images", gn, g.Order(), fd.sets.ID.Len(), 2*p.OODSize)
	rows, curve, err := evaluateGroup(ctx, p, fd.sets, rep, models, noaug)
	if err != nil {
		return err
	}
	o.rows[gn] = rows
	if len(curve) > 0 {
		o.curves[gn] = curve
	}
	o.lap("evaluate", start)
	if models.steps != nil {
		start = time.Now()
		o.steps[gn] = stepsCurve(p, models.steps, p.CNN.Steps)
		o.lap("steps_curve", start)
		logSteps(env, gn, o.steps[gn])
	}

	if p.SO2.Angles > 0 {
		start = time.Now()
		s, angles, err := evalSO2(ctx, models.da, fd.so2, p.SO2.Angles, g)
		if err != nil {
			return err
		}
		o.so2[gn], o.so2Angles = s, angles
		o.lap("so2", start)
	}
	env.Logf("%s: OSP OOD DeepEns+DA %.2f, only DA %.2f, E2CNN %.2f, Canon %.2f (max %d); accuracy %.3f / %.3f / %.3f / %.3f",
		gn, rows["deepens_da"].OSPOOD, rows["only_da"].OSPOOD, rows["e2cnn"].OSPOOD, rows["canon"].OSPOOD, g.Order(),
		rows["deepens_da"].Accuracy, rows["only_da"].Accuracy, rows["e2cnn"].Accuracy, rows["canon"].Accuracy)
	return nil
}

// result assembles results.json, the report and the summary: the
// comparison's keys when groups were run, "width" when the width sweep
// was.
func (o *outcome) result(p *params, sets *experiment.EvalSets) *experiment.Result {
	res := map[string]any{
		"ood_sets": sets.OODName,
		"timing":   o.timing,
		"params":   p,
	}
	var rep *report.Report
	var sum string
	if len(p.Groups) > 0 {
		groups := o.comparisonJSON(p, res)
		rep, sum = buildReport(p, groups, o), summary(groups, o.rows)
	} else {
		rep = widthReport(p)
	}
	if p.Width != nil {
		res["width"] = map[string]any{"group": groupName(p.Width.Group), "multipliers": p.Width.Multipliers, "members": p.Width.Members,
			"ensemble_size": p.EnsembleSize, "points": o.width}
		rep.Sections = append(rep.Sections, widthSection(p, o.width))
		sum += widthSummary(p, o.width)
	}
	return &experiment.Result{JSON: res, Report: rep, Summary: sum}
}

// comparisonJSON adds the comparison's keys to res and returns the
// canonical group names.
func (o *outcome) comparisonJSON(p *params, res map[string]any) []string {
	groups := make([]string, 0, len(o.rows))
	for _, gn := range p.Groups {
		groups = append(groups, groupName(gn))
	}
	res["groups"] = groups
	res["methods"] = methods
	res["table"] = o.rows
	res["paper"] = paperJSON()
	res["curve"] = o.curves
	res["steps_curve"] = o.steps
	res["archs"] = o.archs
	if p.SO2.Angles > 0 {
		so2JSON := map[string]any{"angles": o.so2Angles}
		for gn, s := range o.so2 {
			so2JSON[gn] = s
		}
		if o.so2NoAug != nil {
			so2JSON["noaug"] = o.so2NoAug
		}
		res["so2"] = so2JSON
	}
	return groups
}
