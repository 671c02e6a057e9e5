// Package symeig computes the full eigendecomposition of a dense real
// symmetric matrix in pure Go (no cgo), along the lines of LAPACK's dsyevd:
//
//  1. a blocked Householder reduction to tridiagonal form, A = Q T Qᵀ
//     (dsytrd/dlatrd), half of whose work is matrix products (the
//     repository's gemm) and half symmetric matrix-vector products, run
//     in parallel and bound by memory bandwidth;
//  2. Cuppen's divide and conquer on T (dstedc/dlaed0-dlaed6): rank-one
//     tearing down to blocks solved by implicit QL/QR (gonum's Dsteqr),
//     deflation of small z components and close eigenvalues, the secular
//     equation solved by Ren-Cang Li's rational interpolation, the
//     Gu-Eisenstat recomputation of z for orthogonal eigenvectors, and the
//     merged eigenvectors formed by matrix products;
//  3. the back-transformation V = Q Z with the reflectors applied in blocks
//     (compact WY form, dlarft/dlarfb) by matrix products.
//
// Its accuracy is LAPACK's: on the same tridiagonal matrix the divide and
// conquer gives the same residuals as LAPACK's dstedc, and the
// eigenvalues of whole matrices agree with dsyevd's to a few units of
// rounding relative to ‖A‖, including positive semidefinite Gram matrices
// whose eigenvalues fall to rounding level and matrices with exactly
// repeated eigenvalues.
//
// Every step is deterministic: the result is bit for bit the same for any
// number of workers, and on amd64 the same with the AVX2 assembly kernels
// as with their portable Go versions (the purego build tag, or a CPU
// without AVX2). Besides the caller's matrix it uses about 2n² float64s of
// workspace, as dsyevd does.
package symeig

import (
	"fmt"
	"math"
)

// Decompose computes all eigenvalues and eigenvectors of the symmetric n×n
// row-major matrix a (only its lower triangle a[i*n+j], j <= i, is read).
// On return w[0:n] holds the eigenvalues in ascending order and a holds the
// eigenvectors as columns: eigenvector j is a[i*n+j], i = 0..n-1. workers
// is the number of goroutines it may use (values below 1 mean 1); the
// results are bit for bit identical for any workers value.
//
// It returns an error, leaving a and w in an unspecified state, for bad
// sizes, for a matrix with NaN or infinite elements and if an iteration
// fails to converge.
func Decompose(n int, a, w []float64, workers int) error {
	switch {
	case n < 0:
		return fmt.Errorf("symeig: negative order %d", n)
	case n > 0 && len(a) < n*n:
		return fmt.Errorf("symeig: matrix slice has %d elements, need %d for order %d", len(a), n*n, n)
	case len(w) < n:
		return fmt.Errorf("symeig: eigenvalue slice has %d elements, need %d", len(w), n)
	}
	if n == 0 {
		return nil
	}
	workers = max(1, workers)

	anrm := 0.0
	for i := 0; i < n; i++ {
		for _, v := range a[i*n : i*n+i+1] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("symeig: matrix has a NaN or infinite element in row %d", i)
			}
			anrm = math.Max(anrm, math.Abs(v))
		}
	}
	if n == 1 {
		w[0] = a[0]
		a[0] = 1
		return nil
	}

	// Scale the matrix into a safe range (dsyevd).
	const (
		smlnum = safmin / eps
		bignum = 1 / smlnum
	)
	rmin, rmax := math.Sqrt(smlnum), math.Sqrt(bignum)
	sigma := 1.0
	if anrm > 0 && anrm < rmin {
		sigma = rmin / anrm
	} else if anrm > rmax {
		sigma = rmax / anrm
	}
	if sigma != 1 {
		for i := 0; i < n; i++ {
			scal(a[i*n:i*n+i+1], sigma)
		}
	}

	d := w[:n]
	e := make([]float64, n-1)
	tau := make([]float64, n-1)
	sytrd(n, a, d, e, tau, workers)

	// z: the eigenvectors of T as columns of a column-major matrix, i.e.
	// as rows of a row-major one, in the order of perm.
	z := make([]float64, n*n)
	perm, err := stedc(n, d, e, z, workers)
	if err != nil {
		return err
	}
	// The back-transformation treats the rows independently: sort them
	// only in the final transposition.
	ormtr(n, a, tau, z, workers)
	transposePerm(n, z, a, perm, workers)
	unsorted := append([]float64(nil), d...)
	for j, p := range perm {
		d[j] = unsorted[p]
	}

	if sigma != 1 {
		scal(d, 1/sigma)
	}
	return nil
}

// transposePerm stores in the n×n row-major dst the transpose of the
// rows of src taken in the order perm: dst[i*n+j] = src[perm[j]*n+i].
func transposePerm(n int, src, dst []float64, perm []int, workers int) {
	const bs = 32
	nb := (n + bs - 1) / bs
	parallelFor(workers, nb, func(ib int) {
		i0, i1 := ib*bs, min(n, ib*bs+bs)
		for j0 := 0; j0 < n; j0 += bs {
			for j := j0; j < min(n, j0+bs); j++ {
				row := src[perm[j]*n+i0 : perm[j]*n+i1]
				for i, v := range row {
					dst[(i0+i)*n+j] = v
				}
			}
		}
	})
}
