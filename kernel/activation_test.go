package kernel

import (
	"math"
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

// TestReLUPlane checks the ReLU on planes of wide rows against the row map
// the fused convolution maps call (vec.ReLUArcCosRow), bit for bit, and
// that on the diagonal of a pair of an input with itself (k² = v1 v2, the
// variances from SelfVariances) theta is exactly 0: K' = pi k/(2 pi) and
// Theta' = Theta pi/(2 pi) with pi - theta exactly float64(pi).
func TestReLUPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	op := plainConvOp(3, Same, 6, 7) // 42 columns
	for _, ntk := range []bool{true, false} {
		a := gramState(rng, op, 2, false)
		a.NTK = ntk
		a.SelfVariances()
		p, c := a.P(), a.Cols()
		if c < narrowRows {
			t.Fatalf("%d columns are narrow", c)
		}
		k, th := append([]float64(nil), a.K...), append([]float64(nil), a.Theta...)
		a.ReLU()
		want, wantT := append([]float64(nil), k...), append([]float64(nil), th...)
		for pr := 0; pr < a.Pairs; pr++ {
			for i := 0; i < p; i++ {
				at := (pr*p + i) * c
				var trow []float64
				if ntk {
					trow = wantT[at : at+c]
				}
				vec.ReLUArcCosRow(want[at:at+c], trow, a.V1[pr*p+i], a.V2[pr*p:pr*p+c], inv2pi)
				d := at + i // the diagonal entry of the row
				if kk := k[d]; kk*kk == a.V1[pr*p+i]*a.V2[pr*p+i] {
					if a.K[d] != float64(math.Pi*kk)*inv2pi || ntk && a.Theta[d] != th[d]*float64(math.Pi*inv2pi) {
						t.Fatalf("pair %d, diagonal %d: got (%v, %v), want theta = 0: (%v, %v)", pr, i, a.K[d], a.Theta[d], float64(math.Pi*kk)*inv2pi, th[d]*float64(math.Pi*inv2pi))
					}
				} else {
					t.Fatalf("pair %d, diagonal %d: k² %v != v1 v2 %v", pr, i, kk*kk, a.V1[pr*p+i]*a.V2[pr*p+i])
				}
			}
		}
		sameBits(t, "K", a.K, want)
		if ntk {
			sameBits(t, "Theta", a.Theta, wantT)
		}
	}
}
