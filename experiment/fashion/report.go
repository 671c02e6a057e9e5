package fashion

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

func paperJSON() map[string]map[string]map[string]float64 {
	out := map[string]map[string]map[string]float64{}
	for g, m := range paperTable {
		out[g] = map[string]map[string]float64{}
		for k, v := range m {
			out[g][k] = map[string]float64{"osp_ood": v[0], "osp_ood_std": v[1]}
		}
	}
	return out
}

// pmStd formats a mean and standard deviation.
func pmStd(m, s float64, models int) string {
	if models < 2 {
		return fmt.Sprintf("%.2f", m)
	}
	return fmt.Sprintf("%.2f ± %.2f", m, s)
}

func summary(groups []string, rows map[string]map[string]tableRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nOrbit same predictions out of distribution (MNIST digits + blurred noise), paper | ours (chance):\n")
	fmt.Fprintf(&b, "%-12s", "")
	for _, g := range groups {
		fmt.Fprintf(&b, " %-34s", groupTitle(g))
	}
	b.WriteString("\n")
	for _, m := range methods {
		fmt.Fprintf(&b, "%-12s", methodLabel[m])
		for _, g := range groups {
			r := rows[g][m]
			paper := "–"
			if pv, ok := paperTable[g][m]; ok {
				paper = fmt.Sprintf("%.2f±%.2f", pv[0], pv[1])
			}
			ours := fmt.Sprintf("%.2f±%.2f", r.OSPOOD, r.OSPOODStd)
			fmt.Fprintf(&b, " %-34s", fmt.Sprintf("%s | %s (%.1f)", paper, ours, r.Chance["pooled"]))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-12s", "accuracy")
	for _, g := range groups {
		var parts []string
		for _, m := range methods {
			parts = append(parts, fmt.Sprintf("%.2f", rows[g][m].Accuracy))
		}
		fmt.Fprintf(&b, " %-34s", strings.Join(parts, "/"))
	}
	b.WriteString("\n")
	return b.String()
}

func groupTitle(g string) string { return "C" + strings.TrimPrefix(g, "c") }

// buildReport builds the report: the comparison with the talk's table, per
// set and in distribution, the ensemble-size curve, SO(2) and the setup.
func buildReport(p *params, groups []string, o *outcome) *report.Report {
	main, bySet := comparisonTables(p, groups, o.rows)
	var sections []report.Section
	intro := fmt.Sprintf("Models trained on %d Fashion-MNIST images (standardised, then masked to the disc of radius 13.5 px that interpolated rotations need, for every group alike), compared as in the talk's table (Gerken & Kessel, ICML 2024): DeepEns+DA is an ensemble of %d CNNs (%s) trained with random C_n augmentation (a fresh rotation per sample and step; bilinear interpolation for n > 4), whose logits are averaged; only DA is one such CNN; E2CNN is a regular-field C_n group CNN (lift/gconv/gpool; with basis=fourier its filters are band-limited steerable expansions, as in escnn, evaluated exactly at the rotated taps, otherwise pixel filters rotated by bilinear interpolation for n > 4) and Canon a learned canonicalisation (Kaba et al. 2022: a small C_n-equivariant network picks a pose, the image is rotated back to it, then the members' CNN), both trained without augmentation. OSP counts how many of the |G| rotations of an image keep its prediction; out of distribution it is measured on MNIST digits and on blurred noise images, which no model was trained on.",
		p.TrainSize, p.EnsembleSize, p.CNN.Arch)
	sections = append(sections, report.Section{Heading: "Paper vs ours", Text: findings(groups, o.rows, o.curves, o.so2),
		Tables:  []report.Table{main},
		Figures: []report.Figure{{Name: "osp_paper_vs_ours", Caption: "Mean OSP out of distribution divided by |G|, ours (solid, ± std over models) and the talk's values (light, dashed outline).", Plot: paperBars(groups, o.rows)}}})
	sections = append(sections, report.Section{Heading: "Per set, in distribution and accuracy", Tables: []report.Table{bySet},
		Figures: []report.Figure{{Name: "osp_test", Caption: "Mean OSP on the Fashion-MNIST test images divided by |G|.", Plot: testOSPBars(groups, o.rows)}, {Name: "accuracy", Caption: "Test accuracy on unrotated images (± std over models).", Plot: accuracyBars(groups, o.rows)}}})
	if curvePlot := sizePlot(groups, o.curves); curvePlot != nil {
		sections = append(sections, report.Section{Heading: "Ensemble size", Text: "Averages over up to 8 member groups per size (disjoint where possible). Larger ensembles of augmented CNNs are more invariant, in and out of distribution.",
			Figures: []report.Figure{{Name: "osp_vs_size", Caption: "Mean OSP/|G| against ensemble size: out of distribution (solid) and on test images (dashed).", Plot: curvePlot}}})
	}
	if len(o.steps) > 0 {
		sections = append(sections, stepsSection(p, groups, o.steps))
	}
	if len(o.so2) > 0 {
		sections = append(sections, so2Section(p, groups, o.so2, o.so2NoAug, o.so2Angles))
	}
	sections = append(sections, setupSection(p, groups, o.archs))
	return &report.Report{Title: "Emergent invariance on rotated Fashion-MNIST: ensembles vs GCNNs and canonicalisation", Intro: intro, Sections: sections}
}

// comparisonTables are the main table (the talk's OSP out of distribution
// next to ours, with chance levels, OSP in distribution and accuracy) and
// the OSP per set.
func comparisonTables(p *params, groups []string, rows map[string]map[string]tableRow) (main, bySet report.Table) {
	main = report.Table{Name: "paper_vs_ours",
		Caption: fmt.Sprintf("Orbit same predictions (OSP, 1..|G|) out of distribution: the talk's table next to ours, pooled over %d MNIST digits and %d blurred-noise images, with the chance level 1 + (|G|−1)Σ_c p_c² and the majority-class share of the pooled OOD predictions; OSP on %d Fashion-MNIST test images and test accuracy. Ours: mean ± standard deviation over models (%s).", p.OODSize, p.OODSize, p.TestSize, modelsNote(p)),
		Columns: []string{"group", "method", "paper OSP OOD", "ours OSP OOD", "chance", "majority", "ours OSP test", "accuracy"}}
	bySet = report.Table{Name: "osp_by_set",
		Caption: "OSP per set, each with its chance level and majority-class share, and the symmetric KL divergence KL(p(x)‖p(gx)) + KL(p(gx)‖p(x)) over the group on the test set and the pooled OOD sets (0 for an invariant model); means over models.",
		Columns: []string{"group", "method", "MNIST OSP", "chance", "majority", "blurred noise OSP", "chance", "majority", "test OSP", "chance", "majority", "sym KL test", "sym KL OOD"}}
	for _, g := range groups {
		for _, m := range append(slices.Clone(methods), "noaug") {
			r, ok := rows[g][m]
			if !ok {
				continue
			}
			paper := "–"
			if pv, ok := paperTable[g][m]; ok {
				paper = fmt.Sprintf("%.2f ± %.2f", pv[0], pv[1])
			}
			main.Rows = append(main.Rows, []string{groupTitle(g), methodLabel[m], paper, pmStd(r.OSPOOD, r.OSPOODStd, r.Models),
				experiment.F2(r.Chance["pooled"]), experiment.F2(r.Majority["pooled"]), pmStd(r.OSPID, r.OSPIDStd, r.Models), fmt.Sprintf("%.3f", r.Accuracy)})
			bySet.Rows = append(bySet.Rows, []string{groupTitle(g), methodLabel[m],
				experiment.F2(r.OSPOODSet["mnist"]), experiment.F2(r.Chance["mnist"]), experiment.F2(r.Majority["mnist"]),
				experiment.F2(r.OSPOODSet["blurred-noise"]), experiment.F2(r.Chance["blurred-noise"]), experiment.F2(r.Majority["blurred-noise"]),
				experiment.F2(r.OSPID), experiment.F2(r.Chance["test"]), experiment.F2(r.Majority["test"]),
				experiment.G3(r.SymKLID), experiment.G3(r.SymKLOOD)})
		}
	}
	return main, bySet
}

// setupSection lists the training setup and the architectures per group.
func setupSection(p *params, groups []string, archs map[string]map[string]string) report.Section {
	arch := report.Table{Name: "architectures", Caption: "Architectures per group (standard parametrisation, Adam).", Columns: []string{"group", "CNN (DeepEns+DA, only DA)", "E2CNN", "Canon"}}
	for _, g := range groups {
		arch.Rows = append(arch.Rows, []string{groupTitle(g), archs[g]["cnn"], archs[g]["gcnn"], archs[g]["canon"]})
	}
	setup := fmt.Sprintf("CNN members: %d, %d steps, batch %d, %s lr %g. E2CNN: %d members, %d steps. Canon: %d members, %d steps. Without augmentation: %d CNNs. The canonicaliser learns through a straight-through estimator (forward: hard argmax; backward: the softmax-weighted average of the rotated images) unless its spec says learn=frozen.",
		p.CNN.Members, p.CNN.Steps, p.CNN.BatchSize, p.CNN.Optimizer.Name, p.CNN.Optimizer.LR, p.GCNN.Members, p.GCNN.Steps, p.Canon.Members, p.Canon.Steps, p.NoAugMembers)
	return report.Section{Heading: "Setup", Text: setup, Tables: []report.Table{arch}}
}

func modelsNote(p *params) string {
	return fmt.Sprintf("DeepEns+DA: %d disjoint ensembles of %d CNNs; only DA: %d single CNNs; E2CNN: %d; Canon: %d", p.CNN.Members/p.EnsembleSize, p.EnsembleSize, p.CNN.Members, p.GCNN.Members, p.Canon.Members)
}

// findings states what the measurements show, claim by claim.
func findings(groups []string, rows map[string]map[string]tableRow, curves map[string][]curvePoint, so2 map[string]*so2Result) string {
	var lines []string
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "**no**"
	}
	for _, g := range groups {
		gg, _ := group.Parse(g)
		n := float64(gg.Order())
		r := rows[g]
		de, da, e2, ca := r["deepens_da"], r["only_da"], r["e2cnn"], r["canon"]
		pv := paperTable[g]
		l := fmt.Sprintf("- %s: DeepEns+DA %.2f vs only DA %.2f out of distribution — ensemble more invariant than its members: %s (paper %.2f vs %.2f). ",
			groupTitle(g), de.OSPOOD, da.OSPOOD, yes(de.OSPOOD > da.OSPOOD), pv["deepens_da"][0], pv["only_da"][0])
		l += fmt.Sprintf("E2CNN %.2f, Canon %.2f of %d", e2.OSPOOD, ca.OSPOOD, gg.Order())
		if gg.Order() == 4 {
			l += fmt.Sprintf(" (exactly invariant by construction: %s)", yes(e2.OSPOOD == n && ca.OSPOOD == n))
		} else {
			l += " (interpolated rotations: approximately invariant)"
		}
		l += fmt.Sprintf("; DeepEns+DA within reach of E2CNN (at least 95%% of its OSP): %s; above Canon: %s. Chance level %.1f, majority share %.2f (DeepEns+DA, pooled OOD).",
			yes(de.OSPOOD >= 0.95*e2.OSPOOD), yes(de.OSPOOD > ca.OSPOOD), de.Chance["pooled"], de.Majority["pooled"])
		if c := curves[g]; len(c) > 0 && c[len(c)-1].Size > de.Size {
			last := c[len(c)-1]
			l += fmt.Sprintf(" The ensemble of %d members reaches %.2f.", last.Size, last.OSPOOD)
		}
		lines = append(lines, l)
	}
	if len(so2) > 0 {
		var parts []string
		keys := make([]string, 0, len(so2))
		for g := range so2 {
			keys = append(keys, g)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, _ := group.Parse(keys[i])
			b, _ := group.Parse(keys[j])
			return a.Order() < b.Order()
		})
		for _, g := range keys {
			s := so2[g]
			parts = append(parts, fmt.Sprintf("%s ensemble %.2f (members %.2f)", groupTitle(g), s.Ensemble.AgreeBetween, s.Member.AgreeBetween))
		}
		lines = append(lines, "- SO(2): share of test predictions unchanged at angles outside the training group: "+strings.Join(parts, ", ")+".")
	}
	return strings.Join(lines, "\n")
}
