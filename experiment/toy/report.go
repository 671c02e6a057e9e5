package toy

// This file builds the report (panels, curves over training, ensemble size
// and width, tables and texts) and writes tables/toy_predictions.csv.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/report"
)

// writePredictions writes tables/toy_predictions.csv: the ground truth and
// every panel's curves on the grid.
func writePredictions(out string, x, truth []float64, panels []panel) error {
	var b strings.Builder
	b.WriteString("x,truth")
	for _, pn := range panels {
		fmt.Fprintf(&b, ",ensemble_da_t%d,ntk_da_t%d,ensemble_noaug_t%d,ntk_noaug_t%d", pn.Step, pn.Step, pn.Step, pn.Step)
		for j := range pn.MembersDA {
			fmt.Fprintf(&b, ",member%d_da_t%d", j, pn.Step)
		}
	}
	b.WriteString("\n")
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for i := range x {
		b.WriteString(g(x[i]) + "," + g(truth[i]))
		for _, pn := range panels {
			b.WriteString("," + g(pn.EnsembleDA[i]) + "," + g(pn.NTKDA[i]) + "," + g(pn.EnsembleNoAug[i]) + "," + g(pn.NTKNoAug[i]))
			for _, mf := range pn.MembersDA {
				b.WriteString("," + g(mf[i]))
			}
		}
		b.WriteString("\n")
	}
	if err := os.MkdirAll(filepath.Join(out, "tables"), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(out, "tables", "toy_predictions.csv"), []byte(b.String()), atomicfile.DefaultPerm)
}

// isolated returns x, y with NaN between the points, so that a line series
// draws them as isolated markers.
func isolated(x, y []float64) ([]float64, []float64) {
	var ox, oy []float64
	for i := range x {
		if i > 0 {
			ox, oy = append(ox, math.NaN()), append(oy, math.NaN())
		}
		ox, oy = append(ox, x[i]), append(oy, y[i])
	}
	return ox, oy
}

func (s *study) report(panels []panel, curve []curvePoint, sizes []sizePoint, widths []widthPoint, ntkRel float64) *report.Report {
	p := s.p
	fin := curve[len(curve)-1]
	symPlot, distPlot, rmsePlot := trainingPlots(p, curve)
	sections := []report.Section{
		{Heading: "Summary", Text: s.measuredText(fin, sizes, ntkRel), Tables: []report.Table{finalTable(p, fin)}},
		{Heading: "Training dynamics", Text: fmt.Sprintf("Ground truth, %d members (dashed), the ensemble mean and the NTK mean at the chosen steps, as in the talk's figure. ", min(p.Shown, p.Members)) + timeNote(curve), Figures: s.panelFigures(panels)},
		{Heading: "Symmetry over training", Text: symmetryText(p, curve),
			Figures: []report.Figure{
				{Name: "toy_symmetry", Caption: "Symmetry error mean_x |f(x) − f(−x)| on the grid over training.", Plot: symPlot},
				{Name: "toy_distance", Caption: "RMS distance between the ensemble mean and the NTK mean μ_t at the same step.", Plot: distPlot},
				{Name: "toy_rmse", Caption: "RMSE against the ground truth on the whole grid (both sides).", Plot: rmsePlot},
			},
			Tables: []report.Table{curveTable(curve)}},
		{Heading: "Ensemble size", Text: sizeText(sizes),
			Figures: []report.Figure{{Name: "toy_sizes", Caption: "Symmetry error and distance to the NTK mean after the last step against ensemble size.", Plot: sizePlot(p, sizes)}},
			Tables:  []report.Table{sizesTable(p, sizes)}},
	}
	if len(widths) > 0 {
		sections = append(sections, widthSection(p, widths))
	}
	sections = append(sections, report.Section{Heading: "Files", Text: "tables/toy_predictions.csv holds the ground truth and every panel's curves on the grid; results.json documents its keys in experiment/toy/doc.go."})
	return &report.Report{Title: "Toy regression: emergent symmetry of augmented ensembles", Intro: s.introText(), Sections: sections}
}

// panelFigures are the panels of the talk's figure (members, ensemble mean
// and NTK mean with augmentation at each panel step) and the unaugmented
// ensemble at the last panel.
func (s *study) panelFigures(panels []panel) []report.Figure {
	p, x, truth := s.p, s.gridX, s.truth
	ylo, yhi := -2.0, 2.0
	tx, ty := isolated(experiment.ToF64(s.tr.X), experiment.ToF64(s.tr.Y))
	neg := experiment.ToF64(s.tr.X)
	for i := range neg {
		neg[i] = -neg[i]
	}
	mx, my := isolated(neg, experiment.ToF64(s.tr.Y))
	var figs []report.Figure
	for _, pn := range panels {
		pl := &report.Plot{Title: pn.Title, XLabel: "x", YLabel: "f(x)", YMin: &ylo, YMax: &yhi}
		pl.Series = append(pl.Series, report.Series{Name: "Ground Truth", X: x, Y: truth, Color: 7})
		for j, mf := range pn.MembersDA {
			s := report.Series{X: x, Y: mf, Dashed: true, Color: 6}
			if j == 0 {
				s.Name = fmt.Sprintf("MLP (%d of %d members)", len(pn.MembersDA), p.Members)
			}
			pl.Series = append(pl.Series, s)
		}
		pl.Series = append(pl.Series,
			report.Series{Name: fmt.Sprintf("Ensemble Mean (%d)", p.Members), X: x, Y: pn.EnsembleDA, Color: 1},
			report.Series{Name: "NTK mean μ_t", X: x, Y: pn.NTKDA, Dashed: true, Color: 4},
			report.Series{Name: "training points", X: tx, Y: ty, Points: true, Color: 3},
			report.Series{Name: "mirror images (augmentation)", X: mx, Y: my, Points: true, Color: 5},
		)
		caption := pn.Title + "."
		if len(figs) == 0 {
			caption = pn.Title + ", full Z2 augmentation: the networks are trained on the training points (green) and their mirror images (−x, y) (purple)."
		}
		figs = append(figs, report.Figure{Name: fmt.Sprintf("toy_step%d", pn.Step), Caption: caption, Plot: pl})
	}
	// The unaugmented ensemble at the last panel.
	lp := panels[len(panels)-1]
	noPlot := &report.Plot{Title: lp.Title + ", no augmentation", XLabel: "x", YLabel: "f(x)", YMin: &ylo, YMax: &yhi,
		Series: []report.Series{
			{Name: "Ground Truth", X: x, Y: truth, Color: 7},
			{Name: fmt.Sprintf("Ensemble Mean, no DA (%d)", p.NoAugMembers), X: x, Y: lp.EnsembleNoAug, Color: 2},
			{Name: "NTK mean, no DA", X: x, Y: lp.NTKNoAug, Dashed: true, Color: 4},
			{Name: "Ensemble Mean + DA", X: x, Y: lp.EnsembleDA, Color: 1},
			{Name: "training points", X: tx, Y: ty, Points: true, Color: 3},
		}}
	return append(figs, report.Figure{Name: "toy_noaug", Caption: "Without augmentation the ensemble (and the NTK) fit the training side and are not symmetric on the other; the augmented ensemble mean is shown for comparison.", Plot: noPlot})
}

// trainingPlots are the curves over training steps (log axes; step 0
// cannot be shown): symmetry error, distance to the NTK mean and RMSE.
func trainingPlots(p *params, curve []curvePoint) (symPlot, distPlot, rmsePlot *report.Plot) {
	var st []float64
	col := func(f func(c curvePoint) float64) []float64 {
		out := make([]float64, len(curve))
		for i, c := range curve {
			out[i] = f(c)
		}
		return out
	}
	for _, c := range curve {
		st = append(st, float64(c.Step))
	}
	symPlot = &report.Plot{Title: "Symmetry error over training", XLabel: "training step (log; initialisation not shown)", YLabel: "mean |f(x) − f(−x)| on the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: "single member + DA", X: st, Y: col(func(c curvePoint) float64 { return c.SymMemberDA }), Points: true, Color: 6},
			{Name: fmt.Sprintf("ensemble of %d + DA", p.Members), X: st, Y: col(func(c curvePoint) float64 { return c.SymEnsembleDA }), Points: true, Color: 1},
			{Name: "NTK + DA", X: st, Y: col(func(c curvePoint) float64 { return c.SymNTKDA }), Points: true, Color: 4},
			{Name: "single member, no DA", X: st, Y: col(func(c curvePoint) float64 { return c.SymMemberNoAug }), Dashed: true, Color: 5},
			{Name: fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), X: st, Y: col(func(c curvePoint) float64 { return c.SymEnsembleNoAug }), Dashed: true, Color: 2},
		}}
	distPlot = &report.Plot{Title: "Ensemble mean vs NTK mean", XLabel: "training step (log)", YLabel: "RMS of ensemble mean − μ_t on the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: fmt.Sprintf("+ DA, %d members", p.Members), X: st, Y: col(func(c curvePoint) float64 { return c.DistEnsNTKDA }), Points: true, Color: 1},
			{Name: fmt.Sprintf("no DA, %d members", p.NoAugMembers), X: st, Y: col(func(c curvePoint) float64 { return c.DistEnsNTKNoAug }), Points: true, Dashed: true, Color: 2},
			{Name: "NTK: discrete vs continuous time", X: st, Y: col(func(c curvePoint) float64 { return c.DistNTKDiscCont }), Points: true, Dashed: true, Color: 7},
		}}
	rmsePlot = &report.Plot{Title: "Error against the ground truth", XLabel: "training step (log)", YLabel: "RMSE on the grid [−3, 3]", LogX: true,
		Series: []report.Series{
			{Name: "single member + DA", X: st, Y: col(func(c curvePoint) float64 { return c.RMSEMemberDA }), Points: true, Color: 6},
			{Name: "ensemble + DA", X: st, Y: col(func(c curvePoint) float64 { return c.RMSEEnsembleDA }), Points: true, Color: 1},
			{Name: "NTK + DA", X: st, Y: col(func(c curvePoint) float64 { return c.RMSENTKDA }), Dashed: true, Color: 4},
			{Name: "ensemble, no DA", X: st, Y: col(func(c curvePoint) float64 { return c.RMSEEnsembleNoAug }), Points: true, Color: 2},
			{Name: "NTK, no DA", X: st, Y: col(func(c curvePoint) float64 { return c.RMSENTKNoAug }), Dashed: true, Color: 5},
		}}
	return symPlot, distPlot, rmsePlot
}

// sizePlot shows the last step against ensemble size, with a 1/√M guide.
func sizePlot(p *params, sizes []sizePoint) *report.Plot {
	var sx, sDA, sNo, dDA, dNo, guide []float64
	for _, s := range sizes {
		sx = append(sx, float64(s.Size))
		sDA = append(sDA, s.SymEnsembleDA)
		sNo = append(sNo, orNaN(s.SymEnsembleNoAug))
		dDA = append(dDA, s.DistNTKDA)
		dNo = append(dNo, orNaN(s.DistNTKNoAug))
	}
	if len(sizes) > 0 {
		for _, s := range sizes {
			guide = append(guide, sizes[0].SymEnsembleDA*math.Sqrt(float64(sizes[0].Size)/float64(s.Size)))
		}
	}
	return &report.Plot{Title: fmt.Sprintf("Ensemble size after %d steps", p.Steps), XLabel: "ensemble size M", YLabel: "mean over the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: "symmetry error + DA", X: sx, Y: sDA, Points: true, Color: 1},
			{Name: "symmetry error, no DA", X: sx, Y: sNo, Points: true, Color: 2},
			{Name: "RMS distance to NTK + DA", X: sx, Y: dDA, Points: true, Dashed: true, Color: 3},
			{Name: "RMS distance to NTK, no DA", X: sx, Y: dNo, Points: true, Dashed: true, Color: 5},
			{Name: "∝ 1/√M", X: sx, Y: guide, Dashed: true, Color: 7},
		}}
}

// curveTable is the table over training steps.
func curveTable(curve []curvePoint) report.Table {
	g := experiment.G3
	t := report.Table{Name: "curve", Caption: "Over training: symmetry error mean |f(x) − f(−x)| on the grid (member: mean over members), RMS distance of ensemble mean and NTK mean, and RMSE against the ground truth.",
		Columns: []string{"step", "sym member+DA", "sym ensemble+DA", "sym NTK+DA", "sym NTK+DA (cont.)", "sym member no DA", "sym ensemble no DA", "sym NTK no DA", "ens−NTK +DA", "ens−NTK no DA", "NTK disc−cont", "RMSE ens+DA", "RMSE NTK+DA", "RMSE ens no DA"}}
	for _, c := range curve {
		t.Rows = append(t.Rows, []string{strconv.Itoa(c.Step), g(c.SymMemberDA), g(c.SymEnsembleDA), g(c.SymNTKDA), g(c.SymNTKDACont), g(c.SymMemberNoAug), g(c.SymEnsembleNoAug), g(c.SymNTKNoAug),
			g(c.DistEnsNTKDA), g(c.DistEnsNTKNoAug), g(c.DistNTKDiscCont), g(c.RMSEEnsembleDA), g(c.RMSENTKDA), g(c.RMSEEnsembleNoAug)})
	}
	return t
}

// finalTable compares the models after the last step.
func finalTable(p *params, fin curvePoint) report.Table {
	g := experiment.G3
	t := report.Table{Name: "final", Caption: fmt.Sprintf("After %d steps.", p.Steps), Columns: []string{"model", "symmetry error", "RMSE vs ground truth", "RMS distance to its NTK mean"}}
	t.Rows = [][]string{
		{"single member + DA (mean over members)", g(fin.SymMemberDA), g(fin.RMSEMemberDA), "—"},
		{fmt.Sprintf("ensemble of %d + DA", p.Members), g(fin.SymEnsembleDA), g(fin.RMSEEnsembleDA), g(fin.DistEnsNTKDA)},
		{"NTK + DA (infinite ensemble)", g(fin.SymNTKDA), g(fin.RMSENTKDA), "0"},
		{"single member, no DA (mean over members)", g(fin.SymMemberNoAug), "—", "—"},
		{fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), g(fin.SymEnsembleNoAug), g(fin.RMSEEnsembleNoAug), g(fin.DistEnsNTKNoAug)},
		{"NTK, no DA", g(fin.SymNTKNoAug), g(fin.RMSENTKNoAug), "0"},
	}
	return t
}

// sizesTable is the table against ensemble size.
func sizesTable(p *params, sizes []sizePoint) report.Table {
	g := experiment.G3
	t := report.Table{Name: "sizes", Caption: fmt.Sprintf("After %d steps, against ensemble size (averaged over up to 8 groups of members).", p.Steps), Columns: []string{"M", "groups", "sym ensemble+DA", "sym ensemble no DA", "ens−NTK +DA", "ens−NTK no DA"}}
	for _, s := range sizes {
		t.Rows = append(t.Rows, []string{strconv.Itoa(s.Size), strconv.Itoa(s.Subsets), g(s.SymEnsembleDA), g(orNaN(s.SymEnsembleNoAug)), g(s.DistNTKDA), g(orNaN(s.DistNTKNoAug))})
	}
	return t
}

// widthSection is the report section on width.
func widthSection(p *params, widths []widthPoint) report.Section {
	var wx, wd, ws, wm []float64
	wt := report.Table{Name: "widths", Caption: fmt.Sprintf("After %d steps, against width, at %d members per ensemble (the main width averaged over groups of its members).", p.Steps, p.WidthMembers),
		Columns: []string{"width", "members", "sym member+DA", "sym ensemble+DA", "ens−NTK +DA", "RMSE ensemble+DA"}}
	for _, w := range widths {
		wx = append(wx, float64(w.Width))
		wd = append(wd, w.DistNTKDA)
		ws = append(ws, w.SymEnsembleDA)
		wm = append(wm, w.SymMemberDA)
		wt.Rows = append(wt.Rows, []string{strconv.Itoa(w.Width), strconv.Itoa(w.Members), experiment.G3(w.SymMemberDA), experiment.G3(w.SymEnsembleDA), experiment.G3(w.DistNTKDA), experiment.G3(w.RMSEEnsembleDA)})
	}
	widthText := "At a fixed number of members the distance between the ensemble mean and μ_t combines the ensemble's sampling noise (which does not shrink with width) and the systematic deviation of finite-width training from the infinite-width kernel dynamics (which does, as the NTK stops moving during training)."
	var dl, sl []string
	for _, w := range widths {
		dl = append(dl, fmt.Sprintf("%d: %.3g", w.Width, w.DistNTKDA))
		sl = append(sl, fmt.Sprintf("%d: %.3g", w.Width, w.SymMemberDA))
	}
	widthText += fmt.Sprintf(" Measured distance by width: %s; single members' symmetry error by width: %s.", strings.Join(dl, ", "), strings.Join(sl, ", "))
	wPlot := &report.Plot{Title: fmt.Sprintf("Width, %d members per ensemble", p.WidthMembers), XLabel: "width (hidden units per layer)", YLabel: "mean over the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: "symmetry error, member + DA", X: wx, Y: wm, Points: true, Color: 6},
			{Name: "symmetry error, ensemble + DA", X: wx, Y: ws, Points: true, Color: 1},
			{Name: "RMS distance ensemble − NTK", X: wx, Y: wd, Points: true, Dashed: true, Color: 3},
		}}
	return report.Section{Heading: "Width", Text: widthText,
		Figures: []report.Figure{{Name: "toy_widths", Caption: "Symmetry error and distance to the NTK mean against width.", Plot: wPlot}}, Tables: []report.Table{wt}}
}

// introText is the report's introduction: the setting and the theory.
func (s *study) introText() string {
	p := s.p
	return fmt.Sprintf("The toy example of the talk. Ground truth cos(3x)·exp(−x²/4), even in x. %d training points, %s; an ensemble of %d MLPs %s (NTK parametrisation) trained by full-batch gradient descent (learning rate %g, MSE loss 1/(2N) Σ (f − y)², %d steps) with full Z2 augmentation, i.e. on the %d points and their mirror images. "+
		"The NTK mean μ_t is the infinite ensemble of infinitely wide networks of the same architecture after the same number t of gradient-descent steps: the exact infinite-width dynamics under discrete gradient descent, f ← f − (η/N) Θ(·, X)(f(X) − Y) from f = 0 (η λ_max/N = %.2f for the augmented set, %.2f without). "+
		"The theory (Gerken & Kessel 2024) says μ_t is exactly symmetric for every t, on and off the data, and that finite augmented ensembles are approximately symmetric, more so than their members, and approach μ_t as they grow. An ensemble of %d trained without augmentation is the comparison.",
		p.TrainSize, sidesText(p.NegativeFraction), p.Members, s.spec, p.LR, p.Steps, p.TrainSize, s.ratioDA, s.ratioNo, p.NoAugMembers)
}

// measuredText states the main measurements after the last step.
func (s *study) measuredText(fin curvePoint, sizes []sizePoint, ntkRel float64) string {
	p := s.p
	measured := fmt.Sprintf("Measured after %d steps: symmetry error %.3g for single augmented members, %.3g for their ensemble of %d (%.1f× smaller), %.2g for the NTK; without augmentation %.3g for the ensemble. "+
		"The largest NTK symmetry error over all recorded steps, relative to the size of μ_t, is %.1e (discrete and continuous time): exact symmetry up to round-off. "+
		"The ensemble mean is %.3g (RMS) from μ_t at the last step.",
		p.Steps, fin.SymMemberDA, fin.SymEnsembleDA, p.Members, fin.SymMemberDA/fin.SymEnsembleDA, fin.SymNTKDA, fin.SymEnsembleNoAug, ntkRel, fin.DistEnsNTKDA)
	if len(sizes) > 1 {
		a, b := sizes[0], sizes[len(sizes)-1]
		measured += fmt.Sprintf(" From M = %d to M = %d the augmented ensemble's symmetry error falls from %.3g to %.3g (1/√M would give %.3g) and its distance to μ_t from %.3g to %.3g.",
			a.Size, b.Size, a.SymEnsembleDA, b.SymEnsembleDA, a.SymEnsembleDA*math.Sqrt(float64(a.Size)/float64(b.Size)), a.DistNTKDA, b.DistNTKDA)
	}
	return measured
}

// timeNote compares the NTK mean in discrete and continuous time.
func timeNote(curve []curvePoint) string {
	return fmt.Sprintf("The predict.Regressor mean in continuous time (exponent −η t Θ/N) is also computed; it differs from the discrete-step μ_t mostly in the first steps (largest RMS difference %.3g) and is just as symmetric. Discrete gradient descent is what the networks do, so the panels show the discrete μ_t.", maxOver(curve, func(c curvePoint) float64 { return c.DistNTKDiscCont }))
}

// symmetryText describes the symmetry error over training.
func symmetryText(p *params, curve []curvePoint) string {
	first, fin := curve[0], curve[len(curve)-1]
	return fmt.Sprintf("The symmetry error of single augmented members falls during training, from %.3g at initialisation to %.3g after %d steps, but stays %.1f× above that of their ensemble mean (%.3g); the NTK mean is symmetric to round-off at every step (points at 1e-15 and below; the exact zero at initialisation is not drawn on the log axis). Without augmentation neither members (%.3g) nor the ensemble (%.3g) become symmetric.",
		first.SymMemberDA, fin.SymMemberDA, p.Steps, fin.SymMemberDA/fin.SymEnsembleDA, fin.SymEnsembleDA, fin.SymMemberNoAug, fin.SymEnsembleNoAug)
}

// sizeText describes the ensemble-size study.
func sizeText(sizes []sizePoint) string {
	text := "Finite augmented ensembles are only approximately symmetric; the symmetry error of the ensemble mean falls with the number of members M (a mean of M independent, individually asymmetric members; the distribution of trained networks is itself symmetric at any width, so the limit M → ∞ is exactly symmetric)."
	if len(sizes) > 1 {
		a, b := sizes[0], sizes[len(sizes)-1]
		text += fmt.Sprintf(" Measured: from M = %d to %d the symmetry error falls %.1f× (1/√M: %.1f×), the RMS distance to μ_t %.2f×: ", a.Size, b.Size, a.SymEnsembleDA/b.SymEnsembleDA, math.Sqrt(float64(b.Size)/float64(a.Size)), a.DistNTKDA/b.DistNTKDA)
		if a.DistNTKDA/b.DistNTKDA < 1.5 {
			text += "the distance hardly shrinks, because at this width it is dominated by the systematic finite-width deviation of the trained networks from the kernel dynamics, which averaging does not remove (see Width)."
		} else {
			text += "averaging removes the members' fluctuations around μ_t."
		}
	}
	return text
}

func sidesText(neg float64) string {
	if neg == 0 {
		return "all with x > 0 (none on the negative side)"
	}
	return fmt.Sprintf("a fraction %g of them with x < 0", neg)
}

func maxOver(c []curvePoint, f func(curvePoint) float64) float64 {
	var m float64
	for _, v := range c {
		m = max(m, f(v))
	}
	return m
}

// orNaN returns *v, or NaN for nil (a gap in plots, "—" in tables).
func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}
