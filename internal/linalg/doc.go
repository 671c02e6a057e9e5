// Package linalg is the single seam through which eqens does dense linear
// algebra: float32 and float64 matrix products, symmetric eigendecomposition,
// Cholesky factorisation and positive semi-definite solves.
//
// All matrices are dense and row-major: element (i, j) of an m×n matrix a
// with leading dimension lda is a[i*lda+j].
//
// Two backends implement the package. The default is pure Go on gonum and
// always builds with CGO_ENABLED=0. Building with the tag "openblas" links
// OpenBLAS (cblas_sgemm, cblas_dgemm, cblas_dtrsm, ...) and LAPACKE
// (dsyevd, dpotrf) through cgo; it is several times faster for GEMM and one to two
// orders of magnitude faster for eigendecompositions. Backend names the
// compiled-in one. Both backends pass the same tests.
package linalg
