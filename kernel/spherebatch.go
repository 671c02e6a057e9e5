package kernel

import (
	"fmt"
	"sync"

	"github.com/eqens/eqens/internal/gemm"
)

// The spherical convolution's map is linear in each pair's matrix, and so
// are its two halves: the T^l (NumWigner(L) numbers) are a linear map of
// the In×cin input matrix, and the Out×cout output is a linear map of the
// T^l. Sphere tabulates both maps once per operator,
//
//	an[(p, t), (l, r, r')] = scale Σ_j A[(l,r,j), p] A[(l,r',j), t],
//	syn[(l, r, r'), (q, t)] = Σ_m S[q, (l,r,m)] S[t, (l,r',m)],
//
// and maps all pairs of a block with two matrix products, T = K an and
// K' = T syn (pairs as rows). Per pair this is no more arithmetic than
// the pair-by-pair route (A K, then the blocks of A K A_0ᵀ, S M and S_0),
// and it runs as two large products instead of 2 + L small ones with
// their packing. internal/gemm sums each entry in the same order whatever
// the number of pairs, so that the bits do not depend on the tiling.
//
// The analysis table pays off when every coefficient row carries J = 2l+1
// entries (so3conv); for s2conv, whose first layer takes its T^l from the
// inputs' coefficients (SphereInput), the pairs are analysed one by one.
// Tables above sphereTableMax values are not built: the pair-by-pair
// route is used instead.

// sphereTableMax is the largest table, in values (32 MiB).
var sphereTableMax = 1 << 22

// sphereTables holds an operator's tables: an by stored input columns
// (nil: not worth it or too large), syn once built (nil: too large).
type sphereTables struct {
	mu      sync.Mutex
	an      map[int][]float64
	syn     []float64
	synDone bool
}

// analysisTable returns the analysis table for inputs of cin stored
// columns, or nil if the pairs are to be analysed one by one.
func (op *SphereOp) analysisTable(cin int) []float64 {
	op.tab.mu.Lock()
	defer op.tab.mu.Unlock()
	if t, ok := op.tab.an[cin]; ok {
		return t
	}
	if op.tab.an == nil {
		op.tab.an = make(map[int][]float64)
	}
	var t []float64
	if op.tableWorth(cin) {
		t = op.buildAnalysis(cin)
	}
	op.tab.an[cin] = t
	return t
}

// tableWorth reports whether the analysis table of cin stored columns is
// within sphereTableMax and needs no more products per pair than the
// pair-by-pair analysis (A K, then the diagonal blocks of A K A_0ᵀ).
func (op *SphereOp) tableWorth(cin int) bool {
	k, _ := op.rows(op.L)
	size := op.In * cin * op.numWigner()
	direct := k * op.In * cin
	for l := 0; l < op.L; l++ {
		_, J := op.rows(l)
		m := (2*l + 1) * J
		direct += m * m * cin
	}
	return size <= sphereTableMax && size <= direct
}

// buildAnalysis returns the table an (In·cin × NumWigner(L)).
func (op *SphereOp) buildAnalysis(cin int) []float64 {
	n, nt := op.In, op.numWigner()
	scale := float64(n / cin)
	t := make([]float64, n*cin*nt)
	for l := 0; l < op.L; l++ {
		off, J := op.rows(l)
		d := 2*l + 1
		wo := wignerOffset(l)
		for r := 0; r < d; r++ {
			for r2 := 0; r2 < d; r2++ {
				for j := 0; j < J; j++ {
					a1 := op.A[(off+r*J+j)*n : (off+r*J+j+1)*n]
					a2 := op.A[(off+r2*J+j)*n : (off+r2*J+j)*n+cin]
					col := wo + r*d + r2
					for p, v := range a1 {
						row := t[p*cin*nt:]
						for c, u := range a2 {
							row[c*nt+col] += scale * v * u
						}
					}
				}
			}
		}
	}
	return t
}

// synthesisTable returns the table syn (NumWigner(L) × Out·cout), or nil
// if it is too large.
func (op *SphereOp) synthesisTable() []float64 {
	op.tab.mu.Lock()
	defer op.tab.mu.Unlock()
	if !op.tab.synDone {
		op.tab.synDone = true
		if op.numWigner()*op.Out*op.cols() <= sphereTableMax {
			op.tab.syn = op.buildSynthesis()
		}
	}
	return op.tab.syn
}

// buildSynthesis returns the table syn.
func (op *SphereOp) buildSynthesis() []float64 {
	nw, cout := op.numWigner(), op.cols()
	no := op.Out * cout
	t := make([]float64, nw*no)
	for l := 0; l < op.L; l++ {
		d := 2*l + 1
		wo := wignerOffset(l)
		for r := 0; r < d; r++ {
			for r2 := 0; r2 < d; r2++ {
				row := t[(wo+r*d+r2)*no : (wo+r*d+r2+1)*no]
				for q := 0; q < op.Out; q++ {
					sq := op.S[q*nw+wo+r*d : q*nw+wo+r*d+d]
					for c := 0; c < cout; c++ {
						sc := op.S[c*nw+wo+r2*d : c*nw+wo+r2*d+d]
						var v float64
						for m, u := range sq {
							v += u * sc[m]
						}
						row[q*cout+c] = v
					}
				}
			}
		}
	}
	return t
}

// apply maps the pairs' matrices with the tables where they exist.
func (op *SphereOp) apply(in []float64, pairs, cin int, out []float64) {
	nt := op.numWigner()
	t := make([]float64, pairs*nt)
	if an := op.analysisTable(cin); an != nil {
		nin := op.In * cin
		gemm.Gemm(false, false, pairs, nt, nin, 1, in, nin, an, nt, 0, t, nt, 1)
	} else {
		w := op.newSphereWork(cin)
		for a := 0; a < pairs; a++ {
			op.analysePair(in[a*op.In*cin:(a+1)*op.In*cin], cin, t[a*nt:(a+1)*nt], w)
		}
	}
	op.synthesise(t, pairs, out)
}

// synthesise maps the pairs' T^l (rows of t) to their Out×cout outputs.
func (op *SphereOp) synthesise(t []float64, pairs int, out []float64) {
	nt, no := op.numWigner(), op.Out*op.cols()
	if syn := op.synthesisTable(); syn != nil {
		gemm.Gemm(false, false, pairs, no, nt, 1, t, nt, syn, no, 0, out, no, 1)
		return
	}
	w := op.newSphereWork(op.cols())
	for a := 0; a < pairs; a++ {
		op.synthesisePair(t[a*nt:(a+1)*nt], out[a*no:(a+1)*no], w)
	}
}

// SphereInput sets the state of its Pairs pairs to the map of a spherical
// convolution with one coefficient per row (s2conv, not SO3) applied to
// the input covariances of C-channel inputs,
// K[p, p'] = (1/C) Σ_c x_c(p) x'_c(p'), given the inputs' coefficients
// X = A xᵀ: then T^l[r, r'] = (1/C) Σ_c X[(l,r), c] X'[(l,r'), c], and the
// covariances over the input grid are never formed. c1 holds the
// coefficients of n1 inputs, c2 those of n2 (k = L² coefficients of each
// channel: c1[(i C + c) k + (l² + r)]); the pairs are (i, j) row-major, or
// (i, i) with diag (c2 unused). Theta is set to zero: follow with Affine.
func (s *State) SphereInput(op *SphereOp, c1 []float64, n1 int, c2 []float64, n2, chans int, diag bool) error {
	k, _ := op.rows(op.L)
	pairs := n1 * n2
	if diag {
		pairs, c2, n2 = n1, c1, n1
	}
	switch {
	case op.SO3 || op.L < 1 || op.Out%op.shifts() != 0:
		return fmt.Errorf("spherical input map: needs an s2conv operator")
	case s.Pairs != pairs || chans < 1 || len(c1) < n1*chans*k || len(c2) < n2*chans*k:
		return fmt.Errorf("spherical input map: %d pairs, coefficients %d and %d for %d×%d inputs of %d channels", s.Pairs, len(c1), len(c2), n1, n2, chans)
	}
	nt := op.numWigner()
	t := make([]float64, pairs*nt)
	for a := 0; a < pairs; a++ {
		i, j := a, a
		if !diag {
			i, j = a/n2, a%n2
		}
		op.inputT(c1[i*chans*k:(i+1)*chans*k], c2[j*chans*k:(j+1)*chans*k], chans, t[a*nt:(a+1)*nt])
	}
	no := op.Out * op.cols()
	s.K = grow(s.K, pairs*no)
	op.synthesise(t, pairs, s.K)
	if s.NTK {
		s.Theta = grow(s.Theta, pairs*no)
		clear(s.Theta)
	}
	s.setSphereOutput(op)
	return nil
}

// inputT sets t to the T^l of one pair of inputs from their coefficients
// x and y (chans rows of k).
func (op *SphereOp) inputT(x, y []float64, chans int, t []float64) {
	k, _ := op.rows(op.L)
	clear(t)
	for c := 0; c < chans; c++ {
		xc, yc := x[c*k:(c+1)*k], y[c*k:(c+1)*k]
		for l := 0; l < op.L; l++ {
			d, off, wo := 2*l+1, l*l, wignerOffset(l)
			for r := 0; r < d; r++ {
				row := t[wo+r*d : wo+(r+1)*d]
				xr := xc[off+r]
				for r2, v := range yc[off : off+d] {
					row[r2] += xr * v
				}
			}
		}
	}
	inv := 1 / float64(chans)
	for i := range t {
		t[i] *= inv
	}
}
