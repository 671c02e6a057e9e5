package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func maxDiff(a, b []float64) float64 {
	var e float64
	for i := range a {
		e = math.Max(e, math.Abs(a[i]-b[i]))
	}
	return e
}

// TestS2Transforms checks, for random band-limited signals, that the
// inverse transform agrees with direct evaluation of Σ c Y at the grid
// points and that the forward transform recovers the coefficients.
func TestS2Transforms(t *testing.T) {
	for _, L := range bandLimits {
		rng := rand.New(rand.NewPCG(uint64(L), 11))
		g := NewS2Grid(L)
		c := randSlice(rng, L*L)
		f := make([]float64, g.Len())
		g.Inverse(c, f)
		y := make([]float64, L*L)
		for p := 0; p < g.Len(); p += 1 + g.Len()/50 {
			if e := math.Abs(f[p] - EvalS2(L, c, g.Point(p), y)); e > 1e-12 {
				t.Fatalf("L=%d: inverse transform at point %d off by %g", L, p, e)
			}
		}
		back := make([]float64, L*L)
		g.Forward(f, back)
		if e := maxDiff(back, c); e > 1e-12 {
			t.Fatalf("L=%d: round trip error %g", L, e)
		}
	}
}

// TestSO3Transforms is TestS2Transforms on SO(3), direct evaluation by
// the Wigner-D matrices of the grid rotations.
func TestSO3Transforms(t *testing.T) {
	for _, L := range bandLimits {
		rng := rand.New(rand.NewPCG(uint64(L), 12))
		g := NewSO3Grid(L)
		nw := NumWigner(L)
		c := randSlice(rng, nw)
		f := make([]float64, g.Len())
		g.Inverse(c, f)
		d := make([]float64, nw)
		for q := 0; q < g.Len(); q += 1 + g.Len()/40 {
			if e := math.Abs(f[q] - EvalSO3(L, c, g.Rotation(q), d)); e > 1e-12 {
				t.Fatalf("L=%d: inverse transform at point %d off by %g", L, q, e)
			}
		}
		back := make([]float64, nw)
		g.Forward(f, back)
		if e := maxDiff(back, c); e > 1e-12 {
			t.Fatalf("L=%d: round trip error %g", L, e)
		}
	}
}

// TestRotatedSignals checks that sampling f(R⁻¹x) (or f(R⁻¹S) on SO(3))
// at the grid points, directly, and transforming gives the rotated
// coefficients RotateS2 and RotateSO3 compute.
func TestRotatedSignals(t *testing.T) {
	for _, L := range []int{1, 4, 16} {
		rng := rand.New(rand.NewPCG(uint64(L), 13))
		r := Random(rng)
		ri := r.Inv()
		nw := NumWigner(L)
		d := make([]float64, nw)
		WignerD(L, r, d)

		s2 := NewS2Grid(L)
		c := randSlice(rng, L*L)
		f := make([]float64, s2.Len())
		y := make([]float64, L*L)
		for p := range f {
			f[p] = EvalS2(L, c, ri.Apply(s2.Point(p)), y)
		}
		got, want := make([]float64, L*L), make([]float64, L*L)
		s2.Forward(f, got)
		RotateS2(L, d, c, want)
		if e := maxDiff(got, want); e > 1e-12 {
			t.Fatalf("S² L=%d: rotated coefficients off by %g", L, e)
		}

		if L > 4 {
			continue // direct evaluation at every SO(3) grid point is slow
		}
		so3 := NewSO3Grid(L)
		cw := randSlice(rng, nw)
		h := make([]float64, so3.Len())
		scratch := make([]float64, nw)
		for q := range h {
			h[q] = EvalSO3(L, cw, ri.Mul(so3.Rotation(q)), scratch)
		}
		gotW, wantW := make([]float64, nw), make([]float64, nw)
		so3.Forward(h, gotW)
		RotateSO3(L, d, cw, wantW)
		if e := maxDiff(gotW, wantW); e > 1e-12 {
			t.Fatalf("SO(3) L=%d: rotated coefficients off by %g", L, e)
		}
	}
}
