package cnngcnn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

func sci(v float64) string { return fmt.Sprintf("%.2g", v) }

// kernelTableRows are the rows of the kernels table for one dataset.
func kernelTableRows(res *datasetResult) [][]string {
	var rows [][]string
	if id := res.Identity; id != nil {
		shape := fmt.Sprintf("%d images %dx%dx%d", id.Inputs, id.Shape[0], id.Shape[1], id.Shape[2])
		rows = append(rows,
			[]string{res.Name, "NTK: averaged CNN vs GCNN", shape, sci(id.MaxRelDiffNTK)},
			[]string{res.Name, "NNGP: averaged CNN vs GCNN", shape, sci(id.MaxRelDiffNNGP)},
			[]string{res.Name, "NTK: plain CNN vs GCNN", shape, experiment.F2(id.PlainRelDiffNTK)},
		)
	}
	if nt := res.NTK; nt != nil {
		shape := fmt.Sprintf("%d train / %d test %dx%dx%d", nt.TrainSize, nt.TestSize, nt.Shape[0], nt.Shape[1], nt.Shape[2])
		rows = append(rows,
			[]string{res.Name, fmt.Sprintf("mean: CNN+full DA vs GCNN at t = %.3g", nt.T1), shape, sci(nt.MaxDiffT1)},
			[]string{res.Name, "mean: CNN+full DA vs GCNN at t = ∞", shape, sci(nt.MaxDiffInf)},
			[]string{res.Name, "mean: CNN without DA vs GCNN at t = ∞", shape, experiment.F2(nt.PlainDiffInf)},
			[]string{res.Name, "accuracy at t = ∞: CNN+DA / GCNN / CNN", shape, fmt.Sprintf("%.3f / %.3f / %.3f", nt.AccuracyCNNAug, nt.AccuracyGCNN, nt.AccuracyCNNPlain)},
		)
	}
	return rows
}

var modelOrder = []string{"cnn_member", "cnn_da", "cnn_noaug", "gcnn_member", "gcnn"}

func shortLabel(name string) string {
	switch name {
	case "cnn_member":
		return "CNN+DA member"
	case "cnn_da":
		return "CNN+DA ensemble"
	case "cnn_noaug":
		return "CNN ensemble, no DA"
	case "gcnn_member":
		return "GCNN member"
	case "gcnn":
		return "GCNN ensemble"
	case "gcnn_half_a":
		return "GCNN half A"
	case "gcnn_half_b":
		return "GCNN half B"
	}
	return name
}

// membersOf is the number of members behind an ensemble row.
func membersOf(name string, dp *datasetParams) int {
	switch name {
	case "cnn_da":
		return dp.CNN.Members
	case "cnn_noaug":
		return dp.NoAugMembers
	}
	return dp.GCNN.Members
}

// writeSummary prints a dataset's main numbers.
func writeSummary(sum *strings.Builder, res *datasetResult, g *group.Group) {
	fmt.Fprintf(sum, "\n%s (%s):\n%-34s %-15s %-15s %-15s\n", res.Name, g.Name(), "model", "accuracy", "OSP test", "OSP OOD")
	for _, name := range modelOrder {
		ms, ok := res.Models[name]
		if !ok {
			continue
		}
		fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s\n", res.Labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2), experiment.PM(ms.OOD["pooled"].OSP, 2))
	}
	fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s %-15s\n", "comparison (ensemble means)", "agree test", "agree OOD", "dist test", "dist OOD")
	for _, c := range res.Compare {
		fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s %-15s\n", fmt.Sprintf("%s(%d) vs %s(%d)", c.A, c.AMembers, c.B, c.BMembers), experiment.PM(c.AgreeID, 3), experiment.PM(c.AgreeOOD, 3), experiment.PM(c.DistID, 3), experiment.PM(c.DistOOD, 3))
	}
	fmt.Fprintf(sum, "%-10s %-10s %-10s %-10s %-10s %-8s\n", "CNN size", "agree ID", "agree OOD", "dist ID", "dist OOD", "OSP ID")
	for _, c := range res.Curve {
		fmt.Fprintf(sum, "%-10d %-10.3f %-10.3f %-10.3f %-10.3f %-8.2f\n", c.Size, c.AgreeID, c.AgreeOOD, c.DistID, c.DistOOD, c.OSPID)
	}
	if id := res.Identity; id != nil {
		fmt.Fprintf(sum, "kernel identity (%d images %v): max rel diff NTK %.2g, NNGP %.2g (unaveraged CNN: %.2f)\n", id.Inputs, id.Shape, id.MaxRelDiffNTK, id.MaxRelDiffNNGP, id.PlainRelDiffNTK)
	}
	if nt := res.NTK; nt != nil {
		fmt.Fprintf(sum, "NTK means, CNN+full DA vs GCNN: max rel diff %.2g at t=%.3g, %.2g at t=inf (CNN without DA: %.2f); accuracy %.3f / %.3f / %.3f\n", nt.MaxDiffT1, nt.T1, nt.MaxDiffInf, nt.PlainDiffInf, nt.AccuracyCNNAug, nt.AccuracyGCNN, nt.AccuracyCNNPlain)
	}
}

// datasetSections builds the report sections of one dataset: its models,
// and the convergence of the CNN ensembles to the GCNN.
func datasetSections(res *datasetResult, dp *datasetParams, g *group.Group, notes []string, cnnSpec, gcnnSpec string) []report.Section {
	n := res.Name
	mt := modelsTable(res, dp, g)
	ct, cv := comparisonTables(res, dp, g)
	agree, dist, osp := curvePlots(res, dp, g)
	text := fmt.Sprintf("Trained on %d %s images. CNN: `%s`, %d members, random %s augmentation. GCNN: `%s`, %d members, no augmentation. Both: %d steps, batch %d, %s (lr %g). Out-of-distribution sets: %s (%d images each).",
		dp.TrainSize, n, cnnSpec, dp.CNN.Members, g.Name(), gcnnSpec, dp.GCNN.Members, dp.CNN.Steps, dp.CNN.BatchSize, dp.CNN.Optimizer.Name, dp.CNN.Optimizer.LR, strings.Join(res.OODSets, ", "), dp.OODSize)
	if len(notes) > 0 {
		text += "\n\n" + strings.Join(notes, "\n\n")
	}
	return []report.Section{
		{Heading: "Models on " + n, Text: text, Tables: []report.Table{mt}},
		{Heading: "Convergence to the GCNN on " + n, Text: "The theory predicts that augmented CNN ensembles approach the GCNN as they grow (exactly for infinite ensembles of infinitely wide networks trained by gradient flow on the MSE; here finite networks, cross-entropy and Adam), out of distribution too, while CNN ensembles without augmentation do not. The dashed reference line is two halves of the GCNN ensemble compared with each other: the agreement that finite ensembles of the target model itself reach.",
			Tables:  []report.Table{ct, cv},
			Figures: []report.Figure{{Name: n + "-agreement", Caption: "Agreement of the ensemble-mean predictions with the GCNN ensemble, over all rotations of the images.", Plot: agree}, {Name: n + "-distance", Caption: "Relative distance of the ensemble-mean logits to the GCNN ensemble's.", Plot: dist}, {Name: n + "-osp", Caption: "Orbit same predictions of CNN ensembles against ensemble size; the GCNN is exactly invariant.", Plot: osp}}},
	}
}

// modelsTable is the accuracy and OSP of every model of a dataset.
func modelsTable(res *datasetResult, dp *datasetParams, g *group.Group) report.Table {
	n := res.Name
	cols := []string{"model", "accuracy", "OSP test"}
	for _, o := range res.OODSets {
		cols = append(cols, "OSP "+o)
	}
	cols = append(cols, "chance OSP test")
	mt := report.Table{Name: n + "-models", Columns: cols}
	mt.Caption = fmt.Sprintf("%s: accuracy on %d test images and mean orbit same predictions (OSP, 1..%d) under %s; ± is the half-width of the 95%% bootstrap interval over images.", n, dp.TestSize, g.Order(), g.Name())
	for _, name := range modelOrder {
		ms, ok := res.Models[name]
		if !ok {
			continue
		}
		label := shortLabel(name)
		if strings.HasSuffix(name, "member") {
			label += fmt.Sprintf(" (mean of %d)", ms.Members)
		} else {
			label += fmt.Sprintf(" (%d)", membersOf(name, dp))
		}
		row := []string{label, experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2)}
		for _, o := range res.OODSets {
			row = append(row, experiment.PM(ms.OOD[o].OSP, 2))
		}
		row = append(row, experiment.F2(ms.ID.ChanceOSP))
		mt.Rows = append(mt.Rows, row)
	}
	return mt
}

// comparisonTables are the comparisons of the full ensembles and the
// curves against CNN ensemble size.
func comparisonTables(res *datasetResult, dp *datasetParams, g *group.Group) (ct, cv report.Table) {
	n := res.Name
	ct = report.Table{Name: n + "-compare", Caption: fmt.Sprintf("%s: agreement (share of orbit points with the same predicted class) and relative distance of the ensemble-mean logits, ||f_A − f_B|| / ||f_B||, on all %d rotations of each image; out of distribution pools %s.", n, g.Order(), strings.Join(res.OODSets, ", ")),
		Columns: []string{"A", "B", "agreement test", "agreement OOD", "distance test", "distance OOD"}}
	for _, c := range res.Compare {
		ct.Rows = append(ct.Rows, []string{fmt.Sprintf("%s (%d)", shortLabel(c.A), c.AMembers), fmt.Sprintf("%s (%d)", shortLabel(c.B), c.BMembers), experiment.PM(c.AgreeID, 3), experiment.PM(c.AgreeOOD, 3), experiment.PM(c.DistID, 3), experiment.PM(c.DistOOD, 3)})
	}
	cv = report.Table{Name: n + "-curve", Caption: fmt.Sprintf("%s: CNN ensembles of each size (means over up to 8 member subsets) against the GCNN ensemble of %d.", n, dp.GCNN.Members),
		Columns: []string{"CNN", "size", "agreement test", "agreement OOD", "distance test", "distance OOD", "OSP test", "OSP OOD", "accuracy"}}
	for _, c := range res.Curve {
		cv.Rows = append(cv.Rows, curveRow("DA", c))
	}
	for _, c := range res.NoAugCurve {
		cv.Rows = append(cv.Rows, curveRow("no DA", c))
	}
	return ct, cv
}

// curveRow is a row of the curve table.
func curveRow(cnn string, c curvePoint) []string {
	return []string{cnn, fmt.Sprint(c.Size), fmt.Sprintf("%.3f", c.AgreeID), fmt.Sprintf("%.3f", c.AgreeOOD), fmt.Sprintf("%.3f", c.DistID), fmt.Sprintf("%.3f", c.DistOOD), experiment.F2(c.OSPID), experiment.F2(c.OSPOOD), fmt.Sprintf("%.3f", c.Accuracy)}
}

// curveSeries are the series of one measure against CNN ensemble size,
// on test images (id) and out of distribution (ood): CNN+DA solid, then
// the CNN without augmentation dashed, if trained.
func curveSeries(res *datasetResult, id, ood func(curvePoint) float64) []report.Series {
	xs := func(cs []curvePoint) []float64 {
		var v []float64
		for _, c := range cs {
			v = append(v, float64(c.Size))
		}
		return v
	}
	ys := func(cs []curvePoint, f func(curvePoint) float64) []float64 {
		var v []float64
		for _, c := range cs {
			v = append(v, f(c))
		}
		return v
	}
	series := []report.Series{
		{Name: "CNN+DA, test", X: xs(res.Curve), Y: ys(res.Curve, id), Points: true, Color: 1},
		{Name: "CNN+DA, OOD", X: xs(res.Curve), Y: ys(res.Curve, ood), Points: true, Color: 2},
	}
	if len(res.NoAugCurve) > 0 {
		series = append(series,
			report.Series{Name: "CNN no DA, test", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, id), Points: true, Dashed: true, Color: 1},
			report.Series{Name: "CNN no DA, OOD", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, ood), Points: true, Dashed: true, Color: 2})
	}
	return series
}

// curvePlots are the agreement with the GCNN ensemble, the distance of the
// ensemble means and the OSP against CNN ensemble size. The two halves of
// the GCNN ensemble give the reference lines of the first two.
func curvePlots(res *datasetResult, dp *datasetParams, g *group.Group) (agree, dist, osp *report.Plot) {
	n := res.Name
	var half *comparison
	for i := range res.Compare {
		if res.Compare[i].A == "gcnn_half_a" {
			half = &res.Compare[i]
		}
	}
	zero, one := 0.0, 1.0
	agree = &report.Plot{Title: fmt.Sprintf("%s: CNN ensemble vs GCNN ensemble (%d)", n, dp.GCNN.Members), XLabel: "CNN ensemble size", YLabel: "agreement with the GCNN ensemble", LogX: true, YMin: &zero, YMax: &one,
		Series: curveSeries(res, func(c curvePoint) float64 { return c.AgreeID }, func(c curvePoint) float64 { return c.AgreeOOD })}
	dist = &report.Plot{Title: fmt.Sprintf("%s: distance of the ensemble means", n), XLabel: "CNN ensemble size", YLabel: "||f_CNN − f_GCNN|| / ||f_GCNN||", LogX: true, YMin: &zero,
		Series: curveSeries(res, func(c curvePoint) float64 { return c.DistID }, func(c curvePoint) float64 { return c.DistOOD })}
	if half != nil {
		agree.HLines = append(agree.HLines, report.RefLine{Y: half.AgreeOOD.Mean, Label: fmt.Sprintf("GCNN %d vs %d, OOD", half.AMembers, half.BMembers)})
		dist.HLines = append(dist.HLines, report.RefLine{Y: half.DistOOD.Mean, Label: fmt.Sprintf("GCNN %d vs %d, OOD", half.AMembers, half.BMembers)})
	}
	ymin, ymax := 1.0, float64(g.Order())+0.3
	osp = &report.Plot{Title: fmt.Sprintf("%s: orbit same predictions of CNN ensembles", n), XLabel: "CNN ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: &ymin, YMax: &ymax,
		Series: curveSeries(res, func(c curvePoint) float64 { return c.OSPID }, func(c curvePoint) float64 { return c.OSPOOD }),
		HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("GCNN = |G| = %d", g.Order())}}}
	return agree, dist, osp
}

// introText is the introduction of the report.
func introText(g *group.Group) string {
	var intro strings.Builder
	fmt.Fprintf(&intro, "A CNN trained on %s-rotated images is, as an infinite ensemble of infinitely wide networks, the same function as the roto-translation GCNN trained without augmentation whose kernel is the group average of the CNN's, Θ_GCNN(f, f') = (1/|G|) Σ_r Θ_CNN(f, ρ(r) f') (Gerken & Kessel 2024; docs/theory.md). ", g.Name())
	intro.WriteString("Here finite ensembles of CNNs trained with random rotations are compared with an ensemble of the GCNN that mirrors the CNN layer by layer (lift and group convolutions with identity support and the same channels per rotation, which is exactly the CNN averaged over the rotations of its input): how often the ensemble means predict the same class and how far apart their logits are, on every rotation of test images and of out-of-distribution images, as the CNN ensemble grows. A CNN ensemble trained without augmentation is the control. The kernel section checks the identity between the analytic kernels and the equality of the infinite-ensemble predictions.")
	return intro.String()
}

// missingSection says which datasets were skipped and why (sorted by
// name); it writes the same lines to the summary.
func missingSection(missing map[string]string, sum *strings.Builder) report.Section {
	var names []string
	for n := range missing {
		names = append(names, n)
	}
	slices.Sort(names)
	var lines []string
	for _, n := range names {
		lines = append(lines, fmt.Sprintf("%s was skipped: %s", n, missing[n]))
	}
	for _, l := range lines {
		fmt.Fprintf(sum, "%s\n", l)
	}
	return report.Section{Heading: "Missing datasets", Text: strings.Join(lines, "\n\n")}
}

// kernelsSection holds the kernels table, the rows of every dataset.
func kernelsSection(kernelRows [][]string) report.Section {
	kt := report.Table{Name: "kernels", Caption: "Kernel identity: max |k_avg − k_GCNN| / max |k_GCNN| between the analytic kernel of the CNN averaged over the group and that of the mirrored GCNN, and the same for the unaveraged CNN kernel (how far it is without averaging). NTK rows: infinite-ensemble predictions of the CNN trained on the whole orbit of the training images against the GCNN trained on the images alone.",
		Columns: []string{"dataset", "check", "inputs", "result"}, Rows: kernelRows}
	return report.Section{Heading: "Kernels", Text: "The CNN kernels here use average pooling (max pooling has no infinite-width kernel) on images of the size in the table (the quick scale pools them, the full scale runs them at full size; the cost per pair grows like (|G|HW)²); the GCNN mirrors each CNN as above. The NTK rows compare the means of infinite ensembles of infinitely wide networks trained by gradient flow on the MSE with centred one-hot targets: the CNN on all |G| rotations of N images with ridge r, the GCNN on the N images with ridge r/|G|, which makes the two means equal at every training time t (t counts gradient-descent steps at learning rate 1 with the normalisation of docs/predict.md; the finite t shown is one unit of the kernel's mean diagonal). The CNN trained on the N images alone is the control.", Tables: []report.Table{kt}}
}
