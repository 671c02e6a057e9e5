package sphere

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWignerRotatesHarmonics checks Y_l(R x) = D^l(R) Y_l(x) for random
// rotations and points: D from the recursion, Y evaluated directly.
func TestWignerRotatesHarmonics(t *testing.T) {
	for _, L := range []int{1, 2, 4, 16, 17} {
		rng := rand.New(rand.NewPCG(uint64(L), 1))
		d := make([]float64, NumWigner(L))
		y := make([]float64, NumCoeffs(L))
		yr := make([]float64, NumCoeffs(L))
		for trial := 0; trial < 5; trial++ {
			r := Random(rng)
			WignerD(L, r, d)
			x := randomUnit(rng)
			Harmonics(L, x, y)
			Harmonics(L, r.Apply(x), yr)
			for l := 0; l < L; l++ {
				blk := d[WignerOffset(l):]
				for m := -l; m <= l; m++ {
					var s float64
					for n := -l; n <= l; n++ {
						s += blk[(m+l)*(2*l+1)+n+l] * y[Index(l, n)]
					}
					if e := math.Abs(s - yr[Index(l, m)]); e > 1e-12 {
						t.Fatalf("L=%d l=%d m=%d: D Y(x) = %.15g, Y(Rx) = %.15g (error %.2g)", L, l, m, s, yr[Index(l, m)], e)
					}
				}
			}
		}
	}
}

// blockMul returns the product of two (2l+1)² blocks.
func blockMul(w int, a, b []float64) []float64 {
	p := make([]float64, w*w)
	for i := 0; i < w; i++ {
		for j := 0; j < w; j++ {
			for k := 0; k < w; k++ {
				p[i*w+j] += a[i*w+k] * b[k*w+j]
			}
		}
	}
	return p
}

// TestWignerGroupLaws checks D(R) D(R)ᵀ = I, D(R1 R2) = D(R1) D(R2),
// D(R⁻¹) = D(R)ᵀ and Y(R⁻¹x) = D(R)ᵀ Y(x) for random rotations.
func TestWignerGroupLaws(t *testing.T) {
	for _, L := range bandLimits {
		rng := rand.New(rand.NewPCG(uint64(L), 7))
		nw := NumWigner(L)
		d1, d2, d12, dinv := make([]float64, nw), make([]float64, nw), make([]float64, nw), make([]float64, nw)
		y, yr := make([]float64, L*L), make([]float64, L*L)
		for trial := 0; trial < 5; trial++ {
			r1, r2 := Random(rng), Random(rng)
			WignerD(L, r1, d1)
			WignerD(L, r2, d2)
			WignerD(L, r1.Mul(r2), d12)
			WignerD(L, r1.Inv(), dinv)
			x := randomUnit(rng)
			Harmonics(L, x, y)
			Harmonics(L, r1.Inv().Apply(x), yr)
			for l := 0; l < L; l++ {
				w, o := 2*l+1, WignerOffset(l)
				a, b, ab, ai := d1[o:o+w*w], d2[o:o+w*w], d12[o:o+w*w], dinv[o:o+w*w]
				prod := blockMul(w, a, b)
				for i := 0; i < w; i++ {
					var ty float64
					for j := 0; j < w; j++ {
						var g float64
						for k := 0; k < w; k++ {
							g += a[i*w+k] * a[j*w+k]
						}
						if i == j {
							g--
						}
						if math.Abs(g) > 1e-12 {
							t.Fatalf("L=%d l=%d: (D Dᵀ - I)[%d,%d] = %g", L, l, i, j, g)
						}
						if e := math.Abs(prod[i*w+j] - ab[i*w+j]); e > 1e-12 {
							t.Fatalf("L=%d l=%d: D(R1R2) - D(R1)D(R2) = %g at %d,%d", L, l, e, i, j)
						}
						if e := math.Abs(ai[i*w+j] - a[j*w+i]); e > 1e-12 {
							t.Fatalf("L=%d l=%d: D(R⁻¹) - D(R)ᵀ = %g", L, l, e)
						}
						ty += a[j*w+i] * y[Index(l, j-l)]
					}
					if e := math.Abs(ty - yr[Index(l, i-l)]); e > 1e-12 {
						t.Fatalf("L=%d l=%d: Y(R⁻¹x) - D(R)ᵀY(x) = %g", L, l, e)
					}
				}
			}
		}
	}
}

// TestWignerOrthogonality checks Σ_q w_q D^l_mn(R_q) D^l'_m'n'(R_q) =
// δ/(2l+1) on the SO(3) grid, with D computed at every grid rotation.
func TestWignerOrthogonality(t *testing.T) {
	for _, L := range []int{1, 2, 4} {
		g := NewSO3Grid(L)
		nw := NumWigner(L)
		gram := make([]float64, nw*nw)
		d := make([]float64, nw)
		var wsum float64
		for q := 0; q < g.Len(); q++ {
			WignerD(L, g.Rotation(q), d)
			w := g.Weight(q)
			wsum += w
			for i := 0; i < nw; i++ {
				for j := 0; j < nw; j++ {
					gram[i*nw+j] += w * d[i] * d[j]
				}
			}
		}
		if math.Abs(wsum-1) > 1e-14 {
			t.Fatalf("L=%d: weights sum to %v", L, wsum)
		}
		for l := 0; l < L; l++ {
			for i := WignerOffset(l); i < WignerOffset(l+1); i++ {
				for j := 0; j < nw; j++ {
					want := 0.0
					if i == j {
						want = 1 / float64(2*l+1)
					}
					if e := math.Abs(gram[i*nw+j] - want); e > 1e-12 {
						t.Fatalf("L=%d: <D_%d, D_%d> = %.15g, want %v", L, i, j, gram[i*nw+j], want)
					}
				}
			}
		}
	}
}
