package qm9

import (
	"fmt"
	"strings"

	"github.com/eqens/eqens/report"
)

// kernelNames returns how a kernel (or "baseline") is named in tables
// (long) and in legends and column heads (short).
func (s *setup) kernelNames(k string) (long, short string) {
	for _, ks := range s.specs {
		if ks.name == k && ks.atoms {
			return fmt.Sprintf("per-atom NTK of %s on the spherical signals, summed over atom pairs", ks.arch.Spec), k
		}
	}
	switch {
	case k == "plain":
		return "plain NTK", "plain"
	case k == "baseline":
		return "element counts only", "counts only"
	case k == "oct":
		return "NTK averaged over the cube's 24 rotations", "cube (24)"
	case k == "ico":
		return "NTK averaged over the icosahedron's 60 rotations", "icosahedron (60)"
	case strings.HasPrefix(k, "so3:"):
		n := strings.Split(k, ":")[1]
		return "NTK of the network averaged over " + n + " random rotations", "SO(3) sample (" + n + ")"
	}
	return "NTK averaged over " + k, k
}

// kernelLabel names a kernel in tables.
func (s *setup) kernelLabel(k string) string {
	long, _ := s.kernelNames(k)
	return long
}

// kernelShort names a kernel in legends and column heads.
func (s *setup) kernelShort(k string) string {
	_, short := s.kernelNames(k)
	return short
}

// buildReport builds the report and the summary: the learning curves of
// the test molecules, the invariance of the ni rotated ones (when
// measured), the representations and the spherical signals of the first
// test molecule; source says where the nMol molecules come from.
func buildReport(p *params, s *setup, source string, nMol int, d *split, ni int, sizes []int, base, curve []point, inv map[string]invariance) (*report.Report, string) {
	var sum strings.Builder
	ct, pl := curveTableAndPlot(&sum, s, d.m, sizes, base, curve)
	text := fmt.Sprintf("Kernels: the NTK of `%s` (infinite ensembles of infinitely wide networks trained to convergence on the MSE) on the coordinate encoding, plain and averaged over rotations, ridge %g × mean diagonal. Averaging the kernel over a finite rotation group, Θ_G(x, x') = (1/|G|) Σ_R Θ(x, R x'), gives the NTK of the group-averaged network, whose predictor is exactly invariant under the group (Misof, Kessel & Gerken 2025) and equals training the plain kernel on the rotated copies of every molecule (Gerken & Kessel 2024). A random sample S of SO(3) is not a group: its kernel is that of the network averaged over the sample, (1/|S|²) Σ_{R,R'} Θ(R x, R' x'), which is only approximately invariant. Targets: %s minus a per-element linear baseline (least squares on the element counts and a constant, fitted on the same training molecules), standardised by the residuals' standard deviation; the baseline is added back.", s.arch.Spec, p.Reg, s.prop)
	if s.needAtoms() {
		text += " Per-atom kernels: a network applied to every atom's spherical signals (below) with shared weights, its outputs summed over the atoms and read out by a dense layer; the NTK of the molecule is the sum over all pairs of atoms of the per-atom NTK (the network's last layer, dense(1), is that readout). The SO(3) network (s2conv, erf, so3conv, erf, so3pool) is invariant under all rotations up to the aliasing of the grid quadratures (its pointwise activations and the signals are not band-limited): the invariance table measures how much."
	}
	sections := []report.Section{
		{Heading: "Learning curves", Text: text,
			Tables: []report.Table{ct}, Figures: []report.Figure{{Name: "learning-curve", Caption: fmt.Sprintf("Test MAE (%s) against the number of training molecules (log-log).", s.unit), Plot: pl}}},
	}
	if len(inv) > 0 {
		sections = append(sections, invarianceSection(&sum, p, s, ni, inv))
	}
	rtext := representation
	if p.File != "" {
		rtext += fmt.Sprintf("\n\nThe molecules were read from %s, which is not checksum-verified against the published QM9 archive.", p.File)
	}
	if p.Synthetic != nil {
		rtext = syntheticText + "\n\n" + rtext
	}
	sections = append(sections, report.Section{Heading: "Representation", Text: rtext})
	if s.needAtoms() {
		sections = append(sections, signalsSection(showcase(d.teMols), sphericalDescription(p.BandLimit, p.SignalQuadrature)))
	}
	intro := fmt.Sprintf("Regression of %s (%s) with neural tangent kernels: the plain NTK of an MLP on a fixed-size encoding of the atoms against the same NTK averaged over rotations of the molecule, which is the NTK of the corresponding group-equivariant network and the infinite-ensemble limit of training with rotation augmentation", s.prop, source)
	if s.needAtoms() {
		intro += ", and against per-atom networks on spherical signals of each atom's environment, an MLP and an SO(3)-invariant spherical CNN, summed over the atoms (Misof, Kessel & Gerken)"
	}
	title := "Rotation-averaged and SO(3) NTKs for QM9"
	if p.Synthetic != nil {
		title = "Rotation-averaged and SO(3) NTKs on synthetic molecules"
	}
	return &report.Report{Title: title, Intro: intro + ".", Sections: sections}, sum.String()
}

// curveTableAndPlot returns the table "curve" and the plot of the learning
// curves (MAE by training size, the baseline first, then each kernel), and
// writes the table to the summary.
func curveTableAndPlot(sum *strings.Builder, s *setup, m int, sizes []int, base, curve []point) (report.Table, *report.Plot) {
	cols := []string{"training molecules", s.kernelShort("baseline")}
	var legend []string
	for _, k := range s.kernels {
		cols = append(cols, s.kernelShort(k))
		legend = append(legend, s.kernelShort(k)+": "+s.kernelLabel(k))
	}
	ct := report.Table{Name: "curve", Caption: fmt.Sprintf("Mean absolute error (%s) of %s on %d test molecules: the per-element linear baseline alone (counts only), and the baseline plus kernel regression of its residuals with each kernel (%s).", s.unit, s.prop, m, strings.Join(legend, "; ")), Columns: cols}
	fmt.Fprintf(sum, "\n%s, MAE in %s on %d test molecules\n%-10s %12s", s.prop, s.unit, m, "n train", "baseline")
	for _, k := range s.kernels {
		fmt.Fprintf(sum, " %12s", k)
	}
	sum.WriteString("\n")
	bx, by := []float64{}, []float64{}
	for _, b := range base {
		bx = append(bx, float64(b.TrainSize))
		by = append(by, b.MAE)
	}
	series := []report.Series{{Name: s.kernelShort("baseline"), X: bx, Y: by, Points: true, Dashed: true, Color: 7}}
	for ki, k := range s.kernels {
		var xs, ys []float64
		for _, c := range curve {
			if c.Kernel == k {
				xs = append(xs, float64(c.TrainSize))
				ys = append(ys, c.MAE)
			}
		}
		series = append(series, report.Series{Name: s.kernelShort(k), X: xs, Y: ys, Points: true, Color: ki + 1})
	}
	for si, ns := range sizes {
		row := []string{fmt.Sprint(ns), fmt.Sprintf("%.1f", base[si].MAE)}
		fmt.Fprintf(sum, "%-10d %12.1f", ns, base[si].MAE)
		for _, k := range s.kernels {
			for _, c := range curve {
				if c.Kernel == k && c.TrainSize == ns {
					row = append(row, fmt.Sprintf("%.1f", c.MAE))
					fmt.Fprintf(sum, " %12.1f", c.MAE)
				}
			}
		}
		sum.WriteString("\n")
		ct.Rows = append(ct.Rows, row)
	}
	pl := &report.Plot{Title: fmt.Sprintf("%s: learning curves", s.prop), XLabel: "training molecules", YLabel: fmt.Sprintf("test MAE (%s)", s.unit), LogX: true, LogY: true, Series: series}
	return ct, pl
}

// invarianceSection returns the section with the table "invariance" and
// writes its numbers to the summary.
func invarianceSection(sum *strings.Builder, p *params, s *setup, ni int, inv map[string]invariance) report.Section {
	it := report.Table{Name: "invariance", Caption: fmt.Sprintf("Change of each predictor (largest training set) and of its kernel when %d test molecules are rotated, by %d random rotations (Haar) and by the 23 non-trivial rotations of the cube: mean |f(Rx) − f(x)| (%s), and max |Θ(Rx, x') − Θ(x, x')| / max |Θ(x, x')| over the training molecules x' (relative).", ni, p.Rotations, s.unit),
		Columns: []string{"kernel", "random rotations (" + s.unit + ")", "cube rotations (" + s.unit + ")", "kernel, random (rel.)", "kernel, cube (rel.)"}}
	fmt.Fprintf(sum, "change under rotations of the test molecules, predictor (%s) and kernel (relative):\n", s.unit)
	for _, k := range s.kernels {
		iv := inv[k]
		it.Rows = append(it.Rows, []string{s.kernelLabel(k), fmt.Sprintf("%.3g", iv.Random), fmt.Sprintf("%.3g", iv.Oct), fmt.Sprintf("%.2g", iv.KernelRandom), fmt.Sprintf("%.2g", iv.KernelOct)})
		fmt.Fprintf(sum, "  %-10s random %.3g cube %.3g; kernel random %.2g cube %.2g\n", k, iv.Random, iv.Oct, iv.KernelRandom, iv.KernelOct)
	}
	text := "The plain kernel sees the orientation of the molecule; averaging over the cube's rotations makes the prediction exactly invariant under them (up to round-off), and averaging over random rotations reduces the change under arbitrary rotations."
	if s.needAtoms() {
		text += " The per-atom kernels see each atom's spherical signals sampled on a grid: the MLP's kernel is not invariant; the SO(3) network's is invariant under every rotation up to the aliasing of its grids (the signals and the activations' outputs are not band-limited), which is what its row measures."
	}
	return report.Section{Heading: "Invariance", Text: text, Tables: []report.Table{it}}
}
