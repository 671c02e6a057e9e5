package experiment

// This file holds the small numeric and formatting helpers the experiments
// share.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eqens/eqens/metrics"
)

// F2 formats v with two decimals.
func F2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// ToF64 converts float32 values to float64.
func ToF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// G3 formats v with three significant digits, NaN as a dash.
func G3(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// PM formats an estimate as "mean ± half-width" with prec decimals.
func PM(e metrics.Estimate, prec int) string {
	return fmt.Sprintf("%.*f ± %.*f", prec, e.Mean, prec, (e.Hi-e.Lo)/2)
}

// PMG formats an estimate as "mean ± half-width" with three significant
// digits each (for quantities of any scale, such as divergences).
func PMG(e metrics.Estimate) string {
	return G3(e.Mean) + " ± " + G3((e.Hi-e.Lo)/2)
}

// Indices returns 0, 1, ..., n-1.
func Indices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// MaxRelDiff returns max |a - b| / max |b|.
func MaxRelDiff(a, b []float64) float64 {
	var d, s float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		s = math.Max(s, math.Abs(b[i]))
	}
	return d / math.Max(s, 1e-300)
}

// CentredOneHot returns n×k targets: 1 - 1/k for the label, -1/k elsewhere.
func CentredOneHot(labels []int, k int) []float64 {
	y := make([]float64, len(labels)*k)
	for i, l := range labels {
		for c := 0; c < k; c++ {
			y[i*k+c] = -1 / float64(k)
		}
		y[i*k+l] += 1
	}
	return y
}

// Accuracy returns the share of rows of the n×k scores mu whose largest
// entry is at the label.
func Accuracy(mu []float64, labels []int, k int) float64 {
	var c float64
	for i, l := range labels {
		if metrics.Argmax(mu[i*k:(i+1)*k]) == l {
			c++
		}
	}
	return c / float64(len(labels))
}

// Round3 rounds v to three decimals (for JSON).
func Round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// MeanSD returns the mean and the sample standard deviation.
func MeanSD(v []float64) (float64, float64) {
	m := metrics.Mean(v)
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(max(1, len(v)-1)))
}

// ExpandSpec fills {w} (the width) and {w4} (width/4) into a spec template.
func ExpandSpec(tmpl string, w int) string {
	s := strings.ReplaceAll(tmpl, "{w4}", strconv.Itoa(max(1, w/4)))
	return strings.ReplaceAll(s, "{w}", strconv.Itoa(w))
}
