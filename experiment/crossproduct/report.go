package crossproduct

// This file builds the report: the summary table, the curves against
// ensemble size, the bars per model, the identity checks and the texts.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/report"
)

// optName describes the optimiser of the trained MLPs.
func optName(m experiment.ModelParams) string {
	s := fmt.Sprintf("%s (lr %g", m.Optimizer.Name, m.Optimizer.LR)
	if m.BatchSize > 0 {
		s += fmt.Sprintf(", batch %d", m.BatchSize)
	}
	return s + fmt.Sprintf(", %d steps)", m.Steps)
}

type groupJSON struct {
	Name   string `json:"name"`
	Order  int    `json:"order"`
	Closed bool   `json:"closed"`
}

// groupsJSON is results.json's "groups".
func groupsJSON(runs []*augRun) []groupJSON {
	out := []groupJSON{}
	for _, r := range runs {
		out = append(out, groupJSON{Name: r.g.Name(), Order: r.g.Order(), Closed: r.g.Closed()})
	}
	return out
}

// pm formats an estimate as "mean ± half-width", NaN as a dash.
func pm(e metrics.Estimate) string {
	if math.IsNaN(e.Mean) {
		return "—"
	}
	return fmt.Sprintf("%s ± %s", experiment.G3(e.Mean), strconv.FormatFloat((e.Hi-e.Lo)/2, 'g', 2, 64))
}

// pmOpt is pm of an optional estimate, nil as a dash.
func pmOpt(e *metrics.Estimate) string {
	if e == nil {
		return "—"
	}
	return pm(*e)
}

func buildReport(p *params, eg *group.Group, runs []*augRun, tab *modelTable, curve []curvePoint, checks []identityCheck, ntkNote string) *report.Report {
	eqPlot, msePlot, ct := sizeFigures(eg, runs, tab, curve)
	sections := []report.Section{
		{Heading: "Summary", Text: measuredText(tab.models, runs) + "\n\n" + ntkNote, Tables: []report.Table{summaryTable(p, eg, tab)}},
		{Heading: "Ensemble size", Text: "Averages over up to 8 groups of members; horizontal lines: the NTK (infinite ensemble) with the same augmentation, drawn at its on-manifold value.",
			Figures: []report.Figure{
				{Name: "cp_eq_vs_size", Caption: "Relative equivariance error under unseen rotations against ensemble size, on (solid) and off (dashed) the data manifold.", Plot: eqPlot},
				{Name: "cp_mse_vs_size", Caption: "Relative MSE against ensemble size.", Plot: msePlot},
			}, Tables: []report.Table{ct}},
		{Heading: "Models", Figures: []report.Figure{{Name: "cp_eq_models", Caption: "Relative equivariance error per model with 95% intervals (log scale).", Plot: modelBars(tab)}}},
	}
	if len(checks) > 0 {
		sections = append(sections, report.Section{Heading: "NTK with partial augmentation", Text: identityText, Tables: []report.Table{checksTable(checks)}})
	}
	return &report.Report{Title: "Emergent SO(3) equivariance: cross products", Intro: introText(p, eg, runs), Sections: sections}
}

// summaryTable is the table of every model's relative MSE and equivariance
// errors.
func summaryTable(p *params, eg *group.Group, tab *modelTable) report.Table {
	t := report.Table{Name: "summary", Caption: fmt.Sprintf("Relative MSE Σ||f(x) − y||²/Σ||y||² and relative equivariance error mean ||f(Rx) − R f(x)|| / mean ||f(x)|| under %d Haar-random rotations never trained on (eq) and under the augmentation set's own rotations (eq, train rot.), on %d test points from the training distribution (on) and %d off-manifold points with |u| = |v| = 3 (off). ±: half-width of the 95%% bootstrap interval over test points. Members: the mean over the members of each ensemble (%d with augmentation, %d without); ensembles: all members; NTK: the infinite ensemble at t = ∞.", eg.Order()-1, p.TestSize, p.OODSize, p.MLP.Members, p.NoAugMembers),
		Columns: []string{"model", "rel. MSE on", "rel. MSE off", "eq on", "eq off", "eq on, train rot.", "eq off, train rot."}}
	for _, name := range tab.order {
		m := tab.models[name]
		t.Rows = append(t.Rows, []string{rowLabel(name, m), pm(m.On.RelMSE), pm(m.Off.RelMSE), pm(m.On.EqErr), pm(m.Off.EqErr), pmOpt(m.On.EqErrTrain), pmOpt(m.Off.EqErrTrain)})
	}
	return t
}

// sizeFigures are the plots of the equivariance error and the relative MSE
// against ensemble size (NTK values as horizontal lines) and their table.
func sizeFigures(eg *group.Group, runs []*augRun, tab *modelTable, curve []curvePoint) (eqPlot, msePlot *report.Plot, ct report.Table) {
	eqPlot = &report.Plot{Title: "Equivariance error vs ensemble size", XLabel: "ensemble size M", YLabel: fmt.Sprintf("relative equivariance error (%d unseen rotations)", eg.Order()-1), LogX: true, LogY: true}
	msePlot = &report.Plot{Title: "Relative MSE vs ensemble size", XLabel: "ensemble size M", YLabel: "Σ||f(x) − y||² / Σ||y||²", LogX: true, LogY: true}
	ct = report.Table{Name: "curve", Caption: "Against ensemble size: relative equivariance error and relative MSE, averaged over up to 8 groups of members.", Columns: []string{"augmentation", "M", "groups", "eq on", "eq off", "rel. MSE on", "rel. MSE off"}}
	names := []string{"none"}
	for _, r := range runs {
		names = append(names, r.g.Name())
	}
	for ci, gname := range names {
		var xs, on, off, mon, moff []float64
		for _, c := range curve {
			if c.Group != gname {
				continue
			}
			xs = append(xs, float64(c.Size))
			on, off = append(on, c.EqOn), append(off, c.EqOff)
			mon, moff = append(mon, c.RelMSEOn), append(moff, c.RelMSEOff)
			ct.Rows = append(ct.Rows, []string{gname, strconv.Itoa(c.Size), strconv.Itoa(c.Subsets), experiment.G3(c.EqOn), experiment.G3(c.EqOff), experiment.G3(c.RelMSEOn), experiment.G3(c.RelMSEOff)})
		}
		lbl := "no DA"
		col := 2
		if gname != "none" {
			lbl = "DA " + gname
			col = []int{1, 3, 5, 6, 4}[(ci-1)%5]
		}
		eqPlot.Series = append(eqPlot.Series,
			report.Series{Name: lbl + ", on manifold", X: xs, Y: on, Points: true, Color: col},
			report.Series{Name: lbl + ", off manifold", X: xs, Y: off, Points: true, Dashed: true, Color: col})
		msePlot.Series = append(msePlot.Series,
			report.Series{Name: lbl + ", on manifold", X: xs, Y: mon, Points: true, Color: col},
			report.Series{Name: lbl + ", off manifold", X: xs, Y: moff, Points: true, Dashed: true, Color: col})
	}
	for _, r := range runs {
		if m, ok := tab.models["ntk_da_"+r.g.Name()]; ok {
			eqPlot.HLines = append(eqPlot.HLines,
				report.RefLine{Y: m.On.EqErr.Mean, Label: fmt.Sprintf("NTK + DA %s (on %.3g, off %.3g)", r.g.Name(), m.On.EqErr.Mean, m.Off.EqErr.Mean)})
		}
	}
	return eqPlot, msePlot, ct
}

// modelBars is the bar plot of the equivariance error per model.
func modelBars(tab *modelTable) *report.Plot {
	var labels []string
	var bOn, bOnLo, bOnHi, bOff, bOffLo, bOffHi []float64
	for _, name := range tab.order {
		m := tab.models[name]
		labels = append(labels, shortLabel(name))
		bOn, bOnLo, bOnHi = append(bOn, m.On.EqErr.Mean), append(bOnLo, m.On.EqErr.Lo), append(bOnHi, m.On.EqErr.Hi)
		bOff, bOffLo, bOffHi = append(bOff, m.Off.EqErr.Mean), append(bOffLo, m.Off.EqErr.Lo), append(bOffHi, m.Off.EqErr.Hi)
	}
	return &report.Plot{Title: "Equivariance error by model", Kind: report.KindBar, YLabel: "relative equivariance error", LogY: true,
		Series: []report.Series{
			{Name: "on manifold", Labels: labels, Y: bOn, Lo: bOnLo, Hi: bOnHi},
			{Name: "off manifold", Labels: labels, Y: bOff, Lo: bOffLo, Hi: bOffHi},
		}}
}

// checksTable is the table of the kernel identity checks.
func checksTable(checks []identityCheck) report.Table {
	t := report.Table{Name: "ntk_checks", Caption: "Kernel identities on a subset of the training points: max |difference| / max |μ| between the prediction of the matrix-valued averaged kernel K̄(x, x') = (1/|S|) Σ_s Θ(x, ρ(s)x') ρ_Y(s) on n points (symmetrised where it is not symmetric) and kernel regression on the n·|S| augmented points, at t = ∞ and at a finite t; and the relative equivariance error of both predictions under the set's own rotations.",
		Columns: []string{"set S", "closed", "n", "route of the NTK rows", "K̄ asymmetry", "min/max eigenvalue of K̄", "averaged vs augmented, t = ∞", "at t", "t", "eq. error under S, augmented", "eq. error under S, averaged"}}
	e2 := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.2g", *v)
	}
	for _, c := range checks {
		t.Rows = append(t.Rows, []string{c.Group, strconv.FormatBool(c.Closed), strconv.Itoa(c.N), c.Route, fmt.Sprintf("%.2g", c.AvgAsymmetry), fmt.Sprintf("%.2g", c.AvgMinEig), e2(c.DiffInf), e2(c.DiffT), fmt.Sprintf("%g", c.CheckT), fmt.Sprintf("%.2g", c.EqOwnGroup), e2(c.EqOwnGroupAv)})
	}
	return t
}

// introText is the report's introduction: the task, the training and what
// the theory predicts.
func introText(p *params, eg *group.Group, runs []*augRun) string {
	var gnames []string
	for _, r := range runs {
		gnames = append(gnames, fmt.Sprintf("%s (%d rotations, %s)", r.g.Name(), r.g.Order(), map[bool]string{true: "a group", false: "not closed under composition"}[r.g.Closed()]))
	}
	return fmt.Sprintf("Emergent SO(3) equivariance on the cross-product task: inputs (u, v) ∈ R⁶ with u, v ~ N(0, I₃), target u × v, which rotates with the inputs: (Ru) × (Rv) = R(u × v). Ensembles of %d MLPs %s (%s parametrisation) are trained on %d samples with %s, MSE loss, with partial augmentation by the rotation sets %s (each sample of each batch is rotated by a random element of the set, its target with it), and %d MLPs without augmentation. "+
		"Equivariance is measured under %d Haar-random rotations (%s, a different seed from any training set), on test data from the training distribution and off the manifold (u, v uniform on the sphere of radius 3). "+
		"What the theory predicts: for a group G ⊂ SO(3) (oct) the infinite augmented ensemble is exactly G-equivariant, on and off the data, but not SO(3)-equivariant; for a set that is not a group (a random sample) not even equivariance under the set itself is exact; under all of SO(3) both are only approximately equivariant, the better the denser the set. Finite ensembles are more equivariant than their members and approach the infinite ensemble as they grow.",
		p.MLP.Members, p.MLP.Arch, p.MLP.Param, p.TrainSize, optName(p.MLP), strings.Join(gnames, ", "), p.NoAugMembers, eg.Order()-1, eg.Name())
}

// identityText explains the section on the kernel identity checks.
const identityText = "Why the averaged kernel needs care: with augmentation by a set S the infinite ensemble is kernel regression on the n·|S| augmented points (X_S, Y_S) with Y_S = {ρ_Y(s) y_i}. " +
	"If S = G is a group acting orthogonally, Θ(ρ(g)x, ρ(h)x') = Θ(x, ρ(g⁻¹h)x') for an MLP, so the augmented kernel matrix maps the equivariant vectors F(g, i) = ρ_Y(g) f_i to equivariant vectors, acting on f as |G| K̄ with the matrix-valued kernel K̄(x, x') = (1/|G|) Σ_g Θ(x, ρ(g)x') ρ_Y(g) (3×3 blocks; symmetric as a 3n×3n matrix). Y_G lies in that subspace, so μ_t(x) = K̄(x, X) K̄⁻¹ (I − e^{−η t K̄/n}) y exactly: regression on the n original points with K̄, the learning rate becoming 3η for the 3n flattened targets and a regulariser r becoming r/|G|. " +
	"Without the ρ_Y(g) factor (the scalar averaged kernel) this holds only for invariant targets. For a set S that is not a group none of this holds: the S-averaged K̄ is not even symmetric (its transpose averages over S⁻¹), and the augmented prediction is not S-equivariant either (ρ(s)X_S ≠ X_S). The checks below confirm both: for a group the two routes agree to round-off and the prediction is equivariant under the group to round-off; for a sample they differ. The NTK rows therefore use the averaged kernel for groups (3n×3n instead of n|G|×n|G|) and the augmented set otherwise."

// shortLabel is a model's label on the bar plot.
func shortLabel(name string) string {
	r := strings.NewReplacer("member_da_", "member+DA ", "ensemble_da_", "ens.+DA ", "ntk_da_", "NTK+DA ", "member_noaug", "member, no DA", "ensemble_noaug", "ens., no DA", "ntk_noaug", "NTK, no DA")
	return r.Replace(name)
}

// measuredText states the main measurements, including where the
// expectations fail.
func measuredText(models map[string]modelRow, runs []*augRun) string {
	var b strings.Builder
	no, nm := models["ensemble_noaug"], models["member_noaug"]
	fmt.Fprintf(&b, "Without augmentation: equivariance error %.3g (members %.3g) on the manifold, %.3g (members %.3g) off it.", no.On.EqErr.Mean, nm.On.EqErr.Mean, no.Off.EqErr.Mean, nm.Off.EqErr.Mean)
	for _, r := range runs {
		g := r.g.Name()
		m, e := models["member_da_"+g], models["ensemble_da_"+g]
		fmt.Fprintf(&b, " With augmentation by %s: members %.3g, ensemble of %d %.3g on the manifold (%.1f× smaller); off it %.3g and %.3g (%.1f×).",
			g, m.On.EqErr.Mean, len(r.orbits), e.On.EqErr.Mean, m.On.EqErr.Mean/e.On.EqErr.Mean, m.Off.EqErr.Mean, e.Off.EqErr.Mean, m.Off.EqErr.Mean/e.Off.EqErr.Mean)
		if e.On.EqErr.Mean >= m.On.EqErr.Mean || e.Off.EqErr.Mean >= m.Off.EqErr.Mean {
			b.WriteString(" Here the ensemble is NOT more equivariant than its members on both sets.")
		}
		if e.On.EqErr.Mean >= no.On.EqErr.Mean {
			b.WriteString(" The augmented ensemble is NOT more equivariant than the unaugmented one on the manifold.")
		}
		if t, ok := models["ntk_da_"+g]; ok {
			fmt.Fprintf(&b, " The NTK with the same augmentation: %.3g on, %.3g off", t.On.EqErr.Mean, t.Off.EqErr.Mean)
			if t.On.EqErrTrain != nil {
				fmt.Fprintf(&b, " (under the %d rotations of %s itself: %.2g on, %.2g off)", r.g.Order(), g, t.On.EqErrTrain.Mean, t.Off.EqErrTrain.Mean)
			}
			b.WriteString(".")
		}
	}
	if t, ok := models["ntk_noaug"]; ok {
		fmt.Fprintf(&b, " The NTK without augmentation: %.3g on, %.3g off.", t.On.EqErr.Mean, t.Off.EqErr.Mean)
	}
	b.WriteString(onOffText(models))
	return b.String()
}

// onOffText compares the equivariance error on and off the manifold over
// the trained models.
func onOffText(models map[string]modelRow) string {
	var larger, total int
	for name, m := range models {
		if strings.HasPrefix(name, "ntk") {
			continue
		}
		total++
		if m.Off.EqErr.Mean > m.On.EqErr.Mean {
			larger++
		}
	}
	s := fmt.Sprintf(" Off the manifold the relative equivariance error is larger than on it for %d of the %d trained models (members and ensembles)", larger, total)
	if 2*larger < total {
		return s + ": the expectation that equivariance degrades away from the data does not show in this relative measure, while the relative MSE does grow off the manifold (see the table)."
	}
	return s + "."
}

// rowLabel is a compact table label.
func rowLabel(name string, m modelRow) string {
	switch {
	case name == "member_noaug":
		return "member, no DA"
	case name == "ensemble_noaug":
		return "ensemble, no DA"
	case name == "ntk_noaug":
		return "NTK, no DA"
	case strings.HasPrefix(name, "member_da_"):
		return "member + " + strings.TrimPrefix(name, "member_da_")
	case strings.HasPrefix(name, "ensemble_da_"):
		return "ensemble + " + strings.TrimPrefix(name, "ensemble_da_")
	case strings.HasPrefix(name, "ntk_da_"):
		return "NTK + " + strings.TrimPrefix(name, "ntk_da_")
	}
	return m.Label
}
