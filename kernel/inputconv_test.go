package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// inputGramState returns the state entering a first layer for the pairs
// (x1[i], x2[j]) (or (x1[i], x1[i]) with diag): K[p,q] = (1/C) Σ_c
// x_c(p) x'_c(q), the plane eqens' driver builds, and Theta = 0.
func inputGramState(op *ConvOp, x1, x2 [][]float64, c int, diag bool) *State {
	pairs := len(x1) * len(x2)
	if diag {
		pairs, x2 = len(x1), x1
	}
	s := &State{Pairs: pairs, NTK: true}
	s.Reshape(1, op.InH, op.InW, false)
	hw := op.InH * op.InW
	for a := range pairs {
		xa, xb := x1[a/len(x2)], x2[a%len(x2)]
		if diag {
			xa, xb = x1[a], x1[a]
		}
		for p := range hw {
			for q := range hw {
				var d float64
				for ch := range c {
					d += xa[ch*hw+p] * xb[ch*hw+q]
				}
				s.K[(a*hw+p)*hw+q] = d / float64(c)
			}
		}
	}
	clear(s.Theta)
	return s
}

// selfVariances returns each input's variances after op with its affine
// map, by the reference operator.
func selfVariances(t *testing.T, op *ConvOp, xs [][]float64, c int, wStd, bStd float64) [][]float64 {
	t.Helper()
	s := inputGramState(op, xs, nil, c, true)
	if err := s.ConvAffine(op, wStd, bStd); err != nil {
		t.Fatal(err)
	}
	return pairVariances(s)
}

// pairVariances returns the variances of each self pair of s, from the
// diagonals of its planes.
func pairVariances(s *State) [][]float64 {
	s.SelfVariances()
	p := s.P()
	out := make([][]float64, s.Pairs)
	for i := range out {
		out[i] = slices.Clone(s.V1[i*p : (i+1)*p])
	}
	return out
}

// inputVariances returns each input's variances after op with its affine
// map, by InputConv.
func inputVariances(t *testing.T, op *ConvOp, ps []*Patches, wStd, bStd float64) [][]float64 {
	t.Helper()
	s := &State{NTK: true}
	if err := s.InputConv(op, ps, nil, true, wStd, bStd, false); err != nil {
		t.Fatal(err)
	}
	return pairVariances(s)
}

// setVariances loads the variances of the pairs (i, j) as the driver does.
func setVariances(s *State, v1, v2 [][]float64, diag bool) {
	if diag {
		v2 = v1
	}
	s.V1, s.V2 = s.V1[:0], s.V2[:0]
	for a := range s.Pairs {
		i, j := a/len(v2), a%len(v2)
		if diag {
			i, j = a, a
		}
		s.V1 = append(s.V1, v1[i]...)
		s.V2 = append(s.V2, v2[j]...)
	}
}

// TestInputConv checks the first convolution from the inputs' patches
// against the covariance plane followed by the convolution operator (and
// its affine and rectifier maps) to 1e-13 of the plane's scale — they sum
// in another order — for plain convolutions with every padding, several
// channels, exact C4 and D4 liftings (slab outputs), operators with
// several weighted taps per base index (interpolated liftings) and
// separate column taps, for cross pairs and self pairs, K and Theta.
func TestInputConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	withCols := randomConvOp(rng, 3, Same, 1, 1, 6, 6, false, false)
	withCols.Cols = make([][]Tap, withCols.Base)
	for b := range withCols.Cols {
		withCols.Cols[b] = []Tap{{DI: int32(rng.IntN(3) - 1), DJ: int32(rng.IntN(3) - 1), W: rng.NormFloat64()}}
	}
	for _, tc := range []struct {
		name string
		op   *ConvOp
		c    int
	}{
		{"3x3 same", plainConvOp(3, Same, 8, 7), 1},
		{"3x3 same, 3 channels", plainConvOp(3, Same, 6, 6), 3},
		{"3x3 valid", plainConvOp(3, Valid, 9, 8), 2},
		{"5x5 circular", plainConvOp(5, Circular, 7, 7), 1},
		{"7x7 valid to 1x1", plainConvOp(7, Valid, 7, 7), 1},
		{"C4 lifting", exactGroupOp(c4, 1, 6, 6), 1},
		{"D4 lifting, 2 channels", exactGroupOp(d4, 1, 5, 5), 2},
		{"weighted taps, 3 outputs", randomConvOp(rng, 3, Same, 1, 3, 6, 5, false, false), 1},
		{"weighted taps, slab", randomConvOp(rng, 3, Same, 1, 2, 5, 5, false, true), 2},
		{"column taps", withCols, 1},
	} {
		op := tc.op
		for _, diag := range []bool{false, true} {
			for _, relu := range []bool{false, true} {
				name := fmt.Sprintf("%s, diag %v, relu %v", tc.name, diag, relu)
				n1, n2 := 2, 3
				x1, x2 := randomImages(rng, n1, tc.c, op), randomImages(rng, n2, tc.c, op)
				const wStd, bStd = 1.3, 0.2
				p1, p2 := patches(t, op, x1, tc.c), patches(t, op, x2, tc.c)
				var g1, g2 [][]float64
				got := &State{NTK: true}
				if relu {
					g1, g2 = inputVariances(t, op, p1, wStd, bStd), inputVariances(t, op, p2, wStd, bStd)
					got.Pairs = len(x1) * len(x2)
					if diag {
						got.Pairs = len(x1)
					}
					setVariances(got, g1, g2, diag)
				}
				if err := got.InputConv(op, p1, p2, diag, wStd, bStd, relu); err != nil {
					t.Fatal(err)
				}
				if relu {
					// Where the correlation is ±1 (a self pair's own positions,
					// positions whose patches hold one pixel) the rectifier's
					// map turns the last bit of K into 1e-8, so another
					// summation order shows there: the fused map must give
					// the bits of InputConv and ReLU, whose linear part the
					// cases without relu compare with the reference.
					want := &State{NTK: true}
					if err := want.InputConv(op, p1, p2, diag, wStd, bStd, false); err != nil {
						t.Fatal(err)
					}
					setVariances(want, g1, g2, diag)
					want.ReLU()
					sameBits(t, name+": K", got.K, want.K)
					sameBits(t, name+": Theta", got.Theta, want.Theta)
					continue
				}
				want := inputGramState(op, x1, x2, tc.c, diag)
				if err := want.ConvAffine(op, wStd, bStd); err != nil {
					t.Fatal(err)
				}
				if got.G != want.G || got.H != want.H || got.W != want.W || got.Slab != want.Slab || len(got.K) != len(want.K) {
					t.Fatalf("%s: grid %dx%dx%d slab %v, %d values; reference %dx%dx%d slab %v, %d values", name,
						got.G, got.H, got.W, got.Slab, len(got.K), want.G, want.H, want.W, want.Slab, len(want.K))
				}
				closePlanes(t, name+": K", got.K, want.K, 1e-13)
				closePlanes(t, name+": Theta", got.Theta, want.Theta, 1e-13)
			}
		}
	}
}

// TestInputConvBlocks checks that the pairs of a block of rows and columns
// get the bits of the same pairs in a larger block and of the self pairs.
func TestInputConvBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	op := plainConvOp(3, Same, 12, 12) // 144 rows: more than one block of inputRows
	xs := randomImages(rng, 4, 1, op)
	ps := patches(t, op, xs, 1)
	whole := &State{NTK: true}
	if err := whole.InputConv(op, ps, ps, false, 1, 0.1, false); err != nil {
		t.Fatal(err)
	}
	plane := len(whole.K) / whole.Pairs
	part := &State{NTK: true}
	if err := part.InputConv(op, ps[1:3], ps[2:3], false, 1, 0.1, false); err != nil {
		t.Fatal(err)
	}
	self := &State{NTK: true}
	if err := self.InputConv(op, ps, nil, true, 1, 0.1, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got       []float64
		wholePair int
	}{
		{"pair (1,2) of a block", part.K[:plane], 1*4 + 2},
		{"pair (2,2) of a block", part.K[plane : 2*plane], 2*4 + 2},
		{"self pair 3", self.K[3*plane : 4*plane], 3*4 + 3},
		{"self pair 3, Theta", self.Theta[3*plane : 4*plane], -(3*4 + 3) - 1},
	} {
		var want []float64
		if c.wholePair >= 0 {
			want = whole.K[c.wholePair*plane : (c.wholePair+1)*plane]
		} else {
			a := -c.wholePair - 1
			want = whole.Theta[a*plane : (a+1)*plane]
		}
		sameBits(t, c.name, c.got, want)
	}
}

// TestInputConvErrors checks the refusals: group-feature inputs, inputs of
// the wrong size, a rectifier without variances.
func TestInputConvErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	op := plainConvOp(3, Same, 5, 5)
	if _, err := op.Patches(make([]float64, 24), 1); err == nil {
		t.Error("patches of 24 values on a 5x5 grid")
	}
	g := exactGroupOp(c4, 4, 5, 5)
	if g.InputOp() {
		t.Error("a group convolution is an input operator")
	}
	if _, err := g.Patches(make([]float64, 25), 1); err == nil {
		t.Error("patches for a group convolution")
	}
	ps := patches(t, op, randomImages(rng, 2, 1, op), 1)
	s := &State{NTK: true}
	if err := s.InputConv(op, ps, ps, false, 1, 0, true); err == nil {
		t.Error("fused rectifier ran without variances")
	}
}

func randomImages(rng *rand.Rand, n, c int, op *ConvOp) [][]float64 {
	xs := make([][]float64, n)
	for i := range xs {
		xs[i] = make([]float64, c*op.InH*op.InW)
		for j := range xs[i] {
			xs[i][j] = rng.NormFloat64()
		}
	}
	return xs
}

func patches(t *testing.T, op *ConvOp, xs [][]float64, c int) []*Patches {
	t.Helper()
	out := make([]*Patches, len(xs))
	for i, x := range xs {
		p, err := op.Patches(x, c)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = p
	}
	return out
}
