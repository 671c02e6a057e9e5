package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

func benchGemm[T Float](b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y, z := randFill[T](r, n*n), randFill[T](r, n*n), make([]T, n*n)
	for b.Loop() {
		Gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n, runtime.GOMAXPROCS(0))
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm and BenchmarkDgemm report square-product throughput on all
// cores with the best micro-kernel (Kernel names it).
func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchGemm[float32](b, n) })
	}
}

func BenchmarkDgemm(b *testing.B) {
	for _, n := range []int{256, 1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchGemm[float64](b, n) })
	}
}
