package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randF64 returns n normal values with a few specials mixed in.
func randF64(rng *rand.Rand, n int) []float64 {
	sp := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e-310, 1e300}
	x := make([]float64, n)
	for i := range x {
		if rng.IntN(8) == 0 {
			x[i] = sp[rng.IntN(len(sp))]
		} else {
			x[i] = rng.NormFloat64()
		}
	}
	return x
}

func sameF64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("%s, entry %d of %d: %v, want %v", what, i, len(want), got[i], want[i])
		}
	}
}

// TestSum3Mask checks the kernel against the definition, written out
// here, for every length up to 40 (vector blocks and tails).
func TestSum3Mask(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 40; n++ {
		a, b, c := randF64(rng, n), randF64(rng, n), randF64(rng, n)
		ma, mc := make([]uint64, n), make([]uint64, n)
		want := make([]float64, n)
		for i := range n {
			if rng.IntN(3) > 0 {
				ma[i] = math.MaxUint64
			}
			if rng.IntN(3) > 0 {
				mc[i] = math.MaxUint64
			}
			x, y := 0.0, 0.0
			if ma[i] != 0 {
				x = a[i]
			}
			if mc[i] != 0 {
				y = c[i]
			}
			want[i] = (x + b[i]) + y
		}
		got := randF64(rng, n)
		Sum3Mask(got, a, b, c, ma, mc)
		sameF64(t, "Sum3Mask", got, want)
	}
}

// TestSum3Affine checks the kernel against the definition for every
// length up to 40, with a vector and with a scalar to add.
func TestSum3Affine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 40; n++ {
		a, b, c, add := randF64(rng, n), randF64(rng, n), randF64(rng, n), randF64(rng, n)
		norm, w, add0 := 1/9.0, 1+rng.Float64(), rng.NormFloat64()
		for _, vecAdd := range []bool{true, false} {
			want := make([]float64, n)
			for i := range n {
				s := (a[i] + b[i]) + c[i]
				nw := float64(norm * w) // rounded, then one fused multiply-add
				if vecAdd {
					want[i] = math.FMA(nw, s, add[i])
				} else {
					want[i] = math.FMA(nw, s, add0)
				}
			}
			got := randF64(rng, n)
			if vecAdd {
				Sum3Affine(got, a, b, c, norm, w, add, add0)
			} else {
				Sum3Affine(got, a, b, c, norm, w, nil, add0)
			}
			sameF64(t, "Sum3Affine", got, want)
		}
	}
}

// TestSumF64 checks the sum against its definition, written out here, for
// lengths around the block of 16, and against a float64 sum to round-off.
// TestSumF64Pair checks SumF64Pair against SumF64 on each row, bit for
// bit, at lengths around the blocks of 16 and with special values.
func TestSumF64Pair(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 784, 1000} {
		x, y := drawSpecial64(rng, n, 7), drawSpecial64(rng, n, 7)
		for i := range x {
			x[i] *= 1 + rng.Float64()
			y[i] = rng.NormFloat64()*1e3 + y[i]
		}
		a, b := SumF64Pair(x, y)
		wa, wb := SumF64(x), SumF64(y)
		if math.Float64bits(a) != math.Float64bits(wa) && !(math.IsNaN(a) && math.IsNaN(wa)) ||
			math.Float64bits(b) != math.Float64bits(wb) && !(math.IsNaN(b) && math.IsNaN(wb)) {
			t.Errorf("n=%d: SumF64Pair gives %v, %v; SumF64 %v, %v", n, a, b, wa, wb)
		}
	}
}

func TestSumF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 784, 1000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		var lanes [16]float64
		m := n &^ 15
		for i := range m {
			lanes[i%16] += x[i]
		}
		for w := 8; w >= 1; w /= 2 {
			for j := range w {
				lanes[j] += lanes[j+w]
			}
		}
		want := lanes[0]
		var plain, abs float64
		for i, v := range x {
			if i >= m {
				want += v
			}
			plain += v
			abs += math.Abs(v)
		}
		got := SumF64(x)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("n=%d: %v, want %v", n, got, want)
		}
		if math.Abs(got-plain) > 1e-14*abs {
			t.Fatalf("n=%d: %v, running sum %v", n, got, plain)
		}
	}
}
