package ising

// The report: figures of the curves, tables at the last step, the claims,
// the texts and the summary printed at the end of a run.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/report"
)

// ntkFloor is where the relative-std figures draw the NTK's smaller
// (round-off) values, to keep them on a log scale.
const ntkFloor = 1e-17

// stepAxis labels the time axis of the curves.
const stepAxis = "training step (GD) = NTK time t"

// g3 formats v with three significant digits (NaN as "NaN", unlike
// experiment.G3).
func g3(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// statName names params.Statistic in captions.
func (p *params) statName() string {
	if p.Statistic == "mean" {
		return "mean over test points"
	}
	return "median over test points"
}

// buildReport returns the report and the summary table.
func buildReport(p *params, scale string, in *inputs, ms *measured) (*report.Report, string) {
	xs := make([]float64, len(in.steps))
	for i, s := range in.steps {
		xs[i] = float64(s)
	}
	last := len(in.steps) - 1
	relFigs := relStdFigures(p, in.sets, ms.curves, xs)
	zoomFig, zoomIDFig := zoomFigures(p, in.sets, ms.curves, xs)
	fin, finMSE := finalTables(p, in.sets, ms.finals, in.steps[last])
	tables := []report.Table{fin, finMSE, finiteMTable(p, ms.finM)}
	if len(ms.full) > 0 {
		tables = append(tables, fullOrbitTable(p, in, ms.full))
	}
	r := &report.Report{
		Title: "Emergent invariance on the 2D Ising model",
		Intro: introText(p, in),
		Sections: []report.Section{
			{Heading: "Findings", Text: findingsText(p, scale, ms.claims, ms.finM, in.sets, ms.curves, last), Tables: []report.Table{claimsTable(ms.claims)}},
			{Heading: "Relative standard deviation over training", Text: ntkText(ms.ntk) + "\n\nOne panel per test set: in distribution, and out of distribution at a low and a high temperature and for uniformly random spins. On the scale the NTK needs, the widths coincide; the last two figures show the networks alone.", Figures: append(relFigs, zoomIDFig, zoomFig)},
			{Heading: "At the last step", Text: finiteMText, Tables: tables, Figures: []report.Figure{sizeFigure(p, ms.sizes), mseFigure(p, in.sets, ms.curves, xs)}},
			{Heading: "Data", Tables: []report.Table{dataTable(p, in)}},
		},
	}
	return r, summaryText(p, in.sets, in.steps[last], fin, finMSE, ms.ntk.maxRel)
}

// relStdFigures draws the relative std against time on each set: the
// ensembles and members of every width and the NTK.
func relStdFigures(p *params, sets []*testSet, curves []curve, xs []float64) []report.Figure {
	statName := p.statName()
	var figs []report.Figure
	for _, s := range sets {
		pl := &report.Plot{Title: "Relative std over the orbit: " + s.Label, XLabel: stepAxis, YLabel: "relative std (" + statName + ")", LogX: true, LogY: true}
		pl.Series = networkSeries(p, curves, s.Name, xs)
		nc := findCurve(curves, "ntk", 0, s.Name)
		ny := make([]float64, len(xs))
		for i, v := range nc.stat(p.Statistic) {
			ny[i] = math.Max(v, ntkFloor)
		}
		pl.Series = append(pl.Series, report.Series{Name: "NTK (infinite ensemble, full augmentation)", X: xs, Y: ny, Color: 7, Points: true})
		figs = append(figs, report.Figure{Name: "relstd_" + s.Name, Plot: pl,
			Caption: fmt.Sprintf("Relative standard deviation of the prediction over the orbit (%s; %d test configurations, %s) against training time, for the ensemble means of %d members (solid) and single members (dashed, averaged over members) of each width, and the NTK (black; evaluated on the orbits of the first %d points, values below %g drawn at %g).",
				statName, s.N, s.Label, p.Members, min(p.NTK.OrbitPoints, s.N), ntkFloor, ntkFloor)})
	}
	return figs
}

// networkSeries are the ensemble (solid) and member (dashed) curves of
// every width on one set.
func networkSeries(p *params, curves []curve, set string, xs []float64) []report.Series {
	var series []report.Series
	for k, w := range p.Widths {
		e := findCurve(curves, "ensemble", w, set)
		m := findCurve(curves, "member", w, set)
		series = append(series,
			report.Series{Name: fmt.Sprintf("ensemble, width %d", w), X: xs, Y: e.stat(p.Statistic), Color: k + 1, Points: true},
			report.Series{Name: fmt.Sprintf("member, width %d", w), X: xs, Y: m.stat(p.Statistic), Color: k + 1, Dashed: true})
	}
	return series
}

// mseFigure draws the MSE of the widest ensemble and of the NTK (discrete
// GD) on every set.
func mseFigure(p *params, sets []*testSet, curves []curve, xs []float64) report.Figure {
	wmax := p.Widths[len(p.Widths)-1]
	mse := &report.Plot{Title: fmt.Sprintf("Energy MSE: ensemble of width %d (solid), NTK (dashed)", wmax), XLabel: stepAxis, YLabel: "MSE of E/L²", LogX: true, LogY: true}
	for k, s := range sets {
		e := findCurve(curves, "ensemble", wmax, s.Name)
		nc := findCurve(curves, "ntk_gd", 0, s.Name)
		mse.Series = append(mse.Series,
			report.Series{Name: s.Name + ", ensemble", X: xs, Y: e.MSE, Color: k + 1, Points: true},
			report.Series{Name: s.Name + ", NTK", X: xs, Y: nc.MSE, Color: k + 1, Dashed: true})
	}
	return report.Figure{Name: "mse", Plot: mse, Caption: fmt.Sprintf("Mean squared error of the predicted energy per site on the untransformed test configurations, for the widest ensemble (%d members) and the NTK with discrete GD steps, on every test set. The target variance of each set is in the data table.", p.Members)}
}

// zoomFigures draw the networks alone: the widest width on every set
// (relstd_zoom), and every width in distribution (relstd_zoom_id).
func zoomFigures(p *params, sets []*testSet, curves []curve, xs []float64) (zoomFig, zoomIDFig report.Figure) {
	statName := p.statName()
	wmax := p.Widths[len(p.Widths)-1]
	zoom := &report.Plot{Title: fmt.Sprintf("Networks only (width %d): ensemble (solid) vs member (dashed)", wmax), XLabel: stepAxis, YLabel: "relative std (" + statName + ")", LogX: true, LogY: true}
	for k, s := range sets {
		e := findCurve(curves, "ensemble", wmax, s.Name)
		m := findCurve(curves, "member", wmax, s.Name)
		zoom.Series = append(zoom.Series,
			report.Series{Name: s.Name + ", ensemble", X: xs, Y: e.stat(p.Statistic), Color: k + 1, Points: true},
			report.Series{Name: s.Name + ", member", X: xs, Y: m.stat(p.Statistic), Color: k + 1, Dashed: true})
	}
	zid := &report.Plot{Title: "Networks only, in distribution: every width", XLabel: stepAxis, YLabel: "relative std (" + statName + ")", LogX: true, LogY: true}
	zid.Series = networkSeries(p, curves, "id", xs)
	zoomIDFig = report.Figure{Name: "relstd_zoom_id", Plot: zid, Caption: fmt.Sprintf("In distribution on a readable scale: relative std (%s) of the ensemble means (solid) and single members (dashed) of every width.", statName)}
	zoomFig = report.Figure{Name: "relstd_zoom", Plot: zoom, Caption: fmt.Sprintf("The finite networks of the widest width on a readable scale: relative std (%s) of the ensemble mean of %d members (solid) and of single members (dashed) on every test set.", statName, p.Members)}
	return zoomFig, zoomIDFig
}

// sizeFigure draws the relative std at the last step against the ensemble
// size, with 1/√M through the widest single member.
func sizeFigure(p *params, sizes []sizePoint) report.Figure {
	statName := p.statName()
	sz := &report.Plot{Title: "Relative std at the last step vs ensemble size", XLabel: "ensemble size M", YLabel: "relative std (" + statName + ")", LogX: true, LogY: true}
	for k, w := range p.Widths {
		for _, set := range []string{"id", "ood"} {
			var x, y []float64
			for _, sp := range sizes {
				if sp.Width == w && sp.Set == set {
					x = append(x, float64(sp.Size))
					y = append(y, sp.RelStd)
				}
			}
			name := fmt.Sprintf("width %d, in distribution", w)
			if set == "ood" {
				name = fmt.Sprintf("width %d, out of distribution", w)
			}
			sz.Series = append(sz.Series, report.Series{Name: name, X: x, Y: y, Color: k + 1, Points: true, Dashed: set == "ood"})
		}
	}
	wmax := p.Widths[len(p.Widths)-1]
	var x, y []float64
	var y0 float64
	for _, sp := range sizes {
		if sp.Width == wmax && sp.Set == "id" && sp.Size == 1 {
			y0 = sp.RelStd
		}
	}
	for m := 1; m <= p.Members; m *= 2 {
		x = append(x, float64(m))
		y = append(y, y0/math.Sqrt(float64(m)))
	}
	sz.Series = append(sz.Series, report.Series{Name: "∝ 1/√M", X: x, Y: y, Color: 7, Dashed: true})
	return report.Figure{Name: "ensemble_size", Plot: sz, Caption: fmt.Sprintf("Relative std (%s) of ensembles of M members at the last step, averaged over up to 8 disjoint member subsets; out of distribution pools the low-T, high-T and random-spin sets. Dashed black: 1/√M through the widest single member.", statName)}
}

// finalTables are the relative std (final) and the MSE (final_mse) at the
// last step, one row per model and width, one column per set.
func finalTables(p *params, sets []*testSet, finals []finalValue, lastStep int) (fin, finMSE report.Table) {
	fin = report.Table{Name: "final", Caption: fmt.Sprintf("At the last step (%d): relative std over the orbit (%s), per test set.", lastStep, p.statName()),
		Columns: []string{"model", "width"}}
	finMSE = report.Table{Name: "final_mse", Caption: fmt.Sprintf("At the last step (%d): MSE of the predicted energy per site on the untransformed test configurations (compare with the target variance in the data table).", lastStep),
		Columns: []string{"model", "width"}}
	for _, s := range sets {
		fin.Columns = append(fin.Columns, s.Name)
		finMSE.Columns = append(finMSE.Columns, s.Name)
	}
	row := func(model string, w int, mse bool) []string {
		r := []string{model, "∞"}
		if w > 0 {
			r[1] = strconv.Itoa(w)
		}
		for _, s := range sets {
			for _, f := range finals {
				if f.Model == model && f.Width == w && f.Set == s.Name {
					if mse {
						r = append(r, g3(f.MSE))
					} else {
						r = append(r, g3(p.stat(f.Mean, f.Median)))
					}
				}
			}
		}
		return r
	}
	for _, t := range []*report.Table{&fin, &finMSE} {
		mse := t == &finMSE
		for _, w := range p.Widths {
			t.Rows = append(t.Rows, row("member", w, mse), row("ensemble", w, mse))
		}
		t.Rows = append(t.Rows, row("ntk", 0, mse), row("ntk_gd", 0, mse))
	}
	fin.Notes = fmt.Sprintf("member: single networks, averaged over the %d members; ensemble: the mean of the %d members; ntk: the infinite ensemble of infinitely wide networks trained with full augmentation (group-averaged NTK, same learning rate and steps) as gradient flow (predict.Regressor); ntk_gd: the same with discrete GD steps. results.json also has the mean over points with its 95%% bootstrap interval.", p.Members, p.Members)
	return fin, finMSE
}

// dataTable describes the training and test sets.
func dataTable(p *params, in *inputs) report.Table {
	dt := report.Table{Name: "data", Caption: "Training and test sets (energy per site E/L²; uniform configurations, whose orbit is a single point, are left out of the test sets).",
		Columns: []string{"set", "temperature", "configurations", "uniform left out", "E/L² mean", "E/L² std", "target variance"}}
	dt.Rows = append(dt.Rows, []string{"training", floatList(p.TrainTemperatures), strconv.Itoa(in.train.Len()), "–", fmt.Sprintf("%.3f", in.trE), fmt.Sprintf("%.3f", in.trSD), g3(in.trSD * in.trSD)})
	for _, s := range in.sets {
		t := strconv.FormatFloat(s.Temperature, 'g', 4, 64)
		if s.Temperature == 0 {
			t = "∞"
		}
		if s.Name == "id" {
			t = floatList(p.TrainTemperatures)
		}
		dt.Rows = append(dt.Rows, []string{s.Name, t, strconv.Itoa(s.N), strconv.Itoa(s.Excluded), fmt.Sprintf("%.3f", s.EnergyMean), fmt.Sprintf("%.3f", s.EnergyStd), g3(s.EnergyStd * s.EnergyStd)})
	}
	return dt
}

// claimsTable lists the claims.
func claimsTable(claims []claim) report.Table {
	ct := report.Table{Name: "claims", Caption: "The paper's claims as measured in this run.", Columns: []string{"claim", "holds", "measured"}}
	for _, c := range claims {
		h := "no"
		if c.Holds {
			h = "yes"
		}
		ct.Rows = append(ct.Rows, []string{c.Claim, h, c.Detail})
	}
	return ct
}

// fullOrbitTable compares the element subset with the whole group.
func fullOrbitTable(p *params, in *inputs, full []fullOrbitRow) report.Table {
	ft := report.Table{Name: "full_orbit", Caption: fmt.Sprintf("Check of the element subset: relative std (%s) at the last step on the first %d points of each set, over the %d-element subset / over the whole group of %d elements.", p.statName(), full[0].Points, len(in.elems), in.g.Order()),
		Columns: []string{"width", "model"}}
	for _, s := range in.sets {
		ft.Columns = append(ft.Columns, s.Name+": subset / whole")
	}
	for _, w := range p.Widths {
		for _, model := range []string{"member", "ensemble"} {
			r := []string{strconv.Itoa(w), model}
			for _, s := range in.sets {
				for _, f := range full {
					if f.Width == w && f.Model == model && f.Set == s.Name {
						r = append(r, g3(f.Subset)+" / "+g3(f.Full))
					}
				}
			}
			ft.Rows = append(ft.Rows, r)
		}
	}
	return ft
}

// finiteMTable is the finite-M split of every width and set.
func finiteMTable(p *params, finM []finiteM) report.Table {
	mt := report.Table{Name: "finite_m", Caption: fmt.Sprintf("Where the ensemble's non-invariance comes from, at the last step: the share of the ensemble mean's orbit variance not explained by the finite number of members, Σ_i V̂_μ / Σ_i V_F with V̂_μ = V_F − W/(M−1) per point (V_F: orbit variance of the ensemble mean; W: the members' orbit variance around it), with a 95%% interval (±1.96 jackknife standard errors over members, the independent draws), and the pooled relative stds √(mean V / mean F̄²) of the ensemble of %d and of its M → ∞ extrapolation (negative estimates clamped at 0).", p.Members),
		Columns: []string{"width", "set", "excess share", "95% interval", "pooled rel. std, ensemble", "pooled rel. std, M → ∞"}}
	for _, f := range finM {
		mt.Rows = append(mt.Rows, []string{strconv.Itoa(f.Width), f.Set, experiment.F2(f.Excess), "[" + experiment.F2(f.ExcessLo) + ", " + experiment.F2(f.ExcessHi) + "]", g3(f.Ensemble), g3(f.InfiniteM)})
	}
	return mt
}
