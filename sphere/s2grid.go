package sphere

import (
	"fmt"
	"math"
)

// S2Grid is the quadrature grid on the sphere for band limit L: L
// Gauss–Legendre nodes in cos θ (θ increasing) times 2L-1 equispaced
// longitudes φ_j = 2πj/(2L-1). Point p = i(2L-1) + j is (θ_i, φ_j). The
// weights sum to 4π and integrate products of two signals of band limit L
// exactly. Its tables hold about L³ values. An S2Grid is immutable and
// safe for concurrent use.
type S2Grid struct {
	// L is the band limit.
	L int
	// Theta and CosTheta are the L polar angles and their cosines;
	// Phi the 2L-1 longitudes.
	Theta, CosTheta, Phi []float64

	ringWeight []float64 // Gauss–Legendre weight of each ring times 2π/(2L-1)
	lam        []float64 // per ring, L² entries: Y_lm without its φ factor (m >= 0)
	trig       []float64 // (2L-1)×(2L-1): u_k(φ_j) at (k+L-1)(2L-1)+j
}

// NewS2Grid returns the grid for band limit L >= 1.
func NewS2Grid(L int) *S2Grid {
	if L < 1 {
		panic(fmt.Sprintf("sphere: band limit %d < 1", L))
	}
	t, w := GaussLegendre(L)
	n := 2*L - 1
	g := &S2Grid{L: L, CosTheta: t, Theta: make([]float64, L), Phi: make([]float64, n),
		ringWeight: make([]float64, L), lam: make([]float64, L*L*L)}
	for i, ti := range t {
		g.Theta[i] = math.Acos(ti)
		g.ringWeight[i] = w[i] * 2 * math.Pi / float64(n)
		lam := g.lam[i*L*L : (i+1)*L*L]
		assocLegendre(L, ti, math.Sqrt((1-ti)*(1+ti)), lam)
		for l := 1; l < L; l++ {
			for m := 1; m <= l; m++ {
				lam[Index(l, m)] *= math.Sqrt2
			}
		}
	}
	for j := range g.Phi {
		g.Phi[j] = 2 * math.Pi * float64(j) / float64(n)
	}
	g.trig = trigTable(L, g.Phi)
	return g
}

// trigTable returns u_k(x_j) for -L < k < L at (k+L-1)len(x)+j, where
// u_0 = 1, u_k = cos(kx) and u_-k = sin(kx) for k > 0.
func trigTable(L int, x []float64) []float64 {
	n := len(x)
	u := make([]float64, (2*L-1)*n)
	for j, xj := range x {
		u[(L-1)*n+j] = 1
		for k := 1; k < L; k++ {
			s, c := math.Sincos(float64(k) * xj)
			u[(k+L-1)*n+j] = c
			u[(-k+L-1)*n+j] = s
		}
	}
	return u
}

// Len returns the number of grid points, L(2L-1).
func (g *S2Grid) Len() int { return S2GridLen(g.L) }

// Point returns the unit vector of grid point p.
func (g *S2Grid) Point(p int) [3]float64 {
	n := 2*g.L - 1
	return UnitVector(g.Theta[p/n], g.Phi[p%n])
}

// Weight returns the quadrature weight of grid point p.
func (g *S2Grid) Weight(p int) float64 { return g.ringWeight[p/(2*g.L-1)] }

// Forward computes the L² coefficients c_lm = ∫ f Y_lm of the signal with
// grid samples f (by the quadrature, exact for band limit L).
func (g *S2Grid) Forward(f, c []float64) {
	L, n := g.L, 2*g.L-1
	clear(c[:L*L])
	b := make([]float64, n)
	for i := 0; i < L; i++ {
		row := f[i*n : (i+1)*n]
		for k := range b {
			b[k] = dot(g.trig[k*n:(k+1)*n], row) * g.ringWeight[i]
		}
		lam := g.lam[i*L*L:]
		for l := 0; l < L; l++ {
			for m := -l; m <= l; m++ {
				c[Index(l, m)] += lam[Index(l, abs(m))] * b[m+L-1]
			}
		}
	}
}

// Inverse computes the grid samples f of the signal Σ c_lm Y_lm with
// coefficients c (L² entries).
func (g *S2Grid) Inverse(c, f []float64) {
	L, n := g.L, 2*g.L-1
	a := make([]float64, n)
	for i := 0; i < L; i++ {
		lam := g.lam[i*L*L:]
		for k := -(L - 1); k < L; k++ {
			var s float64
			for l := abs(k); l < L; l++ {
				s += c[Index(l, k)] * lam[Index(l, abs(k))]
			}
			a[k+L-1] = s
		}
		row := f[i*n : (i+1)*n]
		clear(row)
		for k, ak := range a {
			axpy(ak, g.trig[k*n:(k+1)*n], row)
		}
	}
}

func dot(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

// S2GridLen returns the number of points of the sphere grid of band limit
// L, L(2L-1).
func S2GridLen(L int) int { return L * (2*L - 1) }
