//go:build openblas

package linalg

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/eqens/eqens/internal/gemm"
	"github.com/eqens/eqens/internal/symeig"
)

// BenchmarkPureGo times the pure-Go build's operations against OpenBLAS's in
// the same process, on all cores: sub-benchmarks NAME/purego and
// NAME/openblas. bench/run turns them into "RATIO purego_NAME" lines.
func BenchmarkPureGo(b *testing.B) {
	threads := runtime.GOMAXPROCS(0)
	SetThreads(threads)
	defer SetThreads(1)
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1000, 2000} {
		x, y := randSlice(r, n*n), randSlice(r, n*n)
		z := make([]float64, n*n)
		x32, y32, z32 := to32(x), to32(y), make([]float32, n*n)
		flops := 2 * float64(n) * float64(n) * float64(n)
		pair(b, fmt.Sprintf("sgemm_%d", n), flops,
			func() { gemm.Gemm(false, false, n, n, n, 1, x32, n, y32, n, 0, z32, n, threads) },
			func() { Sgemm(false, false, n, n, n, 1, x32, n, y32, n, 0, z32, n) })
		pair(b, fmt.Sprintf("dgemm_%d", n), flops,
			func() { gemm.Gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n, threads) },
			func() { Dgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n) })
	}
	for _, n := range []int{1000, 2000} {
		a := randSPD(r, n)
		v, w := make([]float64, n*n), make([]float64, n)
		pair(b, fmt.Sprintf("eigsym_%d", n), 0,
			func() { copy(v, a); must(b, symeig.Decompose(n, v, w, threads)) },
			func() { copy(v, a); must(b, EigSym(n, v, w)) })
	}
	n := 4000
	a := randSPD(r, n)
	l := make([]float64, n*n)
	pair(b, "cholesky_4000", float64(n)*float64(n)*float64(n)/3,
		func() { copy(l, a); must(b, goCholesky(n, l, threads)) },
		func() { copy(l, a); must(b, Cholesky(n, l)) })
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

// pair runs the pure-Go and the OpenBLAS version of one operation.
func pair(b *testing.B, name string, flops float64, pure, blas func()) {
	for _, v := range []struct {
		impl string
		f    func()
	}{{"purego", pure}, {"openblas", blas}} {
		b.Run(name+"/"+v.impl, func(b *testing.B) {
			for b.Loop() {
				v.f()
			}
			if flops > 0 {
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
		})
	}
}
