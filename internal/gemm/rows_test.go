package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowsCase is a product whose op(A) keeps width of every stride stored
// rows (overlapping with lda below k).
type rowsCase struct {
	transB        bool
	m, n, k, lda  int
	width, stride int
	alpha, beta   float64
	padC          int
}

func rowsCases() []rowsCase {
	return []rowsCase{
		// The convolutions of nn/convdirect.go: 28 of 30 grid positions.
		{true, 28 * 28, 32, 144, 48, 28, 30, 1, 0, 0},
		{false, 28 * 28, 16, 288, 96, 28, 30, 0.5, 0, 0},
		{true, 28 * 28, 16, 9, 3, 28, 30, 1, 0, 0},
		// Odd groups, a partial last group, several k blocks, beta.
		{true, 23, 5, 27, 9, 5, 6, -0.5, 1, 3},
		{false, 61, 40, 600, 7, 7, 9, 2, 0.25, 1},
		{false, 10, 3, 300, 2, 1, 3, 1, 0, 0},
		{true, 39, 17, 33, 4, 13, 13, 1, 0.5, 2},
		{false, 100, 33, 257, 300, 11, 14, 1, 0, 0},
		{true, 1, 1, 1, 1, 1, 2, 1, 0, 0},
	}
}

// testRows checks runRows against the product over every stored row bit
// for bit, for every kernel and worker count: each kept element is the same
// sum in the same order.
func testRows[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range rowsCases() {
		last := (tc.m-1)/tc.width*tc.stride + (tc.m-1)%tc.width
		rows := last + 1
		a := randFill[T](r, last*tc.lda+tc.k)
		br, bc := tc.k, tc.n
		if tc.transB {
			br, bc = tc.n, tc.k
		}
		b := randFill[T](r, br*bc)
		ldc := tc.n + tc.padC
		c := randFill[T](r, tc.m*ldc)
		// The kept rows' old values of c on the full grid of stored rows.
		full := randFill[T](r, rows*tc.n)
		for i := 0; i < tc.m; i++ {
			row := i/tc.width*tc.stride + i%tc.width
			copy(full[row*tc.n:(row+1)*tc.n], c[i*ldc:])
		}
		for _, kn := range kernels[T]() {
			want := append([]T(nil), full...)
			run(kn, false, tc.transB, rows, tc.n, tc.k, T(tc.alpha), a, tc.lda, b, bc, T(tc.beta), want, tc.n, 1)
			for _, w := range []int{1, 2, 5} {
				name := fmt.Sprintf("%s %dx%d, %d workers, %+v", kn.name, kn.mr, kn.nr, w, tc)
				got := append([]T(nil), c...)
				width := tc.width
				if width == tc.stride {
					width = 0
				}
				runRows(kn, false, tc.transB, tc.m, tc.n, tc.k, T(tc.alpha), a, tc.lda, width, tc.stride, b, bc, T(tc.beta), got, ldc, w)
				for i := range got {
					if i%ldc >= tc.n {
						if got[i] != c[i] {
							t.Fatalf("%s: padding element %d changed", name, i)
						}
						continue
					}
					row := i/ldc/tc.width*tc.stride + i/ldc%tc.width
					if v := want[row*tc.n+i%ldc]; math.Float64bits(float64(got[i])) != math.Float64bits(float64(v)) {
						t.Fatalf("%s: element %d = %g, product over all rows %g", name, i, got[i], v)
					}
				}
			}
		}
	}
}

func TestGemmOverlapRows(t *testing.T) {
	t.Run("float32", testRows[float32])
	t.Run("float64", testRows[float64])
	// The exported function, against GemmOverlap on the stored rows.
	r := rand.New(rand.NewPCG(13, 14))
	m, n, k, lda, width, stride := 45, 16, 50, 10, 9, 11
	rows := (m-1)/width*stride + (m-1)%width + 1
	a := randFill[float32](r, (rows-1)*lda+k)
	b := randFill[float32](r, k*n)
	want := make([]float32, rows*n)
	GemmOverlap(false, false, rows, n, k, 1, a, lda, b, n, 0, want, n, 2)
	got := make([]float32, m*n)
	GemmOverlapRows(false, m, n, k, 1, a, lda, width, stride, b, n, 0, got, n, 2)
	for i := 0; i < m; i++ {
		row := i/width*stride + i%width
		for j := 0; j < n; j++ {
			if math.Float32bits(got[i*n+j]) != math.Float32bits(want[row*n+j]) {
				t.Fatalf("row %d column %d: %g, GemmOverlap %g", i, j, got[i*n+j], want[row*n+j])
			}
		}
	}
}

func TestGemmOverlapRowsPanics(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		la, width, stride, lc int
	}{
		{"short a", (4/3*5+4%3)*2 + 3 - 1, 3, 5, 5 * 2},
		{"short c", (4/3*5+4%3)*2 + 3, 3, 5, 5*2 - 1},
		{"stride below width", 100, 3, 2, 10},
		{"zero width", 100, 0, 2, 10},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			// m = 5 rows of k = 3, lda 2, n = 2.
			GemmOverlapRows(false, 5, 2, 3, 1, make([]float64, tc.la), 2, tc.width, tc.stride, make([]float64, 6), 2, 0, make([]float64, tc.lc), 2, 1)
		}()
	}
	// The longest a that suffices does not panic.
	GemmOverlapRows(false, 5, 2, 3, 1, make([]float64, (4/3*5+4%3)*2+3), 2, 3, 5, make([]float64, 6), 2, 0, make([]float64, 10), 2, 1)
}

// TestGemmPartialPanelInPlace checks the partial last micro-panel of A read
// in place, its missing rows taken from what follows in a (NaN here): the
// same bits as with a ending at the product's last row, where it is packed.
func TestGemmPartialPanelInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	nan := math.NaN()
	for _, kn := range kernels[float64]() {
		for _, tc := range []struct {
			transA       bool
			m, n, k, lda int
		}{
			{true, 9, 16, 838, 3}, {true, 23, 5, 300, 23}, {false, 31, 8, 40, 48}, {false, 5, 3, 600, 7},
		} {
			ar, ac := tc.m, tc.k
			if tc.transA {
				ar, ac = tc.k, tc.m
			}
			exact := randFill[float64](r, (ar-1)*tc.lda+ac)
			padded := append(append([]float64(nil), exact...), make([]float64, 64*tc.lda)...)
			for i := len(exact); i < len(padded); i++ {
				padded[i] = nan
			}
			b := randFill[float64](r, tc.k*tc.n)
			want := make([]float64, tc.m*tc.n)
			got := make([]float64, tc.m*tc.n)
			runRows(kn, tc.transA, false, tc.m, tc.n, tc.k, 1, exact, tc.lda, 0, 0, b, tc.n, 0, want, tc.n, 1)
			runRows(kn, tc.transA, false, tc.m, tc.n, tc.k, 1, padded, tc.lda, 0, 0, b, tc.n, 0, got, tc.n, 1)
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s %dx%d %+v: element %d = %g, with a packed %g", kn.name, kn.mr, kn.nr, tc, i, got[i], want[i])
				}
			}
		}
	}
	// Row groups: the rows after the last group's kept ones are NaN.
	for _, kn := range kernels[float32]() {
		m, n, k, lda, width, stride := 26, 16, 20, 20, 7, 9
		last := (m-1)/width*stride + (m-1)%width
		exact := randFill[float32](r, last*lda+k)
		padded := append(append([]float32(nil), exact...), make([]float32, 64*lda)...)
		for i := len(exact); i < len(padded); i++ {
			padded[i] = float32(nan)
		}
		for i := 0; i <= last; i++ { // the dropped rows of each group
			if i%stride >= width {
				for j := 0; j < k; j++ {
					exact[i*lda+j], padded[i*lda+j] = float32(nan), float32(nan)
				}
			}
		}
		b := randFill[float32](r, k*n)
		want := make([]float32, m*n)
		got := make([]float32, m*n)
		runRows(kn, false, false, m, n, k, 1, exact, lda, width, stride, b, n, 0, want, n, 2)
		runRows(kn, false, false, m, n, k, 1, padded, lda, width, stride, b, n, 0, got, n, 2)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.IsNaN(float64(got[i])) {
				t.Fatalf("%s %dx%d row groups: element %d = %g, with a packed %g", kn.name, kn.mr, kn.nr, i, got[i], want[i])
			}
		}
	}
}
