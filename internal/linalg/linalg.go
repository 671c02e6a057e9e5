package linalg

import (
	"errors"
	"fmt"

	"github.com/eqens/eqens/internal/gemm"
)

// ErrNotPositiveDefinite is returned (wrapped) by Cholesky and the solvers
// when the matrix is not numerically positive definite.
var ErrNotPositiveDefinite = errors.New("matrix is not positive definite")

// Float is the set of element types the generic helpers accept.
type Float interface{ ~float32 | ~float64 }

// Gemm computes c = alpha*op(a)*op(b) + beta*c for either float type, where
// op(a) is m×k and op(b) is k×n; transA and transB select the transposes.
// It dispatches to Sgemm or Dgemm.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		Sgemm(transA, transB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		Dgemm(transA, transB, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	default:
		// Named float types: convert through the underlying representation.
		panic(fmt.Sprintf("linalg.Gemm: unsupported element type %T", a))
	}
}

// Gemv computes y = alpha*op(a)*x + beta*y for either float type; a is m×n.
func Gemv[T Float](trans bool, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	switch av := any(a).(type) {
	case []float32:
		Sgemv(trans, m, n, float32(alpha), av, lda, any(x).([]float32), float32(beta), any(y).([]float32))
	case []float64:
		Dgemv(trans, m, n, float64(alpha), av, lda, any(x).([]float64), float64(beta), any(y).([]float64))
	default:
		panic(fmt.Sprintf("linalg.Gemv: unsupported element type %T", a))
	}
}

// checkSolve checks the operands of CholeskySolve.
func checkSolve(n, nrhs int, l, b []float64) error {
	if err := checkSquare("CholeskySolve", n, len(l)); err != nil {
		return err
	}
	if len(b) < n*nrhs {
		return fmt.Errorf("linalg.CholeskySolve: right-hand side has %d elements, need %d", len(b), n*nrhs)
	}
	return nil
}

func checkSquare(name string, n, lenA int) error {
	if n < 0 {
		return fmt.Errorf("linalg.%s: negative order %d", name, n)
	}
	if lenA < n*n {
		return fmt.Errorf("linalg.%s: matrix has %d elements, need %d for order %d", name, lenA, n*n, n)
	}
	return nil
}

// Symmetrize copies the lower triangle of the n×n matrix a onto its upper
// triangle.
func Symmetrize(n int, a []float64) {
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			a[j*n+i] = a[i*n+j]
		}
	}
}

// SolvePSD solves (a + reg*I) x = b in place for a symmetric positive
// semi-definite n×n matrix a and nrhs right-hand sides stored row-major in b
// (n×nrhs). a is left unchanged. With reg = 0 the matrix itself must be
// positive definite; otherwise the error says so and suggests a regulariser.
func SolvePSD(n, nrhs int, a []float64, reg float64, b []float64) error {
	if err := checkSquare("SolvePSD", n, len(a)); err != nil {
		return err
	}
	if reg < 0 {
		return fmt.Errorf("linalg.SolvePSD: negative regulariser %g", reg)
	}
	if len(b) < n*nrhs {
		return fmt.Errorf("linalg.SolvePSD: right-hand side has %d elements, need %d", len(b), n*nrhs)
	}
	l := make([]float64, n*n)
	copy(l, a[:n*n])
	for i := 0; i < n; i++ {
		l[i*n+i] += reg
	}
	if err := Cholesky(n, l); err != nil {
		if errors.Is(err, ErrNotPositiveDefinite) {
			return fmt.Errorf("%w (regulariser %g; try a larger diagonal regulariser)", err, reg)
		}
		return err
	}
	return CholeskySolve(n, nrhs, l, b)
}

// GemmOverlap is Gemm for an a whose stored rows may overlap (lda below the
// length of a row), as nn's direct convolutions read their row-stacked
// input. BLAS does not take such operands, so both builds compute it with
// internal/gemm.
func GemmOverlap[T gemm.Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemm.GemmOverlap(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
}

// GemmOverlapRows is GemmOverlap (a not transposed) for the rows of a kept
// in groups: row i of the product reads stored row (i/width)*stride +
// i%width of a, with the same sums as GemmOverlap over every stored row
// (gemm.GemmOverlapRows).
func GemmOverlapRows[T gemm.Float](transB bool, m, n, k int, alpha T, a []T, lda, width, stride int, b []T, ldb int, beta T, c []T, ldc int) {
	gemm.GemmOverlapRows(transB, m, n, k, alpha, a, lda, width, stride, b, ldb, beta, c, ldc, Threads())
}
