package kernel

import (
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/internal/vec"
)

// TestNarrowRowMap checks that the flat run over planes of short rows
// (narrowRowMap) gives the bits of the row-by-row maps, for the ReLU and
// erf kernels, NNGP and NTK.
func TestNarrowRowMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	op := plainConvOp(3, Same, 3, 5) // 15 columns
	em := vec.NewErfMap(1.2, 0.8, 0.1)
	for _, tc := range []struct {
		name  string
		apply func(s *State)
		row   func(k, t []float64, v1 float64, v2 []float64)
	}{
		{"relu", (*State).ReLU, func(k, t []float64, v1 float64, v2 []float64) { vec.ReLUArcCosRow(k, t, v1, v2, inv2pi) }},
		{"erf", func(s *State) { s.Erf(1.2, 0.8, 0.1) }, func(k, t []float64, v1 float64, v2 []float64) { vec.ErfKernelRow(k, t, v1, v2, em) }},
	} {
		for _, ntk := range []bool{true, false} {
			a := gramState(rng, op, 3, false)
			a.NTK = ntk
			p, c := a.P(), a.Cols()
			if c >= narrowRows {
				t.Fatalf("%d columns are not narrow", c)
			}
			a.V1, a.V2 = make([]float64, a.Pairs*p), make([]float64, a.Pairs*p)
			for i := range a.V1 {
				a.V1[i], a.V2[i] = 1+rng.Float64(), 0.5+rng.Float64()
			}
			k, th := append([]float64(nil), a.K...), append([]float64(nil), a.Theta...)
			tc.apply(a)
			for pr := 0; pr < a.Pairs; pr++ {
				for i := 0; i < p; i++ {
					at := (pr*p + i) * c
					var trow []float64
					if ntk {
						trow = th[at : at+c]
					}
					tc.row(k[at:at+c], trow, a.V1[pr*p+i], a.V2[pr*p:pr*p+c])
				}
			}
			sameBits(t, tc.name+" K", a.K, k)
			if ntk {
				sameBits(t, tc.name+" Theta", a.Theta, th)
			}
		}
	}
}
