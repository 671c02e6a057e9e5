package fashion

import (
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

// groupOrder is the order of the group named g.
func groupOrder(g string) int { gg, _ := group.Parse(g); return gg.Order() }

// groupLabels are the bar labels of the groups (C4, C8, ...).
func groupLabels(groups []string) []string {
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = groupTitle(g)
	}
	return labels
}

// paperBars is the grouped bar chart of groups × methods, OSP/|G| out of
// distribution, ours solid and the talk's dashed.
func paperBars(groups []string, rows map[string]map[string]tableRow) *report.Plot {
	var series []report.Series
	labels := groupLabels(groups)
	for k, m := range methods {
		var y, lo, hi, py, plo, phi []float64
		for _, g := range groups {
			n := float64(groupOrder(g))
			r := rows[g][m]
			y = append(y, r.OSPOOD/n)
			lo = append(lo, (r.OSPOOD-r.OSPOODStd)/n)
			hi = append(hi, math.Min(r.OSPOOD+r.OSPOODStd, n)/n)
			pv, ok := paperTable[g][m]
			if !ok {
				pv = [2]float64{math.NaN(), 0}
			}
			py = append(py, pv[0]/n)
			plo = append(plo, (pv[0]-pv[1])/n)
			phi = append(phi, math.Min(pv[0]+pv[1], n)/n)
		}
		series = append(series,
			report.Series{Name: methodLabel[m] + " (ours)", Labels: labels, Y: y, Lo: lo, Hi: hi, Color: k + 1},
			report.Series{Name: methodLabel[m] + " (paper)", Labels: labels, Y: py, Lo: plo, Hi: phi, Color: k + 1, Dashed: true})
	}
	yBarMin := 0.5
	yBarMax := 1.02
	return &report.Plot{Title: "Orbit same predictions out of distribution, ours vs paper", Kind: report.KindBar,
		YLabel: "OSP / |G|  (1 = invariant)", YMin: &yBarMin, YMax: &yBarMax, Series: series,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
}

// accuracyBars is the test accuracy by group and method (± std over
// models).
func accuracyBars(groups []string, rows map[string]map[string]tableRow) *report.Plot {
	var accSeries []report.Series
	labels := groupLabels(groups)
	for k, m := range methods {
		var y, lo, hi []float64
		for _, g := range groups {
			r := rows[g][m]
			y = append(y, r.Accuracy)
			lo = append(lo, r.Accuracy-r.AccStd)
			hi = append(hi, r.Accuracy+r.AccStd)
		}
		accSeries = append(accSeries, report.Series{Name: methodLabel[m], Labels: labels, Y: y, Lo: lo, Hi: hi, Color: k + 1})
	}
	zero, one := 0.0, 1.0
	return &report.Plot{Title: "Fashion-MNIST test accuracy (unrotated)", Kind: report.KindBar, YLabel: "accuracy", YMin: &zero, YMax: &one, Series: accSeries}
}

// testOSPBars is the in-distribution OSP/|G| by group and method.
func testOSPBars(groups []string, rows map[string]map[string]tableRow) *report.Plot {
	var idSeries []report.Series
	labels := groupLabels(groups)
	for k, m := range methods {
		var y []float64
		for _, g := range groups {
			y = append(y, rows[g][m].OSPID/float64(groupOrder(g)))
		}
		idSeries = append(idSeries, report.Series{Name: methodLabel[m], Labels: labels, Y: y, Color: k + 1})
	}
	yBarMin := 0.5
	yBarMax := 1.02
	return &report.Plot{Title: "Orbit same predictions in distribution (Fashion-MNIST test)", Kind: report.KindBar, YLabel: "OSP / |G|", YMin: &yBarMin, YMax: &yBarMax, Series: idSeries,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
}

// sizePlot is OSP/|G| against ensemble size per group, out of distribution
// and on test images; nil without curve points.
func sizePlot(groups []string, curves map[string][]curvePoint) *report.Plot {
	var cs []report.Series
	for k, g := range groups {
		var xs, yo, yi []float64
		n := float64(groupOrder(g))
		for _, c := range curves[g] {
			xs = append(xs, float64(c.Size))
			yo = append(yo, c.OSPOOD/n)
			yi = append(yi, c.OSPID/n)
		}
		if len(xs) == 0 {
			continue
		}
		cs = append(cs,
			report.Series{Name: groupTitle(g) + " out of distribution", X: xs, Y: yo, Points: true, Color: k + 1},
			report.Series{Name: groupTitle(g) + " test", X: xs, Y: yi, Points: true, Dashed: true, Color: k + 1})
	}
	if len(cs) == 0 {
		return nil
	}
	ymin := 0.4
	ymax := 1.02
	return &report.Plot{Title: "OSP of augmented CNN ensembles vs ensemble size", XLabel: "ensemble size", YLabel: "OSP / |G|", LogX: true, YMin: &ymin, YMax: &ymax, Series: cs,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
}
