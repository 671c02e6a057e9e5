package nn

import (
	"math/rand/v2"
	"sync"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/internal/vec"
	"github.com/eqens/eqens/kernel"
)

// convImpl is the finite convolution: the base filter is expanded into
// wexp ((OutG*Out) × (k*k*InG*Cin)), the input is unrolled (im2col) and
// GEMMs over chunks of a few samples compute the outputs. The chunks keep
// the unrolled input in cache: unrolling a chunk again in the backward pass
// is faster than keeping the unrolled batch (measured: 10% per CNN step, and
// a third less memory), and one GEMM over a whole batch of tall, skinny
// matrices runs at half the speed. Layers on grids wide enough for it take
// the direct path instead (convdirect.go), which unrolls along the filter
// rows only.
type convImpl[T Float] struct {
	cfg          *Conv
	in, out      Shape
	ws, bs       float64 // forward scales of weights and biases
	wInit, bInit float64
	ncol         int // k*k*InG*Cin
	wexp, dexp   []T
	chunk        int
	// parts splits a batch into fixed contiguous parts with their own
	// scratch (and, in the backward pass, their own partial filter
	// gradient, summed in part order): the parts run concurrently when the
	// network has several workers, and the result does not depend on how
	// many.
	parts   []convPart[T]
	ranges  [][2]int // the parts of the last batch size (split)
	workers int
	// relu fuses the ReLU that follows the layer (Network sets it when the
	// ReLU works in place): the forward pass rectifies each chunk of
	// outputs while it is in cache, and the backward pass masks each chunk
	// of the incoming gradient by the sign of the (rectified) output before
	// using it. The separate ReLU layer then does nothing.
	relu  bool
	sbias []T // bias times its forward scale
	// gradT accumulates the filter gradient transposed (ncol × nout) in
	// each part: with few output channels the product then has them as its
	// columns, which internal/gemm reads in place (bench/RESULTS.md,
	// section 12); wider layers keep the untransposed layout.
	gradT bool
	// direct layers unroll along the filter rows only (convdirect.go), one
	// sample per chunk; wperm and wflip are their permuted and flipped
	// filters for the outputs and the input gradient.
	direct       bool
	wperm, wflip []T
	// poolR > 0: a global average pool follows (after the fused ReLU, if
	// any), and the backward pass receives the pool's output gradient,
	// poolR values per sample, instead of its broadcast over the grid
	// (Network sets it, see poolGrad). With poolFwd the forward pass
	// computes the pool's outputs too and keeps only the signs of its own
	// (rectified) outputs, one bit each, in bits (see poolForward).
	poolR   int
	poolInv T
	poolFwd bool
	lanes   bool
	bits    []uint8
}

// convPart is the scratch of one part of a batch.
type convPart[T Float] struct {
	cols, dcol, dexp, db []T
	// The direct path's row-stacked input and gradient, and the outputs of
	// a layer that computes its pool's (poolForward).
	x3, dy3, ytmp []T
	// gb is the broadcast pooled gradient of one output row, grow its
	// rectified copy (poolGrad), acc the pool's 64 lanes (poolForward).
	gb, grow, acc []T
}

// convParts is the number of parts of a batch (see split).
const convParts = 2

// convMinPart is the fewest samples per part worth a goroutine when one
// chunk holds more.
const convMinPart = 8

func newConvImpl[T Float](c *Conv, in, out Shape, p Param) *convImpl[T] {
	op := c.op
	m := &convImpl[T]{cfg: c, in: in, out: out}
	m.ws, m.wInit = weightScale(p, c.WStd, op.Base*in.C)
	m.bs, m.bInit = biasScale(p, c.BStd)
	m.ncol = op.K * op.K * in.G * in.C
	m.wexp = make([]T, out.G*c.Out*m.ncol)
	m.dexp = make([]T, len(m.wexp))
	// Chunks of about 256 KiB of unrolled input (float32; at least one
	// sample): the backward pass's unrolled input and its gradient then stay
	// in L2 (2 MiB chunks ran 20% slower per CNN step on both the AVX-512
	// and the AVX2 path, bench/RESULTS.md, section 12).
	per := out.H * out.W * m.ncol
	m.chunk = max(1, (1<<16)/max(1, per))
	m.gradT = out.G*c.Out <= 32
	if useDirect(op) && out.G*c.Out <= 128 {
		m.direct, m.gradT, m.chunk = true, true, 1
	}
	m.workers = 1
	return m
}

func (m *convImpl[T]) setWorkers(n int) { m.workers = max(1, n) }

// outputFree: without a fused ReLU the backward pass does not read y.
func (*convImpl[T]) outputFree() bool { return true }

// fuseReLU makes the layer apply the ReLU after it (see relu).
func (m *convImpl[T]) fuseReLU() { m.relu = true }

// split returns the sample ranges of the parts of a batch of n: one part
// unless each part gets at least a chunk (or convMinPart samples) and a
// partial filter gradient per part costs little. It depends on n and the
// layer only, never on the number of workers.
// The ranges are kept for the last n, so that a training step allocates
// nothing.
func (m *convImpl[T]) split(n int) [][2]int {
	if len(m.ranges) > 0 && m.ranges[len(m.ranges)-1][1] == n {
		return m.ranges
	}
	m.ranges = m.ranges[:0]
	if n < convParts*min(m.chunk, convMinPart) || len(m.wexp) > 1<<22 {
		m.ranges = append(m.ranges, [2]int{0, n})
		return m.ranges
	}
	for i := 0; i < convParts; i++ {
		m.ranges = append(m.ranges, [2]int{i * n / convParts, (i + 1) * n / convParts})
	}
	return m.ranges
}

// runParts calls f for every part, concurrently when the network has
// several workers.
func runParts(workers int, ranges [][2]int, f func(part, s0, s1 int)) {
	if workers < 2 || len(ranges) < 2 {
		for i, r := range ranges {
			f(i, r[0], r[1])
		}
		return
	}
	var wg sync.WaitGroup
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, r[0], r[1])
		}()
	}
	wg.Wait()
}

func (m *convImpl[T]) init(p []T, rng *rand.Rand) {
	nw := m.cfg.Out * m.cfg.op.Base * m.in.C
	fillNormal(p[:nw], rng, m.wInit)
	fillNormal(p[nw:], rng, m.bInit)
}

// tapCol returns the column offset of a tap (di, dj in -c..c) and input
// group element s in the unrolled layout.
func (m *convImpl[T]) tapCol(di, dj, s int) int {
	k := m.cfg.op.K
	c := (k - 1) / 2
	return (((di+c)*k+dj+c)*m.in.G + s) * m.in.C
}

// expand builds wexp from the base filter p.
func (m *convImpl[T]) expand(p []T) {
	op := m.cfg.op
	cin, cout := m.in.C, m.cfg.Out
	clear(m.wexp)
	for r := 0; r < op.OutG; r++ {
		for c := 0; c < cout; c++ {
			row := m.wexp[(r*cout+c)*m.ncol : (r*cout+c+1)*m.ncol]
			for b := 0; b < op.Base; b++ {
				base := p[(c*op.Base+b)*cin : (c*op.Base+b+1)*cin]
				for _, t := range op.Taps[r][b] {
					col := m.tapCol(int(t.DI), int(t.DJ), int(t.S))
					dst := row[col : col+cin]
					if t.W == 1 {
						for i, v := range base {
							dst[i] += v
						}
						continue
					}
					w := T(t.W)
					for i, v := range base {
						dst[i] += w * v
					}
				}
			}
		}
	}
}

// reduce accumulates the gradient of the expanded filter dexp into the
// base filter gradient dp.
func (m *convImpl[T]) reduce(dp []T) {
	op := m.cfg.op
	cin, cout := m.in.C, m.cfg.Out
	for r := 0; r < op.OutG; r++ {
		for c := 0; c < cout; c++ {
			row := m.dexp[(r*cout+c)*m.ncol : (r*cout+c+1)*m.ncol]
			for b := 0; b < op.Base; b++ {
				base := dp[(c*op.Base+b)*cin : (c*op.Base+b+1)*cin]
				for _, t := range op.Taps[r][b] {
					col := m.tapCol(int(t.DI), int(t.DJ), int(t.S))
					src := row[col : col+cin]
					w := T(t.W)
					for i, v := range src {
						base[i] += w * v
					}
				}
			}
		}
	}
}

// im2col unrolls samples [s0, s0+ns) of x into cols: one row per output
// position, columns ordered (tap i, tap j, group, channel). For a fixed tap
// row, the k taps of an output position whose whole filter row lies inside
// the input are one contiguous block in both x and cols, and the blocks of
// consecutive such positions are copied by one copyBlocks call.
func (m *convImpl[T]) im2col(x, cols []T, s0, ns int) {
	op := m.cfg.op
	k, org := op.K, op.Origin()
	c := (k - 1) / 2
	gc := m.in.G * m.in.C
	kgc := k * gc
	insz := m.in.Size()
	ncol := m.ncol
	oh, ow, ih, iw := op.OutH, op.OutW, op.InH, op.InW
	circ := op.Pad == kernel.Circular
	// Output columns tj whose filter row lies inside the input.
	ilo, ihi := max(0, c-org), min(ow, iw-c-org)
	if circ {
		ilo, ihi = 0, 0
	}
	for s := 0; s < ns; s++ {
		xs := x[(s0+s)*insz : (s0+s+1)*insz]
		cs := cols[s*oh*ow*ncol : (s+1)*oh*ow*ncol]
		for ti := 0; ti < oh; ti++ {
			for di := -c; di <= c; di++ {
				ii := inputIndex(ti, di+org, ih, op.Pad)
				roff := (di + c) * kgc
				if ii < 0 {
					for tj := 0; tj < ow; tj++ {
						clear(cs[(ti*ow+tj)*ncol+roff : (ti*ow+tj)*ncol+roff+kgc])
					}
					continue
				}
				xrow := xs[ii*iw*gc : (ii+1)*iw*gc]
				if ihi > ilo {
					copyBlocks(cs[(ti*ow+ilo)*ncol+roff:], xrow[(ilo-c+org)*gc:], ihi-ilo, kgc, ncol, gc)
				}
				for tj := 0; tj < ow; tj++ {
					if tj >= ilo && tj < ihi {
						continue
					}
					for dj := -c; dj <= c; dj++ {
						dst := cs[(ti*ow+tj)*ncol+roff+(dj+c)*gc : (ti*ow+tj)*ncol+roff+(dj+c+1)*gc]
						jj := inputIndex(tj, dj+org, iw, op.Pad)
						if jj < 0 {
							clear(dst)
							continue
						}
						copyShort(dst, xrow[jj*gc:(jj+1)*gc])
					}
				}
			}
		}
	}
}

// copyShort is copy for the short runs of im2col (a few channels of a
// few taps), where calling memmove costs more than the copy.
func copyShort[T Float](dst, src []T) {
	if len(src) > 16 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v
	}
}

// copyBlocks copies rows blocks of n values from src[r*ss:] to dst[r*ds:]
// (the taps of consecutive output positions): one call instead of one copy
// per position.
func copyBlocks[T Float](dst, src []T, rows, n, ds, ss int) {
	if n == 1 && rows > 0 { // single channels (a first layer): a strided copy
		dst, src = dst[:(rows-1)*ds+1], src[:(rows-1)*ss+1]
		for r := 0; r < rows; r++ {
			dst[r*ds] = src[r*ss]
		}
		return
	}
	if d, ok := any(dst).([]float32); ok {
		vec.CopyBlocks(d, any(src).([]float32), rows, n, ds, ss)
		return
	}
	for r := 0; r < rows; r++ {
		copyShort(dst[r*ds:r*ds+n], src[r*ss:r*ss+n])
	}
}

// addBlocks adds rows blocks of n values of src[r*ss:] to dst[r*ds:],
// block after block (the blocks of dst overlap).
func addBlocks[T Float](dst, src []T, rows, n, ds, ss int) {
	if d, ok := any(dst).([]float32); ok {
		vec.AddBlocks(d, any(src).([]float32), rows, n, ds, ss)
		return
	}
	for r := 0; r < rows; r++ {
		addTo(dst[r*ds:r*ds+n], src[r*ss:r*ss+n])
	}
}

// col2im adds the unrolled gradient dcol of samples [s0, s0+ns) into dx,
// with the same contiguous blocks as im2col.
func (m *convImpl[T]) col2im(dcol, dx []T, s0, ns int) {
	op := m.cfg.op
	k, org := op.K, op.Origin()
	c := (k - 1) / 2
	gc := m.in.G * m.in.C
	kgc := k * gc
	insz := m.in.Size()
	ncol := m.ncol
	oh, ow, ih, iw := op.OutH, op.OutW, op.InH, op.InW
	circ := op.Pad == kernel.Circular
	ilo, ihi := max(0, c-org), min(ow, iw-c-org)
	if circ {
		ilo, ihi = 0, 0
	}
	for s := 0; s < ns; s++ {
		xs := dx[(s0+s)*insz : (s0+s+1)*insz]
		cs := dcol[s*oh*ow*ncol : (s+1)*oh*ow*ncol]
		for ti := 0; ti < oh; ti++ {
			for di := -c; di <= c; di++ {
				ii := inputIndex(ti, di+org, ih, op.Pad)
				if ii < 0 {
					continue
				}
				roff := (di + c) * kgc
				xrow := xs[ii*iw*gc : (ii+1)*iw*gc]
				if ihi > ilo {
					addBlocks(xrow[(ilo-c+org)*gc:], cs[(ti*ow+ilo)*ncol+roff:], ihi-ilo, kgc, gc, ncol)
				}
				for tj := 0; tj < ow; tj++ {
					if tj >= ilo && tj < ihi {
						continue
					}
					for dj := -c; dj <= c; dj++ {
						jj := inputIndex(tj, dj+org, iw, op.Pad)
						if jj < 0 {
							continue
						}
						addTo(xrow[jj*gc:(jj+1)*gc], cs[(ti*ow+tj)*ncol+roff+(dj+c)*gc:(ti*ow+tj)*ncol+roff+(dj+c+1)*gc])
					}
				}
			}
		}
	}
}

// addTo adds src to dst (of the same length), four values at a time.
func addTo[T Float](dst, src []T) {
	if d, ok := any(dst).([]float32); ok {
		vec.Add(d, any(src).([]float32))
		return
	}
	dst = dst[:len(src)]
	i := 0
	for ; i+4 <= len(src); i += 4 {
		d := dst[i : i+4 : i+4]
		s := src[i : i+4 : i+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; i < len(src); i++ {
		dst[i] += src[i]
	}
}

func inputIndex(t, d, n int, pad kernel.Padding) int {
	i := t + d
	if i >= 0 && i < n {
		return i
	}
	if pad == kernel.Circular {
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1
}

// ensureBytes returns b resized to n bytes.
func ensureBytes(b []uint8, n int) []uint8 {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]uint8, n)
}

// addRows adds b to every row of len(b) values of y.
func addRows[T Float](y, b []T) {
	if ys, ok := any(y).([]float32); ok {
		vec.AddRows(ys, any(b).([]float32))
		return
	}
	nc := len(b)
	for i := 0; i+nc <= len(y); i += nc {
		row := y[i : i+nc]
		for c, v := range b {
			row[c] += v
		}
	}
}

// sumRows adds every row of len(db) values of dy to db.
func sumRows[T Float](db, dy []T) {
	if d, ok := any(db).([]float32); ok {
		vec.SumRows(d, any(dy).([]float32))
		return
	}
	nc := len(db)
	for i := 0; i+nc <= len(dy); i += nc {
		row := dy[i : i+nc]
		for c, v := range row {
			db[c] += v
		}
	}
}

// sumPartGrads sets dexp (nout × ncol) to the sum, in part order, of the
// parts' filter gradients (transposed, ncol × nout, with gradT; rows in the
// order of the direct path with direct).
func (m *convImpl[T]) sumPartGrads(parts, nout int) {
	if !m.gradT {
		if parts > 1 {
			copy(m.dexp, m.parts[0].dexp)
			for i := 1; i < parts; i++ {
				addTo(m.dexp, m.parts[i].dexp)
			}
		}
		return
	}
	for c := 0; c < m.ncol; c++ {
		src := c
		if m.direct {
			src = m.directRow(c)
		}
		for r := 0; r < nout; r++ {
			s := m.parts[0].dexp[src*nout+r]
			for i := 1; i < parts; i++ {
				s += m.parts[i].dexp[src*nout+r]
			}
			m.dexp[r*m.ncol+c] = s
		}
	}
}

func (m *convImpl[T]) part(i int) *convPart[T] {
	for len(m.parts) <= i {
		m.parts = append(m.parts, convPart[T]{})
	}
	return &m.parts[i]
}

func (m *convImpl[T]) forward(p []T, x, y []T, n int) {
	m.expand(p)
	op := m.cfg.op
	nout := op.OutG * m.cfg.Out
	npos := op.OutH * op.OutW
	bias := p[m.cfg.Out*op.Base*m.in.C:]
	// The scaled bias, added to each chunk of outputs.
	m.sbias = ensure(m.sbias, m.cfg.Out)
	for c := range m.sbias {
		m.sbias[c] = T(m.bs) * bias[c]
	}
	ranges := m.split(n)
	for i := range ranges {
		pt := m.part(i)
		if !m.direct {
			pt.cols = ensure(pt.cols, m.chunk*npos*m.ncol)
		}
	}
	if m.direct {
		m.permuteFilter()
	}
	if m.poolFwd {
		m.bits = ensureBytes(m.bits, n*npos*nout/8)
	}
	runParts(m.workers, ranges, func(i, a, b int) {
		pt := &m.parts[i]
		if m.poolFwd {
			for s := a; s < b; s++ {
				m.forwardPooled(pt, x, y[s*m.poolR:(s+1)*m.poolR], s)
			}
			return
		}
		for s0 := a; s0 < b; s0 += m.chunk {
			ns := min(m.chunk, b-s0)
			ys := y[s0*npos*nout : (s0+ns)*npos*nout]
			if m.direct {
				for s := 0; s < ns; s++ {
					m.forwardDirect(pt, x, ys[s*npos*nout:(s+1)*npos*nout], s0+s)
				}
				continue
			}
			m.im2col(x, pt.cols, s0, ns)
			linalg.Gemm(false, true, ns*npos, nout, m.ncol, T(m.ws), pt.cols, m.ncol, m.wexp, m.ncol, 0, ys, nout)
			m.epilogue(ys)
		}
	})
}

// epilogue adds the bias to outputs ys and rectifies them (with a fused
// ReLU), while they are in cache.
func (m *convImpl[T]) epilogue(ys []T) {
	if m.bs != 0 {
		addRows(ys, m.sbias)
	}
	if m.relu {
		reluForward(ys, ys)
	}
}

// backward takes the gradient dy with respect to the layer's output y, or,
// with a fused ReLU, with respect to the rectified output y (then dy is
// masked in place).
func (m *convImpl[T]) backward(p []T, x, y, dy, dx, dp []T, n int) {
	op := m.cfg.op
	nout := op.OutG * m.cfg.Out
	npos := op.OutH * op.OutW
	nw := m.cfg.Out * op.Base * m.in.C
	ranges := m.split(n)
	for i := range ranges {
		pt := m.part(i)
		if !m.direct {
			pt.cols = ensure(pt.cols, m.chunk*npos*m.ncol)
		}
		if dx != nil && !m.direct {
			pt.dcol = ensure(pt.dcol, m.chunk*npos*m.ncol)
		}
		if len(ranges) > 1 || m.gradT {
			pt.dexp = ensure(pt.dexp, len(m.wexp))
		}
		pt.db = ensure(pt.db, m.cfg.Out)
	}
	if m.direct && dx != nil {
		m.flipFilter()
	}
	runParts(m.workers, ranges, func(i, a, b int) {
		pt := &m.parts[i]
		dexp := m.dexp
		if len(ranges) > 1 || m.gradT {
			dexp = pt.dexp
		}
		clear(dexp)
		clear(pt.db)
		if dx != nil && !m.direct { // the direct path sets dx
			clear(dx[a*m.in.Size() : b*m.in.Size()])
		}
		if m.direct {
			// The gradient of one sample: npos*nout values, or the pool's
			// poolR (see poolGrad).
			sz := npos * nout
			if m.poolR > 0 {
				sz = m.poolR
			}
			for s := a; s < b; s++ {
				var ys []T
				if m.relu && !m.poolFwd {
					ys = y[s*npos*nout : (s+1)*npos*nout]
				}
				m.backwardDirect(pt, x, ys, dy[s*sz:(s+1)*sz], dexp, dx, s)
			}
			return
		}
		for s0 := a; s0 < b; s0 += m.chunk {
			ns := min(m.chunk, b-s0)
			dys := dy[s0*npos*nout : (s0+ns)*npos*nout]
			m.im2col(x, pt.cols, s0, ns)
			if m.relu {
				reluBackward(y[s0*npos*nout:(s0+ns)*npos*nout], dys, dys)
			}
			if m.bs != 0 {
				sumRows(pt.db, dys)
			}
			switch {
			case m.gradT:
				linalg.Gemm(true, false, m.ncol, nout, ns*npos, T(m.ws), pt.cols, m.ncol, dys, nout, 1, dexp, nout)
			default:
				linalg.Gemm(true, false, nout, m.ncol, ns*npos, T(m.ws), dys, nout, pt.cols, m.ncol, 1, dexp, m.ncol)
			}
			if dx != nil {
				linalg.Gemm(false, false, ns*npos, m.ncol, nout, T(m.ws), dys, nout, m.wexp, m.ncol, 0, pt.dcol, m.ncol)
				m.col2im(pt.dcol, dx, s0, ns)
			}
		}
	})
	m.sumPartGrads(len(ranges), nout)
	m.reduce(dp[:nw])
	if m.bs != 0 {
		db := dp[nw : nw+m.cfg.Out]
		bs := T(m.bs)
		for i := range ranges {
			for c, v := range m.parts[i].db {
				db[c] += bs * v
			}
		}
	}
}
