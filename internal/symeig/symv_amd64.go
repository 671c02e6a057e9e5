//go:build amd64 && !purego

package symeig

import "golang.org/x/sys/cpu"

// symv4AVX2 is symv4Go for n a multiple of 4, in AVX2 and FMA assembly.
//
//go:noescape
func symv4AVX2(n int, a *float64, lda int, x, y *float64, xc *[4]float64, dots *[4]float64)

// dot4AVX2 is dot4Go for n a multiple of 4.
//
//go:noescape
func dot4AVX2(n int, a *float64, lda int, x *float64, dots *[4]float64)

// axpy4AVX2 is axpy4Go for n a multiple of 4.
//
//go:noescape
func axpy4AVX2(n int, a *float64, lda int, y *float64, coef *[4]float64)

var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// symv4 is symv4Go, in assembly where the CPU allows.
func symv4(n int, a []float64, lda int, x, y []float64, xc *[4]float64, dots *[4]float64) {
	if !haveAVX2 || n < 4 {
		symv4Go(n, a, lda, x, y, xc, dots)
		return
	}
	n4 := n &^ 3
	_ = a[3*lda+n-1]
	_ = x[n-1]
	_ = y[n-1]
	symv4AVX2(n4, &a[0], lda, &x[0], &y[0], xc, dots)
	symv4Tail(n4, n, a, lda, x, y, xc, dots)
}

// dot4 is dot4Go, in assembly where the CPU allows.
func dot4(n int, a []float64, lda int, x []float64, dots *[4]float64) {
	if !haveAVX2 || n < 4 {
		dot4Go(n, a, lda, x, dots)
		return
	}
	n4 := n &^ 3
	_ = a[3*lda+n-1]
	_ = x[n-1]
	dot4AVX2(n4, &a[0], lda, &x[0], dots)
	dot4Tail(n4, n, a, lda, x, dots)
}

// axpy4 is axpy4Go, in assembly where the CPU allows.
func axpy4(n int, a []float64, lda int, y []float64, coef *[4]float64) {
	if !haveAVX2 || n < 4 {
		axpy4Go(n, a, lda, y, coef)
		return
	}
	n4 := n &^ 3
	_ = a[3*lda+n-1]
	_ = y[n-1]
	axpy4AVX2(n4, &a[0], lda, &y[0], coef)
	axpy4Tail(n4, n, a, lda, y, coef)
}
