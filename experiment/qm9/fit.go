package qm9

import (
	"math"

	"github.com/eqens/eqens/predict"
)

// baseline fits y ≈ Σ_e w_e n_e + b (element counts, least squares with a
// tiny ridge for elements absent from the training set).
type baseline struct {
	W [6]float64 `json:"w"` // H, C, N, O, F, intercept
}

// fitBaseline fits the baseline to the element counts and targets y.
func fitBaseline(counts [][5]float64, y []float64) baseline {
	var ata [6][6]float64
	var aty [6]float64
	for i, c := range counts {
		row := [6]float64{c[0], c[1], c[2], c[3], c[4], 1}
		for p := range 6 {
			aty[p] += row[p] * y[i]
			for q := range 6 {
				ata[p][q] += row[p] * row[q]
			}
		}
	}
	var tr float64
	for p := range 6 {
		tr += ata[p][p]
	}
	for p := range 6 {
		if ata[p][p] == 0 { // an element absent from the training set
			ata[p][p] = 1
		}
		ata[p][p] += 1e-12 * tr
	}
	return baseline{W: solve6(ata, aty)}
}

// solve6 solves the 6×6 system m w = v by Gaussian elimination with
// partial pivoting.
func solve6(m [6][6]float64, v [6]float64) [6]float64 {
	for c := range 6 {
		piv := c
		for r := c + 1; r < 6; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		m[c], m[piv] = m[piv], m[c]
		v[c], v[piv] = v[piv], v[c]
		for r := c + 1; r < 6; r++ {
			f := m[r][c] / m[c][c]
			for q := c; q < 6; q++ {
				m[r][q] -= f * m[c][q]
			}
			v[r] -= f * v[c]
		}
	}
	var w [6]float64
	for c := 5; c >= 0; c-- {
		s := v[c]
		for q := c + 1; q < 6; q++ {
			s -= m[c][q] * w[q]
		}
		w[c] = s / m[c][c]
	}
	return w
}

// predict returns the baseline's value for the element counts c.
func (b baseline) predict(c [5]float64) float64 {
	s := b.W[5]
	for e := range 5 {
		s += b.W[e] * c[e]
	}
	return s
}

// residualFit is kernel regression of the standardised baseline residuals
// with one training kernel; predict returns the predictions in target
// units.
type residualFit struct {
	pred  *predict.Regressor
	base  baseline
	scale float64
}

// newResidualFit fits the baseline to the first n molecules (counts,
// targets y) and the kernel regression with the n×n training kernel ktrain
// and ridge reg (relative to the mean diagonal) to their residuals.
func newResidualFit(ktrain []float64, n int, counts [][5]float64, y []float64, reg float64) (*residualFit, error) {
	base := fitBaseline(counts[:n], y[:n])
	r := make([]float64, n)
	var ss float64
	for i := range r {
		r[i] = y[i] - base.predict(counts[i])
		ss += r[i] * r[i]
	}
	scale := math.Sqrt(ss / float64(n))
	if scale == 0 {
		scale = 1
	}
	for i := range r {
		r[i] /= scale
	}
	p, err := predict.NewRegressor(n, ktrain, r, 1, predict.Options{Reg: reg})
	if err != nil {
		return nil, err
	}
	return &residualFit{pred: p, base: base, scale: scale}, nil
}

// predict returns the predictions for m molecules from the m×n test kernel
// and their element counts.
func (f *residualFit) predict(ktest []float64, m int, counts [][5]float64) ([]float64, error) {
	mu, err := f.pred.Mean(ktest, m, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	for i := range mu {
		mu[i] = mu[i]*f.scale + f.base.predict(counts[i])
	}
	return mu, nil
}

// maeRMSE returns the mean absolute error and the root mean square error
// of pred against y.
func maeRMSE(pred, y []float64) (mae, rmse float64) {
	for i, p := range pred {
		d := p - y[i]
		mae += math.Abs(d)
		rmse += d * d
	}
	n := float64(len(pred))
	return mae / n, math.Sqrt(rmse / n)
}
