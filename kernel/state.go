package kernel

import (
	"fmt"

	"github.com/eqens/eqens/internal/hugepage"
	"github.com/eqens/eqens/internal/vec"
)

// State holds the second moments of the pre-activations of one layer for a
// block of Pairs input pairs (x_a, x'_a).
//
// Positions are indexed p = g*H*W + i*W + j (group element g, row i, column
// j); P = G*H*W. For every pair, K and Theta hold the P×Cols() matrix
// E[z_p(x) z_q(x')] (NNGP) and the NTK at positions p, q, row-major. V1 and
// V2 hold the variances E[z_p(x)^2] and E[z_q(x')^2] of each input at each
// position, which the activations need.
//
// Without Slab, Cols() = P: the full matrix. With Slab, only the columns of
// the identity group element are stored (Cols() = H*W): for GCNN features
// of an exact group action (pixel permutations), the kernel is invariant
// under right translation of both group indices, K[(c,t),(d,t')] =
// K[(c d^-1, t), (e, t')], so these |G| blocks determine the |G|^2 blocks
// of the full matrix and every operator can work on them alone, |G| times
// faster and smaller.
type State struct {
	// Pairs is the number of input pairs in the block.
	Pairs int
	// G, H, W are the group and spatial sizes of the position grid.
	G, H, W int
	// NTK says whether Theta is propagated (false: NNGP only).
	NTK bool
	// K and Theta have Pairs*P*P entries.
	K, Theta []float64
	// V1 and V2 have Pairs*P entries.
	V1, V2 []float64
	// Self marks a block of pairs (x, x): after every layer the driver
	// takes the variances from the diagonal of K.
	Self bool
	// Slab marks the reduced storage of group features described above.
	Slab bool
	// ThetaZero says that Theta is zero without its values having been
	// written (Theta before a network's first layer): the next map must be
	// a convolution (Conv, ConvAffine*), which reads zero rows instead of
	// the plane where it has the separable form and clears the plane
	// otherwise; it resets the mark.
	ThetaZero bool
	// OuterA and OuterB, where set (OuterA not empty), say that K is not
	// written but is, for pair a, the outer product of two one-channel
	// inputs of P values each: K[a][p, q] = OuterA[a][p] · OuterB[a][q],
	// rounded once (the input covariances of one channel). The next map
	// must be a convolution (Conv, ConvAffine*), which generates the rows
	// it reads where it has the separable form and writes the planes
	// otherwise, and which resets them; SelfVariances reads the diagonal
	// from them. The planes of the inputs are then never stored: for
	// 28×28 images that is 4.9 MB per pair written and read back.
	OuterA, OuterB [][]float64
	// KeepInput makes the separable convolutions of plain images write
	// new planes even where they can overwrite their input planes
	// (convSeparable's in-place maps; tests compare the two).
	KeepInput bool

	spare, spare2 []float64 // recycled buffers for out-of-place operators
	rowV1, rowV2  []float64 // per-entry variances of narrowRowMap
	rowR1, rowR2  []float64 // and their 1/sqrt (ReLU)
	invV1, invV2  []float64 // 1/sqrt of one pair's variances (reluRoots)
	sep           [2]sepBuffers
	edge          [2][]float64 // convSeparable in place: input rows saved at strip edges
	prefetchAll   bool         // tests: convSeparable prefetches rows whatever the planes' size
	zeroTheta     bool         // convSeparable: read Theta's input rows as zeros (ThetaZero)
	outer         bool         // convSeparable: generate K's input rows (OuterA, OuterB)
	outerRows     outerCache
	plans         map[planKey]*sepPlan // separable plans of the operators applied (State.plan)
	pool          sepPool              // working rows of the fused poolings (convsep.go)
	mean          sepMean
}

// P is the number of positions.
func (s *State) P() int { return s.G * s.H * s.W }

// Cols is the number of stored columns of each pair's matrix: P, or H*W
// for a slab.
func (s *State) Cols() int {
	if s.Slab {
		return s.H * s.W
	}
	return s.P()
}

// Reshape sets a new position grid and storage form and resizes K, Theta,
// V1, V2 (contents undefined), reusing memory where possible.
func (s *State) Reshape(g, h, w int, slab bool) {
	s.G, s.H, s.W, s.Slab = g, h, w, slab
	p, c := s.P(), s.Cols()
	s.K = grow(s.K, s.Pairs*p*c)
	if s.NTK {
		s.Theta = grow(s.Theta, s.Pairs*p*c)
	}
	s.V1 = grow(s.V1, s.Pairs*p)
	s.V2 = grow(s.V2, s.Pairs*p)
}

// Scratch hands out a buffer of n values (contents undefined) for an
// out-of-place operator; the state keeps no reference to it.
func (s *State) Scratch(n int) []float64 {
	b := grow(s.spare, n)
	s.spare, s.spare2 = s.spare2, nil
	return b
}

// Recycle hands a no longer needed buffer back for the next Scratch call.
func (s *State) Recycle(b []float64) {
	switch {
	case s.spare == nil || cap(b) > cap(s.spare):
		s.spare, s.spare2 = b, s.spare
	case s.spare2 == nil || cap(b) > cap(s.spare2):
		s.spare2 = b
	}
}

// grow returns b resized to n values, or a new zeroed slice where b is
// too short; a new one large enough holds huge pages (internal/hugepage:
// a layer's map streams its planes a row at a time, and with 4 KB pages
// the TLB misses cost about 5 % of the depth-3 CNN NTK at 28×28).
func grow(b []float64, n int) []float64 {
	if cap(b) >= n {
		return b[:n]
	}
	return hugepage.Floats(n)
}

// SelfVariances copies the diagonal of each pair's K into V1 and V2: for a
// block of pairs (x, x) the variances are the diagonal of the covariance.
// For a slab the diagonal entry of position (g, t) is that of (e, t).
func (s *State) SelfVariances() {
	p, c := s.P(), s.Cols()
	hw := s.H * s.W
	if len(s.OuterA) > 0 {
		for a := 0; a < s.Pairs; a++ {
			for q := 0; q < p; q++ {
				v := s.OuterA[a][q] * s.OuterB[a][q]
				s.V1[a*p+q], s.V2[a*p+q] = v, v
			}
		}
		return
	}
	for a := 0; a < s.Pairs; a++ {
		k := s.K[a*p*c:]
		for q := 0; q < p; q++ {
			d := q
			if s.Slab {
				d = q % hw
			}
			v := k[d*c+d]
			s.V1[a*p+q] = v
			s.V2[a*p+q] = v
		}
	}
}

// Check validates the internal consistency of the state.
func (s *State) Check() error {
	p, c := s.P(), s.Cols()
	if s.Pairs < 0 || p <= 0 {
		return fmt.Errorf("kernel state: %d pairs on a %dx%dx%d grid", s.Pairs, s.G, s.H, s.W)
	}
	if len(s.K) != s.Pairs*p*c || len(s.V1) != s.Pairs*p || len(s.V2) != s.Pairs*p {
		return fmt.Errorf("kernel state: buffers of %d/%d/%d values for %d pairs of %d positions", len(s.K), len(s.V1), len(s.V2), s.Pairs, p)
	}
	if s.NTK && len(s.Theta) != len(s.K) {
		return fmt.Errorf("kernel state: Theta has %d values, K %d", len(s.Theta), len(s.K))
	}
	return nil
}

// Affine applies the kernel map of a dense or convolutional layer with
// weight standard deviation wStd and bias standard deviation bStd after its
// linear operator has been applied to K and Theta: K' = w^2 K + b^2,
// Theta' = K' + w^2 Theta (neural-tangents' Dense, NTK parametrisation).
//
// Layers never update V1 and V2: the driver sets them before every layer
// from the variances it recorded for each input.
func (s *State) Affine(wStd, bStd float64) {
	var t []float64
	if s.NTK {
		t = s.Theta
	}
	affineRow(s.K, t, wStd*wStd, wStd*wStd, bStd*bStd)
}

// affineRow applies K' = w2 k + b2 and Theta' = K' + tw2 Theta to a run of
// entries (t nil: NNGP only). Affine and the fused convolution share it,
// so both give the same bits.
func affineRow(k, t []float64, w2, tw2, b2 float64) {
	if t == nil {
		for i, v := range k {
			k[i] = float64(w2*v) + b2
		}
		return
	}
	t = t[:len(k)]
	for i, v := range k {
		kn := float64(w2*v) + b2
		k[i] = kn
		t[i] = kn + float64(tw2*t[i])
	}
}

// writeOuter writes the planes of K from OuterA and OuterB (for maps that
// read the planes themselves) and resets them.
func (s *State) writeOuter() {
	p := s.P()
	for a := 0; a < s.Pairs; a++ {
		for q := 0; q < p; q++ {
			outerRow(s.K[(a*p+q)*p:][:p], s.OuterA[a][q], s.OuterB[a])
		}
	}
	s.OuterA, s.OuterB = s.OuterA[:0], s.OuterB[:0]
}

// outerRow sets dst = x·y, each product rounded once, zeros as +0: the
// bits of a product over one channel (internal/gemm: a fused
// multiply-add onto zero).
func outerRow(dst []float64, x float64, y []float64) {
	vec.ScaleF64(dst, y, x)
}

// outerCache holds the rows of K that convSeparable generated from
// OuterA and OuterB for the pair at hand: the first pass of a position
// reads the rows of three neighbouring positions, of which the next
// position reads two again, so four rows, the least recently used
// replaced, are generated about once each, and the three rows one first
// pass reads are never replaced while it reads them, in any order of
// positions.
type outerCache struct {
	rows [4][]float64
	pos  [4]int // the position of each row, -1: none
	used [4]int // when each row was last returned
	now  int
}

// reset empties the cache for rows of n values.
func (c *outerCache) reset(n int) {
	for i := range c.rows {
		c.rows[i] = grow(c.rows[i], n)
		c.pos[i], c.used[i] = -1, 0
	}
	c.now = 0
}

// row returns the row of position q of pair a.
func (c *outerCache) row(s *State, a, q int) []float64 {
	c.now++
	lru := 0
	for i, p := range c.pos {
		if p == q {
			c.used[i] = c.now
			return c.rows[i]
		}
		if c.used[i] < c.used[lru] {
			lru = i
		}
	}
	outerRow(c.rows[lru], s.OuterA[a][q], s.OuterB[a])
	c.pos[lru], c.used[lru] = q, c.now
	return c.rows[lru]
}
