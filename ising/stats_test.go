package ising

import (
	"math"
	"math/rand/v2"
	"testing"
)

// minBlocks is the smallest number of blocks the binning analysis uses;
// with 128 blocks the standard error itself is known to about 6 %.
const minBlocks = 128

// binning returns the mean of the time series x and its standard error
// from a blocking (binning) analysis (Flyvbjerg, Petersen 1989): x is
// averaged over blocks of 2^k consecutive values for k = 0, 1, ..., and
// the naive standard error of the block means is taken at the largest
// block size that still leaves at least minBlocks blocks. Once the blocks
// are much longer than the autocorrelation time the block means are
// independent and the estimate has converged to the true standard error
// of the correlated mean. levels holds the estimate at each block size;
// tau = (se/se_naive)²/2 is the integrated autocorrelation time in units
// of the sampling interval.
func binning(x []float64) (mean, se, tau float64, levels []float64) {
	b := append([]float64(nil), x...)
	for _, v := range b {
		mean += v
	}
	mean /= float64(len(b))
	for len(b) >= minBlocks {
		var ss float64
		for _, v := range b {
			ss += (v - mean) * (v - mean)
		}
		n := float64(len(b))
		levels = append(levels, math.Sqrt(ss/(n*(n-1))))
		h := len(b) / 2
		for i := range h {
			b[i] = (b[2*i] + b[2*i+1]) / 2
		}
		b = b[:h]
	}
	if len(levels) == 0 {
		return mean, math.NaN(), math.NaN(), nil
	}
	se = levels[len(levels)-1]
	tau = 0.5 * (se / levels[0]) * (se / levels[0])
	return mean, se, tau, levels
}

// TestBinningAR1 checks the error analysis itself on a first-order
// autoregressive process x_t = φ x_{t-1} + √(1-φ²) ε_t with unit variance,
// whose integrated autocorrelation time is τ = (1+φ)/(2(1-φ)) and whose
// mean over n steps has the standard error √(2τ/n).
func TestBinningAR1(t *testing.T) {
	for _, phi := range []float64{0, 0.5, 0.9} {
		r := rand.New(rand.NewPCG(7, uint64(100*phi)))
		const n = 1 << 17
		x := make([]float64, n)
		v := r.NormFloat64()
		for i := range x {
			v = phi*v + math.Sqrt(1-phi*phi)*r.NormFloat64()
			x[i] = v
		}
		mean, se, tau, _ := binning(x)
		wantTau := (1 + phi) / (2 * (1 - phi))
		wantSE := math.Sqrt(2 * wantTau / n)
		t.Logf("φ = %.1f: mean %.5f, se %.5f (exact %.5f), τ %.2f (exact %.2f)", phi, mean, se, wantSE, tau, wantTau)
		if math.Abs(se/wantSE-1) > 0.2 {
			t.Errorf("φ = %v: binning standard error %v, want %v within 20%%", phi, se, wantSE)
		}
		if math.Abs(mean) > 4*wantSE {
			t.Errorf("φ = %v: mean %v is %.1f standard errors from 0", phi, mean, math.Abs(mean)/wantSE)
		}
	}
}
