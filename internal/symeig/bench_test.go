package symeig

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
)

// benchMatrix is a random symmetric n×n matrix with uniform elements in
// [-1, 1]: little deflation, the hardest case for divide and conquer.
func benchMatrix(n int) []float64 {
	return randSym(rand.New(rand.NewPCG(7, uint64(n))), n)
}

// BenchmarkDecompose reports the time of Decompose with GOMAXPROCS workers.
func BenchmarkDecompose(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			a := benchMatrix(n)
			v := make([]float64, n*n)
			w := make([]float64, n)
			for b.Loop() {
				b.StopTimer()
				copy(v, a)
				b.StartTimer()
				if err := Decompose(n, v, w, runtime.GOMAXPROCS(0)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
		})
	}
}

// BenchmarkGonumDsyev is the baseline: gonum's Dsyev (QL/QR on the
// tridiagonal matrix) on the same matrix, n = 1000 only (it is slow).
func BenchmarkGonumDsyev(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
		a := benchMatrix(n)
		v := make([]float64, n*n)
		w := make([]float64, n)
		work := make([]float64, 1)
		impl.Dsyev(lapack.EVCompute, blas.Upper, n, v, n, w, work, -1)
		work = make([]float64, int(work[0]))
		for b.Loop() {
			b.StopTimer()
			copy(v, a)
			b.StartTimer()
			if !impl.Dsyev(lapack.EVCompute, blas.Upper, n, v, n, w, work, len(work)) {
				b.Fatal("Dsyev failed")
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	})
}
