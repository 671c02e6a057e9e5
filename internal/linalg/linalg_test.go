package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the reference product used to check both backends.
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.NormFloat64()
	}
	return s
}

func TestGemmAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name           string
		tA, tB         bool
		m, n, k        int
		alpha, beta    float64
		padA, padB, pc int
	}{
		{"NN", false, false, 7, 5, 3, 1.5, 0, 0, 0, 0},
		{"TN", true, false, 4, 9, 6, -0.5, 2, 1, 0, 2},
		{"NT", false, true, 13, 2, 11, 1, 1, 0, 3, 0},
		{"TT", true, true, 8, 8, 8, 2, -1, 2, 2, 1},
		{"k0", false, false, 3, 3, 0, 1, 0.5, 0, 0, 0},
		{"large", false, true, 70, 65, 130, 1, 0, 0, 0, 0},
		// A convolution's skinny products (few output channels, enough
		// work that the OpenBLAS build hands them to internal/gemm).
		{"skinny", false, false, 1800, 16, 72, 1, 0, 0, 0, 0},
		{"skinny-T", true, false, 72, 16, 1800, 1, 0.5, 3, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ar, ac := tc.m, tc.k
			if tc.tA {
				ar, ac = tc.k, tc.m
			}
			br, bc := tc.k, tc.n
			if tc.tB {
				br, bc = tc.n, tc.k
			}
			lda, ldb, ldc := max(1, ac+tc.padA), max(1, bc+tc.padB), tc.n+tc.pc
			a := randSlice(r, max(1, ar*lda))
			b := randSlice(r, max(1, br*ldb))
			c := randSlice(r, tc.m*ldc)
			want := append([]float64(nil), c...)
			naiveGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
			got := append([]float64(nil), c...)
			Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i]))*float64(tc.k+1) {
					t.Fatalf("Dgemm[%d] = %v, want %v", i, got[i], want[i])
				}
			}
			a32, b32, c32 := to32(a), to32(b), to32(c)
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), c32, ldc)
			for i := range want {
				if math.Abs(float64(c32[i])-want[i]) > 1e-4*(1+math.Abs(want[i]))*math.Sqrt(float64(tc.k+1)) {
					t.Fatalf("Sgemm[%d] = %v, want %v", i, c32[i], want[i])
				}
			}
			// The generic wrapper dispatches to the same routines.
			g := append([]float64(nil), c...)
			Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, g, ldc)
			for i := range g {
				if g[i] != got[i] {
					t.Fatalf("Gemm[float64] differs from Dgemm at %d", i)
				}
			}
		})
	}
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func TestGemvKnown(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6} // 2x3
	x := []float64{1, 0, -1}
	y := []float64{10, 20}
	Dgemv(false, 2, 3, 2, a, 3, x, 1, y)
	if y[0] != 10+2*(1-3) || y[1] != 20+2*(4-6) {
		t.Fatalf("Dgemv = %v", y)
	}
	xt := []float32{1, 1}
	yt := make([]float32, 3)
	Sgemv(true, 2, 3, 1, to32(a), 3, xt, 0, yt)
	if yt[0] != 5 || yt[1] != 7 || yt[2] != 9 {
		t.Fatalf("Sgemv^T = %v", yt)
	}
}

func randSPD(r *rand.Rand, n int) []float64 {
	g := randSlice(r, n*n)
	a := make([]float64, n*n)
	Dgemm(false, true, n, n, n, 1, g, n, g, n, 0, a, n)
	for i := 0; i < n; i++ {
		a[i*n+i] += float64(n)
	}
	return a
}

func TestEigSymKnown(t *testing.T) {
	// [[2,1],[1,2]] has eigenvalues 1 and 3 with vectors (1,-1)/√2, (1,1)/√2.
	a := []float64{2, 1, 1, 2}
	w := make([]float64, 2)
	if err := EigSym(2, a, w); err != nil {
		t.Fatal(err)
	}
	if math.Abs(w[0]-1) > 1e-14 || math.Abs(w[1]-3) > 1e-14 {
		t.Fatalf("eigenvalues %v, want [1 3]", w)
	}
	if math.Abs(math.Abs(a[0*2+1])-1/math.Sqrt2) > 1e-14 || math.Abs(a[0*2+1]-a[1*2+1]) > 1e-14 {
		t.Fatalf("eigenvector for 3 is (%v, %v)", a[1], a[3])
	}
}

func TestEigSymReconstructs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 5, 64, 200} {
		g := randSlice(r, n*n)
		a := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				a[i*n+j] = g[i*n+j] + g[j*n+i]
				a[j*n+i] = a[i*n+j]
			}
		}
		v := append([]float64(nil), a...)
		// Scribble on the upper triangle: only the lower one may be read.
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				v[i*n+j] = 1e6
			}
		}
		w := make([]float64, n)
		if err := EigSym(n, v, w); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < n; i++ {
			if w[i] < w[i-1] {
				t.Fatalf("n=%d: eigenvalues not ascending at %d", n, i)
			}
		}
		// V diag(w) V^T == A and V^T V == I.
		vd := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				vd[i*n+j] = v[i*n+j] * w[j]
			}
		}
		rec := make([]float64, n*n)
		Dgemm(false, true, n, n, n, 1, vd, n, v, n, 0, rec, n)
		id := make([]float64, n*n)
		Dgemm(true, false, n, n, n, 1, v, n, v, n, 0, id, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if math.Abs(rec[i*n+j]-a[i*n+j]) > 1e-11*float64(n) {
					t.Fatalf("n=%d: reconstruction error at (%d,%d): %v vs %v", n, i, j, rec[i*n+j], a[i*n+j])
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(id[i*n+j]-want) > 1e-12*float64(n) {
					t.Fatalf("n=%d: V^T V not identity at (%d,%d): %v", n, i, j, id[i*n+j])
				}
			}
		}
	}
}

func TestCholeskyAndSolve(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 3, 50, 150} {
		a := randSPD(r, n)
		l := append([]float64(nil), a...)
		if err := Cholesky(n, l); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if l[i*n+j] != 0 {
					t.Fatalf("upper triangle of L not zero at (%d,%d)", i, j)
				}
			}
		}
		llt := make([]float64, n*n)
		Dgemm(false, true, n, n, n, 1, l, n, l, n, 0, llt, n)
		for i := range a {
			if math.Abs(llt[i]-a[i]) > 1e-10*float64(n) {
				t.Fatalf("n=%d: L L^T differs from A at %d: %v vs %v", n, i, llt[i], a[i])
			}
		}
		const nrhs = 3
		x := randSlice(r, n*nrhs)
		b := make([]float64, n*nrhs)
		reg := 0.25
		areg := append([]float64(nil), a...)
		for i := 0; i < n; i++ {
			areg[i*n+i] += reg
		}
		Dgemm(false, false, n, nrhs, n, 1, areg, n, x, nrhs, 0, b, nrhs)
		if err := SolvePSD(n, nrhs, a, reg, b); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			if math.Abs(b[i]-x[i]) > 1e-9 {
				t.Fatalf("n=%d: SolvePSD x[%d] = %v, want %v", n, i, b[i], x[i])
			}
		}
	}
}

func TestSolvePSDSingular(t *testing.T) {
	// A rank-one PSD matrix is singular: without a regulariser the solve
	// must fail with ErrNotPositiveDefinite, with one it must succeed.
	a := []float64{1, 1, 1, 1}
	b := []float64{1, 2}
	err := SolvePSD(2, 1, a, 0, append([]float64(nil), b...))
	if !errors.Is(err, ErrNotPositiveDefinite) {
		t.Fatalf("singular solve: got %v, want ErrNotPositiveDefinite", err)
	}
	if err := SolvePSD(2, 1, a, 1e-3, b); err != nil {
		t.Fatalf("regularised solve failed: %v", err)
	}
	if err := SolvePSD(2, 1, a, -1, b); err == nil {
		t.Fatal("negative regulariser accepted")
	}
}

func TestThreads(t *testing.T) {
	old := Threads()
	SetThreads(2)
	SetThreads(old)
	if Threads() != old {
		t.Fatalf("Threads() = %d after restoring %d", Threads(), old)
	}
}
