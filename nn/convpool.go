package nn

import (
	"math"

	"github.com/eqens/eqens/internal/vec"
)

// A direct convolution followed by a global average pool (globalavgpool
// or gpool), directly or after its fused ReLU, can do the pool's work
// while its output rows are in L1 (Network.fusePool sets it up):
//
//   - backward (poolGrad): it takes the pool's output gradient, r values
//     per sample, and broadcasts it over its rows itself, instead of the
//     pool writing the broadcast gradient to memory and the layer reading
//     it back;
//   - forward (poolForward): it sums each rectified output row into the
//     pool's outputs, in the order of the pool's own sums, and keeps of
//     its outputs only their signs, one bit per value, which is all the
//     fused ReLU's backward pass reads: the outputs, the largest array of
//     a CNN's step, are never written to memory.
//
// Both give bit for bit the results of the separate layers
// (TestPoolGradFused).

// poolGrad makes the layer take, in its backward pass, the output gradient
// of the global average pool after it (r values per sample, averages with
// weight inv). Only the direct path does; it reports whether the layer
// took it.
func (m *convImpl[T]) poolGrad(r int, inv T) bool {
	if !m.direct || (m.cfg.op.OutG*m.cfg.Out)%r != 0 {
		return false
	}
	m.poolR, m.poolInv = r, inv
	return true
}

// poolForward makes the forward pass compute the pool's outputs instead of
// its own (after poolGrad). It reports whether the layer took it: the
// output rows must hold whole bytes of sign bits, and where the pool sums
// short rows in 64 lanes (vec.SumRows) whole blocks of 64 values.
func (m *convImpl[T]) poolForward() bool {
	op := m.cfg.op
	ow := op.OutW * op.OutG * m.cfg.Out
	if m.poolR == 0 || ow%8 != 0 {
		return false
	}
	var zero T
	_, f32 := any(zero).(float32)
	const lanes = vec.SumLanes
	m.lanes = f32 && m.poolR < lanes && lanes%m.poolR == 0 && (op.OutH*ow)%lanes == 0
	if m.lanes && ow%lanes != 0 {
		return false
	}
	m.poolFwd = true
	return true
}

// forwardPooled computes sample s's outputs, applies bias and ReLU row by
// row, keeps their sign bits and sums them into the pool's outputs ps
// (poolR values).
func (m *convImpl[T]) forwardPooled(pt *convPart[T], x, ps []T, s int) {
	op := m.cfg.op
	nout := op.OutG * m.cfg.Out
	ow := op.OutW * nout
	pt.ytmp = ensure(pt.ytmp, op.OutH*ow)
	m.outputs(pt, x, s, pt.ytmp)
	acc := ps
	if m.lanes {
		pt.acc = ensure(pt.acc, vec.SumLanes)
		acc = pt.acc
	}
	clear(acc)
	bits := m.bits[s*op.OutH*ow/8:]
	for i := 0; i < op.OutH; i++ {
		row := pt.ytmp[i*ow : (i+1)*ow]
		m.epilogue(row)
		if m.relu {
			signBits(row, bits[i*ow/8:(i+1)*ow/8])
		}
		sumRows(acc, row)
	}
	if m.lanes {
		clear(ps)
		for i := 0; i < len(acc); i += len(ps) {
			for c := range ps {
				ps[c] += acc[i+c]
			}
		}
	}
	for c := range ps {
		ps[c] *= m.poolInv
	}
}

// broadcastRow sets the part's gb to one output row (ow values) of the
// gradient that the global average pool after the layer broadcasts: the
// pooled gradient g (poolR values, repeated) times the pool's weight, the
// values the pool's own backward pass writes.
func (m *convImpl[T]) broadcastRow(pt *convPart[T], g []T, ow int) {
	pt.gb = ensure(pt.gb, ow)
	pt.grow = ensure(pt.grow, ow)
	for i, v := range g {
		pt.gb[i] = v * m.poolInv
	}
	for done := len(g); done < ow; done *= 2 {
		copy(pt.gb[done:], pt.gb[:done])
	}
}

// signBits stores the signs of x as vec.SignBits does.
func signBits[T Float](x []T, bits []uint8) {
	if xs, ok := any(x).([]float32); ok {
		vec.SignBits(xs, bits)
		return
	}
	clear(bits)
	for i, v := range x {
		if int64(math.Float64bits(float64(v))) > 0 {
			bits[i/8] |= 1 << (i % 8)
		}
	}
}

// maskBits sets o[i] = d[i] where bit i of bits is set, else 0, as
// vec.MaskBits does.
func maskBits[T Float](bits []uint8, d, o []T) {
	if ds, ok := any(d).([]float32); ok {
		vec.MaskBits(bits, ds, any(o).([]float32))
		return
	}
	for i, v := range d {
		if bits[i/8]>>(i%8)&1 == 1 {
			o[i] = v
		} else {
			o[i] = 0
		}
	}
}
