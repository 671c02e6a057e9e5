// Package linalg is the single seam through which eqens does dense linear
// algebra: float32 and float64 matrix products, symmetric eigendecomposition,
// Cholesky factorisation and positive semi-definite solves.
//
// All matrices are dense and row-major: element (i, j) of an m×n matrix a
// with leading dimension lda is a[i*lda+j].
//
// Two backends implement the package. The default is pure Go and always
// builds with CGO_ENABLED=0: matrix products come from internal/gemm
// (packed, cache-blocked, with AVX2/AVX-512 micro-kernels), Cholesky
// factorisation and solves are recursive on those products (factor.go),
// the eigendecomposition is internal/symeig (dsyevd's algorithm on those
// products), and gonum supplies matrix-vector products.
// Building with the tag "openblas" links OpenBLAS (cblas_sgemm,
// cblas_dgemm, cblas_dtrsm, ...) and LAPACKE (dsyevd, dpotrf) through cgo.
// Backend names the compiled-in one and Kernel its matrix-product kernel.
// Both backends pass the same tests; the OpenBLAS build also tests and
// benchmarks the pure-Go factorisations against LAPACK's.
package linalg
