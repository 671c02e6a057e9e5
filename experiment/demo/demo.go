package demo

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "demo",
		Summary: "MNIST, C4: augmented MLP ensembles vs members, no augmentation, a GCNN and the NTK (eqens demo)",
		Run:     runDemo,
	})
}

type demoParams struct {
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

// demoSets loads the in-distribution test set and the out-of-distribution
// sets: Fashion-MNIST when installed, MNIST digits with their pixels
// shuffled by one fixed permutation, and Gaussian noise images.
func demoSets(env *experiment.Env, p *demoParams) (*data.Dataset, []*data.Dataset, []string, []string, error) {
	test, err := data.MNIST("test")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	id := test.Subset(test.Shuffled(p.Seed + 100)[:p.TestSize])
	var notes []string
	var ood []*data.Dataset
	var names []string
	fm, err := data.FashionMNIST("test", env.DataDir)
	if err == nil {
		fm = fm.Subset(fm.Shuffled(p.Seed + 101)[:p.OODSize])
		fm.Labels = nil
		ood = append(ood, fm)
		names = append(names, "fashion-mnist")
	} else {
		notes = append(notes, "Fashion-MNIST was not found (apt install dataset-fashion-mnist, or eqens data fetch fashion-mnist), so it is missing from the out-of-distribution sets.")
	}
	sh, err := data.PixelShuffled(test.Subset(test.Shuffled(p.Seed + 102)[:p.OODSize]), p.Seed+103)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ood = append(ood, sh)
	names = append(names, "shuffled-mnist")
	noise, err := data.NoiseImages(p.OODSize, []int{1, 28, 28}, p.Seed+104)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ood = append(ood, noise)
	names = append(names, "noise")
	return id, ood, names, notes, nil
}

func runDemo(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p demoParams
	if err := experiment.DecodeParams("demo", node, &p); err != nil {
		return nil, err
	}
	g, err := group.Parse(p.Group)
	if err != nil {
		return nil, fmt.Errorf("experiments/demo.yaml: group: %w", err)
	}
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return nil, err
	}
	if !rep.Exact() {
		return nil, fmt.Errorf("experiments/demo.yaml: group %s acts by interpolation; the demo uses exact rotations (c4, d4)", g.Name())
	}
	id, ood, oodNames, notes, err := demoSets(env, &p)
	if err != nil {
		return nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}
	aug := train.AugConfig{Mode: "random", Group: p.Group}
	cfgDA := p.MLP.Config("mnist", env.DataDir, p.TrainSize, p.Seed, aug)
	cfgNo := p.MLP.Config("mnist", env.DataDir, p.TrainSize, p.Seed, train.AugConfig{Mode: "none"})
	cfgG := p.GCNN.Config("mnist", env.DataDir, p.TrainSize, p.Seed, train.AugConfig{Mode: "none"})

	ensDA, err := experiment.TrainEnsemble(ctx, env, "mlp_da", cfgDA, nil, train.Options{})
	if err != nil {
		return nil, err
	}
	ensNo, err := experiment.TrainEnsemble(ctx, env, "mlp_noaug", cfgNo, nil, train.Options{})
	if err != nil {
		return nil, err
	}
	ensG, err := experiment.TrainEnsemble(ctx, env, "gcnn", cfgG, nil, train.Options{})
	if err != nil {
		return nil, err
	}
	env.Logf("evaluating on the %d-element orbits of %d test and %d out-of-distribution images", g.Order(), id.Len(), len(ood)*p.OODSize)
	daOrb, err := experiment.EvalEnsemble(ctx, ensDA, rep, id, ood)
	if err != nil {
		return nil, err
	}
	noOrb, err := experiment.EvalEnsemble(ctx, ensNo, rep, id, ood)
	if err != nil {
		return nil, err
	}
	gOrb, err := experiment.EvalEnsemble(ctx, ensG, rep, id, ood)
	if err != nil {
		return nil, err
	}
	ntkOrb, ntkNote, err := demoNTK(ctx, env, &p, cfgDA, rep, id, ood)
	if err != nil {
		return nil, err
	}
	all := func(n int) []int {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	models := map[string]experiment.ModelStats{
		"member_da":      experiment.Stats(daOrb, sets, p.Seed),
		"ensemble_da":    experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, all(len(daOrb)))}, sets, p.Seed),
		"ensemble_noaug": experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, all(len(noOrb)))}, sets, p.Seed),
		"gcnn":           experiment.Stats([]*experiment.Orbits{experiment.Ensemble(gOrb, all(len(gOrb)))}, sets, p.Seed),
		"ntk_da":         experiment.Stats([]*experiment.Orbits{ntkOrb}, sets, p.Seed),
	}
	// OSP against ensemble size, averaged over disjoint member groups.
	type curvePoint struct {
		Size       int     `json:"size"`
		OSPID      float64 `json:"osp_id"`
		OSPOOD     float64 `json:"osp_ood"`
		NoAugOSPID float64 `json:"noaug_osp_id"`
		NoAugOOD   float64 `json:"noaug_osp_ood"`
		Accuracy   float64 `json:"accuracy"`
	}
	var curve []curvePoint
	for _, m := range p.Sizes {
		if m > len(daOrb) {
			continue
		}
		var cp curvePoint
		cp.Size = m
		subs := metrics.Subsets(len(daOrb), m, 8, p.Seed+uint64(m))
		for _, sub := range subs {
			a := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, sub)}, sets, p.Seed)
			b := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, sub)}, sets, p.Seed)
			w := 1 / float64(len(subs))
			cp.OSPID += a.OSPID * w
			cp.OSPOOD += a.OSPOOD * w
			cp.Accuracy += a.Accuracy * w
			cp.NoAugOSPID += b.OSPID * w
			cp.NoAugOOD += b.OSPOOD * w
		}
		curve = append(curve, cp)
	}
	order := []string{"member_da", "ensemble_da", "ensemble_noaug", "gcnn", "ntk_da"}
	labels := map[string]string{
		"member_da":      fmt.Sprintf("MLP + DA, single members (mean of %d)", len(daOrb)),
		"ensemble_da":    fmt.Sprintf("MLP + DA, ensemble of %d", len(daOrb)),
		"ensemble_noaug": fmt.Sprintf("MLP, no DA, ensemble of %d", len(noOrb)),
		"gcnn":           fmt.Sprintf("GCNN (MLP averaged over %s) ×%d, no DA", g.Name(), len(gOrb)),
		"ntk_da":         "NTK (infinite ensemble, full DA)",
	}
	// The tables: means with the half-width of the 95% interval, then the
	// majority shares and chance levels that say how much an OSP means.
	pm := func(e metrics.Estimate, prec int) string {
		return fmt.Sprintf("%.*f ± %.*f", prec, e.Mean, prec, (e.Hi-e.Lo)/2)
	}
	cols := []string{"model", "accuracy", "OSP in distribution"}
	for _, n := range oodNames {
		cols = append(cols, "OSP "+n)
	}
	tab := report.Table{Name: "summary", Caption: fmt.Sprintf("Accuracy on %d MNIST test digits and mean orbit same predictions (OSP, 1..%d) under %s, in and out of distribution; ± is the half-width of the 95%% bootstrap interval over test images.", id.Len(), g.Order(), g.Name()), Columns: cols}
	detail := report.Table{Name: "context", Caption: fmt.Sprintf("Share of the most frequent predicted class (majority) and the chance level of OSP, 1 + (|G|-1) Σ_c p_c², for each set. A majority near 1 makes OSP trivially %d.", g.Order()), Columns: []string{"model"}}
	for _, n := range append([]string{"test"}, oodNames...) {
		detail.Columns = append(detail.Columns, "majority "+n, "chance "+n)
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "\n%-40s %-16s %-16s", "model", "accuracy", "OSP test")
	for _, n := range oodNames {
		fmt.Fprintf(&sum, " %-16s", "OSP "+n)
	}
	sum.WriteString("\n")
	for _, name := range order {
		ms := models[name]
		row := []string{labels[name], pm(*ms.ID.Accuracy, 3), pm(ms.ID.OSP, 2)}
		drow := []string{shortLabel(name), experiment.F2(ms.ID.MajorityShare), experiment.F2(ms.ID.ChanceOSP)}
		fmt.Fprintf(&sum, "%-40s %-16s %-16s", labels[name], pm(*ms.ID.Accuracy, 3), pm(ms.ID.OSP, 2))
		for _, n := range oodNames {
			st := ms.OOD[n]
			row = append(row, pm(st.OSP, 2))
			drow = append(drow, experiment.F2(st.MajorityShare), experiment.F2(st.ChanceOSP))
			fmt.Fprintf(&sum, " %-16s", pm(st.OSP, 2))
		}
		tab.Rows = append(tab.Rows, row)
		detail.Rows = append(detail.Rows, drow)
		sum.WriteString("\n")
	}
	fmt.Fprintf(&sum, "(OSP counts how many of the %d rotations of an image keep its prediction; ± is the 95%% interval half-width)\n", g.Order())
	// Figures.
	var xs, yid, yood, nid, nood []float64
	for _, c := range curve {
		xs = append(xs, float64(c.Size))
		yid = append(yid, c.OSPID)
		yood = append(yood, c.OSPOOD)
		nid = append(nid, c.NoAugOSPID)
		nood = append(nood, c.NoAugOOD)
	}
	ymax := float64(g.Order()) + 0.1
	ymin := 1.0
	curvePlot := &report.Plot{Title: "Orbit same predictions vs ensemble size", XLabel: "ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: &ymin, YMax: &ymax,
		Series: []report.Series{
			{Name: "DA, in distribution", X: xs, Y: yid, Points: true, Color: 1},
			{Name: "DA, out of distribution", X: xs, Y: yood, Points: true, Color: 2},
			{Name: "no DA, in distribution", X: xs, Y: nid, Points: true, Dashed: true, Color: 1},
			{Name: "no DA, out of distribution", X: xs, Y: nood, Points: true, Dashed: true, Color: 2},
		},
		HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("max = |G| = %d (GCNN, NTK)", g.Order())}},
	}
	var barLabels []string
	var accY, accLo, accHi, ospY, ospLo, ospHi, oodY, oodLo, oodHi []float64
	for _, name := range order {
		ms := models[name]
		barLabels = append(barLabels, shortLabel(name))
		accY = append(accY, ms.ID.Accuracy.Mean)
		accLo = append(accLo, ms.ID.Accuracy.Lo)
		accHi = append(accHi, ms.ID.Accuracy.Hi)
		ospY = append(ospY, ms.ID.OSP.Mean)
		ospLo = append(ospLo, ms.ID.OSP.Lo)
		ospHi = append(ospHi, ms.ID.OSP.Hi)
		po := ms.OOD["pooled"].OSP
		oodY = append(oodY, po.Mean)
		oodLo = append(oodLo, po.Lo)
		oodHi = append(oodHi, po.Hi)
	}
	bars := &report.Plot{Title: "OSP by model", Kind: report.KindBar, YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), YMin: &ymin, YMax: &ymax,
		Series: []report.Series{
			{Name: "in distribution", Labels: barLabels, Y: ospY, Lo: ospLo, Hi: ospHi},
			{Name: "out of distribution (pooled)", Labels: barLabels, Y: oodY, Lo: oodLo, Hi: oodHi},
		}}
	zero := 0.0
	one := 1.0
	accBars := &report.Plot{Title: "Test accuracy", Kind: report.KindBar, YLabel: "accuracy", YMin: &zero, YMax: &one,
		Series: []report.Series{{Name: "MNIST test", Labels: barLabels, Y: accY, Lo: accLo, Hi: accHi}}}
	intro := fmt.Sprintf("Trained on %d MNIST digits: an ensemble of %d MLPs (%s) with random %s augmentation (a fresh rotation per sample and step), the same ensemble without augmentation, and a %s GCNN (%s) without augmentation: the MLP applied to every rotated copy of the input and averaged over the group, the network whose NTK is the group average of the MLP's NTK, which augmented MLP ensembles converge to. The NTK row is the infinite ensemble of infinitely wide MLPs trained to convergence with full augmentation, computed through the group-averaged kernel on %d training digits. The theory (Gerken & Kessel 2024) predicts that augmented ensembles become invariant as they grow, also out of distribution, and that the NTK prediction is exactly invariant.",
		p.TrainSize, p.MLP.Members, p.MLP.Arch, g.Name(), g.Name(), p.GCNN.Arch, p.NTK.TrainSize)
	text := strings.Join(append(notes, ntkNote), "\n\n")
	res := map[string]any{
		"group":       g.Name(),
		"group_order": g.Order(),
		"models":      models,
		"labels":      labels,
		"ood_sets":    oodNames,
		"curve":       curve,
		"params":      p,
	}
	r := &report.Report{
		Title: "Emergent invariance of deep ensembles on MNIST",
		Intro: intro,
		Sections: []report.Section{
			{Heading: "Summary", Text: text, Tables: []report.Table{tab, detail}},
			{Heading: "Ensemble size", Text: "OSP of augmented ensembles grows towards the maximum as members are added; without augmentation it does not. Averages over disjoint groups of members.", Figures: []report.Figure{{Name: "osp_vs_size", Caption: "Mean OSP against ensemble size.", Plot: curvePlot}}},
			{Heading: "Models", Figures: []report.Figure{{Name: "osp_models", Caption: "Mean OSP per model with 95% intervals.", Plot: bars}, {Name: "accuracy", Caption: "Test accuracy with 95% intervals.", Plot: accBars}}},
		},
	}
	return &experiment.Result{JSON: res, Report: r, Summary: sum.String()}, nil
}

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

// demoNTK computes the prediction of the infinite ensemble of the MLP
// trained (to convergence, t = inf) with full augmentation, through the
// group-averaged NTK without expanding the training set, on the orbits of
// the test sets.
func demoNTK(ctx context.Context, env *experiment.Env, p *demoParams, cfg *train.Config, rep *group.Rep, id *data.Dataset, ood []*data.Dataset) (*experiment.Orbits, string, error) {
	s, err := train.Prepare(cfg.Clone(), nil)
	if err != nil {
		return nil, "", err
	}
	tr := s.Data.Head(p.NTK.TrainSize)
	n := tr.Len()
	arch, err := nn.Parse(p.NTK.Arch, tr.Shape, nn.NTK)
	if err != nil {
		return nil, "", fmt.Errorf("experiments/demo.yaml: ntk.arch: %w", err)
	}
	x := experiment.ToF64(tr.X)
	k := tr.Classes
	y := make([]float64, n*k)
	for i, l := range tr.Labels {
		for c := 0; c < k; c++ {
			y[i*k+c] = -1.0 / float64(k)
		}
		y[i*k+l] += 1
	}
	env.Logf("NTK: group-averaged kernel of %s on %d training digits", arch.Spec, n)
	ktr, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true, Average: rep})
	if err != nil {
		return nil, "", err
	}
	pred, err := predict.NewRegressor(n, ktr.Theta, y, k, predict.Options{Reg: p.NTK.Reg})
	if err != nil {
		return nil, "", err
	}
	orbitOf := func(ds *data.Dataset) (*metrics.Orbit, error) {
		c := experiment.CloneSet(ds)
		if err := s.Preprocess.Apply(c, nil); err != nil {
			return nil, err
		}
		G := rep.Group().Order()
		m := c.Len()
		d := c.SampleSize()
		all := make([]float64, G*m*d)
		tmp := make([]float32, d)
		for g := 0; g < G; g++ {
			for i := 0; i < m; i++ {
				group.Apply(rep, g, tmp, c.Input(i))
				for j, v := range tmp {
					all[(g*m+i)*d+j] = float64(v)
				}
			}
		}
		kt, err := arch.Kernel(ctx, all, G*m, x, n, nn.KernelOptions{NTK: true, Average: rep})
		if err != nil {
			return nil, err
		}
		mu, err := pred.Mean(kt.Theta, G*m, []float64{math.Inf(1)})
		if err != nil {
			return nil, err
		}
		return &metrics.Orbit{G: G, N: m, K: k, Out: mu}, nil
	}
	out := &experiment.Orbits{}
	if out.ID, err = orbitOf(id); err != nil {
		return nil, "", err
	}
	for _, d := range ood {
		o, err := orbitOf(d)
		if err != nil {
			return nil, "", err
		}
		out.OOD = append(out.OOD, o)
	}
	note := fmt.Sprintf("The NTK prediction uses the analytic NTK of %s (NTK parametrisation), the mean of the infinite ensemble at t = ∞ with centred one-hot targets and a diagonal regulariser of %g times the mean diagonal, trained on the first %d of the training digits.", arch.Spec, p.NTK.Reg, n)
	return out, note, nil
}
