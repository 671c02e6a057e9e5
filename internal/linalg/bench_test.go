package linalg

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkSgemm reports float32 GEMM throughput for square matrices.
func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			SetThreads(runtime.GOMAXPROCS(0))
			defer SetThreads(1)
			r := rand.New(rand.NewPCG(1, 1))
			x := to32(randSlice(r, n*n))
			y := to32(randSlice(r, n*n))
			z := make([]float32, n*n)
			b.ResetTimer()
			for b.Loop() {
				Sgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDgemm reports float64 GEMM throughput for square matrices.
func BenchmarkDgemm(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			SetThreads(runtime.GOMAXPROCS(0))
			defer SetThreads(1)
			r := rand.New(rand.NewPCG(1, 1))
			x := randSlice(r, n*n)
			y := randSlice(r, n*n)
			z := make([]float64, n*n)
			b.ResetTimer()
			for b.Loop() {
				Dgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkEigSym reports the time of a full symmetric eigendecomposition.
func BenchmarkEigSym(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			SetThreads(runtime.GOMAXPROCS(0))
			defer SetThreads(1)
			r := rand.New(rand.NewPCG(2, 2))
			a := randSPD(r, n)
			v := make([]float64, n*n)
			w := make([]float64, n)
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				copy(v, a)
				b.StartTimer()
				if err := EigSym(n, v, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
		})
	}
}

// BenchmarkCholesky reports the time of a Cholesky factorisation.
func BenchmarkCholesky(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			SetThreads(runtime.GOMAXPROCS(0))
			defer SetThreads(1)
			r := rand.New(rand.NewPCG(2, 2))
			a := randSPD(r, n)
			v := make([]float64, n*n)
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				copy(v, a)
				b.StartTimer()
				if err := Cholesky(n, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
