//go:build openblas

package linalg

/*
#cgo pkg-config: openblas lapacke
#include <cblas.h>
#include <lapacke.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/eqens/eqens/internal/gemm"
)

// Backend names the compiled-in implementation.
const Backend = "openblas"

func init() {
	// Default to one thread: ensemble members run in parallel, one per core,
	// and call SetThreads to use more for large single products.
	C.openblas_set_num_threads(1)
}

// SetThreads sets the number of threads OpenBLAS may use for one call.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	C.openblas_set_num_threads(C.int(n))
}

// Threads reports the number of threads OpenBLAS uses for one call.
func Threads() int { return int(C.openblas_get_num_threads()) }

func ctr(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

// checkGemm panics with a clear message if the slices are too short for the
// requested product. Such a mismatch is a programming error, never a user
// input error: callers validate shapes before reaching this package.
func checkGemm(name string, transA, transB bool, m, n, k, lda, ldb, ldc, la, lb, lc int) {
	gemm.Check("linalg."+name, transA, transB, m, n, k, lda, ldb, ldc, la, lb, lc)
}

// Sgemm computes c = alpha*op(a)*op(b) + beta*c in float32.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Sgemm", transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale32(m, n, beta, c, ldc)
		return
	}
	if n <= skinny && m*n*k >= skinnyWork {
		// The convolutions' products with few output channels or a short
		// inner dimension: internal/gemm reads such panels in place and is
		// faster there than OpenBLAS (bench/RESULTS.md, section 11).
		gemm.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, ctr(transA), ctr(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// Sgemm uses internal/gemm for products whose smallest dimension is at
// most skinny and that have at least skinnyWork multiply-adds (below that,
// OpenBLAS's lower call overhead wins: the MLP's 10-column products).
const skinny, skinnyWork = 32, 1 << 20

// Dgemm computes c = alpha*op(a)*op(b) + beta*c in float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm("Dgemm", transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale64(m, n, beta, c, ldc)
		return
	}
	C.cblas_dgemm(C.CblasRowMajor, ctr(transA), ctr(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func scale32(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

func scale64(m, n int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

// Sgemv computes y = alpha*op(a)*x + beta*y in float32 for an m×n matrix a.
func Sgemv(trans bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemv(C.CblasRowMajor, ctr(trans), C.blasint(m), C.blasint(n), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&x[0])), 1,
		C.float(beta), (*C.float)(unsafe.Pointer(&y[0])), 1)
}

// Dgemv computes y = alpha*op(a)*x + beta*y in float64 for an m×n matrix a.
func Dgemv(trans bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_dgemv(C.CblasRowMajor, ctr(trans), C.blasint(m), C.blasint(n), C.double(alpha),
		(*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.double)(unsafe.Pointer(&x[0])), 1,
		C.double(beta), (*C.double)(unsafe.Pointer(&y[0])), 1)
}

// EigSym computes all eigenvalues and eigenvectors of the symmetric n×n
// matrix a (only its lower triangle is read) with LAPACK dsyevd. On return w
// holds the eigenvalues in ascending order and a holds the eigenvectors as
// columns: eigenvector j is a[i*n+j], i = 0..n-1.
func EigSym(n int, a []float64, w []float64) error {
	if err := checkSquare("EigSym", n, len(a)); err != nil {
		return err
	}
	if len(w) < n {
		return fmt.Errorf("linalg.EigSym: eigenvalue slice has %d elements, need %d", len(w), n)
	}
	if n == 0 {
		return nil
	}
	// The row-major lower triangle is the column-major upper one: calling
	// LAPACK in its native column-major order avoids LAPACKE's transposed
	// n×n copy (one n×n matrix less next to dsyevd's own 2n² workspace). The
	// eigenvectors come back as column-major columns, i.e. rows here, and
	// are transposed in place.
	info := C.LAPACKE_dsyevd(C.LAPACK_COL_MAJOR, 'V', 'U', C.lapack_int(n),
		(*C.double)(unsafe.Pointer(&a[0])), C.lapack_int(n), (*C.double)(unsafe.Pointer(&w[0])))
	if info != 0 {
		return fmt.Errorf("linalg.EigSym: LAPACKE_dsyevd failed with info=%d (n=%d)", int(info), n)
	}
	transposeInPlace(n, a)
	return nil
}

// Cholesky factorises the symmetric positive definite n×n matrix a = L L^T
// in place; on return the lower triangle of a holds L and the strict upper
// triangle is zero.
func Cholesky(n int, a []float64) error {
	if err := checkSquare("Cholesky", n, len(a)); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	// Column-major 'U' reads and writes exactly the row-major lower
	// triangle (U = L^T), without LAPACKE's transposed n×n copy.
	info := C.LAPACKE_dpotrf(C.LAPACK_COL_MAJOR, 'U', C.lapack_int(n), (*C.double)(unsafe.Pointer(&a[0])), C.lapack_int(n))
	if info > 0 {
		return fmt.Errorf("linalg.Cholesky: %w (order %d, leading minor %d)", ErrNotPositiveDefinite, n, int(info))
	}
	if info < 0 {
		return fmt.Errorf("linalg.Cholesky: LAPACKE_dpotrf argument %d invalid", -int(info))
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a[i*n+j] = 0
		}
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
	// Two triangular solves, L y = b and L^T x = y, with row-major CBLAS
	// (LAPACKE_dpotrs in row-major order would copy the n×n factor).
	lp, bp := (*C.double)(unsafe.Pointer(&l[0])), (*C.double)(unsafe.Pointer(&b[0]))
	C.cblas_dtrsm(C.CblasRowMajor, C.CblasLeft, C.CblasLower, C.CblasNoTrans, C.CblasNonUnit,
		C.blasint(n), C.blasint(nrhs), 1, lp, C.blasint(n), bp, C.blasint(nrhs))
	C.cblas_dtrsm(C.CblasRowMajor, C.CblasLeft, C.CblasLower, C.CblasTrans, C.CblasNonUnit,
		C.blasint(n), C.blasint(nrhs), 1, lp, C.blasint(n), bp, C.blasint(nrhs))
	return nil
}

// transposeInPlace transposes the square n×n matrix a.
func transposeInPlace(n int, a []float64) {
	const bs = 64
	for i0 := 0; i0 < n; i0 += bs {
		for j0 := i0; j0 < n; j0 += bs {
			for i := i0; i < min(n, i0+bs); i++ {
				j := j0
				if j0 == i0 {
					j = i + 1
				}
				for ; j < min(n, j0+bs); j++ {
					a[i*n+j], a[j*n+i] = a[j*n+i], a[i*n+j]
				}
			}
		}
	}
}

// Kernel names the OpenBLAS core type in use (OPENBLAS_CORETYPE selects
// another, e.g. Haswell for the AVX2 kernels on an AVX-512 machine).
func Kernel() string { return C.GoString(C.openblas_get_corename()) }
