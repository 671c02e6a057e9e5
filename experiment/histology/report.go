package histology

import (
	"fmt"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

// modelOrder lists the models of the tables in order.
var modelOrder = []string{"member_da", "ensemble_da", "ensemble_noaug"}

// buildReport builds the report and the summary: a table of the ensembles
// under each group, the ensemble-size curves and the kernel regression.
func buildReport(p *params, groups []*group.Group, gr map[string]*groupResult, ntk *experiment.OrbitNTKResult, oodNames, notes []string, spec string, nTest int) (*report.Report, string) {
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
		sections = append(sections, experiment.OrbitNTKSection(&p.NTK, groups, ntk, "pooled PathMNIST", 9, &sum))
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
