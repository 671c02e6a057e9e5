package kernel

import (
	"fmt"

	"github.com/eqens/eqens/internal/gemm"
	"github.com/eqens/eqens/internal/vec"
)

// A network's first convolution, from the inputs.
//
// The state entering a first convolution or lifting is the inputs'
// covariance K[p, q] = (1/C) Σ_c x_c(p) x'_c(q), and the operator's map sums
// it over pairs of taps. Both together are one product of the inputs'
// patches:
//
//	K'[(r,t),(r2,t')] = 1/(Base·C) Σ_{b,c} X_r[t,(b,c)] X'_{r2}[t',(b,c)],
//	X_r[t,(b,c)] = Σ_{e ∈ Taps[r][b]} e.W x_c(t + e.D + origin),
//
// F = Base·C terms per entry instead of the covariance plane and its k²
// shifted sums, and the rows of the product take the affine map and a
// following rectifier while they are in cache: the input plane is never
// stored, and the output planes are written once. With Theta = 0 before
// the first layer, its NTK is Theta' = K'.

// Patches are one input's patch matrices for a first convolution
// (ConvOp.Patches), each (OutH·OutW) × F, row-major.
type Patches struct {
	// F is the number of terms per entry, Base·C.
	F int
	// Rows[r] are the patches as the taps of output group element r see
	// them (the row side of the kernel); Cols[r2] those of the column
	// blocks' taps (one block for a slab output).
	Rows, Cols [][]float64
}

// inputRows is the number of output rows InputConv computes at a time: two
// such blocks of K and Theta (28×28 images: 64 × 784 values, 400 kB each)
// stay in the L2 cache through the affine and rectifier maps.
const inputRows = 64

// InputOp reports whether op reads one input group element only (a
// convolution or lifting of images), so that InputConv can apply it.
func (op *ConvOp) InputOp() bool { return op.effective().InG == 1 }

// Separable reports whether op has the separable form (exact 3×3
// same-padded operators), whose fused vector kernels run the map from the
// input covariances faster than InputConv's product and separate
// rectifier pass; other operators — larger or valid filters, interpolated
// liftings — sum k² (or more) terms per entry there, F = Base·C here.
func (op *ConvOp) Separable() bool {
	op = op.effective()
	return separableForm(op, false) != nil
}

// Patches returns the patch matrices of one input x of c channels on op's
// input grid (c × InH × InW, channel-major).
func (op *ConvOp) Patches(x []float64, c int) (*Patches, error) {
	op = op.effective()
	if op.InG != 1 {
		return nil, fmt.Errorf("kernel: patches of a convolution of group features (input group size %d)", op.InG)
	}
	if len(x) != c*op.InH*op.InW {
		return nil, fmt.Errorf("kernel: patches of an input of %d values, want %d×%d×%d", len(x), c, op.InH, op.InW)
	}
	p := &Patches{F: op.Base * c}
	p.Rows = make([][]float64, op.OutG)
	for r := range p.Rows {
		p.Rows[r] = op.patchMatrix(op.Taps[r], x, c)
	}
	blocks := op.OutG
	if op.Slab {
		blocks = 1
	}
	p.Cols = make([][]float64, blocks)
	for r2 := range p.Cols {
		if op.Cols == nil {
			p.Cols[r2] = p.Rows[r2]
		} else {
			p.Cols[r2] = op.patchMatrix(op.colTaps(r2), x, c)
		}
	}
	return p, nil
}

// patchMatrix returns X[t,(b,c)] = Σ_{e ∈ taps[b]} e.W x_c(t + e.D + origin),
// zero padding outside the grid.
func (op *ConvOp) patchMatrix(taps [][]Tap, x []float64, c int) []float64 {
	hwIn, hwOut := op.InH*op.InW, op.OutH*op.OutW
	f := op.Base * c
	org := op.Origin()
	m := make([]float64, hwOut*f)
	for t := range hwOut {
		ti, tj := t/op.OutW, t%op.OutW
		row := m[t*f : (t+1)*f]
		for b, tb := range taps {
			for _, e := range tb {
				ii := inIndex(ti, int(e.DI)+org, op.InH, op.Pad)
				ij := inIndex(tj, int(e.DJ)+org, op.InW, op.Pad)
				if ii < 0 || ij < 0 {
					continue
				}
				for ch := range c {
					row[b*c+ch] += e.W * x[ch*hwIn+ii*op.InW+ij]
				}
			}
		}
	}
	return m
}

// InputConv sets the state to that after a first convolution or lifting op
// with weight and bias standard deviations wStd and bStd, for the pairs
// (p1[i], p2[j]) in row-major order, or (p1[i], p1[i]) when diag is set;
// with relu, the rectifier's map follows, for which V1 and V2 must already
// hold the variances at op's output positions; the result has the bits of
// InputConv without relu followed by ReLU. Each entry is a sum of the
// same F products in the same order whatever the pairs are, so that a block
// of a kernel has the bits of the whole kernel's.
func (s *State) InputConv(op *ConvOp, p1, p2 []*Patches, diag bool, wStd, bStd float64, relu bool) error {
	op = op.effective()
	if op.InG != 1 {
		return fmt.Errorf("kernel: input convolution of group features (input group size %d)", op.InG)
	}
	pairs := len(p1) * len(p2)
	if diag {
		pairs, p2 = len(p1), p1
	}
	hw := op.OutH * op.OutW
	pout, cout := op.OutG*hw, op.OutG*hw
	if op.Slab {
		cout = hw
	}
	if relu && (len(s.V1) < pairs*pout || len(s.V2) < pairs*pout) {
		return fmt.Errorf("kernel: fused rectifier needs the variances of %d output positions per pair, state has %d", pout, len(s.V1)/max(1, pairs))
	}
	s.Pairs = pairs
	n := pairs * pout * cout
	s.K = grow(s.K, n)
	if s.NTK {
		s.Theta = grow(s.Theta, n)
	}
	w2, b2 := wStd*wStd, bStd*bStd
	// One position per pair (a 1×1 output): ReLU's map for such states,
	// afterwards, so that the fused map always gives ReLU's bits.
	rowReLU := relu && pout > 1
	for a := range pairs {
		x1, x2 := p1[a/len(p2)], p2[a%len(p2)]
		if diag {
			x1, x2 = p1[a], p1[a]
		}
		if len(x1.Rows) != op.OutG || len(x2.Cols) != cout/hw || x1.F != x2.F || x1.F%op.Base != 0 {
			return fmt.Errorf("kernel: input convolution: patches of another operator")
		}
		if rowReLU {
			s.reluRoots(a, pout, cout)
		}
		alpha := 1 / float64(x1.F)
		f := x1.F
		for r := range op.OutG {
			for t0 := 0; t0 < hw; t0 += inputRows {
				t1 := min(hw, t0+inputRows)
				at := a*pout*cout + (r*hw+t0)*cout
				for r2, xc := range x2.Cols {
					gemm.Gemm(false, true, t1-t0, hw, f, alpha, x1.Rows[r][t0*f:t1*f], f, xc, f, 0, s.K[at+r2*hw:], cout, 1)
				}
				for t := t0; t < t1; t++ {
					at := at + (t-t0)*cout
					krow := s.K[at : at+cout]
					affineRow(krow, nil, w2, w2, b2)
					var trow []float64
					if s.NTK {
						trow = s.Theta[at : at+cout]
						copy(trow, krow)
					}
					if rowReLU {
						q := r*hw + t
						vec.ReLUArcCosRowR(krow, trow, s.V1[a*pout+q], s.invV1[q], s.V2[a*pout:a*pout+cout], s.invV2, inv2pi)
					}
				}
			}
		}
	}
	s.G, s.H, s.W, s.Slab = op.OutG, op.OutH, op.OutW, op.Slab
	s.V1 = grow(s.V1, pairs*pout)
	s.V2 = grow(s.V2, pairs*pout)
	if relu && !rowReLU {
		s.ReLU()
	}
	return nil
}
