package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refConvApply is the straightforward operator the fast convApply
// replaced, kept as the reference: for every term (b, e1, e2) it sweeps the
// whole output plane.
func refConvApply(s *State, op *ConvOp, in, out []float64, pin, cin, pout, cout int) {
	clear(out)
	hwIn := op.InH * op.InW
	hwOut := op.OutH * op.OutW
	org := op.Origin()
	norm := 1 / float64(op.Base)
	outCols := op.OutG
	if op.Slab {
		outCols = 1
	}
	inSlab := cin != pin
	for a := 0; a < s.Pairs; a++ {
		kin := in[a*pin*cin : (a+1)*pin*cin]
		kout := out[a*pout*cout : (a+1)*pout*cout]
		for r := 0; r < op.OutG; r++ {
			for r2 := 0; r2 < outCols; r2++ {
				for b := 0; b < op.Base; b++ {
					for _, e1 := range op.Taps[r][b] {
						for _, e2 := range op.colTaps(r2)[b] {
							w := norm * e1.W * e2.W
							rb, cb := int(e1.S), int(e2.S)
							if inSlab {
								rb, cb = int(op.Rel[rb][cb]), 0
							}
							refShiftAdd(op, kin, kout, rb, cb, r, r2, e1, e2, w, org, hwIn, hwOut, cin, cout)
						}
					}
				}
			}
		}
	}
}

func refShiftAdd(op *ConvOp, in, out []float64, rb, cb, r, r2 int, e1, e2 Tap, w float64, org, hwIn, hwOut, cin, cout int) {
	inW, outW := op.InW, op.OutW
	for ti := 0; ti < op.OutH; ti++ {
		ii := inIndex(ti, int(e1.DI)+org, op.InH, op.Pad)
		if ii < 0 {
			continue
		}
		for tj := 0; tj < outW; tj++ {
			ij := inIndex(tj, int(e1.DJ)+org, inW, op.Pad)
			if ij < 0 {
				continue
			}
			rowIn := in[(rb*hwIn+ii*inW+ij)*cin+cb*hwIn:]
			rowOut := out[(r*hwOut+ti*outW+tj)*cout+r2*hwOut:]
			for ti2 := 0; ti2 < op.OutH; ti2++ {
				ii2 := inIndex(ti2, int(e2.DI)+org, op.InH, op.Pad)
				if ii2 < 0 {
					continue
				}
				src := rowIn[ii2*inW:]
				dst := rowOut[ti2*outW : (ti2+1)*outW]
				dj := int(e2.DJ) + org
				if op.Pad == Circular {
					for tj2 := range dst {
						dst[tj2] += float64(w * src[inIndex(tj2, dj, inW, Circular)])
					}
					continue
				}
				lo, hi := max(0, -dj), min(outW, inW-dj)
				if lo >= hi {
					continue
				}
				d := dst[lo:hi]
				sv := src[lo+dj : hi+dj]
				for k := range d {
					d[k] += float64(w * sv[k])
				}
			}
		}
	}
}

// plainConvOp returns the operator of a k×k convolution on h×w images.
func plainConvOp(k int, pad Padding, h, w int) *ConvOp {
	op := &ConvOp{K: k, Pad: pad, InG: 1, OutG: 1, InH: h, InW: w, OutH: h, OutW: w, Base: k * k}
	if pad == Valid {
		op.OutH, op.OutW = h-k+1, w-k+1
	}
	c := (k - 1) / 2
	op.Taps = [][][]Tap{make([][]Tap, k*k)}
	for b := range k * k {
		op.Taps[0][b] = []Tap{{DI: int32(b/k - c), DJ: int32(b%k - c), W: 1}}
	}
	return op
}

// randomConvOp returns an operator with random taps (several per base
// index, random weights and group indices): the operator is linear in its
// taps, so agreement on random ones covers rotated and interpolated filters.
func randomConvOp(rng *rand.Rand, k int, pad Padding, inG, outG, h, w int, slabIn, slabOut bool) *ConvOp {
	op := plainConvOp(k, pad, h, w)
	op.InG, op.OutG, op.Slab = inG, outG, slabOut
	op.Base = 2 + rng.IntN(5)
	c := (k - 1) / 2
	op.Taps = make([][][]Tap, outG)
	for r := range op.Taps {
		op.Taps[r] = make([][]Tap, op.Base)
		for b := range op.Taps[r] {
			for range 1 + rng.IntN(4) {
				op.Taps[r][b] = append(op.Taps[r][b], Tap{
					DI: int32(rng.IntN(k) - c), DJ: int32(rng.IntN(k) - c),
					S: int32(rng.IntN(inG)), W: rng.NormFloat64(),
				})
			}
		}
	}
	if slabIn {
		op.Rel = make([][]int32, inG)
		for a := range op.Rel {
			op.Rel[a] = make([]int32, inG)
			for b := range op.Rel[a] {
				op.Rel[a][b] = int32((a - b + inG) % inG)
			}
		}
	}
	return op
}

// randomState returns a state on the operator's input grid with random K
// and Theta.
func randomState(rng *rand.Rand, op *ConvOp, pairs int, slab bool) *State {
	s := &State{Pairs: pairs, NTK: true}
	s.Reshape(op.InG, op.InH, op.InW, slab)
	for i := range s.K {
		s.K[i] = rng.NormFloat64()
		s.Theta[i] = rng.NormFloat64()
	}
	return s
}

// TestConvMatchesReference checks the fast convolution operator against
// the straightforward one, bit for bit (both add the terms of every output
// entry in the same order), for every padding, filter size, plain, group
// and slab operators.
func TestConvMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type tc struct {
		name string
		op   *ConvOp
		slab bool
	}
	var cases []tc
	for _, pad := range []Padding{Same, Valid, Circular} {
		for _, k := range []int{1, 3, 5} {
			for _, hw := range [][2]int{{7, 7}, {6, 9}} {
				name := fmt.Sprintf("%v/k%d/%dx%d", pad, k, hw[0], hw[1])
				cases = append(cases,
					tc{"plain/" + name, plainConvOp(k, pad, hw[0], hw[1]), false},
					tc{"lift/" + name, randomConvOp(rng, k, pad, 1, 4, hw[0], hw[1], false, true), false},
					tc{"gconv-slab/" + name, randomConvOp(rng, k, pad, 4, 4, hw[0], hw[1], true, true), true},
					tc{"gconv-full/" + name, randomConvOp(rng, k, pad, 3, 5, hw[0], hw[1], false, false), false},
					tc{"slab-to-full/" + name, randomConvOp(rng, k, pad, 4, 4, hw[0], hw[1], true, false), true},
				)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := randomState(rng, c.op, 2, c.slab)
			pin, cin := s.P(), s.Cols()
			pout := c.op.OutG * c.op.OutH * c.op.OutW
			cout := pout
			if c.op.Slab {
				cout = c.op.OutH * c.op.OutW
			}
			wantK := make([]float64, s.Pairs*pout*cout)
			wantT := make([]float64, len(wantK))
			refConvApply(s, c.op, s.K, wantK, pin, cin, pout, cout)
			refConvApply(s, c.op, s.Theta, wantT, pin, cin, pout, cout)
			// The unfused operator on K alone, then the fused one with the
			// affine map on K and Theta together.
			got := make([]float64, len(wantK))
			for i := range got {
				got[i] = math.NaN() // convApply must overwrite every entry
			}
			dim := convDims{pin, cin, pout, cout}
			s.convApply(c.op, s.K, got, nil, nil, dim, nil)
			sameBits(t, "K", got, wantK)
			ref := &State{Pairs: s.Pairs, NTK: true, K: wantK, Theta: wantT}
			w, b := 1.3, 0.2 // variables: a constant product would be exact
			ref.Affine(w, b)
			gotT := make([]float64, len(wantK))
			s.convApply(c.op, s.K, got, s.Theta, gotT, dim, &affine{w2: w * w, b2: b * b})
			sameBits(t, "K after the affine map", got, ref.K)
			sameBits(t, "Theta after the affine map", gotT, ref.Theta)
		})
	}
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s, entry %d: %v, reference %v", what, i, got[i], want[i])
		}
	}
}

// TestConvAffineState checks State.ConvAffine against State.Conv followed
// by State.Affine, bit for bit, with and without Theta, and that the state
// takes the operator's output grid.
func TestConvAffineState(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, ntk := range []bool{true, false} {
		op := randomConvOp(rng, 3, Same, 4, 4, 5, 6, true, true)
		a := randomState(rng, op, 3, true)
		a.NTK = ntk
		b := &State{Pairs: a.Pairs, NTK: ntk, G: a.G, H: a.H, W: a.W, Slab: a.Slab,
			K: append([]float64(nil), a.K...), Theta: append([]float64(nil), a.Theta...),
			V1: append([]float64(nil), a.V1...), V2: append([]float64(nil), a.V2...)}
		if err := a.ConvAffine(op, 1.7, 0.3); err != nil {
			t.Fatal(err)
		}
		if err := b.Conv(op); err != nil {
			t.Fatal(err)
		}
		b.Affine(1.7, 0.3)
		if err := a.Check(); err != nil {
			t.Fatal(err)
		}
		sameBits(t, "K", a.K, b.K)
		if ntk {
			sameBits(t, "Theta", a.Theta, b.Theta)
		}
		if a.G != 4 || a.H != 5 || a.W != 6 || !a.Slab {
			t.Errorf("grid %dx%dx%d slab %v after the operator", a.G, a.H, a.W, a.Slab)
		}
	}
}

// TestConvAffineReLUState checks the fused convolution, affine map and
// rectifier against the three calls, bit for bit, for plain, slab and
// full group operators, with and without Theta, on positive semi-definite
// states (random Gram matrices of the positions), whose variances are the
// diagonals.
func TestConvAffineReLUState(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, tc := range []struct {
		op   *ConvOp
		slab bool
	}{
		{plainConvOp(3, Same, 5, 6), false},
		{plainConvOp(3, Valid, 6, 6), false},
		{randomConvOp(rng, 3, Same, 4, 4, 5, 5, true, true), true},
		{randomConvOp(rng, 3, Circular, 2, 3, 4, 5, false, false), false},
		// Separable maps large enough for the fused vector kernels.
		{plainConvOp(3, Same, 16, 16), false},
		{plainConvOp(3, Same, 28, 28), false},
		{plainConvOp(3, Same, 8, 12), false},
		{exactGroupOp(c4, 1, 16, 16), false},
		{exactGroupOp(d4, 8, 16, 8), true},
		{exactGroupOp(c4, 4, 12, 16), true},
	} {
		if tc.op.OutH >= 8 && separablePlan(tc.op, tc.slab) == nil {
			t.Fatalf("%dx%d operator: no separable form, the fused kernels are not reached", tc.op.OutH, tc.op.OutW)
		}
		for _, ntk := range []bool{true, false} {
			a := gramState(rng, tc.op, 2, tc.slab)
			a.NTK = ntk
			b := &State{Pairs: a.Pairs, NTK: ntk, G: a.G, H: a.H, W: a.W, Slab: a.Slab,
				K: append([]float64(nil), a.K...), Theta: append([]float64(nil), a.Theta...)}
			if err := b.ConvAffine(tc.op, 1.3, 0.1); err != nil {
				t.Fatal(err)
			}
			// The variances of the output positions: positive numbers as
			// the driver takes them from the inputs' own kernels.
			pout := tc.op.OutG * tc.op.OutH * tc.op.OutW
			a.V1, a.V2 = make([]float64, a.Pairs*pout), make([]float64, a.Pairs*pout)
			for i := range a.V1 {
				a.V1[i], a.V2[i] = 1+rng.Float64(), 1+rng.Float64()
			}
			b.V1, b.V2 = append([]float64(nil), a.V1...), append([]float64(nil), a.V2...)
			b.ReLU()
			if err := a.ConvAffineReLU(tc.op, 1.3, 0.1); err != nil {
				t.Fatal(err)
			}
			sameBits(t, "K", a.K, b.K)
			if ntk {
				sameBits(t, "Theta", a.Theta, b.Theta)
			}
		}
	}
	// Without the output variances it refuses.
	op := plainConvOp(3, Same, 4, 4)
	s := randomState(rng, op, 1, false)
	s.V1, s.V2 = nil, nil
	if err := s.ConvAffineReLU(op, 1, 0); err == nil {
		t.Error("ConvAffineReLU ran without variances")
	}
}

// gramState returns a state whose K and Theta are Gram matrices of random
// position vectors (positive semi-definite, as real kernel states).
func gramState(rng *rand.Rand, op *ConvOp, pairs int, slab bool) *State {
	s := &State{Pairs: pairs, NTK: true}
	s.Reshape(op.InG, op.InH, op.InW, slab)
	p, c := s.P(), s.Cols()
	for _, m := range [][]float64{s.K, s.Theta} {
		for a := 0; a < pairs; a++ {
			vecs := make([][]float64, p)
			for i := range vecs {
				vecs[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
			}
			for i := 0; i < p; i++ {
				for j := 0; j < c; j++ {
					var d float64
					for k := range vecs[i] {
						d += vecs[i][k] * vecs[j][k]
					}
					m[(a*p+i)*c+j] = d
				}
			}
		}
	}
	return s
}

// BenchmarkConv times the convolution map of a 3×3 same-padded
// convolution with its affine map on 14×14 and 28×28 positions (one pair, K
// and Theta): the fused operator against the reference sweep plus Affine in
// the same run.
func BenchmarkConv(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, hw := range []int{14, 28} {
		op := plainConvOp(3, Same, hw, hw)
		s := randomState(rng, op, 1, false)
		p := s.P()
		k, t := make([]float64, p*p), make([]float64, p*p)
		b.Run(fmt.Sprintf("fast/%dx%d", hw, hw), func(b *testing.B) {
			for range b.N {
				s.convApply(op, s.K, k, s.Theta, t, convDims{p, p, p, p}, &affine{w2: 1, b2: 0.01})
			}
		})
		b.Run(fmt.Sprintf("separable/%dx%d", hw, hw), func(b *testing.B) {
			pl := separablePlan(op, false)
			for range b.N {
				s.convSeparable(pl, op, s.K, k, s.Theta, t, convDims{p, p, p, p}, &affine{w2: 1, b2: 0.01})
			}
		})
		b.Run(fmt.Sprintf("reference/%dx%d", hw, hw), func(b *testing.B) {
			r := &State{Pairs: 1, NTK: true, K: k, Theta: t}
			for range b.N {
				refConvApply(s, op, s.K, k, p, p, p, p)
				refConvApply(s, op, s.Theta, t, p, p, p, p)
				r.Affine(1, 0.1)
			}
		})
	}
}

// exactGroupOp returns the operator of an exact 3×3 same-padded lifting
// (inG = 1) or slab group convolution (inG = len(rots)) whose output group
// element r rotates or reflects the filter by rots[r] (signed permutations
// of the axes, rots[0] the identity), as nn builds them for C4 and D4.
func exactGroupOp(rots [][2][2]int32, inG, h, w int) *ConvOp {
	g := len(rots)
	op := &ConvOp{K: 3, Pad: Same, InG: inG, OutG: g, InH: h, InW: w, OutH: h, OutW: w, Base: 9, Slab: true}
	op.Taps = make([][][]Tap, g)
	for r, m := range rots {
		op.Taps[r] = make([][]Tap, 9)
		for b := range 9 {
			di, dj := int32(b/3-1), int32(b%3-1)
			s := int32(0)
			if inG > 1 {
				s = int32(r)
			}
			op.Taps[r][b] = []Tap{{DI: m[0][0]*di + m[0][1]*dj, DJ: m[1][0]*di + m[1][1]*dj, S: s, W: 1}}
		}
	}
	if inG > 1 {
		op.Rel = make([][]int32, g)
		for a := range op.Rel {
			op.Rel[a] = make([]int32, g)
			for b := range op.Rel[a] {
				op.Rel[a][b] = int32((a - b + g) % g) // a·b^-1 of a cyclic numbering
			}
		}
	}
	return op
}

// c4 and d4 are the signed permutations of C4 and D4 on (row, column).
var (
	c4 = [][2][2]int32{{{1, 0}, {0, 1}}, {{0, -1}, {1, 0}}, {{-1, 0}, {0, -1}}, {{0, 1}, {-1, 0}}}
	d4 = append(append([][2][2]int32{}, c4...), [2][2]int32{{1, 0}, {0, -1}}, [2][2]int32{{0, 1}, {1, 0}},
		[2][2]int32{{-1, 0}, {0, 1}}, [2][2]int32{{0, -1}, {-1, 0}})
)

// TestConvSeparable checks the separable operator of exact 3×3 same-padded
// convolutions, liftings and slab group convolutions against the
// term-by-term reference to 1e-13 of the plane's scale (they sum in
// another order), with and without the affine map, K alone and K with
// Theta; and that operators it cannot take (other sizes, paddings,
// interpolated taps) have no separable form.
func TestConvSeparable(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		name string
		op   *ConvOp
		slab bool
	}{
		{"plain/7x7", plainConvOp(3, Same, 7, 7), false},
		{"plain/5x9", plainConvOp(3, Same, 5, 9), false},
		{"plain/1x2", plainConvOp(3, Same, 1, 2), false},
		{"lift-c4/6x6", exactGroupOp(c4, 1, 6, 6), false},
		{"lift-d4/5x5", exactGroupOp(d4, 1, 5, 5), false},
		{"gconv-c4/6x6", exactGroupOp(c4, 4, 6, 6), true},
		{"gconv-c4/4x7", exactGroupOp(c4, 4, 4, 7), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl := separablePlan(c.op, c.slab)
			if pl == nil {
				t.Fatal("no separable form")
			}
			s := gramState(rng, c.op, 3, c.slab)
			pin, cin := s.P(), s.Cols()
			pout := c.op.OutG * c.op.OutH * c.op.OutW
			cout := pout
			if c.op.Slab {
				cout = c.op.OutH * c.op.OutW
			}
			dim := convDims{pin, cin, pout, cout}
			wantK, wantT := make([]float64, s.Pairs*pout*cout), make([]float64, s.Pairs*pout*cout)
			refConvApply(s, c.op, s.K, wantK, pin, cin, pout, cout)
			refConvApply(s, c.op, s.Theta, wantT, pin, cin, pout, cout)
			got, gotT := make([]float64, len(wantK)), make([]float64, len(wantK))
			for i := range got {
				got[i], gotT[i] = math.NaN(), math.NaN() // every entry must be written
			}
			s.convSeparable(pl, c.op, s.K, got, nil, nil, dim, nil)
			closePlanes(t, "K", got, wantK, 1e-13)
			s.convSeparable(pl, c.op, s.K, got, s.Theta, gotT, dim, nil)
			closePlanes(t, "K with Theta", got, wantK, 1e-13)
			closePlanes(t, "Theta", gotT, wantT, 1e-13)
			ref := &State{Pairs: s.Pairs, NTK: true, K: wantK, Theta: wantT}
			ref.Affine(1.3, 0.2)
			s.convSeparable(pl, c.op, s.K, got, s.Theta, gotT, dim, &affine{w2: 1.3 * 1.3, b2: 0.2 * 0.2})
			closePlanes(t, "K after the affine map", got, ref.K, 1e-13)
			closePlanes(t, "Theta after the affine map", gotT, ref.Theta, 1e-13)
		})
	}
	for name, op := range map[string]*ConvOp{
		"k5":       plainConvOp(5, Same, 7, 7),
		"valid":    plainConvOp(3, Valid, 7, 7),
		"circular": plainConvOp(3, Circular, 7, 7),
		"random":   randomConvOp(rng, 3, Same, 1, 4, 6, 6, false, true),
		"width1":   plainConvOp(3, Same, 4, 1),
	} {
		if separablePlan(op, false) != nil {
			t.Errorf("%s: separable form of an operator that has none", name)
		}
	}
}

// closePlanes fails unless got and want agree to tol times the largest
// magnitude of want.
func closePlanes(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	var scale float64
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= tol*scale) {
			t.Fatalf("%s, entry %d: %v, reference %v (scale %v)", what, i, got[i], want[i], scale)
		}
	}
}

// TestBlockOp checks that the block operators of exact liftings and slab
// group convolutions give, from their input block alone, output block r of
// the whole operator, bit for bit (fused with the affine map, K and
// Theta), and that operators whose blocks read several input blocks have
// none.
func TestBlockOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		name   string
		op     *ConvOp
		slabIn bool
	}{
		{"lift-c4", exactGroupOp(c4, 1, 6, 5), false},
		{"lift-d4", exactGroupOp(d4, 1, 5, 5), false},
		{"gconv-c4", exactGroupOp(c4, 4, 5, 6), true},
		{"lift-random", randomConvOp(rng, 3, Same, 1, 3, 5, 5, false, true), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := gramState(rng, c.op, 2, c.slabIn)
			pin, cin := s.P(), s.Cols()
			whole := &State{Pairs: s.Pairs, NTK: true, G: s.G, H: s.H, W: s.W, Slab: s.Slab,
				K: append([]float64(nil), s.K...), Theta: append([]float64(nil), s.Theta...)}
			if err := whole.ConvAffine(c.op, 1.3, 0.2); err != nil {
				t.Fatal(err)
			}
			hw := c.op.OutH * c.op.OutW
			for r := range c.op.OutG {
				b, in, ok := c.op.BlockOp(r)
				if !ok {
					t.Fatalf("block %d: no block operator", r)
				}
				if want := map[bool]int{false: 0, true: r}[c.slabIn]; in != want {
					t.Fatalf("block %d reads input block %d, want %d", r, in, want)
				}
				sub := &State{Pairs: s.Pairs, NTK: true}
				sub.Reshape(1, c.op.InH, c.op.InW, false)
				n := sub.P() * sub.Cols()
				for a := range s.Pairs {
					off := a*pin*cin + in*n
					copy(sub.K[a*n:(a+1)*n], s.K[off:off+n])
					copy(sub.Theta[a*n:(a+1)*n], s.Theta[off:off+n])
				}
				if err := sub.ConvAffine(b, 1.3, 0.2); err != nil {
					t.Fatal(err)
				}
				for a := range s.Pairs {
					off := a*whole.P()*whole.Cols() + r*hw*hw
					sameBits(t, fmt.Sprintf("block %d K", r), sub.K[a*hw*hw:(a+1)*hw*hw], whole.K[off:off+hw*hw])
					sameBits(t, fmt.Sprintf("block %d Theta", r), sub.Theta[a*hw*hw:(a+1)*hw*hw], whole.Theta[off:off+hw*hw])
				}
			}
		})
	}
	// A slab input whose blocks mix: no block operator.
	op := randomConvOp(rng, 3, Same, 4, 4, 5, 5, true, true)
	if _, _, ok := op.BlockOp(1); ok {
		t.Error("block operator of an operator whose block 1 reads several input blocks")
	}
	if _, _, ok := plainConvOp(3, Same, 5, 5).BlockOp(0); ok {
		t.Error("block operator of a plain convolution")
	}
}

// TestConvPrefetch checks that prefetching the next call's rows, and
// reusing the first-pass rows found for it (sepRun.prefetchNext), leaves
// every bit of ConvAffineReLU and ConvAffine as they are without it, in
// place and not (plain images, a C4 lifting, a D4 slab), K and Theta.
func TestConvPrefetch(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, tc := range []struct {
		op   *ConvOp
		slab bool
	}{
		{plainConvOp(3, Same, 16, 16), false},
		{plainConvOp(3, Same, 9, 20), false},
		{exactGroupOp(c4, 1, 16, 16), false},
		{exactGroupOp(d4, 8, 12, 8), true},
	} {
		for _, relu := range []bool{true, false} {
			base := gramState(rng, tc.op, 2, tc.slab)
			pout := tc.op.OutG * tc.op.OutH * tc.op.OutW
			base.V1, base.V2 = make([]float64, base.Pairs*pout), make([]float64, base.Pairs*pout)
			for i := range base.V1 {
				base.V1[i], base.V2[i] = 1+rng.Float64(), 1+rng.Float64()
			}
			run := func(prefetch bool) *State {
				s := &State{Pairs: base.Pairs, NTK: true, G: base.G, H: base.H, W: base.W, Slab: base.Slab,
					K: append([]float64(nil), base.K...), Theta: append([]float64(nil), base.Theta...),
					V1: append([]float64(nil), base.V1...), V2: append([]float64(nil), base.V2...), prefetchAll: prefetch}
				var err error
				if relu {
					err = s.ConvAffineReLU(tc.op, 1.3, 0.2)
				} else {
					err = s.ConvAffine(tc.op, 1.3, 0.2)
				}
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			a, b := run(true), run(false)
			sameBits(t, "K", a.K, b.K)
			sameBits(t, "Theta", a.Theta, b.Theta)
		}
	}
}

// TestConvAffineFused checks the fused separable operator without the
// rectifier (one vector kernel for both passes and the affine map)
// against Conv followed by Affine on images large enough for the vector
// kernels (plain, C4 lifting, D4 slab): to round-off, since the fused
// operator scales and adds in one fused multiply-add where the two calls
// round twice more (vec.Sum3Affine).
func TestConvAffineFused(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, tc := range []struct {
		op   *ConvOp
		slab bool
	}{
		{plainConvOp(3, Same, 16, 16), false},
		{plainConvOp(3, Same, 28, 28), false},
		{exactGroupOp(c4, 1, 16, 16), false},
		{exactGroupOp(d4, 8, 16, 8), true},
	} {
		for _, ntk := range []bool{true, false} {
			a := gramState(rng, tc.op, 2, tc.slab)
			a.NTK = ntk
			b := &State{Pairs: a.Pairs, NTK: ntk, G: a.G, H: a.H, W: a.W, Slab: a.Slab,
				K: append([]float64(nil), a.K...), Theta: append([]float64(nil), a.Theta...)}
			if err := a.ConvAffine(tc.op, 1.3, 0.1); err != nil {
				t.Fatal(err)
			}
			if err := b.Conv(tc.op); err != nil {
				t.Fatal(err)
			}
			b.Affine(1.3, 0.1)
			closePlanes(t, "K", a.K, b.K, 1e-15)
			if ntk {
				closePlanes(t, "Theta", a.Theta, b.Theta, 1e-15)
			}
		}
	}
}

// TestStepIndex checks the order of a separable map's step table: every
// position of a traversal has its own index, and the positions element
// visits one after the other (strips, then lines, then indices) have
// successive indices.
func TestStepIndex(t *testing.T) {
	for _, c := range [][3]int{{28, 28, sepStrip}, {28, 28, sepPoolStrip}, {5, 9, 4}, {3, 2, 7}, {4, 6, 3}, {6, 1, 7}} {
		outer, inner, strip := c[0], c[1], c[2]
		next := 0
		for i0 := 0; i0 < inner; i0 += strip {
			for o := range outer {
				for i := i0; i < min(i0+strip, inner); i++ {
					if got := stepIndex(o, i, outer, inner, strip); got != next {
						t.Fatalf("%d lines of %d, strips of %d: line %d, index %d at %d, want %d", outer, inner, strip, o, i, got, next)
					}
					next++
				}
			}
		}
		if next != outer*inner {
			t.Fatalf("%d lines of %d: %d steps visited", outer, inner, next)
		}
	}
}
