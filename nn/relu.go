package nn

import (
	"math"

	"github.com/eqens/eqens/internal/vec"
)

// The finite passes of relu (its entry in activations.go, and convolutions
// with a fused ReLU).
//
// Branch-free rectifier kernels (float32: package vec, AVX2 on amd64): the
// sign of a pre-activation is random, so a branch per element mispredicts
// half the time and costs more than the GEMMs around it. The mask
// (-s & ^s) >> (bits-1) of the integer view s of a float is all ones
// exactly when the float is > 0 (it is 0 for +0, -0, negative numbers and
// negative NaNs).

func reluForward[T Float](x, y []T) {
	switch xs := any(x).(type) {
	case []float32:
		vec.ReLU(xs, any(y).([]float32))
	case []float64:
		ys := any(y).([]float64)
		ys = ys[:len(xs)]
		for i, v := range xs {
			s := int64(math.Float64bits(v))
			ys[i] = math.Float64frombits(uint64(s & ((-s & ^s) >> 63)))
		}
	default:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	}
}

func reluBackward[T Float](x, dy, dx []T) {
	switch xs := any(x).(type) {
	case []float32:
		vec.Mask(xs, any(dy).([]float32), any(dx).([]float32))
	case []float64:
		d := any(dy).([]float64)[:len(xs)]
		o := any(dx).([]float64)[:len(xs)]
		for i, v := range xs {
			s := int64(math.Float64bits(v))
			o[i] = math.Float64frombits(math.Float64bits(d[i]) & uint64((-s&^s)>>63))
		}
	default:
		for i, v := range x {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	}
}
