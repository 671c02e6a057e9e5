package nn

import (
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
)

// The direct path of a convolution unrolls each sample along the filter
// rows only. On the padded grid of Hp×Wp positions (Wp = OutW+k-1, Hp =
// OutH+k-1) output position r = i*Wp+j reads, at tap (di, dj), grid
// position r + dj + di*Wp. The row-stacked copy X3 holds at position q the
// k grid positions q, q+Wp, ..., q+(k-1)*Wp (k*G*C values), so the k²*G*C
// taps of output r are the values of X3 from position r on: the unrolled
// matrix is X3 itself, read with overlapping rows (a stride of k*G*C,
// linalg.GemmOverlap), columns in the order (dj, di, g, c). X3 is k times
// the input where the unrolled matrix is k² times, and no copy of the
// unrolled gradient is made: the input gradient, the correlation of the
// gradient with the flipped filter, reads the row-stacked gradient DY3 the
// same way. The products of the outputs and of the input gradient skip the
// k-1 extra positions of every grid row (linalg.GemmOverlapRows: OutW of
// every Wp rows, written straight to the layer's layout); the filter
// gradient, a sum over positions, runs over them (their gradient is zero).

// useDirect reports whether a layer takes the direct path: not with
// circular padding (the padding would have to wrap), and only where the
// dropped positions are at most an eighth of the grid.
func useDirect(op *kernel.ConvOp) bool {
	return op.Pad != kernel.Circular && 8*(op.K-1) <= op.OutW+op.K-1
}

// grid returns the row length Wp of the padded grid, the offset p of the
// input in it and the number of output rows of the products.
func (m *convImpl[T]) grid() (wp, p, rows int) {
	op := m.cfg.op
	wp = op.OutW + op.K - 1
	return wp, (op.K-1)/2 - op.Origin(), (op.OutH-1)*wp + op.OutW
}

// zeroed returns b if it has length n, else a new zeroed slice: buffers
// whose unused entries stay zero because every call writes the same ones.
func zeroed[T Float](b []T, n int) []T {
	if len(b) == n {
		return b
	}
	return make([]T, n)
}

// stackInput writes sample s of x into the part's X3 (rows+k-1 positions
// of k*G*C values).
func (m *convImpl[T]) stackInput(pt *convPart[T], x []T, s int) {
	op := m.cfg.op
	k, gc := op.K, m.in.G*m.in.C
	wp, p, rows := m.grid()
	n := rows + k - 1
	pt.x3 = zeroed(pt.x3, n*k*gc)
	xs := x[s*m.in.Size() : (s+1)*m.in.Size()]
	for di := 0; di < k; di++ {
		for i := 0; i < op.InH; i++ {
			q := (i+p-di)*wp + p
			if q < 0 || q >= n {
				continue
			}
			cnt := min(op.InW, n-q)
			copyBlocks(pt.x3[q*k*gc+di*gc:], xs[i*op.InW*gc:], cnt, gc, k*gc, gc)
		}
	}
}

// stackGrad masks the gradient dys of sample s (with poolGrad: the
// pooled gradient, broadcast here) by its rectified outputs ys (with a
// fused ReLU, else ys is nil; with poolForward by their sign bits), adds
// it to the part's bias
// gradient, and writes it into the part's DY3, one output row at a time: at
// position u - u0 the gradients of grid positions u, u-Wp, ...,
// u-(k-1)*Wp (only u, nout values per position, when all is false), zero
// outside the outputs, for u from u0 = min(0, q0-(k-1)) to q1 (q0 and q1
// the first and last input positions of the grid). It returns u0, q0 and
// the number of values per position.
func (m *convImpl[T]) stackGrad(pt *convPart[T], ys, dys []T, s int, all bool) (u0, q0, ld int) {
	op := m.cfg.op
	k, nout := op.K, op.OutG*m.cfg.Out
	wp, p, _ := m.grid()
	q0, q1 := p*wp+p, (p+op.InH-1)*wp+p+op.InW-1
	u0 = min(0, q0-(k-1))
	nd := 1
	if all {
		nd = k
	}
	ld = nd * nout
	pt.dy3 = zeroed(pt.dy3, (q1-u0+1)*ld)
	ow := op.OutW * nout
	if m.poolR > 0 {
		m.broadcastRow(pt, dys, ow)
	}
	for i := 0; i < op.OutH; i++ {
		var row []T
		switch {
		case m.poolFwd && m.relu:
			row = pt.grow
			bits := m.bits[(s*op.OutH+i)*ow/8:]
			maskBits(bits[:ow/8], pt.gb, row)
		case m.poolR > 0 && ys != nil:
			row = pt.grow
			reluBackward(ys[i*ow:(i+1)*ow], pt.gb, row)
		case m.poolR > 0:
			row = pt.gb
		default:
			row = dys[i*ow : (i+1)*ow]
			if ys != nil {
				reluBackward(ys[i*ow:(i+1)*ow], row, row)
			}
		}
		if m.bs != 0 {
			sumRows(pt.db, row)
		}
		for di := 0; di < nd; di++ {
			u := (i + di) * wp
			if u > q1 {
				break
			}
			cnt := min(op.OutW, q1-u+1)
			copyBlocks(pt.dy3[(u-u0)*ld+di*nout:], row, cnt, nout, ld, nout)
		}
	}
	return u0, q0, ld
}

// outputs computes the outputs of sample s into y (OutH*OutW positions of
// nout values, before bias and ReLU).
func (m *convImpl[T]) outputs(pt *convPart[T], x []T, s int, y []T) {
	op := m.cfg.op
	k, gc, nout := op.K, m.in.G*m.in.C, op.OutG*m.cfg.Out
	wp, _, _ := m.grid()
	m.stackInput(pt, x, s)
	linalg.GemmOverlapRows(true, op.OutH*op.OutW, nout, m.ncol, T(m.ws), pt.x3, k*gc, op.OutW, wp, m.wperm, m.ncol, 0, y, nout)
}

// forwardDirect computes the outputs ys of sample s (with bias and fused
// ReLU).
func (m *convImpl[T]) forwardDirect(pt *convPart[T], x, ys []T, s int) {
	m.outputs(pt, x, s, ys)
	m.epilogue(ys)
}

// backwardDirect adds the filter gradient of sample s (output gradient dys;
// rectified outputs ys with a fused ReLU, else nil) to dexp (transposed, ncol × nout, rows in the order (dj, di, g, c)) and,
// unless dx is nil, sets the sample's input gradient.
func (m *convImpl[T]) backwardDirect(pt *convPart[T], x, ys, dys, dexp, dx []T, s int) {
	op := m.cfg.op
	k, gc, nout := op.K, m.in.G*m.in.C, op.OutG*m.cfg.Out
	wp, _, rows := m.grid()
	m.stackInput(pt, x, s)
	u0, q0, ld := m.stackGrad(pt, ys, dys, s, dx != nil)
	linalg.GemmOverlap(true, false, m.ncol, nout, rows, T(m.ws), pt.x3, k*gc, pt.dy3[-u0*ld:], ld, 1, dexp, nout)
	if dx == nil {
		return
	}
	// Input position q gets Σ dy(q - di*Wp - dj) W(di, dj): the k positions
	// of DY3 from q-(k-1) on, in the order dj = k-1, ..., 0.
	a := pt.dy3[(q0-(k-1)-u0)*k*nout:]
	dxs := dx[s*m.in.Size() : (s+1)*m.in.Size()]
	linalg.GemmOverlapRows(false, op.InH*op.InW, gc, k*k*nout, T(m.ws), a, k*nout, op.InW, wp, m.wflip, gc, 0, dxs, gc)
}

// permuteFilter sets wperm to the expanded filter with its columns in the
// order (dj, di, g, c) of X3.
func (m *convImpl[T]) permuteFilter() {
	k, gc := m.cfg.op.K, m.in.G*m.in.C
	m.wperm = ensure(m.wperm, len(m.wexp))
	m.scatterTaps(m.wperm, func(o, di, dj int) int { return o*m.ncol + (dj*k+di)*gc })
}

// flipFilter sets wflip to the k²*nout × G*C matrix whose row
// ((k-1-dj)*k + di)*nout + o is the expanded filter of output o at tap
// (di, dj): the weights of DY3's columns.
func (m *convImpl[T]) flipFilter() {
	k, gc := m.cfg.op.K, m.in.G*m.in.C
	nout := len(m.wexp) / m.ncol
	m.wflip = ensure(m.wflip, len(m.wexp))
	m.scatterTaps(m.wflip, func(o, di, dj int) int { return (((k-1-dj)*k+di)*nout + o) * gc })
}

// scatterTaps copies the G*C filter values of every output o and tap
// (di, dj) of the expanded filter to dst[at(o, di, dj):].
func (m *convImpl[T]) scatterTaps(dst []T, at func(o, di, dj int) int) {
	k, gc := m.cfg.op.K, m.in.G*m.in.C
	for o := 0; o < len(m.wexp)/m.ncol; o++ {
		for di := 0; di < k; di++ {
			for dj := 0; dj < k; dj++ {
				copy(dst[at(o, di, dj):][:gc], m.wexp[o*m.ncol+(di*k+dj)*gc:])
			}
		}
	}
}

// directRow maps row (di*k+dj)*G*C + g of the filter gradient to its row
// (dj*k+di)*G*C + g in the direct path's order.
func (m *convImpl[T]) directRow(row int) int {
	k, gc := m.cfg.op.K, m.in.G*m.in.C
	t, g := row/gc, row%gc
	return ((t%k)*k+t/k)*gc + g
}
