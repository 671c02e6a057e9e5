package demo

import (
	"fmt"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

// buildReport returns the report and the summary printed at the end of a
// run; notes become the text of the summary section.
func buildReport(p *params, g *group.Group, id *data.Dataset, oodNames []string, models map[string]experiment.ModelStats, labels map[string]string, curve []curvePoint, notes []string) (*report.Report, string) {
	tab, detail, sum := summaryTables(g, id, oodNames, models, labels)
	kl := divergenceTable(g, oodNames, models)
	intro := fmt.Sprintf("Trained on %d MNIST digits: an ensemble of %d MLPs (%s) with random %s augmentation (a fresh rotation per sample and step), the same ensemble without augmentation, and a %s GCNN (%s) without augmentation: the MLP applied to every rotated copy of the input and averaged over the group, the network whose NTK is the group average of the MLP's NTK, which augmented MLP ensembles converge to. The NTK row is the infinite ensemble of infinitely wide MLPs trained to convergence with full augmentation, computed through the group-averaged kernel on %d training digits. The theory (Gerken & Kessel 2024) predicts that augmented ensembles become invariant as they grow, also out of distribution, and that the NTK prediction is exactly invariant.",
		p.TrainSize, p.MLP.Members, p.MLP.Arch, g.Name(), g.Name(), p.GCNN.Arch, p.NTK.TrainSize)
	bars, accBars := modelBars(g, models)
	r := &report.Report{
		Title: "Emergent invariance of deep ensembles on MNIST",
		Intro: intro,
		Sections: []report.Section{
			{Heading: "Summary", Text: strings.Join(notes, "\n\n"), Tables: []report.Table{tab, detail, kl}},
			{Heading: "Ensemble size", Text: "OSP of augmented ensembles grows towards the maximum as members are added; without augmentation it does not. Averages over disjoint groups of members.", Figures: []report.Figure{{Name: "osp_vs_size", Caption: "Mean OSP against ensemble size.", Plot: curvePlot(g, curve)}}},
			{Heading: "Models", Figures: []report.Figure{{Name: "osp_models", Caption: "Mean OSP per model with 95% intervals.", Plot: bars}, {Name: "accuracy", Caption: "Test accuracy with 95% intervals.", Plot: accBars}}},
		},
	}
	return r, sum
}

// summaryTables returns the tables "summary" (means with the half-width
// of the 95% interval) and "context" (the majority shares and chance
// levels that say how much an OSP means), and the summary text that
// repeats the first.
func summaryTables(g *group.Group, id *data.Dataset, oodNames []string, models map[string]experiment.ModelStats, labels map[string]string) (report.Table, report.Table, string) {
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
	for _, name := range modelOrder {
		ms := models[name]
		row := []string{labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2)}
		drow := []string{shortLabel(name), experiment.F2(ms.ID.MajorityShare), experiment.F2(ms.ID.ChanceOSP)}
		fmt.Fprintf(&sum, "%-40s %-16s %-16s", labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2))
		for _, n := range oodNames {
			st := ms.OOD[n]
			row = append(row, experiment.PM(st.OSP, 2))
			drow = append(drow, experiment.F2(st.MajorityShare), experiment.F2(st.ChanceOSP))
			fmt.Fprintf(&sum, " %-16s", experiment.PM(st.OSP, 2))
		}
		tab.Rows = append(tab.Rows, row)
		detail.Rows = append(detail.Rows, drow)
		sum.WriteString("\n")
	}
	fmt.Fprintf(&sum, "(OSP counts how many of the %d rotations of an image keep its prediction; ± is the 95%% interval half-width)\n", g.Order())
	return tab, detail, sum.String()
}

// divergenceTable returns the table "divergence": the mean symmetric KL
// divergence between the predicted distributions of an image and of its
// rotations, per set, and for the members' row the divergence between
// every two members' predictions on the same image.
func divergenceTable(g *group.Group, oodNames []string, models map[string]experiment.ModelStats) report.Table {
	sets := append([]string{"test"}, oodNames...)
	t := report.Table{Name: "divergence", Caption: fmt.Sprintf("Mean symmetric KL divergence KL(p(x)‖p(gx)) + KL(p(gx)‖p(x)) of the predicted class distributions over the %d rotations (0 for an invariant model), and, for single members, between the predictions of every two members on the same image; ± is the half-width of the 95%% interval.", g.Order()), Columns: []string{"model"}}
	for _, n := range sets {
		t.Columns = append(t.Columns, "sym KL "+n)
	}
	for _, n := range sets {
		t.Columns = append(t.Columns, "members' KL "+n)
	}
	for _, name := range modelOrder {
		ms := models[name]
		stats := []experiment.SetStats{ms.ID}
		for _, n := range oodNames {
			stats = append(stats, ms.OOD[n])
		}
		row := []string{shortLabel(name)}
		for _, st := range stats {
			row = append(row, experiment.PMG(st.SymKL))
		}
		for _, st := range stats {
			if st.MemberKL == nil {
				row = append(row, "—")
				continue
			}
			row = append(row, experiment.PMG(*st.MemberKL))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ospRange returns the y range of the OSP plots, 1 to |G| (and a margin).
func ospRange(g *group.Group) (ymin, ymax *float64) {
	lo, hi := 1.0, float64(g.Order())+0.1
	return &lo, &hi
}

// curvePlot plots the OSP against ensemble size, with and without
// augmentation, in and out of distribution.
func curvePlot(g *group.Group, curve []curvePoint) *report.Plot {
	var xs, yid, yood, nid, nood []float64
	for _, c := range curve {
		xs = append(xs, float64(c.Size))
		yid = append(yid, c.OSPID)
		yood = append(yood, c.OSPOOD)
		nid = append(nid, c.NoAugOSPID)
		nood = append(nood, c.NoAugOOD)
	}
	ymin, ymax := ospRange(g)
	return &report.Plot{Title: "Orbit same predictions vs ensemble size", XLabel: "ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: ymin, YMax: ymax,
		Series: []report.Series{
			{Name: "DA, in distribution", X: xs, Y: yid, Points: true, Color: 1},
			{Name: "DA, out of distribution", X: xs, Y: yood, Points: true, Color: 2},
			{Name: "no DA, in distribution", X: xs, Y: nid, Points: true, Dashed: true, Color: 1},
			{Name: "no DA, out of distribution", X: xs, Y: nood, Points: true, Dashed: true, Color: 2},
		},
		HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("max = |G| = %d (GCNN, NTK)", g.Order())}},
	}
}

// modelBars returns the bar charts of the models' OSP (in distribution and
// pooled out of distribution) and of their test accuracy.
func modelBars(g *group.Group, models map[string]experiment.ModelStats) (osp, acc *report.Plot) {
	var barLabels []string
	var accY, accLo, accHi, ospY, ospLo, ospHi, oodY, oodLo, oodHi []float64
	for _, name := range modelOrder {
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
	ymin, ymax := ospRange(g)
	osp = &report.Plot{Title: "OSP by model", Kind: report.KindBar, YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), YMin: ymin, YMax: ymax,
		Series: []report.Series{
			{Name: "in distribution", Labels: barLabels, Y: ospY, Lo: ospLo, Hi: ospHi},
			{Name: "out of distribution (pooled)", Labels: barLabels, Y: oodY, Lo: oodLo, Hi: oodHi},
		}}
	zero, one := 0.0, 1.0
	acc = &report.Plot{Title: "Test accuracy", Kind: report.KindBar, YLabel: "accuracy", YMin: &zero, YMax: &one,
		Series: []report.Series{{Name: "MNIST test", Labels: barLabels, Y: accY, Lo: accLo, Hi: accHi}}}
	return osp, acc
}
