package qm9

import (
	"fmt"
	"strings"

	"github.com/eqens/eqens/report"
)

// kernelNames returns how a kernel (or "baseline") is named in tables
// (long) and in legends and column heads (short).
func kernelNames(k string) (long, short string) {
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
func kernelLabel(k string) string {
	long, _ := kernelNames(k)
	return long
}

// kernelShort names a kernel in legends and column heads.
func kernelShort(k string) string {
	_, short := kernelNames(k)
	return short
}

// buildReport builds the report and the summary: the learning curves of
// the m test molecules, the invariance of the ni rotated ones (when
// measured) and the representation.
func buildReport(p *params, s *setup, nMol, m, ni int, sizes []int, base, curve []point, inv map[string]invariance) (*report.Report, string) {
	var sum strings.Builder
	ct, pl := curveTableAndPlot(&sum, s, m, sizes, base, curve)
	sections := []report.Section{
		{Heading: "Learning curves", Text: fmt.Sprintf("Kernel: the NTK of `%s` (infinite ensembles of infinitely wide networks trained to convergence on the MSE), ridge %g × mean diagonal. Averaging the kernel over a finite rotation group, Θ_G(x, x') = (1/|G|) Σ_R Θ(x, R x'), gives the NTK of the group-averaged network, whose predictor is exactly invariant under the group (Misof, Kessel & Gerken 2025) and equals training the plain kernel on the rotated copies of every molecule (Gerken & Kessel 2024). A random sample S of SO(3) is not a group: its kernel is that of the network averaged over the sample, (1/|S|²) Σ_{R,R'} Θ(R x, R' x'), which is only approximately invariant. Targets: %s minus a per-element linear baseline (least squares on the element counts and a constant, fitted on the same training molecules), standardised; the baseline is added back.", s.arch.Spec, p.Reg, s.prop),
			Tables: []report.Table{ct}, Figures: []report.Figure{{Name: "learning-curve", Caption: fmt.Sprintf("Test MAE (%s) against the number of training molecules (log-log).", s.unit), Plot: pl}}},
	}
	if len(inv) > 0 {
		sections = append(sections, invarianceSection(&sum, p, s, ni, inv))
	}
	rtext := representation
	if p.File != "" {
		rtext += fmt.Sprintf("\n\nThe molecules were read from %s, which is not checksum-verified against the published QM9 archive.", p.File)
	}
	sections = append(sections, report.Section{Heading: "Representation", Text: rtext})
	intro := fmt.Sprintf("Regression of the QM9 %s (DFT, %d molecules of up to 9 heavy atoms) with neural tangent kernels: the plain NTK of an MLP on a fixed-size encoding of the atoms against the same NTK averaged over rotations of the molecule, which is the NTK of the corresponding group-equivariant network and the infinite-ensemble limit of training with rotation augmentation.", s.prop, nMol)
	return &report.Report{Title: "Rotation-averaged NTKs for QM9", Intro: intro, Sections: sections}, sum.String()
}

// curveTableAndPlot returns the table "curve" and the plot of the learning
// curves (MAE by training size, the baseline first, then each kernel), and
// writes the table to the summary.
func curveTableAndPlot(sum *strings.Builder, s *setup, m int, sizes []int, base, curve []point) (report.Table, *report.Plot) {
	cols := []string{"training molecules", kernelShort("baseline")}
	var legend []string
	for _, k := range s.kernels {
		cols = append(cols, kernelShort(k))
		legend = append(legend, kernelShort(k)+": "+kernelLabel(k))
	}
	ct := report.Table{Name: "curve", Caption: fmt.Sprintf("Mean absolute error (%s) of %s on %d test molecules: the per-element linear baseline alone (counts only), and the baseline plus kernel regression of its residuals with each kernel (%s).", s.unit, s.prop, m, strings.Join(legend, "; ")), Columns: cols}
	fmt.Fprintf(sum, "\nQM9 %s, MAE in %s on %d test molecules\n%-10s %12s", s.prop, s.unit, m, "n train", "baseline")
	for _, k := range s.kernels {
		fmt.Fprintf(sum, " %12s", k)
	}
	sum.WriteString("\n")
	bx, by := []float64{}, []float64{}
	for _, b := range base {
		bx = append(bx, float64(b.TrainSize))
		by = append(by, b.MAE)
	}
	series := []report.Series{{Name: kernelShort("baseline"), X: bx, Y: by, Points: true, Dashed: true, Color: 7}}
	for ki, k := range s.kernels {
		var xs, ys []float64
		for _, c := range curve {
			if c.Kernel == k {
				xs = append(xs, float64(c.TrainSize))
				ys = append(ys, c.MAE)
			}
		}
		series = append(series, report.Series{Name: kernelShort(k), X: xs, Y: ys, Points: true, Color: ki + 1})
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
	pl := &report.Plot{Title: fmt.Sprintf("QM9 %s: learning curves", s.prop), XLabel: "training molecules", YLabel: fmt.Sprintf("test MAE (%s)", s.unit), LogX: true, LogY: true, Series: series}
	return ct, pl
}

// invarianceSection returns the section with the table "invariance" and
// writes its numbers to the summary.
func invarianceSection(sum *strings.Builder, p *params, s *setup, ni int, inv map[string]invariance) report.Section {
	it := report.Table{Name: "invariance", Caption: fmt.Sprintf("Mean change |f(Rx) − f(x)| (%s) of each predictor (largest training set) when %d test molecules are rotated: by %d random rotations (Haar) and by the 23 non-trivial rotations of the cube.", s.unit, ni, p.Rotations),
		Columns: []string{"kernel", "random rotations", "cube rotations"}}
	fmt.Fprintf(sum, "change under rotations of the test molecules (%s): ", s.unit)
	for _, k := range s.kernels {
		iv := inv[k]
		it.Rows = append(it.Rows, []string{kernelLabel(k), fmt.Sprintf("%.3g", iv.Random), fmt.Sprintf("%.3g", iv.Oct)})
		fmt.Fprintf(sum, "%s random %.3g cube %.3g; ", k, iv.Random, iv.Oct)
	}
	sum.WriteString("\n")
	return report.Section{Heading: "Invariance", Text: "The plain kernel sees the orientation of the molecule; averaging over the cube's rotations makes the prediction exactly invariant under them (up to round-off), and averaging over random rotations reduces the change under arbitrary rotations.", Tables: []report.Table{it}}
}
