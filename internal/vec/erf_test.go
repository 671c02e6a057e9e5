package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// erfCases returns covariances and variances over the whole input range:
// correlations from -1 to 1 (the ends included), tiny to large variances,
// zero variances.
func erfCases(rng *rand.Rand, n int) (k, v1, v2 []float64) {
	k, v1, v2 = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range k {
		a, b := math.Exp(rng.NormFloat64()*3), math.Exp(rng.NormFloat64()*3)
		switch rng.IntN(10) {
		case 0:
			a = 0
		case 1:
			b = 0
		}
		rho := 2*rng.Float64() - 1
		switch rng.IntN(8) {
		case 0:
			rho = 1
		case 1:
			rho = -1
		case 2:
			rho = 1 - 1e-9*rng.Float64()
		}
		k[i] = rho * math.Sqrt(a*b)
		v1[i], v2[i] = a, b
	}
	return k, v1, v2
}

// TestErfKernelBits checks the vector kernel against the scalar code bit
// for bit, with and without t, per-entry and row variances, at lengths
// around the block size.
func TestErfKernelBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	m := NewErfMap(1.3, 0.7, 0.2)
	for _, n := range []int{0, 1, 7, 8, 9, 16, 28, 784, 3001} {
		k, v1, v2 := erfCases(rng, n)
		th := make([]float64, n)
		for i := range th {
			th[i] = rng.NormFloat64()
		}
		gk, gt := append([]float64(nil), k...), append([]float64(nil), th...)
		ErfKernel(gk, gt, v1, v2, m)
		gk2 := append([]float64(nil), k...)
		ErfKernel(gk2, nil, v1, v2, m)
		rk, rt := append([]float64(nil), k...), append([]float64(nil), th...)
		if n > 0 {
			ErfKernelRow(rk, rt, v1[0], v2, m)
		}
		for i := range k {
			kp, kd := erfOne(k[i], v1[i], v2[i], &m)
			if math.Float64bits(gk[i]) != math.Float64bits(kp) || math.Float64bits(gk2[i]) != math.Float64bits(kp) ||
				math.Float64bits(gt[i]) != math.Float64bits(th[i]*kd) {
				t.Fatalf("n=%d entry %d: got (%v, %v, %v), want (%v, %v)", n, i, gk[i], gk2[i], gt[i], kp, th[i]*kd)
			}
			kp, kd = erfOne(k[i], v1[0], v2[i], &m)
			if math.Float64bits(rk[i]) != math.Float64bits(kp) || math.Float64bits(rt[i]) != math.Float64bits(th[i]*kd) {
				t.Fatalf("row: n=%d entry %d: got (%v, %v), want (%v, %v)", n, i, rk[i], rt[i], kp, th[i]*kd)
			}
		}
	}
}

// TestErfKernelAccuracy checks the map against the closed form evaluated
// with math.Asin to 1e-12 of the covariance's scale (a² + c²) and of the
// derivative factor, over the whole input range.
func TestErfKernelAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, p := range [][3]float64{{1, 1, 0}, {1.3, 0.7, 0.2}, {0.5, 3, -1}} {
		a, b, c := p[0], p[1], p[2]
		m := NewErfMap(a, b, c)
		k, v1, v2 := erfCases(rng, 100000)
		gk, gt := append([]float64(nil), k...), make([]float64, len(k))
		for i := range gt {
			gt[i] = 1
		}
		ErfKernel(gk, gt, v1, v2, m)
		var worstK, worstT float64
		for i := range k {
			kk, x1, x2 := b*b*k[i], b*b*v1[i], b*b*v2[i]
			pp := (1 + 2*x1) * (1 + 2*x2)
			x := math.Max(-1, math.Min(1, 2*kk/math.Sqrt(pp)))
			wk := a*a*(2/math.Pi)*math.Asin(x) + c*c
			wt := a * a * b * b * (4 / math.Pi) / math.Sqrt(math.Max(pp-4*kk*kk, 1e-300))
			ek := math.Abs(gk[i]-wk) / (a*a + c*c)
			et := math.Abs(gt[i]-wt) / wt
			worstK, worstT = math.Max(worstK, ek), math.Max(worstT, et)
			if ek > 1e-12 || et > 1e-12 {
				t.Fatalf("a=%v b=%v c=%v, k=%v v1=%v v2=%v: got (%v, %v), closed form (%v, %v)", a, b, c, k[i], v1[i], v2[i], gk[i], gt[i], wk, wt)
			}
		}
		t.Logf("a=%v b=%v c=%v: largest errors %.2g (covariance, of a²+c²), %.2g (derivative factor, relative)", a, b, c, worstK, worstT)
	}
}
