package gemm

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// naive is the reference: c = alpha*op(a)*op(b) + beta*c accumulated in
// float64 (float32 inputs) or with a plain loop.
func naive[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	at := func(i, p int) float64 {
		if transA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	bt := func(p, j int) float64 {
		if transB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = T(v)
		}
	}
}

func randFill[T Float](r *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(r.Float64()*2 - 1)
	}
	return x
}

type shape struct {
	transA, transB bool
	m, n, k        int
	pad            int // extra leading-dimension padding
	alpha, beta    float64
}

func shapes() []shape {
	var out []shape
	dims := [][3]int{{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {13, 17, 1}, {15, 33, 255}, {29, 65, 257}, {70, 40, 600}, {130, 150, 90}, {3, 300, 513}, {200, 3, 64}}
	for i, d := range dims {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				ab := [][2]float64{{1, 0}, {-0.5, 1}, {2, 0.25}}[i%3]
				out = append(out, shape{ta, tb, d[0], d[1], d[2], i % 3, ab[0], ab[1]})
			}
		}
	}
	return out
}

// operands makes a, b and c for a shape, with leading dimensions padded.
func operands[T Float](r *rand.Rand, s shape) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	lda, ldb, ldc = ac+s.pad, bc+s.pad, s.n+s.pad
	return randFill[T](r, ar*lda), lda, randFill[T](r, br*ldb), ldb, randFill[T](r, s.m*ldc), ldc
}

func kernels[T Float]() []kernel[T] {
	ks := []kernel[T]{goKernel[T](4, 4), goKernel[T](3, 5)}
	runs := map[string]bool{"avx512": isa() == "avx512", "avx2": isa() == "avx512" || isa() == "avx2", "neon": isa() == "neon"}
	for _, f := range []string{"avx2", "avx512", "neon"} {
		for _, narrow := range []bool{false, true} {
			if k, ok := asmKernel[T](f, narrow); ok && runs[f] {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

func testAgainstReference[T Float](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kn := range kernels[T]() {
		for _, s := range shapes() {
			name := fmt.Sprintf("%s/%dx%d/%v%v/m%d,n%d,k%d,pad%d", kn.name, kn.mr, kn.nr, s.transA, s.transB, s.m, s.n, s.k, s.pad)
			a, lda, b, ldb, c, ldc := operands[T](r, s)
			want := append([]T(nil), c...)
			naive(s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), want, ldc)
			got := append([]T(nil), c...)
			run(kn, s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), got, ldc, 3)
			for i := range got {
				if i%ldc >= s.n {
					if got[i] != c[i] {
						t.Fatalf("%s: padding element %d changed", name, i)
					}
					continue
				}
				if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Sqrt(float64(s.k)+1)*max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("%s: element %d = %g, want %g", name, i, got[i], want[i])
				}
			}
		}
	}
}

func TestGemmReference(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testAgainstReference[float32](t, 1e-6) })
	t.Run("float64", func(t *testing.T) { testAgainstReference[float64](t, 1e-14) })
}

// The product is bit for bit the same for every kernel and worker count.
func testBitIdentical[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ks := kernels[T]()
	for _, s := range shapes() {
		a, lda, b, ldb, c, ldc := operands[T](r, s)
		ref := append([]T(nil), c...)
		run(ks[0], s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), ref, ldc, 1)
		for _, kn := range ks {
			for _, w := range []int{1, 2, 5} {
				got := append([]T(nil), c...)
				run(kn, s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), got, ldc, w)
				for i := range got {
					if math.Float64bits(float64(got[i])) != math.Float64bits(float64(ref[i])) {
						t.Fatalf("kernel %s %dx%d, %d workers, shape %+v: element %d = %g, go kernel %g", kn.name, kn.mr, kn.nr, w, s, i, got[i], ref[i])
					}
				}
			}
		}
	}
}

func TestGemmBitIdentical(t *testing.T) {
	t.Run("float32", testBitIdentical[float32])
	t.Run("float64", testBitIdentical[float64])
}

// BLAS semantics at the edges: beta = 0 ignores NaN in c, alpha = 0 or
// k = 0 scales c, a and b may be the same slice.
func TestGemmEdges(t *testing.T) {
	nan := float32(math.NaN())
	c := []float32{nan, nan, nan, nan}
	a := []float32{1, 2, 3, 4}
	Gemm(false, true, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2, 2) // a·aᵀ
	if want := []float32{5, 11, 11, 25}; fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("a·aᵀ over NaN with beta 0 = %v, want %v", c, want)
	}
	Gemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2, 1)
	if want := []float32{10, 22, 22, 50}; fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("k = 0, beta 2: %v, want %v", c, want)
	}
	Gemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 0, c, 2, 1)
	if want := []float32{0, 0, 0, 0}; fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("alpha 0, beta 0: %v, want %v", c, want)
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("no panic for a 3-element a in a 2×2 product")
		}
	}()
	Gemm(false, false, 2, 2, 2, 1, make([]float64, 3), 2, make([]float64, 4), 2, 0, make([]float64, 4), 2, 1)
}

// exactFMA32 rounds x*y+z to float32 through big.Float.
func exactFMA32(x, y, z float32) float32 {
	p := new(big.Float).SetPrec(200).SetFloat64(float64(x))
	p.Mul(p, new(big.Float).SetPrec(200).SetFloat64(float64(y)))
	p.Add(p, new(big.Float).SetPrec(200).SetFloat64(float64(z)))
	f, _ := p.Float32()
	return f
}

func TestFMA32(t *testing.T) {
	cases := [][3]float32{
		{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-60},  // exact sum just above a float32 midpoint
		{1 + 0x1p-12, 1 + 0x1p-12, -0x1p-60}, // just below
		{0x1p-70, 0x1p-70, 0x1p-149},         // subnormal range
		{3, 5, -15}, {1e30, 1e30, 1}, {-0, 1, 0},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200000; i++ {
		x, y := float32(r.NormFloat64()), float32(r.NormFloat64())
		// z near -x*y makes the float64 sum land on float32 midpoints often.
		z := -float32(float64(x)*float64(y)) + float32(r.NormFloat64())*0x1p-30
		cases = append(cases, [3]float32{x, y, z}, [3]float32{x, y, float32(r.NormFloat64()) * 0x1p-40})
	}
	for _, c := range cases {
		if got, want := fma32(c[0], c[1], c[2]), exactFMA32(c[0], c[1], c[2]); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", c[0], c[1], c[2], got, want)
		}
	}
}

// FuzzKernel checks the assembly micro-kernels against the Go kernel bit
// for bit on fuzzed panels.
func FuzzKernel(f *testing.F) {
	f.Add(uint64(1), 1, true)
	f.Add(uint64(2), 300, false)
	f.Fuzz(func(t *testing.T, seed uint64, k int, useBeta bool) {
		k = 1 + (k%KC+KC)%KC
		r := rand.New(rand.NewPCG(seed, seed^0x9e37))
		fuzzKernels[float32](t, r, k, useBeta)
		fuzzKernels[float64](t, r, k, useBeta)
	})
}

func fuzzKernels[T Float](t *testing.T, r *rand.Rand, k int, useBeta bool) {
	for _, kn := range kernels[T]()[2:] {
		// A packed, in place row-major or in place transposed; B packed or
		// in place with a padded row.
		pad := r.IntN(5)
		layouts := [][2]int{{1, kn.mr}, {k + pad, 1}, {1, kn.mr + pad}}
		l := layouts[r.IntN(len(layouts))]
		aRow, aK := l[0], l[1]
		bK := kn.nr + r.IntN(2)*pad
		a, b := randFill[T](r, (kn.mr-1)*aRow+(k-1)*aK+1), randFill[T](r, (k-1)*bK+kn.nr)
		for i := range a {
			a[i] *= T(math.Ldexp(1, r.IntN(40)-20)) // wide exponents
		}
		c := randFill[T](r, kn.mr*(kn.nr+3))
		coef := [2]T{T(r.NormFloat64()), T(r.NormFloat64())}
		got, want := append([]T(nil), c...), append([]T(nil), c...)
		kn.run(k, a, aRow, aK, b, bK, got, kn.nr+3, &coef, useBeta)
		goTile(kn.mr, kn.nr, k, a, aRow, aK, b, bK, want, kn.nr+3, &coef, useBeta)
		for i := range got {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("%s %dx%d k=%d strides %d,%d,%d: element %d = %g, go kernel %g", kn.name, kn.mr, kn.nr, k, aRow, aK, bK, i, got[i], want[i])
			}
		}
	}
}

// TestGemmOverlap checks products whose a has overlapping rows against the
// same products on an unrolled copy: the same bits, for both transposes.
func TestGemmOverlap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		transA, transB bool
		m, n, k, lda   int
	}{
		{false, true, 61, 32, 48, 16}, {false, false, 100, 16, 96, 32},
		{true, false, 48, 32, 70, 16}, {false, false, 9, 5, 3, 1}, {true, true, 27, 40, 33, 4},
	} {
		ar, ac := tc.m, tc.k
		if tc.transA {
			ar, ac = tc.k, tc.m
		}
		v := randFill[float64](r, (ar-1)*tc.lda+ac)
		a := make([]float64, ar*ac)
		for i := 0; i < ar; i++ {
			copy(a[i*ac:(i+1)*ac], v[i*tc.lda:])
		}
		br, bc := tc.k, tc.n
		if tc.transB {
			br, bc = tc.n, tc.k
		}
		b := randFill[float64](r, br*bc)
		c0 := randFill[float64](r, tc.m*tc.n)
		c1 := append([]float64(nil), c0...)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 0.5, a, ac, b, bc, 1, c0, tc.n, 2)
		GemmOverlap(tc.transA, tc.transB, tc.m, tc.n, tc.k, 0.5, v, tc.lda, b, bc, 1, c1, tc.n, 2)
		for i := range c0 {
			if c0[i] != c1[i] {
				t.Fatalf("%+v: entry %d is %v, unrolled %v", tc, i, c1[i], c0[i])
			}
		}
	}
}
