package vec

import (
	"math/rand/v2"
	"testing"
)

// TestSignBits checks SignBits and MaskBits bit for bit against Mask (and
// the bits against the scalar test), at lengths around the vector block,
// with special values, in place and not.
func TestSignBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 33, 64, 100, 1000} {
		x, d := randSlice(rng, n), randSlice(rng, n)
		bits := make([]uint8, (n+7)/8)
		for i := range bits {
			bits[i] = 0xa5 // stale contents must be overwritten
		}
		SignBits(x, bits)
		for i, v := range x {
			if got, want := bits[i/8]>>(i%8)&1 == 1, ref(v, 1) == 1; got != want {
				t.Fatalf("SignBits n=%d: bit %d is %v for %v", n, i, got, v)
			}
		}
		want := make([]float32, n)
		Mask(x, d, want)
		o := make([]float32, n)
		MaskBits(bits, d, o)
		if i := sameBits(o, want); i >= 0 {
			t.Fatalf("MaskBits n=%d: element %d is %v, want %v", n, i, o[i], want[i])
		}
		MaskBits(bits, d, d)
		if i := sameBits(d, want); i >= 0 {
			t.Fatalf("MaskBits in place n=%d: element %d differs", n, i)
		}
	}
}
