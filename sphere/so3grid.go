package sphere

import (
	"fmt"
	"math"
)

// SO3Grid is the quadrature grid on SO(3) for band limit L: ZYZ Euler
// angles with 2L-1 equispaced α_a = 2πa/(2L-1), L Gauss–Legendre nodes in
// cos β and 2L-1 equispaced γ_c. Point q = (a L + b)(2L-1) + c is
// Euler(α_a, β_b, γ_c). The weights sum to 1 (normalised Haar measure) and
// integrate products of two signals of band limit L exactly. Its tables
// hold about 4L⁴/3 values. An SO3Grid is immutable and safe for
// concurrent use.
type SO3Grid struct {
	// L is the band limit.
	L int
	// Alpha and Gamma are the 2L-1 angles α and γ, Beta the L angles β.
	Alpha, Beta, Gamma []float64

	betaWeight []float64 // Gauss–Legendre weight / 2 / (2L-1)²
	dBeta      []float64 // per β: the Wigner-D blocks of Ry(β), NumWigner(L) each
	trig       []float64 // u_k(α_a) = u_k(γ_a), see trigTable
}

// NewSO3Grid returns the grid for band limit L >= 1.
func NewSO3Grid(L int) *SO3Grid {
	if L < 1 {
		panic(fmt.Sprintf("sphere: band limit %d < 1", L))
	}
	t, w := GaussLegendre(L)
	n := 2*L - 1
	g := &SO3Grid{L: L, Alpha: make([]float64, n), Beta: make([]float64, L), Gamma: make([]float64, n),
		betaWeight: make([]float64, L), dBeta: make([]float64, L*NumWigner(L))}
	for a := range g.Alpha {
		g.Alpha[a] = 2 * math.Pi * float64(a) / float64(n)
		g.Gamma[a] = g.Alpha[a]
	}
	nw := NumWigner(L)
	for b, tb := range t {
		g.Beta[b] = math.Acos(tb)
		g.betaWeight[b] = w[b] / 2 / float64(n*n)
		WignerD(L, RotY(g.Beta[b]), g.dBeta[b*nw:(b+1)*nw])
	}
	g.trig = trigTable(L, g.Alpha)
	return g
}

// Len returns the number of grid points, L(2L-1)².
func (g *SO3Grid) Len() int { return SO3GridLen(g.L) }

// Rotation returns the rotation of grid point q.
func (g *SO3Grid) Rotation(q int) Rotation {
	n := 2*g.L - 1
	return Euler(g.Alpha[q/(g.L*n)], g.Beta[q/n%g.L], g.Gamma[q%n])
}

// Weight returns the quadrature weight of grid point q.
func (g *SO3Grid) Weight(q int) float64 { return g.betaWeight[q/(2*g.L-1)%g.L] }

// zTerm is a non-zero entry (row, col, value) of the matrix A_k in the
// expansion of the real Wigner-D matrix of a z rotation,
// D^l(Rz(α)) = Σ_k u_k(α) A_k.
type zTerm struct {
	row, col int
	v        float64
}

// zTerms returns the entries of A_k: A_0 = E_00; for k > 0,
// A_k = E_kk + E_-k-k and A_-k = E_-k,k - E_k,-k.
func zTerms(k int) []zTerm {
	switch {
	case k == 0:
		return []zTerm{{0, 0, 1}}
	case k > 0:
		return []zTerm{{k, k, 1}, {-k, -k, 1}}
	}
	return []zTerm{{k, -k, 1}, {-k, k, -1}}
}

// Forward computes the Wigner coefficients f̂^l_mn = (2l+1) ∫ f D^l_mn of
// the signal with grid samples f (NumWigner(L) entries into c).
func (g *SO3Grid) Forward(f, c []float64) {
	L, n := g.L, 2*g.L-1
	nw := NumWigner(L)
	clear(c[:nw])
	s := make([]float64, n*n)  // [a][k]
	gg := make([]float64, n*n) // [j][k]
	for b := 0; b < L; b++ {
		for a := 0; a < n; a++ {
			row := f[(a*L+b)*n : (a*L+b+1)*n]
			for k := 0; k < n; k++ {
				s[a*n+k] = dot(row, g.trig[k*n:(k+1)*n])
			}
		}
		for j := 0; j < n; j++ {
			for k := 0; k < n; k++ {
				var v float64
				for a := 0; a < n; a++ {
					v += g.trig[j*n+a] * s[a*n+k]
				}
				gg[j*n+k] = v * g.betaWeight[b]
			}
		}
		d := g.dBeta[b*nw:]
		for l := 0; l < L; l++ {
			w := 2*l + 1
			blk, dl := c[WignerOffset(l):], d[WignerOffset(l):]
			for j := -l; j <= l; j++ {
				for k := -l; k <= l; k++ {
					v := float64(w) * gg[(j+L-1)*n+k+L-1]
					for _, x := range zTerms(j) {
						for _, y := range zTerms(k) {
							blk[(x.row+l)*w+y.col+l] += v * x.v * y.v * dl[(x.col+l)*w+y.row+l]
						}
					}
				}
			}
		}
	}
}

// Inverse computes the grid samples f of the signal
// Σ_l Σ_mn c^l_mn D^l_mn(R) with Wigner coefficients c.
func (g *SO3Grid) Inverse(c, f []float64) {
	L, n := g.L, 2*g.L-1
	nw := NumWigner(L)
	ff := make([]float64, n*n) // [j][k]
	tt := make([]float64, n*n) // [j][c]
	for b := 0; b < L; b++ {
		clear(ff)
		d := g.dBeta[b*nw:]
		for l := 0; l < L; l++ {
			w := 2*l + 1
			blk, dl := c[WignerOffset(l):], d[WignerOffset(l):]
			for j := -l; j <= l; j++ {
				for k := -l; k <= l; k++ {
					var v float64
					for _, x := range zTerms(j) {
						for _, y := range zTerms(k) {
							v += blk[(x.row+l)*w+y.col+l] * x.v * y.v * dl[(x.col+l)*w+y.row+l]
						}
					}
					ff[(j+L-1)*n+k+L-1] += v
				}
			}
		}
		for j := 0; j < n; j++ {
			for cc := 0; cc < n; cc++ {
				var v float64
				for k := 0; k < n; k++ {
					v += ff[j*n+k] * g.trig[k*n+cc]
				}
				tt[j*n+cc] = v
			}
		}
		for a := 0; a < n; a++ {
			row := f[(a*L+b)*n : (a*L+b+1)*n]
			clear(row)
			for j := 0; j < n; j++ {
				axpy(g.trig[j*n+a], tt[j*n:(j+1)*n], row)
			}
		}
	}
}

// SO3GridLen returns the number of points of the SO(3) grid of band limit
// L, L(2L-1)².
func SO3GridLen(L int) int { return L * (2*L - 1) * (2*L - 1) }
