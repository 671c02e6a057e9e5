package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

var bandLimits = []int{1, 2, 4, 16, 17}

// TestGaussLegendre checks the rule on monomials: exact up to degree 2n-1.
func TestGaussLegendre(t *testing.T) {
	for _, n := range []int{1, 2, 5, 16, 17} {
		x, w := GaussLegendre(n)
		for k := 0; k < 2*n; k++ {
			var s float64
			for i := range x {
				s += w[i] * math.Pow(x[i], float64(k))
			}
			want := 0.0
			if k%2 == 0 {
				want = 2 / float64(k+1)
			}
			if math.Abs(s-want) > 1e-14 {
				t.Errorf("n=%d: ∫ x^%d = %.16g, want %.16g", n, k, s, want)
			}
		}
	}
}

// TestHarmonicsClosedForms compares degrees 0 to 2 with their closed forms.
func TestHarmonicsClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	y := make([]float64, 9)
	for i := 0; i < 20; i++ {
		v := randomUnit(rng)
		x, yy, z := v[0], v[1], v[2]
		Harmonics(3, v, y)
		c1 := math.Sqrt(3 / (4 * math.Pi))
		c2 := math.Sqrt(15 / (4 * math.Pi))
		want := []float64{
			1 / math.Sqrt(4*math.Pi),
			c1 * yy, c1 * z, c1 * x,
			c2 * x * yy, c2 * yy * z, math.Sqrt(5/(16*math.Pi)) * (3*z*z - 1), c2 * x * z, c2 / 2 * (x*x - yy*yy),
		}
		for k, w := range want {
			if math.Abs(y[k]-w) > 1e-15 {
				t.Fatalf("Y[%d](%v) = %v, want %v", k, v, y[k], w)
			}
		}
	}
}

// TestHarmonicsOrthonormal checks Σ_p w_p Y_lm(x_p) Y_l'm'(x_p) = δ on the
// grid of band limit L.
func TestHarmonicsOrthonormal(t *testing.T) {
	for _, L := range bandLimits {
		g := NewS2Grid(L)
		n := NumCoeffs(L)
		gram := make([]float64, n*n)
		y := make([]float64, n)
		for p := 0; p < g.Len(); p++ {
			Harmonics(L, g.Point(p), y)
			w := g.Weight(p)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					gram[i*n+j] += w * y[i] * y[j]
				}
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if e := math.Abs(gram[i*n+j] - want); e > 1e-12 {
					t.Fatalf("L=%d: <Y_%d, Y_%d> = %.15g", L, i, j, gram[i*n+j])
				}
			}
		}
	}
}

// TestAdditionTheorem checks Σ_m Y_lm(x) Y_lm(y) = (2l+1)/(4π) P_l(x·y)
// with P_l from Bonnet's recursion.
func TestAdditionTheorem(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, L := range bandLimits {
		yx := make([]float64, L*L)
		yy := make([]float64, L*L)
		for i := 0; i < 10; i++ {
			x, y := randomUnit(rng), randomUnit(rng)
			Harmonics(L, x, yx)
			Harmonics(L, y, yy)
			c := x[0]*y[0] + x[1]*y[1] + x[2]*y[2]
			p0, p1 := 1.0, c
			for l := 0; l < L; l++ {
				pl := p0
				if l == 1 {
					pl = p1
				}
				if l >= 2 {
					p0, p1 = p1, (float64(2*l-1)*c*p1-float64(l-1)*p0)/float64(l)
					pl = p1
				}
				var s float64
				for m := -l; m <= l; m++ {
					s += yx[Index(l, m)] * yy[Index(l, m)]
				}
				if want := float64(2*l+1) / (4 * math.Pi) * pl; math.Abs(s-want) > 1e-12 {
					t.Fatalf("L=%d l=%d: Σ_m Y Y = %.15g, want %.15g", L, l, s, want)
				}
			}
		}
	}
}

// TestHarmonicsAngles checks HarmonicsAngles against Harmonics at the
// same points, poles included, and that Harmonics ignores the length of x.
func TestHarmonicsAngles(t *testing.T) {
	const L = 9
	a, b := make([]float64, L*L), make([]float64, L*L)
	for _, tc := range []struct{ theta, phi float64 }{{0, 0}, {math.Pi, 1}, {0.3, -2}, {2.5, 4}, {math.Pi / 2, math.Pi}} {
		HarmonicsAngles(L, tc.theta, tc.phi, a)
		x := UnitVector(tc.theta, tc.phi)
		Harmonics(L, [3]float64{3 * x[0], 3 * x[1], 3 * x[2]}, b)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-13 {
				t.Fatalf("θ=%v φ=%v: Y[%d] = %v from angles, %v from the vector", tc.theta, tc.phi, i, a[i], b[i])
			}
		}
	}
}
