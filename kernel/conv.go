package kernel

import (
	"fmt"

	"github.com/eqens/eqens/internal/vec"
)

// Padding is the boundary handling of a convolution.
type Padding int

const (
	// Same pads with zeros so that the output has the input's size.
	Same Padding = iota
	// Valid uses only positions where the filter fits: the output shrinks
	// by k-1 in each spatial direction.
	Valid
	// Circular wraps around the edges (periodic images, lattices).
	Circular
)

func (p Padding) String() string {
	switch p {
	case Valid:
		return "valid"
	case Circular:
		return "circular"
	}
	return "same"
}

// ParsePadding parses "same", "valid" or "circular".
func ParsePadding(s string) (Padding, error) {
	switch s {
	case "same", "":
		return Same, nil
	case "valid":
		return Valid, nil
	case "circular", "periodic", "wrap":
		return Circular, nil
	}
	return 0, fmt.Errorf("unknown padding %q (want same, valid or circular)", s)
}

// Tap is one term of an expanded (rotated, interpolated) filter: the input
// at spatial offset (DI, DJ) from the output position and group index S
// enters with weight W times the base filter value.
type Tap struct {
	DI, DJ, S int32
	W         float64
}

// ConvOp describes a convolution, lifting or group convolution as a linear
// map from a base filter to the filter actually applied at each output
// group element: output group element r applies, for base index b, the taps
// Taps[r][b]. A plain convolution has one group element and one tap per
// base index; a C4 group convolution has exact rotated taps; C_n for n > 4
// has bilinear interpolation taps.
//
// The pre-activation at output (r, t), channel c, is
//
//	z = w/sqrt(fan_in) Σ_b Σ_cin κ_c[b, cin] Σ_{tap ∈ Taps[r][b]} tap.W x[tap.S, t + tap.D + origin, cin]
//
// with fan_in = Base * C_in, so that its kernel map is
//
//	K'[(r,t),(r',t')] = (1/Base) Σ_b Σ_{e1 ∈ Taps[r][b], e2 ∈ Taps[r'][b]} e1.W e2.W K[(e1.S, t+e1.D), (e2.S, t'+e2.D)].
type ConvOp struct {
	K                    int // odd filter size
	Pad                  Padding
	InG, OutG            int
	InH, InW, OutH, OutW int
	Base                 int
	Taps                 [][][]Tap // [OutG][Base]
	// Reduced, when set, is an equivalent operator with fewer terms that
	// Conv uses instead: for an exact group convolution with full group
	// support, the kernel state is invariant under right translation of both
	// group indices, so every support element contributes the same term and
	// the identity term alone (with the same normalisation) suffices.
	Reduced *ConvOp
	// Slab makes the output a slab (State.Slab): set for exact lifting and
	// group convolutions.
	Slab bool
	// Rel[a][b] is the index of a·b^-1, used to read a slab input.
	Rel [][]int32
	// Cols, when set, holds the column side's taps (of output group
	// element r2 = 0, the only one) in place of Taps[0]: BlockOp's
	// operators rotate the filter on the row side only.
	Cols [][]Tap
}

// colTaps returns the taps of column block r2.
func (op *ConvOp) colTaps(r2 int) [][]Tap {
	if op.Cols != nil {
		return op.Cols
	}
	return op.Taps[r2]
}

// effective returns the operator Conv applies: Reduced (with op's slab
// form) when set, else op.
func (op *ConvOp) effective() *ConvOp {
	if op.Reduced == nil {
		return op
	}
	red := *op.Reduced
	red.Slab, red.Rel = op.Slab, op.Rel
	return &red
}

// BlockOp returns, for a slab operator (an exact lifting or group
// convolution), the operator that computes output block r — the pairs of
// positions ((r, t), (e, t')) — from one block of the input: the whole
// input plane of a lifting, block in of a slab input. Chains of such
// layers can then run one block at a time (nn's kernel engine does, to
// keep a block's planes in the cache). ok is false when block r reads
// several input blocks or op is not a slab operator.
func (op *ConvOp) BlockOp(r int) (b *ConvOp, in int, ok bool) {
	op = op.effective()
	if !op.Slab || r < 0 || r >= op.OutG {
		return nil, 0, false
	}
	slabIn := op.Rel != nil && op.InG > 1
	if !slabIn && op.InG != 1 {
		return nil, 0, false
	}
	b = &ConvOp{K: op.K, Pad: op.Pad, InG: 1, OutG: 1, InH: op.InH, InW: op.InW, OutH: op.OutH, OutW: op.OutW, Base: op.Base}
	b.Taps = [][][]Tap{make([][]Tap, op.Base)}
	b.Cols = make([][]Tap, op.Base)
	first := true
	for k := range op.Base {
		for _, e1 := range op.Taps[r][k] {
			for _, e2 := range op.Taps[0][k] {
				x := 0
				if slabIn {
					x = int(op.Rel[e1.S][e2.S])
				}
				if first {
					in, first = x, false
				} else if x != in {
					return nil, 0, false
				}
			}
		}
		b.Taps[0][k] = stripGroup(op.Taps[r][k])
		b.Cols[k] = stripGroup(op.Taps[0][k])
	}
	return b, in, true
}

// stripGroup returns the taps with group index 0.
func stripGroup(taps []Tap) []Tap {
	out := make([]Tap, len(taps))
	for i, t := range taps {
		t.S = 0
		out[i] = t
	}
	return out
}

// Origin is the offset added to every tap: 0 for same and circular
// padding, (K-1)/2 for valid padding (output position t sits at the
// filter's corner).
func (op *ConvOp) Origin() int {
	if op.Pad == Valid {
		return (op.K - 1) / 2
	}
	return 0
}

// inIndex maps an output coordinate plus offset to an input coordinate, or
// -1 if it falls into zero padding.
func inIndex(t, d, n int, pad Padding) int {
	i := t + d
	if i >= 0 && i < n {
		return i
	}
	if pad == Circular {
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1
}

// Conv applies the kernel map of op (without the weight and bias variances:
// call Affine afterwards, or use ConvAffine) to K and Theta.
func (s *State) Conv(op *ConvOp) error { return s.conv(op, nil) }

// ConvAffine is Conv followed by Affine(wStd, bStd), fused: every output
// row gets the affine map while it is in cache. It gives the same bits as
// the two calls for operators without the separable form; separable ones
// scale and add in one fused multiply-add per entry (vec.Sum3Affine), two
// roundings fewer than the two calls, and agree with them to round-off.
func (s *State) ConvAffine(op *ConvOp, wStd, bStd float64) error {
	return s.conv(op, &affine{w2: wStd * wStd, b2: bStd * bStd})
}

// ConvAffineReLU is ConvAffine followed by ReLU, fused: each output row
// gets the rectifier's map while it is in cache, which saves a pass over
// the planes. V1 and V2 must already hold the variances at the operator's
// output positions (Pairs × output positions each), as ReLU would read
// them. It gives the same bits as ConvAffine followed by ReLU.
func (s *State) ConvAffineReLU(op *ConvOp, wStd, bStd float64) error {
	return s.conv(op, &affine{w2: wStd * wStd, b2: bStd * bStd, relu: true})
}

// affine holds the variances of Affine for a fused operator, whether the
// rectifier's map follows, and whether a 2×2 average pooling
// (ConvAffineReLUPool) or the global one (ConvAffineReLUMean) follows
// that.
type affine struct {
	w2, b2 float64
	relu   bool
	pool2  bool
	mean   bool
}

// ConvAffineReLUPool is ConvAffineReLU followed by AvgPool(2), fused: the
// output rows of each 2×2 cell of positions are summed as they are
// computed and pooled at once, so that the operator's output planes are
// never stored (they are 16 times larger than the pooled ones). It gives
// the same bits as ConvAffineReLU and AvgPool(2). It takes operators with the separable
// form, one output group element and an even output grid (CanPoolFused).
func (s *State) ConvAffineReLUPool(op *ConvOp, wStd, bStd float64) error {
	if !op.CanPoolFused() {
		return fmt.Errorf("kernel: fused 2×2 pooling needs a separable convolution of one output group element on an even grid")
	}
	return s.conv(op, &affine{w2: wStd * wStd, b2: bStd * bStd, relu: true, pool2: true})
}

// ConvAffineReLUMean is ConvAffineReLU followed by SpatialMean (global
// average pooling), fused: each output row is summed as it is computed
// and the pair's mean taken from the row sums, so that the operator's
// output planes are never stored. It gives the same bits as
// ConvAffineReLU and SpatialMean.
// It takes operators with the separable form and one output group element
// (CanMeanFused).
func (s *State) ConvAffineReLUMean(op *ConvOp, wStd, bStd float64) error {
	if !op.CanMeanFused() {
		return fmt.Errorf("kernel: fused global pooling needs a separable convolution of one output group element")
	}
	return s.conv(op, &affine{w2: wStd * wStd, b2: bStd * bStd, relu: true, mean: true})
}

// CanMeanFused reports whether ConvAffineReLUMean takes op.
func (op *ConvOp) CanMeanFused() bool {
	e := op.effective()
	return e.OutG == 1 && !e.Slab && e.InG == 1 && separableForm(e, false) != nil
}

// CanPoolFused reports whether ConvAffineReLUPool takes op.
func (op *ConvOp) CanPoolFused() bool {
	e := op.effective()
	if e.OutG != 1 || e.Slab || e.InG != 1 || e.OutH%2 != 0 || e.OutW%2 != 0 {
		return false
	}
	pl := separableForm(e, false)
	return pl != nil && !pl.traversal(0, e.OutH, e.OutW).vertical // lines along image rows: sepPool's order
}

// convDims are the sizes convApply works with: positions and row lengths
// of the input and output planes.
type convDims struct{ pin, cin, pout, cout int }

// ConvAffineTo is ConvAffine, or with relu ConvAffineReLU, writing the
// output planes into kout and tout (tout unused without Theta) instead of
// buffers of the state's own: the state then holds kout and tout, and its
// former planes are left alone, neither recycled nor written. kout and
// tout must have room for the output and must not overlap the input,
// except that they may be the state's own planes K and Theta where
// InPlace(op) holds: the map then overwrites them. Drivers that manage
// the planes themselves use it (nn's block chains).
func (s *State) ConvAffineTo(op *ConvOp, wStd, bStd float64, relu bool, kout, tout []float64) error {
	return s.convTo(op, &affine{w2: wStd * wStd, b2: bStd * bStd, relu: relu}, kout, tout)
}

// InPlace reports whether the convolution op, with its affine map and
// with or without a following rectifier, can overwrite the state's
// planes (canInPlace): ConvAffine and ConvAffineReLU then do, and
// ConvAffineTo may be given K and Theta as its outputs.
func (s *State) InPlace(op *ConvOp) bool {
	e := op.effective()
	if len(s.OuterA) > 0 || s.ThetaZero || s.G != e.InG || s.H != e.InH || s.W != e.InW {
		return false
	}
	dim := s.convDims(e)
	return s.plan(op, e, dim.cin != dim.pin) != nil && s.canInPlace(e, &affine{}, dim)
}

// convDims returns the sizes the effective operator op works with on the
// state: its input positions and row length, its output positions and
// row length (one block's for a slab output).
func (s *State) convDims(op *ConvOp) convDims {
	dim := convDims{pin: s.P(), cin: s.Cols(), pout: op.OutG * op.OutH * op.OutW}
	dim.cout = dim.pout
	if op.Slab {
		dim.cout = op.OutH * op.OutW
	}
	return dim
}

func (s *State) conv(op *ConvOp, aff *affine) error { return s.convTo(op, aff, nil, nil) }

// convTo applies op into kout and tout, or into scratch buffers (the
// input planes recycled) when kout is nil.
func (s *State) convTo(op *ConvOp, aff *affine, kout, tout []float64) error {
	orig := op
	op = op.effective()
	if s.G != op.InG || s.H != op.InH || s.W != op.InW {
		return fmt.Errorf("kernel: convolution expects a %dx%dx%d position grid, state has %dx%dx%d", op.InG, op.InH, op.InW, s.G, s.H, s.W)
	}
	if s.Slab && op.Rel == nil {
		return fmt.Errorf("kernel: convolution of slab group features needs the group's composition (ConvOp.Rel)")
	}
	dim := s.convDims(op)
	if aff != nil && aff.relu && (len(s.V1) < s.Pairs*dim.pout || len(s.V2) < s.Pairs*dim.pout) {
		return fmt.Errorf("kernel: fused rectifier needs the variances of %d output positions per pair, state has %d", dim.pout, len(s.V1)/max(1, s.Pairs))
	}
	apply := s.convApply
	pl := s.plan(orig, op, dim.cin != dim.pin)
	if pl != nil {
		apply = func(op *ConvOp, kin, kout, tin, tout []float64, dim convDims, aff *affine) {
			s.convSeparable(pl, op, kin, kout, tin, tout, dim, aff)
		}
	}
	if s.ThetaZero && s.NTK {
		if pl == nil {
			clear(s.Theta)
		} else {
			s.zeroTheta = true
			defer func() { s.zeroTheta = false }()
		}
	}
	s.ThetaZero = false
	if len(s.OuterA) > 0 {
		if pl == nil || dim.cin != dim.pin {
			s.writeOuter()
		} else {
			s.outer = true
			defer func() { s.outer, s.OuterA, s.OuterB = false, s.OuterA[:0], s.OuterB[:0] }()
		}
	}
	n := s.Pairs * dim.pout * dim.cout
	switch {
	case aff != nil && aff.pool2:
		n /= 16
	case aff != nil && aff.mean:
		n = s.Pairs
	}
	own := kout == nil
	alias := !own && len(kout) > 0 && len(s.K) > 0 && &kout[0] == &s.K[0]
	inPlace := (own || alias) && pl != nil && s.canInPlace(op, aff, dim)
	switch {
	case alias && !inPlace:
		return fmt.Errorf("kernel: convolution output is its input, and the map cannot run in place")
	case alias && s.NTK && (len(tout) == 0 || len(s.Theta) == 0 || &tout[0] != &s.Theta[0]):
		return fmt.Errorf("kernel: convolution output of K is its input, but that of Theta is not")
	case inPlace:
		kout, tout = s.K, s.Theta
	case own:
		kout = s.Scratch(n)
		if s.NTK {
			tout = s.Scratch(n)
		}
	case len(kout) < n || (s.NTK && len(tout) < n):
		return fmt.Errorf("kernel: convolution output needs %d values per plane, got %d and %d", n, len(kout), len(tout))
	}
	kin, tin := s.K, s.Theta
	s.K = kout[:n]
	if s.NTK {
		s.Theta = tout[:n]
		apply(op, kin, s.K, tin, s.Theta, dim, aff)
	} else {
		apply(op, kin, s.K, nil, nil, dim, aff)
	}
	if own && !inPlace {
		if s.NTK {
			s.Recycle(tin)
		}
		s.Recycle(kin)
	}
	s.G, s.H, s.W, s.Slab = op.OutG, op.OutH, op.OutW, op.Slab
	switch {
	case aff != nil && aff.pool2:
		s.H, s.W = op.OutH/2, op.OutW/2
		dim.pout /= 4
	case aff != nil && aff.mean:
		s.H, s.W = 1, 1
		dim.pout = 1
	}
	s.V1 = grow(s.V1, s.Pairs*dim.pout)
	s.V2 = grow(s.V2, s.Pairs*dim.pout)
	return nil
}

// canInPlace reports whether the separable map of op (with the affine map
// aff, no fused pooling) may overwrite its input planes: plain images of
// one group element whose output planes have the input's layout, input
// planes that are stored (neither generated nor a zero Theta), and
// KeepInput unset. Each output row then overwrites an input row that no
// later first pass reads, except at a strip's last index, which
// convSeparable saves for the next strip (sepRun.saveEdge): the working
// set of a pair is two planes instead of four, and the output rows are
// written over rows just read instead of fetched for writing — the same
// operations, the same bits.
func (s *State) canInPlace(op *ConvOp, aff *affine, dim convDims) bool {
	n := s.Pairs * dim.pin * dim.cin
	return !s.KeepInput && aff != nil && !aff.pool2 && !aff.mean && !s.outer && !s.zeroTheta &&
		op.InG == 1 && op.OutG == 1 && !op.Slab && !s.Slab && op.InH == op.OutH && op.InW == op.OutW &&
		dim.pin == dim.pout && dim.cin == dim.cout && dim.cin == dim.pin &&
		len(s.K) >= n && (!s.NTK || len(s.Theta) >= n)
}

// convApply computes the output blocks (r, r2) — r2 only the identity for a
// slab output — from the input blocks, which for a slab input are read as
// block (e1.S · e2.S^-1, identity), for K (kin to kout) and, unless tin is
// nil, Theta (tin to tout); with aff set it applies the affine map too.
//
// It works one output row (r, t) at a time and applies every term
// (b, e1, e2) to it while the row is in cache; the input rows a term reads
// are few (one per e1 offset) and shared by neighbouring rows. Every output
// entry receives its terms in the order (b, e1, e2), as in the plain
// term-by-term sweep the tests keep as the reference, so both give the same
// bits.
func (s *State) convApply(op *ConvOp, kin, kout, tin, tout []float64, dim convDims, aff *affine) {
	hwOut := op.OutH * op.OutW
	inPair, outPair := dim.pin*dim.cin, dim.pout*dim.cout
	for a := 0; a < s.Pairs; a++ {
		if aff != nil && aff.relu {
			s.reluRoots(a, dim.pout, dim.cout)
		}
		for r := 0; r < op.OutG; r++ {
			for t := 0; t < hwOut; t++ {
				at := a*outPair + (r*hwOut+t)*dim.cout
				krow := kout[at : at+dim.cout]
				convRow(op, kin[a*inPair:(a+1)*inPair], krow, r, t, dim)
				var trow []float64
				if tin != nil {
					trow = tout[at : at+dim.cout]
					convRow(op, tin[a*inPair:(a+1)*inPair], trow, r, t, dim)
				}
				if aff == nil {
					continue
				}
				affineRow(krow, trow, aff.w2, aff.w2, aff.b2)
				if aff.relu {
					vec.ReLUArcCosRowR(krow, trow, s.V1[a*dim.pout+r*hwOut+t], s.invV1[r*hwOut+t], s.V2[a*dim.pout:a*dim.pout+dim.cout], s.invV2, inv2pi)
				}
			}
		}
	}
}

// convRow computes output row (r, t) of one pair's plane: every column
// block r2 (one for a slab output) from the input plane in.
func convRow(op *ConvOp, in, row []float64, r, t int, dim convDims) {
	clear(row)
	hwIn, hwOut := op.InH*op.InW, op.OutH*op.OutW
	org := op.Origin()
	norm := 1 / float64(op.Base)
	inSlab := dim.cin != dim.pin
	ti, tj := t/op.OutW, t%op.OutW
	for r2 := 0; r2 < len(row)/hwOut; r2++ {
		dst := row[r2*hwOut : (r2+1)*hwOut]
		for b := 0; b < op.Base; b++ {
			for _, e1 := range op.Taps[r][b] {
				ii := inIndex(ti, int(e1.DI)+org, op.InH, op.Pad)
				ij := inIndex(tj, int(e1.DJ)+org, op.InW, op.Pad)
				if ii < 0 || ij < 0 {
					continue
				}
				for _, e2 := range op.colTaps(r2)[b] {
					rb, cb := int(e1.S), int(e2.S)
					if inSlab {
						rb, cb = int(op.Rel[rb][cb]), 0
					}
					src := in[(rb*hwIn+ii*op.InW+ij)*dim.cin+cb*hwIn:]
					rowShiftAdd(op, dst, src, e2, norm*e1.W*e2.W, org)
				}
			}
		}
	}
}

// rowShiftAdd adds w * src[t'+d] to dst[t'] for all output positions t' of
// one output row, d the offset of tap e (plus the origin); src is the
// input row, indexed by input positions.
func rowShiftAdd(op *ConvOp, dst, src []float64, e Tap, w float64, org int) {
	inW, outW := op.InW, op.OutW
	di, dj := int(e.DI)+org, int(e.DJ)+org
	if op.Pad == Circular {
		for ti2 := 0; ti2 < op.OutH; ti2++ {
			srow := src[inIndex(ti2, di, op.InH, Circular)*inW:]
			drow := dst[ti2*outW : (ti2+1)*outW]
			for tj2 := range drow {
				drow[tj2] += float64(w * srow[inIndex(tj2, dj, inW, Circular)])
			}
		}
		return
	}
	lo2, hi2 := max(0, -di), min(op.OutH, op.InH-di)
	if lo2 >= hi2 {
		return
	}
	if dj == 0 && inW == outW {
		// Whole rows: one contiguous run.
		vec.AxpyF64(dst[lo2*outW:hi2*outW], src[(lo2+di)*inW:(hi2+di)*inW], w)
		return
	}
	lo, hi := max(0, -dj), min(outW, inW-dj)
	if lo >= hi {
		return
	}
	vec.AxpyRowsF64(dst[lo2*outW+lo:], src[(lo2+di)*inW+lo+dj:], w, hi2-lo2, hi-lo, outW, inW)
}
