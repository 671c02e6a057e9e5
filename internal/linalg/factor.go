package linalg

import (
	"fmt"
	"math"
	"sync"

	"github.com/eqens/eqens/internal/gemm"
)

// The pure-Go factorisations are recursive (as in ReLAPACK): each splits
// its matrix in halves, so that all but O(n²·leaf) of the work is matrix
// products through internal/gemm. They are compiled in both builds so that
// the OpenBLAS build can test and benchmark them against LAPACK.

// leaf is the order below which the recursions run plain loops.
const leaf = 32

// goCholesky factorises the symmetric positive definite n×n matrix a
// (lower triangle read) as L Lᵀ in place, leaving L in the lower triangle
// and zeros above it.
func goCholesky(n int, a []float64, workers int) error {
	if err := cholRec(n, a, n, 0, workers); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		clear(a[i*n+i+1 : i*n+n])
	}
	return nil
}

// cholRec factorises the m×m block at a (leading dimension ld) whose first
// row is row off of the whole matrix (for error messages).
func cholRec(m int, a []float64, ld, off, workers int) error {
	if m <= leaf {
		return cholLeaf(m, a, ld, off)
	}
	m1 := m / 2
	m2 := m - m1
	if err := cholRec(m1, a, ld, off, workers); err != nil {
		return err
	}
	a21, a22 := a[m1*ld:], a[m1*ld+m1:]
	trsmRightLowerT(m2, m1, a, ld, a21, ld, workers) // A21 ← A21 L11⁻ᵀ
	syrkLower(m2, m1, a21, ld, a22, ld, workers)     // A22 ← A22 − A21 A21ᵀ
	return cholRec(m2, a22, ld, off+m1, workers)
}

// cholLeaf is the unblocked Cholesky factorisation of a small block.
func cholLeaf(m int, a []float64, ld, off int) error {
	for j := 0; j < m; j++ {
		rj := a[j*ld : j*ld+j+1]
		d := rj[j]
		for _, v := range rj[:j] {
			d -= v * v
		}
		if !(d > 0) || math.IsInf(d, 0) {
			return fmt.Errorf("linalg.Cholesky: %w (leading minor %d)", ErrNotPositiveDefinite, off+j+1)
		}
		d = math.Sqrt(d)
		rj[j] = d
		for i := j + 1; i < m; i++ {
			ri := a[i*ld : i*ld+j+1]
			s := ri[j]
			for k, v := range rj[:j] {
				s -= ri[k] * v
			}
			ri[j] = s / d
		}
	}
	return nil
}

// trsmRightLowerT solves X Lᵀ = B in place for the m×n matrix b, where l is
// the n×n lower triangle at l (leading dimension ldl).
func trsmRightLowerT(m, n int, l []float64, ldl int, b []float64, ldb, workers int) {
	if n <= leaf {
		parallelRows(m, workers, func(i0, i1 int) {
			for i := i0; i < i1; i++ {
				x := b[i*ldb : i*ldb+n]
				for j := 0; j < n; j++ {
					lj := l[j*ldl : j*ldl+j+1]
					s := x[j]
					for k, v := range lj[:j] {
						s -= x[k] * v
					}
					x[j] = s / lj[j]
				}
			}
		})
		return
	}
	n1 := n / 2
	// [X1 X2] [L11ᵀ L21ᵀ; 0 L22ᵀ] = [B1 B2]
	trsmRightLowerT(m, n1, l, ldl, b, ldb, workers)
	gemm.Gemm(false, true, m, n-n1, n1, -1, b, ldb, l[n1*ldl:], ldl, 1, b[n1:], ldb, workers)
	trsmRightLowerT(m, n-n1, l[n1*ldl+n1:], ldl, b[n1:], ldb, workers)
}

// syrkLower sets the lower triangle of the m×m matrix c to c − a aᵀ for the
// m×k matrix a (entries above the diagonal of c may change too, within
// diagonal blocks of order leaf or less).
func syrkLower(m, k int, a []float64, lda int, c []float64, ldc, workers int) {
	if m <= leaf {
		gemm.Gemm(false, true, m, m, k, -1, a, lda, a, lda, 1, c, ldc, workers)
		return
	}
	m1 := m / 2
	syrkLower(m1, k, a, lda, c, ldc, workers)
	gemm.Gemm(false, true, m-m1, m1, k, -1, a[m1*lda:], lda, a, lda, 1, c[m1*ldc:], ldc, workers)
	syrkLower(m-m1, k, a[m1*lda:], lda, c[m1*ldc+m1:], ldc, workers)
}

// goCholeskySolve solves L Lᵀ X = B in place for the n×nrhs matrix b.
func goCholeskySolve(n, nrhs int, l, b []float64, workers int) {
	trsmLeftLower(n, nrhs, l, n, b, nrhs, workers)
	trsmLeftLowerT(n, nrhs, l, n, b, nrhs, workers)
}

// trsmLeftLower solves L X = B in place (L n×n lower, B n×m).
func trsmLeftLower(n, m int, l []float64, ldl int, b []float64, ldb, workers int) {
	if n <= leaf {
		for i := 0; i < n; i++ {
			xi := b[i*ldb : i*ldb+m]
			for k, v := range l[i*ldl : i*ldl+i] {
				axpy(-v, b[k*ldb:k*ldb+m], xi)
			}
			inv := 1 / l[i*ldl+i]
			for j := range xi {
				xi[j] *= inv
			}
		}
		return
	}
	n1 := n / 2
	trsmLeftLower(n1, m, l, ldl, b, ldb, workers)
	gemm.Gemm(false, false, n-n1, m, n1, -1, l[n1*ldl:], ldl, b, ldb, 1, b[n1*ldb:], ldb, workers)
	trsmLeftLower(n-n1, m, l[n1*ldl+n1:], ldl, b[n1*ldb:], ldb, workers)
}

// trsmLeftLowerT solves Lᵀ X = B in place (L n×n lower, B n×m).
func trsmLeftLowerT(n, m int, l []float64, ldl int, b []float64, ldb, workers int) {
	if n <= leaf {
		for i := n - 1; i >= 0; i-- {
			xi := b[i*ldb : i*ldb+m]
			for k := i + 1; k < n; k++ {
				axpy(-l[k*ldl+i], b[k*ldb:k*ldb+m], xi)
			}
			inv := 1 / l[i*ldl+i]
			for j := range xi {
				xi[j] *= inv
			}
		}
		return
	}
	n1 := n / 2
	trsmLeftLowerT(n-n1, m, l[n1*ldl+n1:], ldl, b[n1*ldb:], ldb, workers)
	gemm.Gemm(true, false, n1, m, n-n1, -1, l[n1*ldl:], ldl, b[n1*ldb:], ldb, 1, b, ldb, workers)
	trsmLeftLowerT(n1, m, l, ldl, b, ldb, workers)
}

// axpy sets y += alpha*x.
func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

// parallelRows calls f on contiguous row ranges covering [0, m), on up to
// workers goroutines when the rows are many enough to pay for them.
func parallelRows(m, workers int, f func(i0, i1 int)) {
	parts := min(workers, m/64)
	if parts <= 1 {
		f(0, m)
		return
	}
	var wg sync.WaitGroup
	for q := 0; q < parts; q++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(q*m/parts, (q+1)*m/parts)
		}()
	}
	wg.Wait()
}
