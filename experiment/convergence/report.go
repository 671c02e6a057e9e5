package convergence

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eqens/eqens/report"
)

// buildReport returns the report (figures of both errors against width,
// byArch holding the rows of each architecture, and the table of all rows)
// and the summary.
func buildReport(p *params, shape []int, rows []row, byArch [][]row) (*report.Report, string) {
	ntkPlot := &report.Plot{Title: "Empirical NTK vs analytic NTK", XLabel: "width (channels)", YLabel: "relative Frobenius error", LogX: true, LogY: true}
	nngpPlot := &report.Plot{Title: "Empirical NNGP vs analytic NNGP", XLabel: "width (channels)", YLabel: "relative Frobenius error", LogX: true, LogY: true}
	for ai, ar := range p.Archs {
		var sx, sy, ssd, ny, nsds []float64
		for _, r := range byArch[ai] {
			sx = append(sx, float64(r.Width))
			sy = append(sy, r.NTKErr)
			ssd = append(ssd, r.NTKErrSD)
			ny = append(ny, r.NNGPErr)
			nsds = append(nsds, r.NNGPErrSD)
		}
		lo, hi := band(sy, ssd)
		ntkPlot.Series = append(ntkPlot.Series, report.Series{Name: ar.Name, X: sx, Y: sy, Lo: lo, Hi: hi, Points: true})
		nlo, nhi := band(ny, nsds)
		nngpPlot.Series = append(nngpPlot.Series, report.Series{Name: ar.Name, X: sx, Y: ny, Lo: nlo, Hi: nhi, Points: true})
	}
	// 1/sqrt(width) reference through the first MLP point.
	if len(rows) > 0 {
		var rx, ry []float64
		for _, w := range p.Archs[0].Widths {
			rx = append(rx, float64(w))
			ry = append(ry, rows[0].NTKErr*math.Sqrt(float64(p.Archs[0].Widths[0])/float64(w)))
		}
		ntkPlot.Series = append(ntkPlot.Series, report.Series{Name: "∝ 1/√width", X: rx, Y: ry, Dashed: true})
	}
	figs := []report.Figure{
		{Name: "ntk_convergence", Caption: "Relative Frobenius error between the empirical NTK of single networks and the analytic NTK (mean ± sd over networks), with a 1/√width reference.", Plot: ntkPlot},
		{Name: "nngp_convergence", Caption: "Relative Frobenius error between the empirical NNGP of single networks (the readout covariance given the penultimate features, as neural-tangents' empirical_nngp_fn) and the analytic NNGP (mean ± sd over networks).", Plot: nngpPlot},
	}
	tab := report.Table{Name: "convergence", Caption: "Kernel convergence with width (relative Frobenius errors, mean ± sd over networks)", Columns: []string{"architecture", "width", "parameters", "NTK error", "± sd", "NTK error of the mean", "NNGP error", "± sd"}}
	var sum strings.Builder
	fmt.Fprintf(&sum, "%-9s %6s %10s %12s %12s\n", "arch", "width", "params", "NTK error", "NNGP error")
	for _, r := range rows {
		tab.Rows = append(tab.Rows, []string{r.Arch, strconv.Itoa(r.Width), strconv.Itoa(r.Params), f4(r.NTKErr), f4(r.NTKErrSD), f4(r.MeanNTKErr), f4(r.NNGPErr), f4(r.NNGPErrSD)})
		fmt.Fprintf(&sum, "%-9s %6d %10d %12.4f %12.4f\n", r.Arch, r.Width, r.Params, r.NTKErr, r.NNGPErr)
	}
	rep := &report.Report{
		Title:    "Kernel convergence: finite networks approach their infinite-width kernels",
		Intro:    fmt.Sprintf("Empirical NTKs and NNGPs of single networks (%d per width) on %d MNIST test digits average-pooled to %dx%d, against the analytic kernels computed by eqens from the same architecture spec. At infinite width both errors vanish; for single networks they fall roughly like 1/√width. For the C4 GCNN the width counts all channels (width/4 fields per rotation).", p.Seeds, p.Inputs, shape[1], shape[2]),
		Sections: []report.Section{{Heading: "Results", Tables: []report.Table{tab}, Figures: figs}},
	}
	return rep, sum.String()
}

// band returns the edges of the band y ± sd, the lower one kept above
// y/10 for the log axis.
func band(y, sd []float64) (lo, hi []float64) {
	lo = make([]float64, len(y))
	hi = make([]float64, len(y))
	for i := range y {
		lo[i] = math.Max(y[i]-sd[i], y[i]*0.1)
		hi[i] = y[i] + sd[i]
	}
	return lo, hi
}

// f4 formats v with four decimals.
func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
