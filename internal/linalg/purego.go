//go:build !openblas

package linalg

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/eqens/eqens/internal/gemm"
	"github.com/eqens/eqens/internal/symeig"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Backend names the compiled-in implementation.
const Backend = "pure Go"

// Kernel names the matrix-product micro-kernel in use: "avx512", "avx2",
// "neon" or "go" (the portable one); GODEBUG=cpu.avx512f=off selects AVX2 on an
// AVX-512 machine.
func Kernel() string { return gemm.Kernel() }

var (
	impl gonum.Implementation
	// threads is the number of goroutines one product or factorisation
	// may use; 0 means GOMAXPROCS.
	threads atomic.Int64
)

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// SetThreads sets the number of goroutines one product or factorisation may
// use (at least 1). Results do not depend on it. By default all of
// GOMAXPROCS are used.
func SetThreads(n int) { threads.Store(int64(max(n, 1))) }

// Threads reports the number of goroutines one product or factorisation
// uses.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// Sgemm computes c = alpha*op(a)*op(b) + beta*c in float32.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
}

// Dgemm computes c = alpha*op(a)*op(b) + beta*c in float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
}

// Sgemv computes y = alpha*op(a)*x + beta*y in float32 for an m×n matrix a.
func Sgemv(trans bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if m == 0 || n == 0 {
		return
	}
	impl.Sgemv(tr(trans), m, n, alpha, a, lda, x, 1, beta, y, 1)
}

// Dgemv computes y = alpha*op(a)*x + beta*y in float64 for an m×n matrix a.
func Dgemv(trans bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	if m == 0 || n == 0 {
		return
	}
	impl.Dgemv(tr(trans), m, n, alpha, a, lda, x, 1, beta, y, 1)
}

// EigSym computes all eigenvalues and eigenvectors of the symmetric n×n
// matrix a (only its lower triangle is read) with internal/symeig (dsyevd's
// algorithm: blocked tridiagonal reduction, divide and conquer, blocked
// back-transformation). On return w holds the eigenvalues in ascending
// order and a holds the eigenvectors as columns: eigenvector j is
// a[i*n+j], i = 0..n-1.
func EigSym(n int, a []float64, w []float64) error {
	if err := checkSquare("EigSym", n, len(a)); err != nil {
		return err
	}
	if len(w) < n {
		return fmt.Errorf("linalg.EigSym: eigenvalue slice has %d elements, need %d", len(w), n)
	}
	if err := symeig.Decompose(n, a, w, Threads()); err != nil {
		return fmt.Errorf("linalg.EigSym: %w", err)
	}
	return nil
}

// Cholesky factorises the symmetric positive definite n×n matrix a = L L^T
// in place; on return the lower triangle of a holds L and the strict upper
// triangle is zero.
func Cholesky(n int, a []float64) error {
	if err := checkSquare("Cholesky", n, len(a)); err != nil {
		return err
	}
	if err := goCholesky(n, a, Threads()); err != nil {
		return fmt.Errorf("%w (order %d)", err, n)
	}
	return nil
}

// CholeskySolve solves L L^T x = b in place, where l holds the factor from
// Cholesky and b is n×nrhs row-major.
func CholeskySolve(n, nrhs int, l []float64, b []float64) error {
	if err := checkSolve(n, nrhs, l, b); err != nil {
		return err
	}
	if n == 0 || nrhs == 0 {
		return nil
	}
	goCholeskySolve(n, nrhs, l, b, Threads())
	return nil
}
