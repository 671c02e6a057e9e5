package symeig

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelsMatchGo checks that the dispatching kernels (assembly where
// the CPU allows) give bit for bit the results of their Go versions, which
// is what makes the purego build agree with the default one.
func TestKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vec := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	same := func(what string, n int, x, y []float64) {
		t.Helper()
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Fatalf("%s n=%d: element %d differs: %v != %v", what, n, i, x[i], y[i])
			}
		}
	}
	for n := 0; n <= 41; n++ {
		const lda = 45
		a := vec(4 * lda)
		x := vec(n)
		y := vec(n)
		var xc, d1, d2 [4]float64
		copy(xc[:], vec(4))

		y1, y2 := append([]float64(nil), y...), append([]float64(nil), y...)
		symv4(n, a, lda, x, y1, &xc, &d1)
		symv4Go(n, a, lda, x, y2, &xc, &d2)
		same("symv4 y", n, y1, y2)
		same("symv4 dots", n, d1[:], d2[:])

		dot4(n, a, lda, x, &d1)
		dot4Go(n, a, lda, x, &d2)
		same("dot4", n, d1[:], d2[:])

		y1, y2 = append([]float64(nil), y...), append([]float64(nil), y...)
		axpy4(n, a, lda, y1, &xc)
		axpy4Go(n, a, lda, y2, &xc)
		same("axpy4", n, y1, y2)
	}
}
