package symeig

import (
	"math"

	"github.com/eqens/eqens/internal/gemm"
)

// The reduction to tridiagonal form follows LAPACK's dsytrd with uplo =
// 'U' on a column-major matrix: a row-major lower triangle is exactly a
// column-major upper one, and in that layout every column the reduction
// touches (A(0:c+1, c), column c) is a contiguous row of the caller's
// row-major array. Element (r, c), r <= c, is a[r+c*lda].

const (
	tridiagNB   = 32  // panel width
	syr2kBlocks = 16  // row blocks of the trailing update
	symvChunks  = 8   // fixed split of symv, independent of the workers
	symvMinSize = 256 // below this, a column's work runs in one piece, on one goroutine
)

// parts is the number of row ranges the vector operations of a column are
// cut into (parallel or not, the same arithmetic).
const parts = 8

// tridiag holds the workspace of the reduction.
type tridiag struct {
	n      int
	w      []float64 // the panel's W, n×nb column-major (ldw = n)
	xy     []float64 // [Wᵀ; Vᵀ; Wᵀ] rows for the trailing update
	buf    []float64 // symv partial sums, symvChunks×n
	pd     []float64 // partial panel dot products, parts×2nb
	c1, c2 []float64 // panel coefficients
	pdot   [parts]float64
	tm     *team
}

// sytrd reduces the symmetric n×n matrix (column-major upper triangle in
// a, lda = n) to tridiagonal form T = Qᵀ A Q: d receives the diagonal, e
// the off-diagonal and tau and the columns of a above the superdiagonal the
// reflectors, Q = H(n-2)···H(0), H(r) = I - tau[r] v vᵀ with v[r] = 1,
// v[r+1:] = 0 and v[0:r] = a[(r+1)*n : (r+1)*n+r].
func sytrd(n int, a, d, e, tau []float64, workers int) {
	lda := n
	nb := tridiagNB
	if n < symvMinSize {
		workers = 1 // no column is long enough to share out
	}
	t := &tridiag{
		n:   n,
		w:   make([]float64, n*min(n, 2*nb)), // the last panel is up to 2nb wide
		xy:  make([]float64, 3*nb*n),
		buf: make([]float64, symvChunks*n),
		pd:  make([]float64, parts*4*nb),
		c1:  make([]float64, 2*nb),
		c2:  make([]float64, 2*nb),
		tm:  newTeam(workers),
	}
	defer t.tm.close()
	np := n
	for np > 2*nb {
		// Reduce columns np-nb..np-1, then update A(0:m, 0:m).
		t.latrd(np, nb, a, lda, e, tau)
		m := np - nb
		t.syr2k(m, nb, a, lda)
		for j := m; j < np; j++ {
			a[j-1+j*lda] = e[j-1]
			d[j] = a[j+j*lda]
		}
		np = m
	}
	t.latrd(np, np, a, lda, e, tau)
	for j := 0; j < np; j++ {
		if j > 0 {
			a[j-1+j*lda] = e[j-1]
		}
		d[j] = a[j+j*lda]
	}
}

// par runs f(0..k-1) on the team for vectors of length m large enough to
// be worth it, else in order on the caller; the results are the same.
func (t *tridiag) par(m, k int, f func(i int)) {
	if m < symvMinSize {
		for i := 0; i < k; i++ {
			f(i)
		}
		return
	}
	t.tm.run(k, f)
}

// rangeBounds cuts [0, m) into parts ranges, at multiples of 8 (whole
// cache lines) when m allows.
func rangeBounds(m int) (b [parts + 1]int) {
	for q := 1; q < parts; q++ {
		b[q] = (m * q / parts) &^ 7
	}
	b[parts] = m
	return b
}

// symvBounds cuts the columns [0, m) into chunks of about equal work for
// symv (a single chunk for small m), at multiples of 4 so that the columns
// of a chunk start aligned for symv4.
func symvBounds(m int) (b [symvChunks + 1]int, k int) {
	if m < symvMinSize {
		b[1] = m
		return b, 1
	}
	for p := 1; p < symvChunks; p++ {
		b[p] = int(float64(m)*math.Sqrt(float64(p)/symvChunks)) &^ 3
	}
	b[symvChunks] = m
	return b, symvChunks
}

// latrd reduces the last nb columns of the leading np×np block (dlatrd,
// uplo = 'U'), leaving in t.w the matrix W of the update
// A := A - V Wᵀ - W Vᵀ of the first np-nb columns. The reflectors' unit
// elements are left in a (a[j-1+j*lda] = 1).
//
// Each column takes three parallel steps over fixed pieces: the symmetric
// product with the pieces' dot products with the previous panel columns;
// the sum of the product's pieces with the panel corrections; and the
// panel's update of the next column.
func (t *tridiag) latrd(np, nb int, a []float64, lda int, e, tau []float64) {
	ldw := t.n
	w := t.w
	c1, c2 := t.c1, t.c2
	pd := t.pd
	ldp := 2 * nb
	for i0 := np - 1; i0 >= np-nb && i0 > 0; i0-- {
		iw := i0 - (np - nb)
		kk := nb - 1 - iw // panel columns already reduced
		ai := a[i0*lda : i0*lda+i0+1]
		// Column i0 is up to date: reflector annihilating A(0:i0-1, i0).
		beta, ti := larfg(i0, ai[i0-1], ai[:i0-1])
		e[i0-1] = beta
		tau[i0-1] = ti
		ai[i0-1] = 1
		m := i0
		v := ai[:m]
		wi := w[iw*ldw : iw*ldw+m]
		// The previous columns of the panel: A(:, i0+1:np), W(:, iw+1:nb).
		ap := a[min(len(a), (i0+1)*lda):]
		wp := w[(iw+1)*ldw:]

		// Step 1: pieces of A v and of Wpᵀv, Apᵀv.
		sb, nch := symvBounds(m)
		rb := rangeBounds(m)
		buf := t.buf
		items := nch
		if kk > 0 {
			items += parts
		}
		t.par(m, items, func(it int) {
			if it < nch {
				c0, c1 := sb[it], sb[it+1]
				tp := buf[it*t.n : it*t.n+c1]
				clear(tp)
				symvCols(c0, c1, a, lda, v, tp)
				return
			}
			q := it - nch
			r0, r1 := rb[q], rb[q+1]
			panelDots(r1-r0, wp[r0:], ldw, v[r0:], pd[q*ldp:q*ldp+kk])
			panelDots(r1-r0, ap[r0:], lda, v[r0:], pd[q*ldp+nb:q*ldp+nb+kk])
		})
		if kk > 0 {
			// c1 = -Wpᵀv, c2 = -Apᵀv.
			for k := 0; k < kk; k++ {
				s1, s2 := 0.0, 0.0
				for q := 0; q < parts; q++ {
					s1 += pd[q*ldp+k]
					s2 += pd[q*ldp+nb+k]
				}
				c1[k], c2[k] = -s1, -s2
			}
		}

		// Step 2: W(:, iw) = tau (A v - Ap (Wpᵀv) - Wp (Apᵀv)) and the
		// pieces of its dot product with v.
		t.par(m, parts, func(q int) {
			r0, r1 := rb[q], rb[q+1]
			y := wi[r0:r1]
			last := nch - 1
			copy(y, buf[last*t.n+r0:last*t.n+r1])
			for p := last - 1; p >= 0; p-- {
				if hi := min(r1, sb[p+1]); hi > r0 {
					tp := buf[p*t.n+r0 : p*t.n+hi]
					for i, x := range tp {
						y[i] += x
					}
				}
			}
			if kk > 0 {
				panelAxpy(r1-r0, ap[r0:], lda, y, c1[:kk])
				panelAxpy(r1-r0, wp[r0:], ldw, y, c2[:kk])
			}
			scal(y, ti)
			t.pdot[q] = dot(y, v[r0:r1])
		})
		s := 0.0
		for q := 0; q < parts; q++ {
			s += t.pdot[q]
		}
		alpha := -0.5 * ti * s
		axpy(wi, alpha, v)

		// Step 3: the panel's update of the next column,
		// A(0:i0, i0-1) -= A(0:i0, i0:np) W(i0-1, iw:nb)ᵀ + W(0:i0, iw:nb) A(i0-1, i0:np)ᵀ.
		if i0-1 < np-nb {
			continue
		}
		nk := nb - iw
		for k := 0; k < nk; k++ {
			c1[k] = -w[i0-1+(iw+k)*ldw]
			c2[k] = -a[i0-1+(i0+k)*lda]
		}
		next := a[(i0-1)*lda : (i0-1)*lda+i0]
		an := a[i0*lda:]
		wn := w[iw*ldw:]
		t.par(m, parts, func(q int) {
			r0, r1 := rb[q], rb[q+1]
			panelAxpy(r1-r0, an[r0:], lda, next[r0:r1], c1[:nk])
			panelAxpy(r1-r0, wn[r0:], ldw, next[r0:r1], c2[:nk])
		})
	}
}

// syr2k applies A(0:m, 0:m) -= V Wᵀ + W Vᵀ to the upper triangle, V being
// columns m..m+nb-1 of a (rows 0..m) and W the panel in t.w, with the
// matrix product: in the row-major view, row c of the lower triangle less
// Σ_k Xᵀ[c][k] Y[k][r] for X = [Wᵀ; Vᵀ], Y = [Vᵀ; Wᵀ]. The rows go in
// blocks of about equal work to the team, one single-threaded product each
// (their results do not depend on the split).
func (t *tridiag) syr2k(m, nb int, a []float64, lda int) {
	ldw := t.n
	xy := t.xy[:3*nb*m]
	for k := 0; k < nb; k++ {
		copy(xy[k*m:k*m+m], t.w[k*ldw:k*ldw+m])
		copy(xy[(nb+k)*m:(nb+k)*m+m], a[(m+k)*lda:(m+k)*lda+m])
		copy(xy[(2*nb+k)*m:(2*nb+k)*m+m], t.w[k*ldw:k*ldw+m])
	}
	x := xy
	y := xy[nb*m:]
	nbl := max(1, min(syr2kBlocks, m/64))
	var rows [syr2kBlocks + 1]int
	for p := 1; p < nbl; p++ {
		rows[p] = int(float64(m)*math.Sqrt(float64(p)/float64(nbl))) &^ 7
	}
	rows[nbl] = m
	t.par(m, nbl, func(p int) {
		c0, c1 := rows[p], rows[p+1]
		if c1 > c0 {
			gemm.Gemm(true, false, c1-c0, c1, 2*nb, -1, x[c0:], m, y, m, 1, a[c0*lda:], lda, 1)
		}
	})
}

// larfg generates an elementary reflector H = I - tau v vᵀ with
// H·(alpha; x) = (beta; 0) and v = (1; x) on return (dlarfg; x has n-1
// elements).
func larfg(n int, alpha float64, x []float64) (beta, tau float64) {
	if n <= 1 {
		return alpha, 0
	}
	x = x[:n-1]
	xnorm := nrm2(x)
	if xnorm == 0 {
		return alpha, 0
	}
	beta = -math.Copysign(math.Hypot(alpha, xnorm), alpha)
	const sfmin = safmin / eps
	knt := 0
	if math.Abs(beta) < sfmin {
		// xnorm and beta may be inaccurate: scale x and recompute them.
		for {
			knt++
			scal(x, 1/sfmin)
			beta /= sfmin
			alpha /= sfmin
			if math.Abs(beta) >= sfmin || knt >= 20 {
				break
			}
		}
		xnorm = nrm2(x)
		beta = -math.Copysign(math.Hypot(alpha, xnorm), alpha)
	}
	tau = (beta - alpha) / beta
	scal(x, 1/(alpha-beta))
	for j := 0; j < knt; j++ {
		beta *= sfmin
	}
	return beta, tau
}

// dot returns Σ x[i]·y[i].
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds alpha·x to y.
func axpy(y []float64, alpha float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// scal multiplies x by alpha.
func scal(x []float64, alpha float64) {
	for i := range x {
		x[i] *= alpha
	}
}
