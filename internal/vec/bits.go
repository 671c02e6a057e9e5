package vec

import "math"

// SignBits stores one bit per value of x: bit i%8 of bits[i/8] is set
// where the integer view of x[i] is positive (the test of Mask), for
// i < len(x); len(bits) must be at least (len(x)+7)/8. A ReLU that keeps
// only these bits of its output for the backward pass reads 1/32 of it.
func SignBits(x []float32, bits []uint8) {
	bits = bits[:(len(x)+7)/8]
	i := signBitsBulk(x, bits)
	for ; i < len(x); i++ {
		b := &bits[i/8]
		if i%8 == 0 {
			*b = 0
		}
		if int32(math.Float32bits(x[i])) > 0 {
			*b |= 1 << (i % 8)
		}
	}
}

// MaskBits sets o[i] = d[i] where bit i%8 of bits[i/8] is set and 0
// elsewhere, for i < len(d) (o may be d): Mask(m, d, o) with the SignBits
// of m.
func MaskBits(bits []uint8, d, o []float32) {
	bits = bits[:(len(d)+7)/8]
	o = o[:len(d)]
	i := maskBitsBulk(bits, d, o)
	for ; i < len(d); i++ {
		if bits[i/8]>>(i%8)&1 == 1 {
			o[i] = d[i]
		} else {
			o[i] = 0
		}
	}
}
