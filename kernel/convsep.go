package kernel

import (
	"math"

	"github.com/eqens/eqens/internal/vec"
)

// The kernel map of an exact 3×3 same-padded operator is separable. For
// output group element r its terms are K[(rb, t + A d), (cb, t' + d)] for
// the nine offsets d = (u, v) of the filter, where A is the rotation or
// reflection that the filter undergoes (a signed permutation of the two
// axes; the identity for a plain convolution) and (rb, cb) the input block
// the element reads. Since A d = u·A(1,0) + v·A(0,1) moves each axis of t
// by one of u and v only, a term falls into the zero padding exactly when
// its u part or its v part does, and the sum splits into two sums of three:
//
//	L(q, t')  = Σ_v K[(rb, q + v·A(0,1)), (cb, t' + (0, v))]
//	K'(t, t') = 1/9 Σ_u L(t + u·A(1,0), t' + (u, 0)).
//
// Each pass reads three rows and writes one (vec.Sum3MaskRow: shifts by
// one position with the row ends masked; vec.Sum3Affine: shifts by one
// image row, fused with the normalisation and the affine map), 6 terms per
// entry instead of 9, each output row stored once instead of once per term.
// L is kept for three lines of first-side positions at a time
// (sepTraversal), which is all the second pass needs. With the affine map
// (ConvAffine, ConvAffineReLU) one vector kernel computes a row of L, and
// the second pass (and the rectifier's map) of an output row that reads
// it, for K and Theta at once (vec.Sum3MaskAffine, vec.Sum3MaskAffineReLU),
// with the bits of the separate passes.
// The terms are summed in another order than the term-by-term reference
// (kernel/conv_test.go), so the two agree to round-off, not in bits.

// sepPlan is the separable form of an operator (separablePlan).
type sepPlan struct {
	rb, cb []int    // input row and column blocks per output group element
	au, av [][2]int // A(1,0) and A(0,1) per output group element
	ma, mc []uint64 // all ones at output columns j' >= 1 and j' <= W-2
	m8     []byte   // ma and mc as bits (vec.FirstPassBits)
	// steps[r] locates the rows of output group element r's positions
	// for planes of dims stepDim, visited in strips of stepStrip
	// positions (stepsFor).
	steps     [][]sepStep
	stepDim   convDims
	stepStrip int
}

// separablePlan returns the separable form of op, or nil if op is not an
// exact 3×3 same-padded operator with one output column block.
func separablePlan(op *ConvOp, inSlab bool) *sepPlan {
	pl := separableForm(op, inSlab)
	if pl == nil {
		return nil
	}
	w, hw := op.OutW, op.OutH*op.OutW
	pl.ma, pl.mc = make([]uint64, hw), make([]uint64, hw)
	for p := range hw {
		if p%w >= 1 {
			pl.ma[p] = math.MaxUint64
		}
		if p%w <= w-2 {
			pl.mc[p] = math.MaxUint64
		}
	}
	pl.m8 = vec.FirstPassBits(pl.ma, pl.mc)
	return pl
}

// separableForm is separablePlan without the masks, which the checks
// whether an operator has the form (CanMeanFused, CanPoolFused,
// Separable: asked once per block of pairs) do not need.
func separableForm(op *ConvOp, inSlab bool) *sepPlan {
	if op.K != 3 || op.Pad != Same || op.Base != 9 || op.InH != op.OutH || op.InW != op.OutW ||
		op.OutW < 2 || (!op.Slab && op.OutG != 1) {
		return nil
	}
	id := op.colTaps(0) // the column side's taps (output block r2 = identity)
	var seen [9]bool
	for b := range 9 {
		if len(id[b]) != 1 || id[b][0].W != 1 || abs32(id[b][0].DI) > 1 || abs32(id[b][0].DJ) > 1 {
			return nil
		}
		g := (id[b][0].DI+1)*3 + id[b][0].DJ + 1
		if seen[g] {
			return nil
		}
		seen[g] = true
	}
	pl := &sepPlan{}
	for r := range op.OutG {
		rb, cb, au, av, ok := separableElement(op, op.Taps[r], id, inSlab)
		if !ok {
			return nil
		}
		pl.rb, pl.cb = append(pl.rb, rb), append(pl.cb, cb)
		pl.au, pl.av = append(pl.au, au), append(pl.av, av)
	}
	return pl
}

// planKey names a separable plan in State.plans: the operator as the
// caller passed it (before ConvOp.effective, which copies a reduced
// operator on every call) and whether its input is a slab.
type planKey struct {
	op     *ConvOp
	inSlab bool
}

// plan returns separablePlan(op, inSlab) for the operator orig (op being
// orig.effective()), computed once per state: the kernel engine applies
// the same operators to every block of pairs, and the plan allocates its
// masks.
func (s *State) plan(orig, op *ConvOp, inSlab bool) *sepPlan {
	k := planKey{orig, inSlab}
	if pl, ok := s.plans[k]; ok {
		return pl
	}
	if s.plans == nil {
		s.plans = make(map[planKey]*sepPlan)
	}
	pl := separablePlan(op, inSlab)
	s.plans[k] = pl
	return pl
}

// ConvDiag returns, for a block of pairs (x, x) whose variances V1 hold
// the diagonal of K (State.SelfVariances), the diagonal of
// ConvAffine(op, wStd, bStd)'s output — what SelfVariances would read
// after it, Pairs·P values with P the output positions — without
// applying the map: on the diagonal the separable map's two passes read
// only the diagonal, and ConvDiag applies the same two passes to it
// (vec.Sum3MaskRow, vec.Sum3Affine), so the values have the map's bits.
// The variances of a following rectifier are then known before the
// layer, which can run fused with it (ConvAffineReLU). ok is false for
// operators without the separable form or whose identity output element
// does not read the input's identity block with unrotated filters.
func (s *State) ConvDiag(op *ConvOp, wStd, bStd float64) (diag []float64, ok bool) {
	orig := op
	op = op.effective()
	pin := s.P()
	pl := s.diagPlan(orig, op, s.G, s.H, s.W, s.Slab)
	if pl == nil || len(s.V1) < s.Pairs*pin {
		return nil, false
	}
	h, w := op.OutH, op.OutW
	hw := h * w
	pout := op.OutG * hw
	norm, w2, b2 := 1/float64(op.Base), wStd*wStd, bStd*bStd
	diag = make([]float64, s.Pairs*pout)
	l := make([]float64, hw+2*w) // L's diagonal between one image row of zeros on each side
	for a := range s.Pairs {
		v := s.V1[a*pin : a*pin+hw] // the identity block's diagonal
		vec.Sum3MaskRow(l[w:w+hw], v, v, v, pl.ma, pl.mc)
		d := diag[a*pout : a*pout+hw]
		vec.Sum3Affine(d, l, l[w:], l[2*w:], norm, w2, nil, b2)
		for g := 1; g < op.OutG; g++ {
			copy(diag[a*pout+g*hw:a*pout+(g+1)*hw], d)
		}
	}
	return diag, true
}

// diagPlan returns the separable plan by which ConvDiag applies the
// operator orig (op being orig.effective()) to a state of grid g×h×w
// (slab: the state's Slab), or nil where ConvDiag does not apply.
func (s *State) diagPlan(orig, op *ConvOp, g, h, w int, slab bool) *sepPlan {
	if g != op.InG || h != op.InH || w != op.InW || (!op.Slab && op.OutG != 1) {
		return nil
	}
	pl := s.plan(orig, op, slab && g != 1) // a slab stores fewer columns than positions
	if pl == nil || pl.rb[0] != 0 || pl.cb[0] != 0 || pl.au[0] != [2]int{1, 0} || pl.av[0] != [2]int{0, 1} {
		return nil
	}
	return pl
}

// CanConvReLUDiag reports whether ConvReLUDiag applies to the operators
// ops one after the other, starting from the state's grid.
func (s *State) CanConvReLUDiag(ops []*ConvOp) bool {
	g, h, w, slab := s.G, s.H, s.W, s.Slab
	for _, orig := range ops {
		op := orig.effective()
		if s.diagPlan(orig, op, g, h, w, slab) == nil {
			return false
		}
		g, h, w, slab = op.OutG, op.OutH, op.OutW, op.Slab
	}
	return true
}

// ConvReLUDiag takes a block of pairs (x, x) whose variances V1 hold the
// diagonal of K (SelfVariances) through ConvAffineReLU(op, wStd, bStd)
// on the diagonal alone: it returns ConvDiag's diagonal (the rectifier's
// variances) and sets V1 and V2 to the diagonal after the rectifier,
// what SelfVariances would read after ConvAffineReLU, with its bits (the
// same map on the same values: InvSqrt of the variances, the division-
// free arc-cosine map, vec.ReLUArcCosR), in O(P) per pair instead of
// O(P²). The grid becomes op's output grid; K and Theta are left empty
// (the planes are not computed). ok is false where ConvDiag's is.
func (s *State) ConvReLUDiag(op *ConvOp, wStd, bStd float64) (pre []float64, ok bool) {
	pre, ok = s.ConvDiag(op, wStd, bStd)
	if !ok {
		return nil, false
	}
	e := op.effective()
	s.G, s.H, s.W, s.Slab = e.OutG, e.OutH, e.OutW, e.Slab
	n := len(pre)
	s.rowR1 = grow(s.rowR1, n)
	vec.InvSqrt(s.rowR1, pre)
	s.V1, s.V2 = grow(s.V1, n), grow(s.V2, n)
	copy(s.V1, pre)
	vec.ReLUArcCosR(s.V1, nil, pre, s.rowR1, pre, s.rowR1, inv2pi)
	copy(s.V2, s.V1)
	s.K, s.Theta = s.K[:0], s.Theta[:0]
	return pre, true
}

// separableElement finds the input block and the signed permutation A of
// one output group element's taps against the column side's, and checks
// that every tap is A applied to its column-side offset.
func separableElement(op *ConvOp, taps, id [][]Tap, inSlab bool) (rb, cb int, au, av [2]int, ok bool) {
	for b := range 9 {
		if len(taps[b]) != 1 || taps[b][0].W != 1 {
			return
		}
		e1, e2 := taps[b][0], id[b][0]
		x, y := int(e1.S), int(e2.S)
		if inSlab {
			x, y = int(op.Rel[x][y]), 0
		}
		if b > 0 && (x != rb || y != cb) {
			return
		}
		rb, cb = x, y
		switch {
		case e2.DI == 1 && e2.DJ == 0:
			au = [2]int{int(e1.DI), int(e1.DJ)}
		case e2.DI == 0 && e2.DJ == 1:
			av = [2]int{int(e1.DI), int(e1.DJ)}
		}
	}
	// A must map the axes to distinct axes, with unit steps.
	if abs(au[0])+abs(au[1]) != 1 || abs(av[0])+abs(av[1]) != 1 || abs(au[0]) == abs(av[0]) {
		return
	}
	for b := range 9 {
		e1, e2 := taps[b][0], id[b][0]
		u, v := int(e2.DI), int(e2.DJ)
		if int(e1.DI) != u*au[0]+v*av[0] || int(e1.DJ) != u*au[1]+v*av[1] {
			return
		}
	}
	return rb, cb, au, av, true
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// sepBuffers are the working rows of the separable operator for one
// plane (K or Theta): L for three lines of first-side positions, each row
// padded with one image row of zeros on both sides, and a zero row for the
// terms that fall into the padding.
type sepBuffers struct {
	ring, zero []float64
}

// convSeparable is convApply for an operator with a separable form.
func (s *State) convSeparable(pl *sepPlan, op *ConvOp, kin, kout, tin, tout []float64, dim convDims, aff *affine) {
	h, w := op.OutH, op.OutW
	run := sepRun{s: s, pl: pl, op: op, dim: dim, aff: aff, norm: 1 / float64(op.Base), w2: 1, zeroTheta: s.zeroTheta, outer: s.outer}
	run.bk = s.sepBuffers(0, max(h, w), h*w, w)
	if tin != nil {
		run.bt = s.sepBuffers(1, max(h, w), h*w, w)
	}
	if aff != nil {
		run.w2, run.b2 = aff.w2, aff.b2
	}
	run.prefetch = 8*h*w*h*w >= sepPrefetchBytes || s.prefetchAll
	if len(kin) > 0 && len(kout) > 0 && &kin[0] == &kout[0] {
		run.inPlace = true
		n := max(h, w) * h * w
		for i := range s.edge {
			s.edge[i] = grow(s.edge[i], n)
			run.edge[i] = s.edge[i]
		}
	}
	inPair, outPair := dim.pin*dim.cin, dim.pout*dim.cout
	switch {
	case aff != nil && aff.pool2:
		outPair /= 16
		run.sink = s.pool.reset(h, w, tin != nil)
	case aff != nil && aff.mean:
		outPair = 1
		run.sink = s.mean.reset(h*w, tin != nil)
	}
	for a := range s.Pairs {
		if aff != nil && aff.relu {
			s.reluRoots(a, dim.pout, dim.cout)
		}
		run.a = a
		if run.outer {
			s.outerRows.reset(op.InH * op.InW)
		}
		run.kp, run.ko = kin[a*inPair:(a+1)*inPair], kout[a*outPair:(a+1)*outPair]
		if tin != nil {
			run.tp, run.to = tin[a*inPair:(a+1)*inPair], tout[a*outPair:(a+1)*outPair]
		}
		for r := range op.OutG {
			run.element(r)
		}
		if run.sink != nil {
			run.sink.done(&run)
		}
	}
}

// sepRun is one call of convSeparable: the operator and its plan, the
// working rows, the affine map, and the planes of the pair a at hand (kp,
// tp input, ko, to output; tp and to nil without Theta).
type sepRun struct {
	s            *State
	pl           *sepPlan
	op           *ConvOp
	dim          convDims
	aff          *affine
	bk, bt       sepBuffers
	norm, w2, b2 float64
	a            int
	kp, tp       []float64
	ko, to       []float64 // output planes (those of the sink's result with a sink)
	sink         sepSink
	zeroTheta    bool          // tp is zero: its rows are read from the zero row
	outer        bool          // kp is not written: its rows are generated (State.OuterA)
	fr           vec.FusedRow  // firstSecond's call, its arguments set in place
	first1       vec.FirstPass // first's call
	r            int           // the output group element at hand
	tr           sepTraversal
	steps        []sepStep    // its traversal's steps (sepPlan.stepsFor)
	hw           int          // positions of an image
	prefetch     bool         // the planes are large enough to prefetch rows (sepPrefetchBytes)
	inPlace      bool         // ko and to are kp and tp (State.canInPlace)
	i0           int          // the strip at hand starts at index i0
	stepAt       [2]int       // its steps: line o, index i at stepAt[0] + o*stepAt[1] + i (stepIndex)
	edge         [2][]float64 // in place: K's and Theta's input rows at index i0-1 of each line
}

// thetaIn returns the input plane of Theta for the first pass: nil (zero
// rows) when it is zero.
func (run *sepRun) thetaIn() []float64 {
	if run.zeroTheta {
		return nil
	}
	return run.tp
}

// sepSink takes the output rows of a fused pooling instead of the output
// planes: rows(t) says where the rows of position t go, add(run, t) is
// called when they are there, done(run) when the pair is.
type sepSink interface {
	rows(t int) (krow, trow []float64)
	add(run *sepRun, t int)
	done(run *sepRun)
}

// sepStrip is the number of positions of a line that element visits
// before it moves on to the next line: the rows of L a position's output
// reads were computed at most two lines (2·sepStrip positions) earlier,
// few enough that they are still in the L2 cache (at 28×28 they are
// about 0.5 MB, against 2 MB for whole lines; 7 % less time than whole
// lines for the depth-3 CNN NTK, about the same for strips of 2 to 14).
const sepStrip = 7

// element computes the output rows of output group element r, in strips
// of sepStrip positions of each line, line after line: output (o, i)
// reads L at (o-1, i), (o, i) and (o+1, i), and L(o+1, i) is computed
// right before it (with the rectifier's map, by the same vector kernel:
// firstSecond), so that the first pass's loads overlap the map's
// arithmetic.
func (run *sepRun) element(r int) {
	run.r, run.hw = r, run.op.InH*run.op.InW
	run.tr = run.pl.traversal(r, run.op.OutH, run.op.OutW)
	strip := sepStrip
	if _, ok := run.sink.(*sepPool); ok {
		strip = sepPoolStrip
	}
	run.steps = run.pl.stepsFor(r, run.op, run.dim, strip)
	run.setFusedRow()
	tr := run.tr
	for i0 := 0; i0 < tr.inner; i0 += strip {
		i1 := min(i0+strip, tr.inner)
		run.i0 = i0
		run.stepAt = [2]int{i0*tr.outer - i0, i1 - i0}
		for i := i0; i < i1; i++ {
			run.first(0, i)
		}
		for o := range tr.outer {
			for i := i0; i < i1; i++ {
				if run.inPlace && i == i1-1 && i1 < tr.inner {
					run.saveEdge(o, i)
				}
				switch {
				case o+1 < tr.outer && run.aff != nil:
					no, ni := o, i+1 // the next call's position
					if ni == i1 {
						no, ni = o+1, i0
					}
					run.firstSecond(o, i, no, ni)
				case o+1 < tr.outer:
					run.first(o+1, i)
					run.second(o, i)
				default:
					run.second(o, i)
				}
			}
		}
	}
}

// step returns the step of line o, index i (in the strip at hand), of
// the element at hand.
func (run *sepRun) step(o, i int) *sepStep {
	return &run.steps[run.stepAt[0]+o*run.stepAt[1]+i] // stepIndex for the strip at hand, without its division
}

// stepIndex returns where the step of line o, index i, of a traversal of
// outer lines of inner positions is in a table in the order element
// visits them, strip after strip (strips of strip positions, the last
// one shorter), line after line, so that the steps of successive calls
// are neighbours in memory (a table ordered by lines took a cache miss
// per call once the planes streaming through had evicted it).
func stepIndex(o, i, outer, inner, strip int) int {
	i0 := i - i%strip
	return i0*outer + o*min(strip, inner-i0) + i - i0
}

// first computes the rows of L at line o, index i, of K and Theta.
func (run *sepRun) first(o, i int) {
	f := &run.first1
	run.kFirstRows(o, i, &f.LK, &f.K)
	f.LT = nil
	if run.tp != nil && !run.zeroTheta { // else the second pass reads zero rows of L (outputRows)
		run.inputRows(1, o, i, &f.LT, &f.T)
	}
	f.Run()
}

// inputRows sets dst, for K (plane 0) or Theta (1), to the row of L at
// line o, index i, and src to the three input rows it sums (Sum3MaskRow:
// shifted by one position, the ends masked): zero rows for positions in
// the padding, and all three for a zero plane (thetaIn nil). In place, an
// input row that an output row has overwritten (at index i0-1, the
// previous strip's last) is read from where saveEdge put it. (It sets
// rows in place, as the other row functions of firstSecond do: one call
// per position of a layer, and copies of row tuples cost as much as the
// rest of its bookkeeping.)
func (run *sepRun) inputRows(plane, o, i int, dst *[]float64, src *[3][]float64) {
	buf, in := &run.bk, run.kp
	if plane == 1 {
		buf, in = &run.bt, run.thetaIn()
	}
	st, hw := run.step(o, i), run.hw
	*dst = buf.ring[st.l : st.l+hw]
	edge := run.inPlace && i == run.i0 && i != 0
	for v, at := range st.in {
		switch {
		case at < 0 || in == nil:
			src[v] = buf.zero[:hw]
		case edge && st.edge[v] >= 0:
			lo := st.edge[v]
			src[v] = run.edge[plane][lo*hw : (lo+1)*hw]
		default:
			src[v] = in[at : at+hw]
		}
	}
}

// saveEdge keeps the input rows of K and Theta at line o, index i (a
// strip's last), which the output rows there are about to overwrite in
// place, for the next strip's first pass (inputRows).
func (run *sepRun) saveEdge(o, i int) {
	hw, at := run.hw, run.step(o, i).in[1] // the position's own input row
	copy(run.edge[0][o*hw:(o+1)*hw], run.kp[at:at+hw])
	if t := run.thetaIn(); t != nil {
		copy(run.edge[1][o*hw:(o+1)*hw], t[at:at+hw])
	}
}

// kFirstRows is inputRows for K, its input rows generated from
// State.OuterA and OuterB where the input planes are not written.
func (run *sepRun) kFirstRows(o, i int, dst *[]float64, src *[3][]float64) {
	if !run.outer {
		run.inputRows(0, o, i, dst, src)
		return
	}
	st, hw := run.step(o, i), run.hw
	*dst = run.bk.ring[st.l : st.l+hw]
	for v, p := range st.pos {
		if p < 0 {
			src[v] = run.bk.zero[:hw]
		} else {
			src[v] = run.s.outerRows.row(run.s, run.a, p)
		}
	}
}

// genOuter sets f to generate the input rows of K at line o, index i,
// from State.OuterA and OuterB (vec.FirstPass.Outer) and reports whether
// it did: where they are generated (run.outer), the rectifier's map
// follows and the vector kernel that generates them runs
// (vec.GeneratesOuter; the others would need the rows written first,
// which kFirstRows keeps). The same bits as the rows kFirstRows returns.
func (run *sepRun) genOuter(f *vec.FirstPass, o, i int) bool {
	f.Outer = nil
	if !run.outer || !run.aff.relu {
		return false
	}
	st, hw := run.step(o, i), run.hw
	f.LK = run.bk.ring[st.l : st.l+hw]
	f.OuterRow = [3]bool{st.pos[0] >= 0, st.pos[1] >= 0, st.pos[2] >= 0}
	if !vec.GeneratesOuter(f, hw) {
		return false
	}
	z, a := run.bk.zero[:hw], run.s.OuterA[run.a]
	f.K = [3][]float64{z, z, z}
	f.Outer = run.s.OuterB[run.a]
	for v, p := range st.pos {
		f.OuterA[v] = 0
		if p >= 0 {
			f.OuterA[v] = a[p]
		}
	}
	return true
}

// firstSecond is first(o+1, i) followed by second(o, i) for an operator
// with the affine map (and the rectifier's), in one pass with the same
// bits (vec.Sum3MaskAffine, vec.Sum3MaskAffineReLU). The row of L that the
// first computes is one of those the second reads, shifted by at most one
// image row: output entry j reads its entries below j + w + 1. The next
// call is at line no, index ni: its new input rows and its output rows
// are prefetched (prefetchNext).
func (run *sepRun) firstSecond(o, i, no, ni int) {
	fr := &run.fr
	f := &fr.First
	if !run.genOuter(f, o+1, i) {
		run.kFirstRows(o+1, i, &f.LK, &f.K)
	}
	if run.tp != nil {
		run.inputRows(1, o+1, i, &f.LT, &f.T)
	}
	if run.prefetch {
		run.prefetchNext(f, no, ni)
	}
	t := run.outputRows(o, i, fr)
	if fr.ReLU {
		fr.V1, fr.R1 = run.s.V1[run.a*run.dim.pout+run.r*run.hw+t], run.s.invV1[run.r*run.hw+t]
	}
	fr.Run()
	if run.sink != nil && fr.ReLU {
		run.sink.add(run, t)
	}
}

// setFusedRow sets the arguments of firstSecond's calls that are the
// same for all positions of the element at hand (and clears the others).
func (run *sepRun) setFusedRow() {
	pl, s, a := run.pl, run.s, run.a
	relu := run.aff != nil && run.aff.relu
	run.fr = vec.FusedRow{Norm: run.norm, W: run.w2, Add0: run.b2, ReLU: relu}
	run.fr.First = vec.FirstPass{MA: pl.ma, MC: pl.mc, M8: pl.m8, Ahead: run.op.OutW + 1, ZeroT: run.zeroTheta}
	run.first1 = vec.FirstPass{MA: pl.ma, MC: pl.mc, M8: pl.m8}
	if relu {
		run.fr.V2, run.fr.R2, run.fr.Scale = s.V2[a*run.dim.pout:a*run.dim.pout+run.dim.cout], s.invV2, inv2pi
	}
}

// prefetchNext sets f.Next to rows of the call at line o, index i,
// that the call f is for does not read: the input row of K and of Theta
// that its first pass reads at the next index of its line (where the
// input planes are stored; the new row of a call after one at the
// previous index) and its output rows (without a sink, whose rows are
// few and in the cache). The planes of a 28×28 pair (4.9 MB each) stream
// from memory; prefetched a row ahead, they arrive while the map runs.
func (run *sepRun) prefetchNext(f *vec.FirstPass, o, i int) {
	tr := run.tr
	f.Next = [4][]float64{}
	if o >= tr.outer {
		return
	}
	if o+1 < tr.outer {
		if at := run.step(o+1, i).in[2]; at >= 0 {
			if !run.outer {
				f.Next[0] = run.kp[at : at+run.hw]
			}
			if t := run.thetaIn(); t != nil {
				f.Next[1] = t[at : at+run.hw]
			}
		}
	}
	if run.sink == nil {
		hw, at := run.hw, run.step(o, i).out
		f.Next[2] = run.ko[at : at+hw]
		if run.tp != nil {
			f.Next[3] = run.to[at : at+hw]
		}
	}
}

// sepPrefetchBytes is the size of a plane from which on firstSecond
// prefetches the next call's rows (prefetchNext): smaller planes (14×14:
// 0.3 MB) stay in the cache, and their short rows would only pay for
// looking up the rows.
const sepPrefetchBytes = 2 << 20

// outputRows sets r.K and r.T to the output rows at line o, index i (T
// nil without Theta), and r.KL and r.TL to the rows of L they sum, and
// returns their position t.
func (run *sepRun) outputRows(o, i int, r *vec.FusedRow) int {
	st := run.step(o, i)
	hw := run.hw
	if run.sink != nil {
		r.K, r.T = run.sink.rows(st.t)
	} else {
		r.K = run.ko[st.out : st.out+hw]
		if run.tp != nil {
			r.T = run.to[st.out : st.out+hw]
		}
	}
	st.second.rows(&r.KL, &run.bk, hw)
	switch {
	case run.zeroTheta && run.tp != nil: // Theta's L is zero: its rows are not computed (first, vec.FirstPass.ZeroT)
		z := run.bt.zero[:hw]
		r.TL = [3][]float64{z, z, z}
	case run.tp != nil:
		st.second.rows(&r.TL, &run.bt, hw)
	}
	return st.t
}

// second computes the output rows at line o, index i, of K and Theta from
// L, with the affine map and the rectifier's where the operator has them.
func (run *sepRun) second(o, i int) {
	var fr vec.FusedRow
	t := run.outputRows(o, i, &fr)
	krow, trow, kr, trr := fr.K, fr.T, fr.KL, fr.TL
	aff, s, a, r, pout, hw := run.aff, run.s, run.a, run.r, run.dim.pout, run.hw
	switch {
	case aff != nil && aff.relu:
		// Both planes' second pass and the map in one pass.
		vec.Sum3AffineReLU(krow, trow, kr[0], kr[1], kr[2], trr[0], trr[1], trr[2], run.norm, run.w2, run.b2,
			s.V1[a*pout+r*hw+t], s.invV1[r*hw+t], s.V2[a*pout:a*pout+run.dim.cout], s.invV2, inv2pi)
		if run.sink != nil {
			run.sink.add(run, t)
		}
	case aff != nil:
		vec.Sum3Affine(krow, kr[0], kr[1], kr[2], run.norm, run.w2, nil, run.b2)
		if trow != nil {
			vec.Sum3Affine(trow, trr[0], trr[1], trr[2], run.norm, run.w2, krow, 0)
		}
	default:
		vec.Sum3Affine(krow, kr[0], kr[1], kr[2], run.norm, 1, nil, 0)
		if trow != nil {
			vec.Sum3Affine(trow, trr[0], trr[1], trr[2], run.norm, 1, nil, 0)
		}
	}
}

// sepTraversal is the order in which convSeparable visits the first-side
// positions of output group element r: lines along the axis of A(0,1), so
// that the three input rows the first pass reads for neighbouring
// positions of a line are neighbours too and come from the cache (along
// image rows for a plain convolution, along image columns for filters
// rotated by 90 degrees); L is kept for three lines.
type sepTraversal struct {
	outer, inner int
	vertical     bool // lines are image columns
}

func (pl *sepPlan) traversal(r, h, w int) sepTraversal {
	if pl.av[r][0] != 0 {
		return sepTraversal{outer: w, inner: h, vertical: true}
	}
	return sepTraversal{outer: h, inner: w}
}

// pos returns the position (row, column) of line o, index i.
func (tr sepTraversal) pos(o, i int) (int, int) {
	if tr.vertical {
		return i, o
	}
	return o, i
}

// line returns the line and index of position (ti, tj).
func (tr sepTraversal) line(ti, tj int) (int, int) {
	if tr.vertical {
		return tj, ti
	}
	return ti, tj
}

// sepBuffers returns the working rows for plane i (0: K, 1: Theta) of an
// operator on images of hw positions and width w, L for three lines of at
// most n positions, with zeroed padding, reusing the state's memory.
func (s *State) sepBuffers(i, n, hw, w int) sepBuffers {
	rowLen := hw + 2*w
	b := &s.sep[i]
	b.ring = grow(b.ring, 3*n*rowLen)
	b.zero = grow(b.zero, rowLen)
	clear(b.zero)
	for k := range 3 * n {
		row := b.ring[k*rowLen : (k+1)*rowLen]
		clear(row[:w])
		clear(row[w+hw:])
	}
	return *b
}

// sepStep locates the rows of one position of an output group element's
// traversal (line o, index i; sepPlan.stepsFor): the same for every pair
// of a block and for K and Theta, so computed once per plan.
type sepStep struct {
	t, out int        // the position, and where its output row starts in a pair's output plane
	l      int        // where its row of L starts in the ring of sepBuffers
	in     [3]int     // where the three input rows its first pass sums start in a pair's input plane; -1: a zero row (padding)
	pos    [3]int     // their positions (State.OuterA's index); -1: padding
	edge   [3]int     // the line of each input row at the previous index i-1 (saved by saveEdge in place); -1 otherwise
	second sepOffsets // the rows of L its second pass sums
}

// stepsFor returns the steps of output group element r of op, at
// stepIndex(o, i, ..., strip) for line o, index i of its traversal, for
// planes of dims dim (computed once per plan, dims and strip).
func (pl *sepPlan) stepsFor(r int, op *ConvOp, dim convDims, strip int) []sepStep {
	if pl.steps == nil || pl.stepDim != dim || pl.stepStrip != strip {
		pl.steps, pl.stepDim, pl.stepStrip = make([][]sepStep, len(pl.rb)), dim, strip
	}
	if pl.steps[r] != nil {
		return pl.steps[r]
	}
	h, w := op.InH, op.InW
	hw := h * w
	rowLen := hw + 2*w
	tr := pl.traversal(r, op.OutH, op.OutW)
	av := pl.av[r]
	steps := make([]sepStep, tr.outer*tr.inner)
	for o := range tr.outer {
		for i := range tr.inner {
			st := &steps[stepIndex(o, i, tr.outer, tr.inner, strip)]
			qi, qj := tr.pos(o, i)
			st.t = qi*op.OutW + qj
			st.out = (r*hw + st.t) * dim.cout
			st.l = ((o%3)*tr.inner+i)*rowLen + w
			for v := -1; v <= 1; v++ {
				pi, pj := qi+v*av[0], qj+v*av[1]
				st.in[v+1], st.pos[v+1], st.edge[v+1] = -1, -1, -1
				if pi < 0 || pi >= h || pj < 0 || pj >= w {
					continue
				}
				st.pos[v+1] = pi*w + pj
				st.in[v+1] = pl.inputAt(r, st.pos[v+1], hw, dim)
				if lo, li := tr.line(pi, pj); li == i-1 {
					st.edge[v+1] = lo
				}
			}
			st.second = pl.secondRows(r, tr, op.OutH, op.OutW, o, i)
		}
	}
	pl.steps[r] = steps
	return steps
}

// inputAt returns where the input row of position p (of hw) that output
// group element r reads starts in a pair's input plane: block rb[r], the
// row's column block cb[r].
func (pl *sepPlan) inputAt(r, p, hw int, dim convDims) int {
	return (pl.rb[r]*hw+p)*dim.cin + pl.cb[r]*hw
}

// secondRows returns where the three rows of L that the output row of
// line o, index i, of output group element r sums are in the working rows
// of K or Theta (sepBuffers: the same places in both).
func (pl *sepPlan) secondRows(r int, tr sepTraversal, h, w, o, i int) sepOffsets {
	rowLen := h*w + 2*w
	au := pl.au[r]
	ti, tj := tr.pos(o, i)
	var off sepOffsets
	for u := -1; u <= 1; u++ {
		qi, qj := ti+u*au[0], tj+u*au[1]
		if qi < 0 || qi >= h || qj < 0 || qj >= w {
			off[u+1] = -1
			continue
		}
		lo, li := tr.line(qi, qj)
		off[u+1] = ((lo%3)*tr.inner+li)*rowLen + (1+u)*w
	}
	return off
}

// sepOffsets are the starts of three rows of L in the ring of
// sepBuffers, each shifted by its image row; -1 for a zero row (a
// first-side position in the padding).
type sepOffsets [3]int

// rows sets rows to the three rows of hw values of buf at the offsets.
func (off *sepOffsets) rows(rows *[3][]float64, buf *sepBuffers, hw int) {
	for u, at := range off {
		if at < 0 {
			rows[u] = buf.zero[:hw]
		} else {
			rows[u] = buf.ring[at : at+hw]
		}
	}
}

// sepPoolStrip is the strip of positions per line when a 2×2 pooling is
// fused (ConvAffineReLUPool): even, so that no cell of the pooling
// straddles two strips, and a cell's four output rows arrive in the order
// AvgPool sums them: (2I, 2J), (2I, 2J+1) on one line, (2I+1, 2J),
// (2I+1, 2J+1) on the next.
const sepPoolStrip = 8

// sepPool sums the output rows of the 2×2 cells of the strip at hand, as
// AvgPool does (the first row copied, the others added with vec.AxpyF64),
// and pools each cell's sum into the pooled planes when its fourth row is
// done (pool2Row).
type sepPool struct {
	h, w       int
	theta      bool
	sumK, sumT [sepPoolStrip / 2][]float64 // one row sum per cell of a strip
	tmpK, tmpT []float64                   // the output row at hand
}

// reset sizes the working rows for output planes of h×w positions
// (Theta's too with theta), reusing their memory, and returns p.
func (p *sepPool) reset(h, w int, theta bool) *sepPool {
	hw := h * w
	p.h, p.w, p.theta = h, w, theta
	p.tmpK = grow(p.tmpK, hw)
	for i := range p.sumK {
		p.sumK[i] = grow(p.sumK[i], hw)
	}
	if theta {
		p.tmpT = grow(p.tmpT, hw)
		for i := range p.sumT {
			p.sumT[i] = grow(p.sumT[i], hw)
		}
	}
	return p
}

// cell returns the slot of position t's cell and t's place in it
// (0: top left ... 3: bottom right).
func (p *sepPool) cell(t int) (slot, d int) {
	ti, tj := t/p.w, t%p.w
	return tj / 2 % len(p.sumK), ti%2*2 + tj%2
}

// rows returns where the output rows of position t go: the first row of a
// cell straight into the cell's sum, the others into the row at hand.
func (p *sepPool) rows(t int) (krow, trow []float64) {
	slot, d := p.cell(t)
	krow, trow = p.tmpK, p.tmpT
	if d == 0 {
		krow, trow = p.sumK[slot], p.sumT[slot]
	}
	if !p.theta {
		trow = nil
	}
	return krow, trow
}

// add adds position t's output rows (just computed) to its cell's sums and
// pools the cell when they are complete.
func (p *sepPool) add(run *sepRun, t int) {
	slot, d := p.cell(t)
	if d == 0 {
		return
	}
	vec.AxpyF64(p.sumK[slot], p.tmpK, 1)
	if p.theta {
		vec.AxpyF64(p.sumT[slot], p.tmpT, 1)
	}
	if d < 3 {
		return
	}
	oh, ow := p.h/2, p.w/2
	ohw := oh * ow
	q := t/p.w/2*ow + t%p.w/2
	pool2Row(run.ko[q*ohw:(q+1)*ohw], p.sumK[slot], oh, ow, p.w, 1.0/16)
	if p.theta {
		pool2Row(run.to[q*ohw:(q+1)*ohw], p.sumT[slot], oh, ow, p.w, 1.0/16)
	}
}

func (p *sepPool) done(*sepRun) {}

// sepMean sums each output row as it is computed (vec.SumF64) and, when
// the pair is done, the row sums in the order of the positions, as
// SpatialMean does (ConvAffineReLUMean).
type sepMean struct {
	theta        bool
	rowK, rowT   []float64 // the output row at hand
	sumsK, sumsT []float64 // the sum of every output row
}

// reset sizes the working rows for output planes of hw positions (Theta's
// too with theta), reusing their memory, and returns m.
func (m *sepMean) reset(hw int, theta bool) *sepMean {
	m.theta = theta
	m.rowK, m.sumsK = grow(m.rowK, hw), grow(m.sumsK, hw)
	if theta {
		m.rowT, m.sumsT = grow(m.rowT, hw), grow(m.sumsT, hw)
	}
	return m
}

func (m *sepMean) rows(int) (krow, trow []float64) {
	if !m.theta {
		return m.rowK, nil
	}
	return m.rowK, m.rowT
}

func (m *sepMean) add(_ *sepRun, t int) {
	if m.theta {
		m.sumsK[t], m.sumsT[t] = vec.SumF64Pair(m.rowK, m.rowT)
		return
	}
	m.sumsK[t] = vec.SumF64(m.rowK)
}

func (m *sepMean) done(run *sepRun) {
	inv := 1 / float64(len(m.sumsK)*len(m.sumsK))
	run.ko[0] = sumInOrder(m.sumsK) * inv
	if m.theta {
		run.to[0] = sumInOrder(m.sumsT) * inv
	}
}

// sumInOrder adds the values one after the other.
func sumInOrder(x []float64) float64 {
	var t float64
	for _, v := range x {
		t += v
	}
	return t
}
