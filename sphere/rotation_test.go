package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

func maxAbsDiff(a, b Rotation) float64 {
	var e float64
	for i := range a {
		for j := range a[i] {
			e = math.Max(e, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return e
}

// TestRotations checks orthogonality and determinant of random rotations,
// the Euler-angle round trip and the product with the inverse.
func TestRotations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100; i++ {
		r := Random(rng)
		if e := maxAbsDiff(r.Mul(r.Inv()), Identity()); e > 1e-14 {
			t.Fatalf("R Rᵀ - I = %g", e)
		}
		det := r[0][0]*(r[1][1]*r[2][2]-r[1][2]*r[2][1]) - r[0][1]*(r[1][0]*r[2][2]-r[1][2]*r[2][0]) + r[0][2]*(r[1][0]*r[2][1]-r[1][1]*r[2][0])
		if math.Abs(det-1) > 1e-14 {
			t.Fatalf("det R = %v", det)
		}
		a, b, g := r.Euler()
		if e := maxAbsDiff(Euler(a, b, g), r); e > 1e-13 {
			t.Fatalf("Euler round trip error %g", e)
		}
	}
	for _, tc := range []struct{ a, b, g float64 }{{0.3, 0, 0}, {0.3, math.Pi, 0}, {1, 2, 3}, {-2, 0.1, -0.5}} {
		r := Euler(tc.a, tc.b, tc.g)
		a, b, g := r.Euler()
		if e := maxAbsDiff(Euler(a, b, g), r); e > 1e-13 {
			t.Errorf("Euler(%v, %v, %v): round trip error %g", tc.a, tc.b, tc.g, e)
		}
	}
}

// TestRandomHaar checks moments of Haar-random rotations: E[R] = 0 and
// E[R_ij²] = 1/3 within 5 standard errors.
func TestRandomHaar(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 20000
	var mean, sq [3][3]float64
	for k := 0; k < n; k++ {
		r := Random(rng)
		for i := range r {
			for j := range r[i] {
				mean[i][j] += r[i][j] / n
				sq[i][j] += r[i][j] * r[i][j] / n
			}
		}
	}
	se := math.Sqrt(1.0 / 3 / n)
	for i := range mean {
		for j := range mean[i] {
			if math.Abs(mean[i][j]) > 5*se || math.Abs(sq[i][j]-1.0/3) > 5*math.Sqrt(4.0/45/n) {
				t.Errorf("entry %d,%d: mean %.4f, mean square %.4f", i, j, mean[i][j], sq[i][j])
			}
		}
	}
}
