package histology

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

// modelOrder lists the models of the tables in order.
var modelOrder = []string{"member_da", "ensemble_da", "ensemble_noaug"}

// buildReport builds the report and the summary: a table of the ensembles
// under each group, the ensemble-size curves and the kernel regression.
func buildReport(p *params, groups []*group.Group, gr map[string]*groupResult, ntk *ntkResult, oodNames, notes []string, spec string, nTest int) (*report.Report, string) {
	var sum strings.Builder
	var sections []report.Section
	curveTab := report.Table{Name: "curve", Caption: "Mean OSP and accuracy of augmented CNN ensembles by size (means over up to 8 member subsets), with the same for the ensemble without augmentation.",
		Columns: []string{"group", "size", "OSP test", "OSP OOD", "accuracy", "no DA: OSP test", "no DA: OSP OOD"}}
	var figs []report.Figure
	for _, g := range groups {
		r := gr[g.Name()]
		tab := modelsTable(p, g, r, oodNames, nTest, &sum)
		if fig := addCurve(g, r, &curveTab); fig != nil {
			figs = append(figs, *fig)
		}
		sections = append(sections, report.Section{Heading: fmt.Sprintf("Ensembles under %s", g.Name()), Tables: []report.Table{tab}})
	}
	text := fmt.Sprintf("CNN `%s` trained on %d images, %d steps, batch %d, %s (lr %g); out-of-distribution sets: %s (%d images each).", spec, p.TrainSize, p.CNN.Steps, p.CNN.BatchSize, p.CNN.Optimizer.Name, p.CNN.Optimizer.LR, strings.Join(oodNames, ", "), p.OODSize)
	if p.File != "" {
		notes = append(notes, fmt.Sprintf("The data were read from %s, which is not checksum-verified against the published PathMNIST.", p.File))
	}
	if len(notes) > 0 {
		text += "\n\n" + strings.Join(notes, "\n\n")
	}
	sections = append(sections, report.Section{Heading: "Ensemble size", Text: text, Tables: []report.Table{curveTab}, Figures: figs})
	if ntk != nil {
		sections = append(sections, ntkSection(p, groups, ntk, &sum))
	}
	intro := fmt.Sprintf("Colon-pathology tiles (MedMNIST PathMNIST, %s, 9 tissue classes, Kather et al. 2018) have no preferred orientation, so the class is invariant under rotations (C4) and also reflections (D4). Deep ensembles of CNNs trained with random augmentation by each group are compared with their members and with an ensemble trained without augmentation: orbit same predictions (OSP, the number of group elements that keep the predicted class, 1..|G|) in and out of distribution (Gerken & Kessel 2024). The second part compares the equivariant NTKs (GCNN) with the ordinary CNN NTK for kernel regression (Misof, Kessel & Gerken 2025).", p.Dataset)
	return &report.Report{Title: "Emergent and built-in invariance on histology images", Intro: intro, Sections: sections}, sum.String()
}

// modelsTable is the table of the ensembles under g; it writes the same
// numbers (OOD pooled) to the summary.
func modelsTable(p *params, g *group.Group, r *groupResult, oodNames []string, nTest int, sum *strings.Builder) report.Table {
	labels := map[string]string{
		"member_da":      fmt.Sprintf("CNN + DA member (mean of %d)", p.CNN.Members),
		"ensemble_da":    fmt.Sprintf("CNN + DA ensemble (%d)", p.CNN.Members),
		"ensemble_noaug": fmt.Sprintf("CNN, no DA, ensemble (%d)", p.NoAugMembers),
	}
	cols := []string{"model", "accuracy", "OSP test"}
	for _, o := range oodNames {
		cols = append(cols, "OSP "+o)
	}
	cols = append(cols, "chance OSP test", "majority test")
	tab := report.Table{Name: "models-" + g.Name(), Caption: fmt.Sprintf("%s (|G| = %d): accuracy on %d test images and orbit same predictions (1..%d), in and out of distribution; ± is the half-width of the 95%% bootstrap interval over images.", g.Name(), g.Order(), nTest, g.Order()), Columns: cols}
	fmt.Fprintf(sum, "\n%s (|G| = %d):\n%-36s %-15s %-15s %-15s\n", g.Name(), g.Order(), "model", "accuracy", "OSP test", "OSP OOD")
	for _, name := range modelOrder {
		ms, ok := r.Models[name]
		if !ok {
			continue
		}
		row := []string{labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2)}
		for _, o := range oodNames {
			row = append(row, experiment.PM(ms.OOD[o].OSP, 2))
		}
		row = append(row, experiment.F2(ms.ID.ChanceOSP), experiment.F2(ms.ID.MajorityShare))
		tab.Rows = append(tab.Rows, row)
		fmt.Fprintf(sum, "%-36s %-15s %-15s %-15s\n", labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2), experiment.PM(ms.OOD["pooled"].OSP, 2))
	}
	return tab
}

// addCurve adds the ensemble-size curve of g to the curve table and
// returns its figure (nil without points).
func addCurve(g *group.Group, r *groupResult, curveTab *report.Table) *report.Figure {
	var xs, yid, yood, nxs, nid, nood []float64
	for _, c := range r.Curve {
		xs = append(xs, float64(c.Size))
		yid = append(yid, c.OSPID)
		yood = append(yood, c.OSPOOD)
		row := []string{g.Name(), fmt.Sprint(c.Size), experiment.F2(c.OSPID), experiment.F2(c.OSPOOD), fmt.Sprintf("%.3f", c.Accuracy), "", ""}
		if c.NoAugOSPID != nil {
			nxs = append(nxs, float64(c.Size))
			nid = append(nid, *c.NoAugOSPID)
			nood = append(nood, *c.NoAugOOD)
			row[5], row[6] = experiment.F2(*c.NoAugOSPID), experiment.F2(*c.NoAugOOD)
		}
		curveTab.Rows = append(curveTab.Rows, row)
	}
	if len(xs) == 0 {
		return nil
	}
	ymin, ymax := 1.0, float64(g.Order())*1.08
	pl := &report.Plot{Title: fmt.Sprintf("%s: orbit same predictions vs ensemble size", g.Name()), XLabel: "ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: &ymin, YMax: &ymax,
		Series: []report.Series{
			{Name: "DA, test", X: xs, Y: yid, Points: true, Color: 1},
			{Name: "DA, out of distribution", X: xs, Y: yood, Points: true, Color: 2},
		},
		HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("|G| = %d", g.Order())}}}
	if len(nxs) > 0 {
		pl.Series = append(pl.Series,
			report.Series{Name: "no DA, test", X: nxs, Y: nid, Points: true, Dashed: true, Color: 1},
			report.Series{Name: "no DA, out of distribution", X: nxs, Y: nood, Points: true, Dashed: true, Color: 2})
	}
	return &report.Figure{Name: "osp-" + g.Name(), Caption: fmt.Sprintf("Mean OSP under %s against ensemble size, in and out of distribution (pooled).", g.Name()), Plot: pl}
}

// ntkSection reports the kernel regression: accuracy by kernel and
// training size, the OSP of each kernel's predictor and the identity
// check; it writes the same to the summary.
func ntkSection(p *params, groups []*group.Group, ntk *ntkResult, sum *strings.Builder) report.Section {
	ct, pl, sizes, bySize := ntkCurve(ntk)
	ot := report.Table{Name: "ntk-osp", Caption: fmt.Sprintf("Mean OSP of each kernel's predictor (largest training size) on the orbits of the %d test images; the group-averaged kernels are exactly invariant under their group.", ntk.TestSize), Columns: []string{"kernel"}}
	for _, g := range groups {
		ot.Columns = append(ot.Columns, fmt.Sprintf("OSP %s (max %d)", g.Name(), g.Order()))
	}
	fmt.Fprintf(sum, "\nNTK on %dx%dx%d images, %d test images: accuracy by training size\n", ntk.Shape[0], ntk.Shape[1], ntk.Shape[2], ntk.TestSize)
	for _, s := range sizes {
		fmt.Fprintf(sum, "  n = %-6d", s)
		for ki, kn := range ntk.Kernels {
			fmt.Fprintf(sum, " %s %s", kn, bySize[s][ki])
		}
		sum.WriteString("\n")
	}
	for _, kn := range ntk.Kernels {
		row := []string{kernelLabel(kn)}
		fmt.Fprintf(sum, "  OSP %-10s", kn)
		for _, g := range groups {
			row = append(row, experiment.F2(ntk.OSP[kn][g.Name()]))
			fmt.Fprintf(sum, " %s %.2f", g.Name(), ntk.OSP[kn][g.Name()])
		}
		sum.WriteString("\n")
		ot.Rows = append(ot.Rows, row)
	}
	ntkText := fmt.Sprintf("Infinite ensembles of infinitely wide networks trained to convergence: the NTK of the CNN `%s` and its averages over the groups, which are the NTKs of the mirrored roto-translation GCNNs (lift and group convolutions with identity support; at infinite width the support does not matter for exact groups), as in Misof, Kessel & Gerken (2025). The images are average-pooled by %d to keep the kernel cost O((|G|HW)²) per pair affordable.", ntk.Arch, p.NTK.Pool)
	if len(ntk.Identity) > 0 {
		var parts []string
		for _, g := range groups {
			parts = append(parts, fmt.Sprintf("%s %.2g", g.Name(), ntk.Identity[g.Name()]))
		}
		ntkText += fmt.Sprintf(" Check on %d test images: max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| with the GCNN `%s` = %s.", min(p.NTK.CheckInputs, ntk.TestSize), p.NTK.GCNN, strings.Join(parts, ", "))
		fmt.Fprintf(sum, "  identity averaged CNN NTK = GCNN NTK: max rel diff %s\n", strings.Join(parts, ", "))
	}
	return report.Section{Heading: "Equivariant NTKs", Text: ntkText, Tables: []report.Table{ct, ot},
		Figures: []report.Figure{{Name: "ntk-accuracy", Caption: "Test accuracy of kernel regression against the number of training images.", Plot: pl}}}
}

// ntkCurve is the table and plot of test accuracy by kernel and training
// size, with the sorted sizes and the formatted accuracies by size (one
// per kernel).
func ntkCurve(ntk *ntkResult) (report.Table, *report.Plot, []int, map[int][]string) {
	ct := report.Table{Name: "ntk-curve", Caption: fmt.Sprintf("Test accuracy of kernel regression (t = ∞, ridge %g × mean diagonal, centred one-hot targets) on %d pooled test images (%dx%dx%d).", ntk.Reg, ntk.TestSize, ntk.Shape[0], ntk.Shape[1], ntk.Shape[2]),
		Columns: []string{"training images"}}
	for _, kn := range ntk.Kernels {
		ct.Columns = append(ct.Columns, kernelLabel(kn))
	}
	var plotS []report.Series
	bySize := map[int][]string{}
	var sizes []int
	for ki, kn := range ntk.Kernels {
		var xs, ys []float64
		for _, pt := range ntk.Curve {
			if pt.Kernel != kn {
				continue
			}
			xs = append(xs, float64(pt.TrainSize))
			ys = append(ys, pt.Accuracy)
			if _, ok := bySize[pt.TrainSize]; !ok {
				bySize[pt.TrainSize] = make([]string, len(ntk.Kernels))
				sizes = append(sizes, pt.TrainSize)
			}
			bySize[pt.TrainSize][ki] = fmt.Sprintf("%.3f", pt.Accuracy)
		}
		plotS = append(plotS, report.Series{Name: kernelLabel(kn), X: xs, Y: ys, Points: true})
	}
	slices.Sort(sizes)
	for _, s := range sizes {
		ct.Rows = append(ct.Rows, append([]string{fmt.Sprint(s)}, bySize[s]...))
	}
	zero, one := 0.0, 1.0
	pl := &report.Plot{Title: "Kernel regression on pooled PathMNIST", XLabel: "training images", YLabel: "test accuracy", LogX: true, YMin: &zero, YMax: &one, Series: plotS,
		HLines: []report.RefLine{{Y: 1 / 9.0, Label: "chance (9 classes)"}}}
	return ct, pl, sizes, bySize
}

// kernelLabel is the display name of a kernel ("cnn", "gcnn-GROUP").
func kernelLabel(k string) string {
	if k == "cnn" {
		return "CNN NTK"
	}
	if g, ok := strings.CutPrefix(k, "gcnn-"); ok {
		return g + " GCNN NTK"
	}
	return k
}
