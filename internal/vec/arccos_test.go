package vec

import (
	"encoding/binary"
	"hash/fnv"
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
		// One first variance for the whole row (v1step 0) against the
		// scalar code with that variance.
		row, rowT := append([]float64(nil), k...), append([]float64(nil), th...)
		if n > 0 {
			reluArcCos(row, rowT, v1[:1], 0, v2, 0.25)
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
		// Products rounded explicitly, as the maps round them (a fused
		// P - k² would not be 0 where k² rounds to P).
		prod := float64(v1[i] * v2[i])
		sq := math.Sqrt(math.Max(prod-float64(k[i]*k[i]), 0))
		th := math.Atan2(sq, k[i])
		wk, wt := sq+float64((math.Pi-th)*k[i]), math.Pi-th
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

// arcCosCasesR is arcCosCases with more entries where d = P - k² is
// exactly 0 (k² = v1 v2: the diagonal k = v1 = v2, and k = ±sqrt(v1 v2)
// where that squares back exactly), k² > v1 v2, subnormal and huge
// variances; it returns InvSqrt of both variances too.
func arcCosCasesR(rng *rand.Rand, n int) (k, v1, r1, v2, r2 []float64) {
	k, v1, v2 = arcCosCases(rng, n)
	for i := range k {
		switch rng.IntN(12) {
		case 0: // the diagonal of a plane
			v := math.Exp2(float64(rng.IntN(80)-40)) * (0.5 + rng.Float64())
			k[i], v1[i], v2[i] = v, v, v
		case 1: // |k| = sqrt(v1 v2), often with k² = v1 v2 exactly
			a := float64(1+rng.IntN(1<<20)) * math.Exp2(float64(rng.IntN(40)-20))
			b := float64(1+rng.IntN(1<<20)) * math.Exp2(float64(rng.IntN(40)-20))
			v1[i], v2[i] = a*a, b*b
			k[i] = math.Copysign(a*b, 2*rng.Float64()-1)
		case 2: // k² slightly above v1 v2
			k[i] = math.Copysign(math.Sqrt(v1[i]*v2[i])*(1+math.Exp2(-float64(1+rng.IntN(30)))), k[i])
		case 3: // subnormal or huge variances
			e := []float64{-1074, -1060, -1030, -520, -500, 480, 500}[rng.IntN(7)]
			v1[i] = math.Exp2(e) * (1 + rng.Float64())
			v2[i] = math.Exp2(e+float64(rng.IntN(8))) * (1 + rng.Float64())
			k[i] = (2*rng.Float64() - 1) * math.Sqrt(v1[i]) * math.Sqrt(v2[i])
		}
	}
	r1, r2 = make([]float64, n), make([]float64, n)
	InvSqrt(r1, v1)
	InvSqrt(r2, v2)
	return k, v1, r1, v2, r2
}

// TestReLUArcCosRBits checks the division-free map's vector kernels
// against the scalar code bit for bit (flat and by rows, with and without
// t, at lengths around the block sizes), and ReLUArcCosRow, which computes
// and keeps the 1/sqrt of v2 itself, against ReLUArcCosRowR.
func TestReLUArcCosRBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 12, 13, 28, 784, 5003} {
		k, v1, r1, v2, r2 := arcCosCasesR(rng, n)
		th := make([]float64, n)
		for i := range th {
			th[i] = rng.NormFloat64()
		}
		wantK, wantT := make([]float64, n), make([]float64, n)
		for i := range k {
			kp, kd := reluArcCosOneR(k[i], float64(v1[i]*v2[i]), float64(r1[i]*r2[i]))
			wantK[i] = kp * 0.25
			wantT[i] = th[i] * float64(kd*0.25)
		}
		gk, gt := append([]float64(nil), k...), append([]float64(nil), th...)
		ReLUArcCosR(gk, gt, v1, r1, v2, r2, 0.25)
		gk2 := append([]float64(nil), k...)
		ReLUArcCosR(gk2, nil, v1, r1, v2, r2, 0.25)
		for i := range k {
			if math.Float64bits(gk[i]) != math.Float64bits(wantK[i]) || math.Float64bits(gt[i]) != math.Float64bits(wantT[i]) || math.Float64bits(gk2[i]) != math.Float64bits(wantK[i]) {
				t.Fatalf("n=%d entry %d (k=%v v1=%v v2=%v): got (%v, %v, %v), want (%v, %v)", n, i, k[i], v1[i], v2[i], gk[i], gt[i], gk2[i], wantK[i], wantT[i])
			}
		}
		if n == 0 {
			continue
		}
		// Rows: one first variance for every entry, three of them (the
		// first entry's, a zero one and a subnormal one).
		for _, a := range []float64{v1[0], 0, 3e-320} {
			ra := invSqrt(a)
			row, rowT := append([]float64(nil), k...), append([]float64(nil), th...)
			ReLUArcCosRowR(row, rowT, a, ra, v2, r2, 0.25)
			row2, rowT2 := append([]float64(nil), k...), append([]float64(nil), th...)
			ReLUArcCosRow(row2, rowT2, a, v2, 0.25)
			row3 := append([]float64(nil), k...)
			ReLUArcCosRow(row3, nil, a, v2, 0.25)
			for i := range k {
				kp, kd := reluArcCosOneR(k[i], float64(a*v2[i]), float64(ra*r2[i]))
				wk, wt := math.Float64bits(kp*0.25), math.Float64bits(th[i]*float64(kd*0.25))
				if math.Float64bits(row[i]) != wk || math.Float64bits(rowT[i]) != wt || math.Float64bits(row2[i]) != wk || math.Float64bits(rowT2[i]) != wt || math.Float64bits(row3[i]) != wk {
					t.Fatalf("row v1=%v: n=%d entry %d (k=%v v2=%v): got (%v, %v), (%v, %v), %v, want (%v, %v)", a, n, i, k[i], v2[i], row[i], rowT[i], row2[i], rowT2[i], row3[i], kp*0.25, th[i]*float64(kd*0.25))
				}
			}
		}
	}
}

// TestReLUArcCosRowKeep checks that ReLUArcCosRow gives the bits of
// ReLUArcCosRowR when v2 changes in place or in length between calls.
func TestReLUArcCosRowKeep(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	k, v1, _, v2, _ := arcCosCasesR(rng, 100)
	r2 := make([]float64, len(v2))
	for step := range 4 {
		switch step {
		case 1:
			v2[37] *= 1.5 // one value changed in place
		case 2:
			v2 = v2[:60] // shorter
			k = k[:60]
		case 3:
			v2[0] = 0
		}
		InvSqrt(r2, v2)
		got, want := append([]float64(nil), k...), append([]float64(nil), k...)
		ReLUArcCosRow(got, nil, v1[1], v2, 1)
		ReLUArcCosRowR(want, nil, v1[1], invSqrt(v1[1]), v2, r2, 1)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("step %d entry %d: got %v, want %v", step, i, got[i], want[i])
			}
		}
	}
}

// TestReLUArcCosRAccuracy checks the division-free map against math.Atan2
// over the whole input range to 1e-12 of the natural scale of each output
// (sqrt(v1 v2) for the covariance, pi for the derivative factor), exactly
// where a variance is zero (as math.Atan2 treats k = ±0) and exactly
// theta = 0 or pi wherever d = P - k² is 0 (the diagonal); it reports the
// largest differences from math and from the map with a division
// (ReLUArcCos).
func TestReLUArcCosRAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	k, v1, r1, v2, r2 := arcCosCasesR(rng, 400000)
	gk, gt := append([]float64(nil), k...), make([]float64, len(k))
	ok, ot := append([]float64(nil), k...), make([]float64, len(k))
	for i := range gt {
		gt[i], ot[i] = 1, 1
	}
	ReLUArcCosR(gk, gt, v1, r1, v2, r2, 1)
	ReLUArcCos(ok, ot, v1, v2, 1)
	var worstK, worstT, oldK, oldT float64
	zeros, tiny := 0, 0
	for i := range k {
		prod := float64(v1[i] * v2[i])
		d := prod - float64(k[i]*k[i])
		sq := math.Sqrt(math.Max(d, 0))
		th := math.Atan2(sq, k[i])
		wk, wt := sq+float64((math.Pi-th)*k[i]), math.Pi-th
		scale := math.Max(math.Sqrt(v1[i])*math.Sqrt(v2[i]), math.SmallestNonzeroFloat64)
		ek := math.Abs(gk[i]-wk) / scale
		et := math.Abs(gt[i]-wt) / math.Pi
		if prod == 0 && (gk[i] != wk || gt[i] != wt) {
			t.Errorf("zero variance, k=%v: got (%v, %v), math gives (%v, %v)", k[i], gk[i], gt[i], wk, wt)
		}
		if !(d > 0) {
			zeros++
			if want := map[bool]float64{false: math.Pi, true: 0}[math.Signbit(k[i])]; gt[i] != want || gk[i] != want*k[i] {
				t.Fatalf("d = 0, k=%v v1=%v v2=%v: got (%v, %v), want theta exactly %v", k[i], v1[i], v2[i], gk[i], gt[i], math.Pi-want)
			}
		}
		if prod > 0 && prod < 0x1p-1022 {
			// P = v1 v2 is subnormal: it has lost digits itself, and
			// math's theta from it is no reference (nor the map's).
			tiny++
			continue
		}
		worstK, worstT = math.Max(worstK, ek), math.Max(worstT, et)
		if ek > 1e-12 || et > 1e-12 {
			t.Fatalf("k=%v v1=%v v2=%v: got (%v, %v), math gives (%v, %v)", k[i], v1[i], v2[i], gk[i], gt[i], wk, wt)
		}
		oldK = math.Max(oldK, math.Abs(gk[i]-ok[i])/scale)
		oldT = math.Max(oldT, math.Abs(gt[i]-ot[i])/math.Pi)
	}
	t.Logf("%d entries (%d with d = 0, %d with a subnormal v1 v2 not compared): largest errors against math: covariance %.2g of sqrt(v1 v2), derivative factor %.2g of pi; against ReLUArcCos: %.2g, %.2g", len(k), zeros, tiny, worstK, worstT, oldK, oldT)
}

// BenchmarkReLUArcCosRow times the map on 16 rows of 784 entries (28×28)
// of NTK covariances and derivative factors (200 KB, in L2), row by row:
// the map with a division per entry (old), the division-free map with
// 1/sqrt given (R) and ReLUArcCosRow, which computes the 1/sqrt of v2 on
// every call (Row). The rows are refilled outside the timed region.
func BenchmarkReLUArcCosRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n, rows = 784, 16
	v1, v2 := make([]float64, rows), make([]float64, n)
	for i := range v1 {
		v1[i] = 0.5 + rng.Float64()
	}
	for i := range v2 {
		v2[i] = 0.5 + rng.Float64()
	}
	r1, r2 := make([]float64, rows), make([]float64, n)
	InvSqrt(r1, v1)
	InvSqrt(r2, v2)
	k0 := make([]float64, rows*n)
	for i := range k0 {
		k0[i] = (2*rng.Float64() - 1) * math.Sqrt(v1[i/n]*v2[i%n])
		if i%n == i/n {
			k0[i] = math.Sqrt(v1[i/n] * v2[i%n]) // a diagonal-like entry per row
		}
	}
	k, th := make([]float64, rows*n), make([]float64, rows*n)
	for _, bc := range []struct {
		name string
		f    func(k, th []float64, r int)
	}{
		{"old", func(k, th []float64, r int) { reluArcCos(k, th, v1[r:r+1], 0, v2, 0.25) }},
		{"R", func(k, th []float64, r int) { ReLUArcCosRowR(k, th, v1[r], r1[r], v2, r2, 0.25) }},
		{"Row", func(k, th []float64, r int) { ReLUArcCosRow(k, th, v1[r], v2, 0.25) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				copy(k, k0)
				for i := range th {
					th[i] = 1
				}
				b.StartTimer()
				for r := range rows {
					bc.f(k[r*n:(r+1)*n], th[r*n:(r+1)*n], r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*rows), "ns/entry")
		})
	}
}

// TestReLUArcCosRGolden pins the bits of the division-free map on fixed
// inputs (the whole range, arcCosCasesR) by a hash of its outputs, so that
// every build and architecture (amd64 with AVX-512 or AVX2, -tags purego,
// arm64, whose compiler fuses multiply-adds unless a product is rounded
// explicitly) must give the same bits.
func TestReLUArcCosRGolden(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	const n = 4099
	k, v1, r1, v2, r2 := arcCosCasesR(rng, n)
	th := make([]float64, n)
	for i := range th {
		th[i] = rng.NormFloat64()
	}
	row, rowT := append([]float64(nil), k...), append([]float64(nil), th...)
	ReLUArcCosR(k, th, v1, r1, v2, r2, 0.25)
	ReLUArcCosRow(row, rowT, v1[5], v2, 0.25)
	h := fnv.New64a()
	for _, x := range [][]float64{k, th, row, rowT} {
		for _, v := range x {
			binary.Write(h, binary.LittleEndian, math.Float64bits(v))
		}
	}
	const want = 0x1c376f8e38c9ba22
	if got := h.Sum64(); got != want {
		t.Errorf("hash of the outputs %#x, want %#x", got, want)
	}
}
