//go:build !amd64 || purego

package symeig

// symv4 is symv4Go.
func symv4(n int, a []float64, lda int, x, y []float64, xc *[4]float64, dots *[4]float64) {
	symv4Go(n, a, lda, x, y, xc, dots)
}

// dot4 is dot4Go.
func dot4(n int, a []float64, lda int, x []float64, dots *[4]float64) {
	dot4Go(n, a, lda, x, dots)
}

// axpy4 is axpy4Go.
func axpy4(n int, a []float64, lda int, y []float64, coef *[4]float64) {
	axpy4Go(n, a, lda, y, coef)
}
