package gemm

import "sync"

// packA packs rows [i0, i0+mb) of op(A), columns [pc, pc+kb), into
// micro-panels of mr rows: panel q holds element (i0+q*mr+ii, pc+p) at
// q*mr*kb + p*mr + ii. Rows past mb are zero.
func (p *product[T]) packA(ap []T, i0, mb, pc, kb int) {
	for q := 0; q*p.kn.mr < mb; q++ {
		p.packPanel(ap, i0, mb, pc, kb, q)
	}
}

// packPanel packs panel q of packA.
func (p *product[T]) packPanel(ap []T, i0, mb, pc, kb, q int) {
	mr := p.kn.mr
	dst := ap[q*mr*kb : (q+1)*mr*kb]
	rows := min(mr, mb-q*mr)
	r0 := i0 + q*mr
	if p.transA { // element (i, p) at a[p*lda+i]
		for k := 0; k < kb; k++ {
			d := dst[k*mr : k*mr+mr]
			copyShort(d, p.a[(pc+k)*p.lda+r0:(pc+k)*p.lda+r0+rows])
			clear(d[rows:])
		}
		return
	}
	// element (i, p) at a[row(i)*lda+p]: read the rows side by side so
	// that the stores are contiguous.
	gather(dst, mr, rows, kb, func(ii int) []T { r := p.row(r0+ii) * p.lda; return p.a[r+pc : r+pc+kb] })
}

// copyRows copies rows [i, i+mr) of op(A) (not transposed), columns
// [pc, pc+kb), to panel q of ap row after row (element (i+ii, pc+p) at
// q*mr*kb + ii*kb + p): a whole panel across row groups, which the kernel
// reads with row stride kb, at the cost of mr moves of kb values instead of
// an interleaving gather.
func (p *product[T]) copyRows(ap []T, i, pc, kb, q int) {
	mr := p.kn.mr
	dst := ap[q*mr*kb : (q+1)*mr*kb]
	for ii := 0; ii < mr; ii++ {
		r := p.row(i+ii)*p.lda + pc
		copy(dst[ii*kb:(ii+1)*kb], p.a[r:r+kb])
	}
}

// gather interleaves n source vectors of length kb into dst with stride
// width: dst[k*width+ii] = src(ii)[k]; entries ii >= n are zero.
func gather[T Float](dst []T, width, n, kb int, src func(ii int) []T) {
	var rows [32][]T
	for ii := 0; ii < n; ii++ {
		rows[ii] = src(ii)[:kb]
	}
	k := 0
	for ; k+4 <= kb; k += 4 {
		d := dst[k*width : k*width+4*width]
		d0, d1, d2, d3 := d[:width], d[width:2*width], d[2*width:3*width], d[3*width:]
		for ii, r := range rows[:n] {
			q := r[k : k+4 : k+4]
			d0[ii], d1[ii], d2[ii], d3[ii] = q[0], q[1], q[2], q[3]
		}
		if n < width {
			clear(d0[n:])
			clear(d1[n:])
			clear(d2[n:])
			clear(d3[n:])
		}
	}
	for ; k < kb; k++ {
		d := dst[k*width : k*width+width]
		for ii, r := range rows[:n] {
			d[ii] = r[k]
		}
		clear(d[n:])
	}
}

// packB packs micro-panels [q0, q1) of rows [pc, pc+kb) and columns
// [jc, jc+nb) of op(B): panel q holds element (pc+p, jc+q*nr+jj) at
// q*nr*kb + p*nr + jj. Columns past nb are zero.
func (p *product[T]) packB(bp []T, pc, kb, jc, nb, q0, q1 int) {
	nr := p.kn.nr
	for q := q0; q < q1; q++ {
		dst := bp[q*nr*kb : (q+1)*nr*kb]
		cols := min(nr, nb-q*nr)
		c0 := jc + q*nr
		if !p.transB { // element (p, j) at b[p*ldb+j]
			for k := 0; k < kb; k++ {
				d := dst[k*nr : k*nr+nr]
				copyShort(d, p.b[(pc+k)*p.ldb+c0:(pc+k)*p.ldb+c0+cols])
				clear(d[cols:])
			}
			continue
		}
		// element (p, j) at b[j*ldb+p]
		gather(dst, nr, cols, kb, func(jj int) []T { return p.b[(c0+jj)*p.ldb+pc : (c0+jj)*p.ldb+pc+kb] })
	}
}

// copyShort copies src into dst like copy, with whole-array moves for the
// panel widths (a call to memmove per row costs more than the move).
func copyShort[T Float](dst, src []T) {
	switch len(src) {
	case 32:
		*(*[32]T)(dst) = *(*[32]T)(src)
	case 16:
		*(*[16]T)(dst) = *(*[16]T)(src)
	case 8:
		*(*[8]T)(dst) = *(*[8]T)(src)
	default:
		for i, v := range src {
			dst[i] = v
		}
	}
}

var pool32, pool64 sync.Pool

// getBuf returns a buffer of n elements from a pool (contents undefined).
func getBuf[T Float](n int) []T {
	var zero T
	switch any(zero).(type) {
	case float32:
		if v, ok := pool32.Get().(*[]float32); ok && cap(*v) >= n {
			return any((*v)[:n]).([]T)
		}
		return any(make([]float32, n)).([]T)
	default:
		if v, ok := pool64.Get().(*[]float64); ok && cap(*v) >= n {
			return any((*v)[:n]).([]T)
		}
		return any(make([]float64, n)).([]T)
	}
}

// putBuf returns a buffer to its pool.
func putBuf[T Float](b []T) {
	switch v := any(b).(type) {
	case []float32:
		pool32.Put(&v)
	case []float64:
		pool64.Put(&v)
	}
}
