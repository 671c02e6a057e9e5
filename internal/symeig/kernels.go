package symeig

import "math"

// symv4Go computes, for the four columns a_k = a[k*lda : k*lda+n] (k =
// 0..3), dots[k] = Σ_i a_k[i]·x[i] and adds Σ_k xc[k]·a_k to y[0:n], with
// fused multiply-adds in exactly the order of the assembly kernel: the
// elements below n rounded down to a multiple of 4 go to four lanes by
// index mod 4, summed as (l0+l2)+(l1+l3); the rest follow in order.
func symv4Go(n int, a []float64, lda int, x, y []float64, xc *[4]float64, dots *[4]float64) {
	n4 := n &^ 3
	a0, a1, a2, a3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	x, y = x[:n], y[:n]
	c0, c1, c2, c3 := xc[0], xc[1], xc[2], xc[3]
	var s0, s1, s2, s3 [4]float64
	for i := 0; i < n4; i += 4 {
		for l := 0; l < 4; l++ {
			j := i + l
			xj := x[j]
			s0[l] = math.FMA(a0[j], xj, s0[l])
			s1[l] = math.FMA(a1[j], xj, s1[l])
			s2[l] = math.FMA(a2[j], xj, s2[l])
			s3[l] = math.FMA(a3[j], xj, s3[l])
			y[j] = math.FMA(a3[j], c3, math.FMA(a2[j], c2, math.FMA(a1[j], c1, math.FMA(a0[j], c0, y[j]))))
		}
	}
	dots[0] = (s0[0] + s0[2]) + (s0[1] + s0[3])
	dots[1] = (s1[0] + s1[2]) + (s1[1] + s1[3])
	dots[2] = (s2[0] + s2[2]) + (s2[1] + s2[3])
	dots[3] = (s3[0] + s3[2]) + (s3[1] + s3[3])
	symv4Tail(n4, n, a, lda, x, y, xc, dots)
}

// symv4Tail continues symv4Go over the elements n4..n-1.
func symv4Tail(n4, n int, a []float64, lda int, x, y []float64, xc *[4]float64, dots *[4]float64) {
	for i := n4; i < n; i++ {
		xi := x[i]
		yi := y[i]
		for k := 0; k < 4; k++ {
			ak := a[k*lda+i]
			dots[k] = math.FMA(ak, xi, dots[k])
			yi = math.FMA(ak, xc[k], yi)
		}
		y[i] = yi
	}
}

// dot4Go sets dots[k] = Σ_i a_k[i]·x[i] for the four columns
// a_k = a[k*lda : k*lda+n], in the order of symv4Go.
func dot4Go(n int, a []float64, lda int, x []float64, dots *[4]float64) {
	n4 := n &^ 3
	a0, a1, a2, a3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	x = x[:n]
	var s0, s1, s2, s3 [4]float64
	for i := 0; i < n4; i += 4 {
		for l := 0; l < 4; l++ {
			j := i + l
			xj := x[j]
			s0[l] = math.FMA(a0[j], xj, s0[l])
			s1[l] = math.FMA(a1[j], xj, s1[l])
			s2[l] = math.FMA(a2[j], xj, s2[l])
			s3[l] = math.FMA(a3[j], xj, s3[l])
		}
	}
	dots[0] = (s0[0] + s0[2]) + (s0[1] + s0[3])
	dots[1] = (s1[0] + s1[2]) + (s1[1] + s1[3])
	dots[2] = (s2[0] + s2[2]) + (s2[1] + s2[3])
	dots[3] = (s3[0] + s3[2]) + (s3[1] + s3[3])
	dot4Tail(n4, n, a, lda, x, dots)
}

// dot4Tail continues dot4Go over the elements n4..n-1.
func dot4Tail(n4, n int, a []float64, lda int, x []float64, dots *[4]float64) {
	for i := n4; i < n; i++ {
		xi := x[i]
		for k := 0; k < 4; k++ {
			dots[k] = math.FMA(a[k*lda+i], xi, dots[k])
		}
	}
}

// axpy4Go adds Σ_k coef[k]·a_k to y[0:n] for the four columns
// a_k = a[k*lda : k*lda+n], in the order of symv4Go's update of y.
func axpy4Go(n int, a []float64, lda int, y []float64, coef *[4]float64) {
	a0, a1, a2, a3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	y = y[:n]
	c0, c1, c2, c3 := coef[0], coef[1], coef[2], coef[3]
	for j := range y {
		y[j] = math.FMA(a3[j], c3, math.FMA(a2[j], c2, math.FMA(a1[j], c1, math.FMA(a0[j], c0, y[j]))))
	}
}

// axpy4Tail continues axpy4Go over the elements n4..n-1.
func axpy4Tail(n4, n int, a []float64, lda int, y []float64, coef *[4]float64) {
	for j := n4; j < n; j++ {
		y[j] = math.FMA(a[3*lda+j], coef[3], math.FMA(a[2*lda+j], coef[2], math.FMA(a[lda+j], coef[1], math.FMA(a[j], coef[0], y[j]))))
	}
}

// panelDots sets out[k] = Σ_i c_k[i]·x[i] for the columns c_k =
// a[k*lda : k*lda+n], k < len(out), four at a time (with at least four
// columns, a last partial group reuses the columns before it).
func panelDots(n int, a []float64, lda int, x []float64, out []float64) {
	var d [4]float64
	kk := len(out)
	if kk < 4 {
		for k := range out {
			c := a[k*lda : k*lda+n]
			s := 0.0
			for i, v := range x[:n] {
				s = math.FMA(c[i], v, s)
			}
			out[k] = s
		}
		return
	}
	for k := 0; k < kk; k += 4 {
		k0 := min(k, kk-4)
		dot4(n, a[k0*lda:], lda, x, &d)
		copy(out[k:], d[k-k0:])
	}
}

// panelAxpy adds Σ_k coef[k]·c_k to y[0:n] for the columns c_k =
// a[k*lda : k*lda+n], k < len(coef), four at a time (with at least four
// columns, a last partial group reuses the columns before it with zero
// coefficients).
func panelAxpy(n int, a []float64, lda int, y []float64, coef []float64) {
	kk := len(coef)
	if kk < 4 {
		for k, ck := range coef {
			col := a[k*lda : k*lda+n]
			for i := range y[:n] {
				y[i] = math.FMA(col[i], ck, y[i])
			}
		}
		return
	}
	var c [4]float64
	for k := 0; k < kk; k += 4 {
		k0 := min(k, kk-4)
		c = [4]float64{}
		copy(c[k-k0:], coef[k:])
		axpy4(n, a[k0*lda:], lda, y, &c)
	}
}

// symvCols adds the contributions of columns c0..c1-1 of the symmetric
// matrix (upper triangle column-major in a, lda) times x to y[0:c1]: for
// column c, y[0:c] += x[c]·A(0:c, c) and y[c] += A(0:c+1, c)·x[0:c+1].
// Columns go four at a time through symv4.
func symvCols(c0, c1 int, a []float64, lda int, x, y []float64) {
	c := c0
	var xc, dots [4]float64
	for ; c+4 <= c1; c += 4 {
		copy(xc[:], x[c:c+4])
		symv4(c, a[c*lda:], lda, x, y, &xc, &dots)
		// The 4×4 diagonal block.
		for k := 0; k < 4; k++ {
			col := a[(c+k)*lda+c : (c+k)*lda+c+k+1]
			s := dots[k]
			for j := 0; j < k; j++ {
				s = math.FMA(col[j], x[c+j], s)
				y[c+j] = math.FMA(col[j], xc[k], y[c+j])
			}
			dots[k] = math.FMA(col[k], xc[k], s)
		}
		for k := 0; k < 4; k++ {
			y[c+k] += dots[k]
		}
	}
	for ; c < c1; c++ {
		col := a[c*lda : c*lda+c+1]
		xv := x[c]
		s := 0.0
		for i := 0; i < c; i++ {
			s = math.FMA(col[i], x[i], s)
			y[i] = math.FMA(col[i], xv, y[i])
		}
		y[c] += math.FMA(col[c], xv, s)
	}
}
