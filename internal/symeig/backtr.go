package symeig

import "github.com/eqens/eqens/internal/gemm"

// backNB is the number of reflectors applied together. Larger blocks make
// better-shaped products but the gemm package repacks the tall operand
// more; 32 to 128 all measure alike.
const backNB = 32

// ormtr overwrites the row-major n×n matrix zr with zr·Qᵀ, where Q is the
// orthogonal matrix of the tridiagonal reduction (reflectors and tau as
// sytrd leaves them in a). With the eigenvectors of T as the rows of zr
// this makes them those of A (dormtr with side = 'L', uplo = 'U', applied
// to the transpose).
//
// Q = H(n-2)···H(0) applied to a matrix Z is H(n-2)(···(H(0) Z)); the
// reflectors are taken in blocks H(r0+b-1)···H(r0) = I - V Tᵀ Vᵀ, T the
// upper triangular factor of the forward product H(r0)···H(r0+b-1)
// (dlarft), which touch only rows 0..r0+b of Z. In the transposed view,
// zr[:, 0:mi] -= (zr[:, 0:mi]·V)·(T·Vᵀ), all matrix products.
func ormtr(n int, a, tau, zr []float64, workers int) {
	if n < 2 {
		return
	}
	nb := min(backNB, n-1)
	vt := make([]float64, nb*n)
	wt := make([]float64, nb*n)
	t := make([]float64, nb*nb)
	g := make([]float64, nb*nb)
	m1 := make([]float64, n*nb)
	for r0 := 0; r0 < n-1; r0 += nb {
		b := min(nb, n-1-r0)
		mi := r0 + b
		// Vᵀ, b×mi row-major: row k is the reflector r0+k.
		for k := 0; k < b; k++ {
			r := r0 + k
			row := vt[k*mi : k*mi+mi]
			copy(row[:r], a[(r+1)*n:(r+1)*n+r])
			row[r] = 1
			clear(row[r+1:])
		}
		// T from the Gram matrix G = VᵀV: T[k][k] = tau_k,
		// T[0:k, k] = -tau_k T[0:k, 0:k] G[0:k, k].
		gemm.Gemm(false, true, b, b, mi, 1, vt, mi, vt, mi, 0, g, b, workers)
		clear(t[:b*b])
		for k := 0; k < b; k++ {
			tk := tau[r0+k]
			t[k*b+k] = tk
			if tk == 0 {
				continue
			}
			for p := 0; p < k; p++ {
				s := 0.0
				for q := p; q < k; q++ {
					s += t[p*b+q] * g[q*b+k]
				}
				t[p*b+k] = -tk * s
			}
		}
		// W = T·Vᵀ, M = zr[:, 0:mi]·V, zr[:, 0:mi] -= M·W.
		gemm.Gemm(false, false, b, mi, b, 1, t, b, vt, mi, 0, wt, mi, workers)
		gemm.Gemm(false, true, n, b, mi, 1, zr, n, vt, mi, 0, m1, b, workers)
		gemm.Gemm(false, false, n, mi, b, -1, m1, b, wt, mi, 1, zr, n, workers)
	}
}
