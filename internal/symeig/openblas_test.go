//go:build openblas

package symeig

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/eqens/eqens/internal/linalg"
)

// With the openblas build tag these compare Decompose with LAPACKE_dsyevd
// (OpenBLAS, through linalg.EigSym):
//
//	go test -tags openblas -bench 'Decompose|OpenBLAS' -benchtime 3x
//	SYMEIG_CMP=2000 SYMEIG_WORKERS=2 go test -tags openblas -count=1 -run CompareOpenBLAS -v

// BenchmarkOpenBLASDsyevd times LAPACKE_dsyevd on the matrices of
// BenchmarkDecompose with GOMAXPROCS threads.
func BenchmarkOpenBLASDsyevd(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			linalg.SetThreads(runtime.GOMAXPROCS(0))
			defer linalg.SetThreads(1)
			a := benchMatrix(n)
			v := make([]float64, n*n)
			w := make([]float64, n)
			for b.Loop() {
				b.StopTimer()
				copy(v, a)
				b.StartTimer()
				if err := linalg.EigSym(n, v, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
		})
	}
}

// TestCompareOpenBLAS reports the best of SYMEIG_REPS timings of each
// (SYMEIG_CMP=n, SYMEIG_WORKERS=threads).
func TestCompareOpenBLAS(t *testing.T) {
	n := atoiOr(os.Getenv("SYMEIG_CMP"), 0)
	if n < 2 {
		t.Skip("SYMEIG_CMP not set")
	}
	wk := atoiOr(os.Getenv("SYMEIG_WORKERS"), 2)
	reps := atoiOr(os.Getenv("SYMEIG_REPS"), 4)
	linalg.SetThreads(wk)
	defer linalg.SetThreads(1)
	a := timingMatrix(n)
	v := make([]float64, n*n)
	w := make([]float64, n)
	// Not interleaved: OpenBLAS's threads keep spinning for a while after
	// a call and would slow down the next Decompose.
	bestG, bestO := 1e9, 1e9
	for r := 0; r < reps; r++ {
		copy(v, a)
		t0 := time.Now()
		if err := Decompose(n, v, w, wk); err != nil {
			t.Fatal(err)
		}
		bestG = min(bestG, time.Since(t0).Seconds())
	}
	for r := 0; r < reps; r++ {
		copy(v, a)
		t0 := time.Now()
		if err := linalg.EigSym(n, v, w); err != nil {
			t.Fatal(err)
		}
		bestO = min(bestO, time.Since(t0).Seconds())
	}
	t.Logf("n=%d workers=%d: Decompose %.3f s, LAPACKE_dsyevd %.3f s (best of %d)", n, wk, bestG, bestO, reps)
}

// TestAgainstDsyevd compares eigenvalues and the quality of the vectors
// with LAPACK's on kernel Gram matrices.
func TestAgainstDsyevd(t *testing.T) {
	for _, n := range []int{300, 800} {
		a := gaussGram(rand.New(rand.NewPCG(3, uint64(n))), n, 3, 0.5)
		v1 := append([]float64(nil), a...)
		w1 := make([]float64, n)
		if err := Decompose(n, v1, w1, 2); err != nil {
			t.Fatal(err)
		}
		v2 := append([]float64(nil), a...)
		w2 := make([]float64, n)
		if err := linalg.EigSym(n, v2, w2); err != nil {
			t.Fatal(err)
		}
		diff := 0.0
		for i := range w1 {
			diff = math.Max(diff, math.Abs(w1[i]-w2[i]))
		}
		diff /= math.Abs(w2[n-1])
		r1, o1 := quality(n, a, v1, w1)
		r2, o2 := quality(n, a, v2, w2)
		t.Logf("n=%d: eigenvalue difference %.2e; residual %.2e (dsyevd %.2e), orthogonality %.2e (dsyevd %.2e)", n, diff, r1, r2, o1, o2)
		if diff > 1e-13 || r1 > 10*r2+1e-15 || o1 > 10*o2+1e-14 {
			t.Errorf("n=%d: worse than dsyevd", n)
		}
	}
}
