package kernel

import (
	"fmt"

	"github.com/eqens/eqens/internal/gemm"
)

// SphereOp is the linear map of a spherical convolution (nn's s2conv and
// so3conv) on the covariance of a pair of inputs. The layer computes, per
// channel, coefficients X = A x of its input (A: the analysis matrix,
// coefficients × In), multiplies those of each degree l by independent
// N(0, 1) filter coefficients and synthesises the output on the SO(3) grid
// with S (Out × NumWigner(L), S[q, (l, r, m)] = D^l_rm(R_q)). Its
// covariance map is
//
//	K' = S M Sᵀ,  M[(l,r,m), (l,r',m')] = δ_mm' T^l[r, r'],
//	T^l[r, r'] = Σ_j (A K Aᵀ)[(l, r, j), (l, r', j)],
//
// where the input coefficients of degree l are stored as 2l+1 rows r of
// J(l) entries j from Σ_{l'<l} (2l'+1) J(l'): J = 1 for s2conv (the real
// spherical-harmonic coefficients f̂_lr), J = 2l+1 for so3conv (the Wigner
// coefficients x̂^l_rj, scaled by 1/sqrt(2l+1)).
//
// After the map, K'(R, R') = Σ_l <D^l(R) D^l(R')ᵀ, T^l> = Σ_l <D^l(R R'⁻¹), T^l>
// depends on the relative rotation R R'⁻¹ only. The state nevertheless
// holds the kernel at pairs of grid points, because the pointwise
// activations that follow need it there (their relative rotations are not
// grid points). It is stored as a slab: the SO(3) grid is closed under
// right multiplication by the z rotations Rz(2πc/N), N = 2 Grid - 1 (they
// shift the γ index), and K'(R Rz, R' Rz) = K'(R, R'), so with positions ordered
// p = c·(Out/N) + t (γ index c, t the (α, β) index) the columns of c = 0
// determine all others: K'[(c, t), (c', t')] = K'[(c - c' mod N, t), (0, t')].
// Activations keep this invariance, and for a slab input the map needs the
// stored columns only: by D(R Rz(γ)) = D(R) Z(γ),
// Σ_j (A K Aᵀ)[(l,r,j),(l,r',j)] = N Σ_j (A K_slab A_0ᵀ)[(l,r,j),(l,r',j)],
// A_0 the columns of A at c = 0. Both cost and memory fall by N.
//
// A and S are in this position order (In positions of the input state,
// Out of the output). A SphereOp must not be copied after first use.
type SphereOp struct {
	// L is the output band limit (degrees l < L); SO3 selects J(l) = 2l+1.
	L   int
	SO3 bool
	// Grid is the band limit of the output grid (0: L): its 2 Grid - 1
	// γ shifts make the slab blocks.
	Grid int
	// In and Out are the numbers of positions before and after the map.
	In, Out int
	// A is the analysis matrix (coefficients × In), S the synthesis
	// matrix (Out × NumWigner(L)), both row-major.
	A, S []float64

	tab sphereTables // the maps of the pairs' matrices, built on first use
}

// rows returns the offset and row length J of degree l's coefficients.
func (op *SphereOp) rows(l int) (off, j int) {
	if op.SO3 {
		return l * (2*l - 1) * (2*l + 1) / 3, 2*l + 1
	}
	return l * l, 1
}

// shifts is the number 2 Grid - 1 of γ shifts of the output grid.
func (op *SphereOp) shifts() int {
	if op.Grid == 0 {
		return 2*op.L - 1
	}
	return 2*op.Grid - 1
}

// numWigner is Σ_{l<L} (2l+1)², the number of Wigner coefficients and of
// the entries of the T^l.
func (op *SphereOp) numWigner() int { return wignerOffset(op.L) }

// check validates the operator against the state.
func (op *SphereOp) check(s *State) error {
	k, _ := op.rows(op.L)
	switch {
	case op.L < 1 || op.Out%op.shifts() != 0:
		return fmt.Errorf("spherical convolution: band limit %d, grid %d for %d output positions", op.L, op.Grid, op.Out)
	case s.P() != op.In:
		return fmt.Errorf("spherical convolution: state of %d positions, operator for %d", s.P(), op.In)
	case len(op.A) != k*op.In || len(op.S) != op.Out*op.numWigner():
		return fmt.Errorf("spherical convolution: matrices of %d and %d values, want %d and %d", len(op.A), len(op.S), k*op.In, op.Out*op.numWigner())
	}
	return nil
}

// Sphere applies a spherical convolution's linear map to K and Theta of
// every pair (without the weight and bias variances: follow it with
// Affine). The input may be a slab (see SphereOp); the output is a slab
// over the Out points of the SO(3) grid: G = 2 Grid - 1 blocks of Out/G
// positions. The pairs are mapped together, by two products with tables
// of the operator where they fit (spherebatch.go).
func (s *State) Sphere(op *SphereOp) error { return s.sphere(op, op.apply) }

// SphereReference is Sphere computed pair by pair with the operator's
// matrices, the order of the original implementation: the reference of
// the tests. It agrees with Sphere to round-off.
func (s *State) SphereReference(op *SphereOp) error { return s.sphere(op, op.reference) }

// sphereMap maps the pairs' stored In×cin matrices in to the Out×cout
// matrices out.
type sphereMap func(in []float64, pairs, cin int, out []float64)

// sphere applies f to K and Theta and sets the output grid.
func (s *State) sphere(op *SphereOp, f sphereMap) error {
	if err := op.check(s); err != nil {
		return err
	}
	cin := s.Cols()
	apply := func(in []float64) []float64 {
		out := s.Scratch(s.Pairs * op.Out * op.cols())
		f(in, s.Pairs, cin, out)
		return out
	}
	out := apply(s.K)
	s.Recycle(s.K)
	s.K = out
	if s.NTK {
		out := apply(s.Theta)
		s.Recycle(s.Theta)
		s.Theta = out
	}
	s.setSphereOutput(op)
	return nil
}

// setSphereOutput sets the output slab's grid and resizes the variances.
func (s *State) setSphereOutput(op *SphereOp) {
	s.G, s.H, s.W, s.Slab = op.shifts(), op.cols(), 1, true
	s.V1 = grow(s.V1, s.Pairs*op.Out)
	s.V2 = grow(s.V2, s.Pairs*op.Out)
}

// cols is the number of stored columns of the output slab.
func (op *SphereOp) cols() int { return op.Out / op.shifts() }

// sphereWork holds the scratch buffers of the pair-by-pair maps.
type sphereWork struct {
	ak, f, sm []float64
}

// newSphereWork returns scratch buffers for inputs of cin stored columns.
func (op *SphereOp) newSphereWork(cin int) *sphereWork {
	k, _ := op.rows(op.L)
	return &sphereWork{ak: make([]float64, k*cin), sm: make([]float64, op.Out*op.numWigner())}
}

// reference maps the pairs one by one: analysePair, then synthesisePair.
func (op *SphereOp) reference(in []float64, pairs, cin int, out []float64) {
	w := op.newSphereWork(cin)
	nt, cout := op.numWigner(), op.cols()
	t := make([]float64, nt)
	for a := 0; a < pairs; a++ {
		op.analysePair(in[a*op.In*cin:(a+1)*op.In*cin], cin, t, w)
		op.synthesisePair(t, out[a*op.Out*cout:(a+1)*op.Out*cout], w)
	}
}

// analysePair computes the T^l of one pair's In×cin matrix kin (cin stored
// columns, the first cin positions) into t: T^l[r, r'] at
// NumWigner(l) + r(2l+1) + r'.
func (op *SphereOp) analysePair(kin []float64, cin int, t []float64, w *sphereWork) {
	n := op.In
	k, _ := op.rows(op.L)
	scale := float64(n / cin)
	gemm.Gemm(false, false, k, cin, n, 1, op.A, n, kin, cin, 0, w.ak, cin, 1)
	for l := 0; l < op.L; l++ {
		off, J := op.rows(l)
		d := 2*l + 1
		m := d * J
		w.f = grow(w.f, m*m)
		gemm.Gemm(false, true, m, m, cin, scale, w.ak[off*cin:], cin, op.A[off*n:], n, 0, w.f, m, 1)
		// T[r, r'] = Σ_j F[(r, j), (r', j)].
		tl := t[wignerOffset(l):]
		for r := 0; r < d; r++ {
			for r2 := 0; r2 < d; r2++ {
				var v float64
				for j := 0; j < J; j++ {
					v += w.f[(r*J+j)*m+r2*J+j]
				}
				tl[r*d+r2] = v
			}
		}
	}
}

// synthesisePair computes one pair's Out×cout output kout = S M S_0ᵀ from
// its T^l (S_0: the first cout rows of S).
func (op *SphereOp) synthesisePair(t, kout []float64, w *sphereWork) {
	nw, cout := op.numWigner(), op.cols()
	for l := 0; l < op.L; l++ {
		d := 2*l + 1
		wo := wignerOffset(l)
		tl := t[wo:]
		// SM[q, (l, r', m)] = Σ_r S[q, (l, r, m)] T[r, r'].
		for q := 0; q < op.Out; q++ {
			src := op.S[q*nw+wo : q*nw+wo+d*d]
			dst := w.sm[q*nw+wo : q*nw+wo+d*d]
			for r2 := 0; r2 < d; r2++ {
				for mm := 0; mm < d; mm++ {
					var v float64
					for r := 0; r < d; r++ {
						v += src[r*d+mm] * tl[r*d+r2]
					}
					dst[r2*d+mm] = v
				}
			}
		}
	}
	gemm.Gemm(false, true, op.Out, cout, nw, 1, w.sm, nw, op.S, nw, 0, kout, cout, 1)
}

// wignerOffset is Σ_{l'<l} (2l'+1)², where degree l's block starts.
func wignerOffset(l int) int { return l * (2*l - 1) * (2*l + 1) / 3 }

// WeightedMean collapses the positions to one: K' = Σ_pq w_p w_q K[p, q]
// (and the same for Theta), the map of a weighted mean over positions
// (nn's so3pool, with the quadrature weights of the SO(3) grid). For a
// slab the weights must be the same in every group block; each stored
// entry then stands for G full entries.
func (s *State) WeightedMean(w []float64) error {
	p, c := s.P(), s.Cols()
	if p != len(w) {
		return fmt.Errorf("weighted mean: state of %d positions, %d weights", p, len(w))
	}
	scale := float64(p / c)
	s.collapse(func(m []float64) float64 {
		var t float64
		for i, wi := range w {
			var r float64
			for j, v := range m[i*c : (i+1)*c] {
				r += w[j] * v
			}
			t += wi * r
		}
		return scale * t
	})
	return nil
}
