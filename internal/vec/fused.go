package vec

import "math"

// The two passes of a separable 3×3 convolution map (Sum3MaskRow,
// Sum3Affine; kernel/convsep.go) and the rectifier's division-free map
// (ReLUArcCosRowR) that follows them in a convolutional kernel's layer,
// fused: Sum3AffineReLU does the second pass and the map on a block of
// entries while it is in registers, so that each output row is stored
// once; Sum3MaskAffineReLU also computes the row of L (the first pass)
// that the second pass reads, a block of entries at a time ahead of it,
// so that the loads of the stencils overlap the map's arithmetic. Both
// perform the same operations in the same order as the separate calls
// and give the same bits (AVX-512 and AVX2 assembly on amd64; elsewhere,
// and with -tags purego, the separate calls).

// Sum3AffineReLU is
//
//	Sum3Affine(k, ka, kb, kc, norm, w, nil, add0)
//	Sum3Affine(t, ta, tb, tc, norm, w, k, 0)
//	ReLUArcCosRowR(k, t, v1, r1, v2, r2, scale)
//
// in one pass, with the same bits; the second call reads the k of the
// first (before the map). t may be nil (no Theta: the second call is
// skipped, and ta, tb, tc are not read). ka, kb, kc, ta, tb, tc, v2 and r2
// must be at least as long as k, and so must t if it is not nil; k and t
// must not overlap the rows they are computed from.
func Sum3AffineReLU(k, t, ka, kb, kc, ta, tb, tc []float64, norm, w, add0, v1, r1 float64, v2, r2 []float64, scale float64) {
	n := len(k)
	ka, kb, kc, v2, r2 = ka[:n], kb[:n], kc[:n], v2[:n], r2[:n]
	if t != nil {
		t, ta, tb, tc = t[:n], ta[:n], tb[:n], tc[:n]
	}
	i := 0
	if !fusedGo {
		i = sum3AffineReLUBulk(k, t, ka, kb, kc, ta, tb, tc, float64(norm*w), add0, v1, r1, v2, r2, scale)
	}
	if i == n {
		return
	}
	// The rest (all of it without the vector kernels): the three calls.
	Sum3Affine(k[i:], ka[i:], kb[i:], kc[i:], norm, w, nil, add0)
	if t != nil {
		Sum3Affine(t[i:], ta[i:], tb[i:], tc[i:], norm, w, k[i:], 0)
	}
	ReLUArcCosRowR(k[i:], tail(t, i), v1, r1, v2[i:], r2[i:], scale)
}

// tail returns t[i:], or nil where t is nil.
func tail(t []float64, i int) []float64 {
	if t == nil {
		return nil
	}
	return t[i:]
}

// fusedGo makes Sum3AffineReLU, Sum3MaskAffineReLU and Sum3MaskAffine run
// their Go code only (tests: the vector kernels against it). Their vector
// kernels are sum3AffineReLUBulk, which returns how many entries it did
// (a prefix), and sepRowBulk, which reports whether it did the call's
// work (the map's arguments nil for Sum3MaskAffine); the arguments are
// those of the exported functions (fused_amd64.go; fused_other.go where
// there are none).
var fusedGo bool

// Sum3MaskRow sets dst[i] = ((a[i-1] & ma[i]) + b[i]) + (c[i+1] & mc[i])
// for i < len(dst), the terms outside the rows (a[-1] and c[len(dst)]) as
// +0: Sum3Mask on the interior and the same operations at the two ends.
// a, b, c, ma and mc must be at least as long as dst, which must have at
// least 2 entries.
func Sum3MaskRow(dst, a, b, c []float64, ma, mc []uint64) {
	n := len(dst)
	Sum3Mask(dst[1:n-1], a[:n-2], b[1:n-1], c[2:n], ma[1:n-1], mc[1:n-1])
	dst[0] = (0 + b[0]) + andBits(c[1], mc[0])
	dst[n-1] = (andBits(a[n-2], ma[n-1]) + b[n-1]) + 0
}

// FirstPassBits returns the masks ma and mc of a first pass (FirstPass.MA, MC;
// all ones or zero, len(ma) entries, a multiple of 8) as bits, two bytes
// per block of 8 entries: ma's, then mc's, entry 8j+b at bit b of the
// block j's bytes (FirstPass.M8).
func FirstPassBits(ma, mc []uint64) []byte {
	m8 := make([]byte, 2*(len(ma)/8))
	for i := range len(ma) &^ 7 {
		if ma[i] != 0 {
			m8[2*(i/8)] |= 1 << (i % 8)
		}
		if mc[i] != 0 {
			m8[2*(i/8)+1] |= 1 << (i % 8)
		}
	}
	return m8
}

// andBits returns x with its bits and-ed with m.
func andBits(x float64, m uint64) float64 { return math.Float64frombits(math.Float64bits(x) & m) }

// FirstPass is one row of the first pass of a separable 3×3 map for K
// and, unless LT is nil, for Theta: Sum3MaskRow(LK, K[0], K[1], K[2], MA,
// MC) and Sum3MaskRow(LT, T[0], T[1], T[2], MA, MC).
type FirstPass struct {
	LK, LT []float64
	K, T   [3][]float64
	MA, MC []uint64
	// M8 holds MA and MC as bits for the AVX-512 kernel (FirstPassBits), or is
	// nil (the AVX2 kernel then runs).
	M8 []byte
	// ZeroT says that Theta's inputs are zero: the rows of T and the rows
	// of L of Theta that the second step reads (ta, tb, tc) hold +0 only.
	// Sum3MaskAffineReLU may then leave them unread and LT unwritten (the
	// AVX-512 kernel does: t = k + 0, the bits of the second step on zero
	// rows); the other kernels read them as usual.
	ZeroT bool
	// Outer, where not nil, says that K's input rows are those of an
	// outer product: K[v] = OuterA[v]·Outer + 0 (ScaleF64's bits: each
	// product rounded once, zeros as +0) where OuterRow[v], a zero row
	// (as K[v] is then) otherwise; OuterRow[1] must hold. The AVX-512
	// kernel generates the products as it goes, without reading K
	// (GeneratesOuter says whether it runs); elsewhere the rows are
	// generated into scratch rows first. Outer must be at least as long
	// as the call's rows.
	Outer    []float64
	OuterA   [3]float64
	OuterRow [3]bool
	// Ahead bounds the entries of LK and LT that the second step reads
	// (Sum3MaskAffineReLU): output entry i reads only entries below
	// i + Ahead.
	Ahead int
	// Next names rows that the next call will read (Next[0], Next[1]:
	// new input rows of K and Theta) and write (Next[2], Next[3]: its
	// output rows); the vector kernels prefetch them into the cache, a
	// cache line of each per block of entries, at the offsets they are
	// at, so that planes larger than the cache stream in while the map's
	// arithmetic runs. A nil row is not prefetched; the others must be at
	// least as long as the call's rows. Results do not depend on them.
	Next [4][]float64
}

// Sum3MaskAffineReLU is the first pass f followed by Sum3AffineReLU(k, t,
// ka, kb, kc, ta, tb, tc, ...), whose rows may overlap f.LK and f.LT
// within f.Ahead (the rows of L of a separable map, padded, of which f
// computes one): the same bits as the two in sequence. The vector kernel
// computes the first pass a block of entries at a time far enough ahead
// of the second step, so that the loads of the one overlap the
// arithmetic of the other. t must be nil exactly where f.LT is.
func Sum3MaskAffineReLU(f *FirstPass, k, t, ka, kb, kc, ta, tb, tc []float64, norm, w, add0, v1, r1 float64, v2, r2 []float64, scale float64) {
	r := FusedRow{First: *f, K: k, T: t, KL: [3][]float64{ka, kb, kc}, TL: [3][]float64{ta, tb, tc},
		Norm: norm, W: w, Add0: add0, ReLU: true, V1: v1, R1: r1, V2: v2, R2: r2, Scale: scale}
	r.Run()
}

// FusedRow holds the arguments of one call of Sum3MaskAffineReLU (ReLU
// set) or Sum3MaskAffine (ReLU not set; V1 to Scale unused) for a caller
// that makes many calls and changes few arguments between them
// (kernel/convsep.go: one call per position of a layer); Run makes the
// call. The fields are those functions' arguments: First the first pass,
// K and T the output rows, KL and TL the rows of L that the second step
// reads (ka, kb, kc and ta, tb, tc).
type FusedRow struct {
	First         FirstPass
	K, T          []float64
	KL, TL        [3][]float64
	Norm, W, Add0 float64
	ReLU          bool
	V1, R1        float64
	V2, R2        []float64
	Scale         float64
}

// Run is Sum3MaskAffineReLU or Sum3MaskAffine (r.ReLU) on r's arguments,
// with their bits.
func (r *FusedRow) Run() {
	if f := &r.First; f.Outer != nil && (!r.ReLU || !GeneratesOuter(f, len(r.K))) {
		c := *r // the kernels without the map read K: rows generated first
		c.First = *outerRows(f, len(r.K))
		r = &c
	}
	if !fusedGo && sepRowBulk(r) {
		return
	}
	r.First.Run()
	ka, kb, kc, ta, tb, tc := r.KL[0], r.KL[1], r.KL[2], r.TL[0], r.TL[1], r.TL[2]
	if r.ReLU {
		Sum3AffineReLU(r.K, r.T, ka, kb, kc, ta, tb, tc, r.Norm, r.W, r.Add0, r.V1, r.R1, r.V2, r.R2, r.Scale)
		return
	}
	Sum3Affine(r.K, ka, kb, kc, r.Norm, r.W, nil, r.Add0)
	if r.T != nil {
		Sum3Affine(r.T, ta, tb, tc, r.Norm, r.W, r.K, 0)
	}
}

// GeneratesOuter reports whether Sum3MaskAffineReLU on rows of n entries
// runs the AVX-512 kernel, which generates the rows of f.Outer itself.
func GeneratesOuter(f *FirstPass, n int) bool {
	if fusedGo {
		return false
	}
	_, wide, ok := sepRowLead(f, n)
	return ok && wide && f.OuterRow[1]
}

// outerRows returns a copy of f whose rows K[v] are f.Outer's products
// (OuterRow) in new rows of n entries, and Outer nil.
func outerRows(f *FirstPass, n int) *FirstPass {
	g := *f
	g.Outer = nil
	for v, gen := range f.OuterRow {
		if gen {
			g.K[v] = make([]float64, n)
			ScaleF64(g.K[v], f.Outer, f.OuterA[v])
		}
	}
	return &g
}

// Sum3MaskAffine is Sum3MaskAffineReLU without the map: the first pass f
// followed by
//
//	Sum3Affine(k, ka, kb, kc, norm, w, nil, add0)
//	Sum3Affine(t, ta, tb, tc, norm, w, k, 0)
//
// (the second where t is not nil), with the same bits.
func Sum3MaskAffine(f *FirstPass, k, t, ka, kb, kc, ta, tb, tc []float64, norm, w, add0 float64) {
	r := FusedRow{First: *f, K: k, T: t, KL: [3][]float64{ka, kb, kc}, TL: [3][]float64{ta, tb, tc},
		Norm: norm, W: w, Add0: add0}
	r.Run()
}

// Run computes the rows of L of f: Sum3MaskRow(f.LK, f.K[0], f.K[1],
// f.K[2], f.MA, f.MC) and, unless f.LT is nil, the same for Theta, with
// their bits (AVX-512: eight entries at a time, as the fused kernel's
// first pass does, where f.M8 holds the masks as bits). f.Outer must be
// nil (FusedRow.Run generates such rows first).
func (f *FirstPass) Run() {
	if !fusedGo && firstPassBulk(f) {
		return
	}
	Sum3MaskRow(f.LK, f.K[0], f.K[1], f.K[2], f.MA, f.MC)
	if f.LT != nil {
		Sum3MaskRow(f.LT, f.T[0], f.T[1], f.T[2], f.MA, f.MC)
	}
}
