package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specials are the values where rectifiers disagree most easily.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), -float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32}

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(4) == 0 {
			x[i] = specials[rng.IntN(len(specials))]
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

// ref is the scalar definition: d if the integer view of m is > 0.
func ref(m, d float32) float32 {
	if int32(math.Float32bits(m)) > 0 {
		return d
	}
	return 0
}

func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestKernels checks every kernel bit for bit against its scalar
// definition, at lengths around the vector block sizes, in place and not.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 100, 1000} {
		x, d := randSlice(rng, n), randSlice(rng, n)
		want := make([]float32, n)
		for i := range x {
			want[i] = ref(x[i], x[i])
		}
		y := make([]float32, n)
		ReLU(x, y)
		if i := sameBits(y, want); i >= 0 {
			t.Fatalf("ReLU n=%d: element %d is %v, want %v (input %v)", n, i, y[i], want[i], x[i])
		}
		xc := append([]float32(nil), x...)
		ReLU(xc, xc)
		if i := sameBits(xc, want); i >= 0 {
			t.Fatalf("ReLU in place n=%d: element %d differs", n, i)
		}
		for i := range x {
			want[i] = ref(x[i], d[i])
		}
		o := make([]float32, n)
		Mask(x, d, o)
		if i := sameBits(o, want); i >= 0 {
			t.Fatalf("Mask n=%d: element %d is %v, want %v", n, i, o[i], want[i])
		}
		dc := append([]float32(nil), d...)
		Mask(x, dc, dc)
		if i := sameBits(dc, want); i >= 0 {
			t.Fatalf("Mask in place n=%d: element %d differs", n, i)
		}
		s := append([]float32(nil), x...)
		for i := range s {
			want[i] = x[i] + d[i]
		}
		Add(s, d)
		if i := sameBits(s, want); i >= 0 {
			t.Fatalf("Add n=%d: element %d is %v, want %v", n, i, s[i], want[i])
		}
	}
}

func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ nc, rows int }{{1, 50}, {1, 64}, {1, 640}, {2, 50}, {2, 96}, {4, 50}, {4, 48}, {3, 50}, {8, 50}, {8, 64}, {16, 50}, {16, 40}, {32, 50}, {32, 6}, {33, 50}, {64, 7}} {
		nc, rows := tc.nc, tc.rows
		y := randSlice(rng, rows*nc)
		b := randSlice(rng, nc)
		want := append([]float32(nil), y...)
		for r := 0; r < rows; r++ {
			for c := range b {
				want[r*nc+c] += b[c]
			}
		}
		got := append([]float32(nil), y...)
		AddRows(got, b)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("AddRows nc=%d: element %d differs", nc, i)
		}
		db := append([]float32(nil), b...)
		wdb := append([]float32(nil), b...)
		if nc < 64 && 64%nc == 0 && len(y)%64 == 0 {
			// The documented order for short rows: 64 lanes summed over
			// blocks of 64 values, then added to db lane by lane.
			var acc [64]float32
			for i, v := range y {
				acc[i%64] += v
			}
			for i := 0; i < 64; i += nc {
				for c := range wdb {
					wdb[c] += acc[i+c]
				}
			}
		} else {
			for r := 0; r < rows; r++ {
				for c := range wdb {
					wdb[c] += y[r*nc+c]
				}
			}
		}
		SumRows(db, y)
		if i := sameBits(db, wdb); i >= 0 {
			t.Fatalf("SumRows nc=%d: element %d differs", nc, i)
		}
	}
}

func BenchmarkReLU(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 1<<16)
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		ReLU(x, y)
	}
}

func BenchmarkMask(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 1<<16)
	d := randSlice(rand.New(rand.NewPCG(2, 1)), 1<<16)
	o := make([]float32, len(x))
	b.SetBytes(int64(12 * len(x)))
	for b.Loop() {
		Mask(x, d, o)
	}
}

// TestBlocks checks CopyBlocks and AddBlocks bit for bit against the
// scalar definition, with overlapping source blocks (im2col) and
// overlapping destination blocks (col2im).
func TestBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ rows, n, ds, ss int }{
		{1, 8, 8, 8}, {28, 48, 144, 16}, {26, 48, 144, 16}, {5, 3, 9, 1}, {7, 16, 16, 32},
		{4, 50, 60, 70}, {28, 48, 16, 144}, {9, 24, 8, 24}, {3, 8, 0, 8},
	} {
		dst := randSlice(rng, (tc.rows-1)*tc.ds+tc.n+5)
		src := randSlice(rng, (tc.rows-1)*tc.ss+tc.n+3)
		if tc.ds >= tc.n {
			want := append([]float32(nil), dst...)
			for r := 0; r < tc.rows; r++ {
				for i := 0; i < tc.n; i++ {
					want[r*tc.ds+i] = src[r*tc.ss+i]
				}
			}
			got := append([]float32(nil), dst...)
			CopyBlocks(got, src, tc.rows, tc.n, tc.ds, tc.ss)
			if i := sameBits(got, want); i >= 0 {
				t.Errorf("CopyBlocks %+v: element %d is %v, want %v", tc, i, got[i], want[i])
			}
		}
		want := append([]float32(nil), dst...)
		for r := 0; r < tc.rows; r++ {
			for i := 0; i < tc.n; i++ {
				want[r*tc.ds+i] += src[r*tc.ss+i]
			}
		}
		got := append([]float32(nil), dst...)
		AddBlocks(got, src, tc.rows, tc.n, tc.ds, tc.ss)
		if i := sameBits(got, want); i >= 0 {
			t.Errorf("AddBlocks %+v: element %d is %v, want %v", tc, i, got[i], want[i])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("blocks beyond the slice did not panic")
		}
	}()
	CopyBlocks(make([]float32, 10), make([]float32, 100), 2, 8, 8, 8)
}

// drawSpecial64 returns n values, one in every (on average) a special
// value (signed zeros, infinities, NaN, the smallest subnormal, ±1e308),
// the others normal with exponents from -20 to 20.
func drawSpecial64(rng *rand.Rand, n, every int) []float64 {
	specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, -1e308, 1e308}
	v := make([]float64, n)
	for i := range v {
		if rng.IntN(every) == 0 {
			v[i] = specials[rng.IntN(len(specials))]
		} else {
			v[i] = rng.NormFloat64() * math.Exp2(float64(rng.IntN(40)-20))
		}
	}
	return v
}

// TestAxpyF64 checks AxpyF64 bit for bit against the scalar loop (product
// and sum rounded separately), at lengths around the vector block sizes,
// with specials (signed zeros, infinities, NaN, subnormals) and a longer
// src than dst.
func TestAxpyF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func(n int) []float64 { return drawSpecial64(rng, n, 5) }
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 28, 31, 32, 33, 100, 784} {
		for _, w := range []float64{1, -0.37, 1.0 / 9, 3e-300, math.Inf(1)} {
			dst, src := draw(n), draw(n+3)
			want := append([]float64(nil), dst...)
			for i := range want {
				want[i] += float64(w * src[i])
			}
			AxpyF64(dst, src, w)
			for i := range want {
				if math.Float64bits(dst[i]) != math.Float64bits(want[i]) && !(math.IsNaN(dst[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d w=%v: element %d is %v, want %v", n, w, i, dst[i], want[i])
				}
			}
		}
	}
}

// TestScaleF64 checks ScaleF64 (AVX2 kernel and Go tail) against AxpyF64
// onto a cleared row, bit for bit, with special values (signed zeros,
// infinities, NaN, subnormals) and lengths around the blocks.
func TestScaleF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	draw := func(n int) []float64 { return drawSpecial64(rng, n, 5) }
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 28, 31, 32, 33, 100, 784} {
		for _, w := range []float64{1, -0.37, 1.0 / 9, 3e-300, -0.0, math.Inf(1)} {
			src := draw(n + 3)
			want, dst := make([]float64, n), draw(n)
			AxpyF64(want, src, w)
			ScaleF64(dst, src, w)
			for i := range want {
				if math.Float64bits(dst[i]) != math.Float64bits(want[i]) && !(math.IsNaN(dst[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d w=%v: element %d is %v, want %v", n, w, i, dst[i], want[i])
				}
			}
		}
	}
}

// TestPool2F64 checks Pool2F64 (AVX2 kernel and Go tail) against the
// definition bit for bit, at lengths around the blocks of 4 and with
// special values (signed zeros, infinities, NaN, subnormals).
func TestPool2F64(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	draw := func(n int) []float64 { return drawSpecial64(rng, n, 6) }
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 14, 16, 17, 98, 196} {
		for _, inv := range []float64{1.0 / 16, 0.25, -3} {
			r0, r1 := draw(2*n+3), draw(2*n+1)
			out := draw(n)
			Pool2F64(out, r0, r1, inv)
			for j := range n {
				want := ((r0[2*j] + r0[2*j+1]) + (r1[2*j] + r1[2*j+1])) * inv
				if math.Float64bits(out[j]) != math.Float64bits(want) && !(math.IsNaN(out[j]) && math.IsNaN(want)) {
					t.Fatalf("n=%d inv=%v: output %d is %v, want %v", n, inv, j, out[j], want)
				}
			}
		}
	}
}

// TestAxpyRowsF64 checks AxpyRowsF64 bit for bit against row-by-row
// scalar loops, for row lengths around the block size and strides longer
// than the rows (gaps left untouched).
func TestAxpyRowsF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 26, 27, 28} {
		for _, rows := range []int{1, 3, 28} {
			ds, ss := n+rng.IntN(3), n+rng.IntN(5)
			dst := make([]float64, (rows-1)*ds+n+2)
			src := make([]float64, (rows-1)*ss+n)
			for i := range dst {
				dst[i] = rng.NormFloat64()
			}
			for i := range src {
				src[i] = rng.NormFloat64()
			}
			w := rng.NormFloat64()
			want := append([]float64(nil), dst...)
			for r := 0; r < rows; r++ {
				for i := 0; i < n; i++ {
					want[r*ds+i] += float64(w * src[r*ss+i])
				}
			}
			AxpyRowsF64(dst, src, w, rows, n, ds, ss)
			for i := range want {
				if math.Float64bits(dst[i]) != math.Float64bits(want[i]) {
					t.Fatalf("n=%d rows=%d ds=%d ss=%d: element %d is %v, want %v", n, rows, ds, ss, i, dst[i], want[i])
				}
			}
		}
	}
}
