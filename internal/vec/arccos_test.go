package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// arcCosCases returns covariances and variances over the whole input
// range: correlations near ±1 and exactly ±1, zero variances, signed zero
// covariances, tiny and huge scales.
func arcCosCases(rng *rand.Rand, n int) (k, v1, v2 []float64) {
	k, v1, v2 = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range k {
		a := math.Exp2(float64(rng.IntN(80) - 40))
		b := a * math.Exp2(float64(rng.IntN(8)-4)) * (0.5 + rng.Float64())
		c := 2*rng.Float64() - 1
		switch rng.IntN(8) {
		case 0:
			c = math.Copysign(1-math.Exp2(-float64(1+rng.IntN(52))), c) // |c| -> 1
		case 1:
			c = math.Copysign(1, c)
		case 2:
			a, c = 0, 0 // zero variance
		case 3:
			c = math.Copysign(0, c)
		case 4:
			c *= 1e-8
		}
		v1[i], v2[i] = a, b
		k[i] = c * math.Sqrt(a*b)
		if rng.IntN(16) == 0 {
			k[i] = math.Copysign(0, -1)
			v1[i], v2[i] = 0, b
		}
	}
	return k, v1, v2
}

// TestReLUArcCosBits checks the vector kernel against the scalar code bit
// for bit, with and without t, at lengths around the block size.
func TestReLUArcCosBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 3, 4, 5, 8, 13, 28, 784, 5000} {
		k, v1, v2 := arcCosCases(rng, n)
		th := make([]float64, n)
		for i := range th {
			th[i] = rng.NormFloat64()
		}
		wantK, wantT := make([]float64, n), make([]float64, n)
		for i := range k {
			kp, kd := reluArcCosOne(k[i], v1[i]*v2[i])
			wantK[i] = kp * 0.25
			wantT[i] = th[i] * float64(kd*0.25)
		}
		gk, gt := append([]float64(nil), k...), append([]float64(nil), th...)
		ReLUArcCos(gk, gt, v1, v2, 0.25)
		gk2 := append([]float64(nil), k...)
		ReLUArcCos(gk2, nil, v1, v2, 0.25)
		// One first variance for the whole row (ReLUArcCosRow) against
		// the scalar code with that variance.
		row, rowT := append([]float64(nil), k...), append([]float64(nil), th...)
		if n > 0 {
			ReLUArcCosRow(row, rowT, v1[0], v2, 0.25)
		}
		for i := range k {
			kp, kd := reluArcCosOne(k[i], v1[0]*v2[i])
			if kp*0.25 != row[i] && !(math.IsNaN(kp) && math.IsNaN(row[i])) || math.Float64bits(th[i]*float64(kd*0.25)) != math.Float64bits(rowT[i]) {
				t.Fatalf("row: n=%d entry %d: got (%v, %v), want (%v, %v)", n, i, row[i], rowT[i], kp*0.25, th[i]*float64(kd*0.25))
			}
		}
		for i := range k {
			if math.Float64bits(gk[i]) != math.Float64bits(wantK[i]) || math.Float64bits(gt[i]) != math.Float64bits(wantT[i]) || math.Float64bits(gk2[i]) != math.Float64bits(wantK[i]) {
				t.Fatalf("n=%d entry %d (k=%v v1=%v v2=%v): got (%v, %v, %v), want (%v, %v)", n, i, k[i], v1[i], v2[i], gk[i], gt[i], gk2[i], wantK[i], wantT[i])
			}
		}
	}
}

// TestReLUArcCosAccuracy checks the map against math.Atan2 over the whole
// input range to 1e-12 of the natural scale of each output (sqrt(v1 v2)
// for the covariance, pi for the derivative factor), and exactly at the
// special points: zero variances and k = ±0 as math.Atan2 treats them.
func TestReLUArcCosAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	k, v1, v2 := arcCosCases(rng, 200000)
	gk, gt := append([]float64(nil), k...), make([]float64, len(k))
	for i := range gt {
		gt[i] = 1
	}
	ReLUArcCos(gk, gt, v1, v2, 1)
	var worstK, worstT float64
	for i := range k {
		prod := v1[i] * v2[i]
		sq := math.Sqrt(math.Max(prod-k[i]*k[i], 0))
		th := math.Atan2(sq, k[i])
		wk, wt := sq+(math.Pi-th)*k[i], math.Pi-th
		ek := math.Abs(gk[i]-wk) / math.Max(math.Sqrt(prod), math.SmallestNonzeroFloat64)
		et := math.Abs(gt[i]-wt) / math.Pi
		if prod == 0 && (gk[i] != wk || gt[i] != wt) {
			t.Errorf("zero variance, k=%v: got (%v, %v), math gives (%v, %v)", k[i], gk[i], gt[i], wk, wt)
		}
		worstK, worstT = math.Max(worstK, ek), math.Max(worstT, et)
		if ek > 1e-12 || et > 1e-12 {
			t.Fatalf("k=%v v1=%v v2=%v: got (%v, %v), math gives (%v, %v)", k[i], v1[i], v2[i], gk[i], gt[i], wk, wt)
		}
	}
	t.Logf("largest errors: covariance %.2g of sqrt(v1 v2), derivative factor %.2g of pi", worstK, worstT)
}
