package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// avgPoolRef is the straightforward average pooling AvgPool replaced, kept
// as the reference: every input entry is added, scaled, into its output
// entry.
func avgPoolRef(s *State, k int) {
	g, h, w := s.G, s.H, s.W
	oh, ow := h/k, w/k
	p, c := s.P(), s.Cols()
	po := g * oh * ow
	co := po
	if s.Slab {
		co = oh * ow
	}
	inv := 1 / float64(k*k*k*k)
	cell := func(q int) int {
		r, rem := q/(h*w), q%(h*w)
		return r*oh*ow + (rem/w/k)*ow + (rem%w)/k
	}
	colCell := make([]int, c)
	for q := range colCell {
		colCell[q] = cell(q)
	}
	apply := func(in []float64) []float64 {
		out := make([]float64, s.Pairs*po*co)
		for a := 0; a < s.Pairs; a++ {
			m := in[a*p*c : (a+1)*p*c]
			o := out[a*po*co : (a+1)*po*co]
			for pi := 0; pi < p; pi++ {
				orow := o[cell(pi)*co : (cell(pi)+1)*co]
				for qi, v := range m[pi*c : (pi+1)*c] {
					orow[colCell[qi]] += v * inv
				}
			}
		}
		return out
	}
	s.K = apply(s.K)
	if s.NTK {
		s.Theta = apply(s.Theta)
	}
	s.H, s.W = oh, ow
}

// TestAvgPool checks the average pooling against the reference to 1e-14
// of the plane's scale (it sums in another order) for plain, group and
// slab states, pools of 2 and 3.
func TestAvgPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct {
		g, h, w, k int
		slab       bool
	}{
		{1, 6, 6, 2, false},
		{1, 6, 9, 3, false},
		{1, 28, 28, 2, false},
		{4, 4, 6, 2, false},
		{4, 6, 6, 2, true},
		{8, 6, 6, 3, true},
	} {
		name := fmt.Sprintf("%d×%d×%d pool %d slab %v", tc.g, tc.h, tc.w, tc.k, tc.slab)
		op := &ConvOp{InG: tc.g, InH: tc.h, InW: tc.w}
		got := randomState(rng, op, 3, tc.slab)
		want := &State{Pairs: got.Pairs, NTK: true, G: got.G, H: got.H, W: got.W, Slab: got.Slab,
			K: append([]float64(nil), got.K...), Theta: append([]float64(nil), got.Theta...)}
		got.AvgPool(tc.k)
		avgPoolRef(want, tc.k)
		if got.H != want.H || got.W != want.W || len(got.K) != len(want.K) || len(got.V1) != got.Pairs*got.P() {
			t.Fatalf("%s: %dx%d, %d values, %d variances; want %dx%d, %d values", name, got.H, got.W, len(got.K), len(got.V1), want.H, want.W, len(want.K))
		}
		closePlanes(t, name+": K", got.K, want.K, 1e-14)
		closePlanes(t, name+": Theta", got.Theta, want.Theta, 1e-14)
	}
}

// BenchmarkAvgPool times the 2×2 average pooling of one pair's 28×28 K
// and Theta planes against the reference in the same run.
func BenchmarkAvgPool(b *testing.B) {
	rng := rand.New(rand.NewPCG(23, 24))
	src := randomState(rng, &ConvOp{InG: 1, InH: 28, InW: 28}, 1, false)
	for _, ref := range []bool{false, true} {
		name := "fast"
		if ref {
			name = "reference"
		}
		b.Run(name, func(b *testing.B) {
			s := &State{}
			for b.Loop() {
				b.StopTimer()
				*s = State{Pairs: 1, NTK: true, G: 1, H: 28, W: 28, K: append(s.K[:0], src.K...), Theta: append(s.Theta[:0], src.Theta...)}
				b.StartTimer()
				if ref {
					avgPoolRef(s, 2)
				} else {
					s.AvgPool(2)
				}
			}
		})
	}
}

// TestConvAffineReLUPool checks the fused convolution, rectifier and 2×2
// pooling against ConvAffineReLU followed by AvgPool(2), and the fused
// global pooling against ConvAffineReLU followed by SpatialMean, bit for
// bit, K and Theta or K alone, on grids from 4×4 to 28×28 (strips of the
// traversal end inside and at the end of lines), and the operators they
// refuse.
func TestConvAffineReLUPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, tc := range []struct {
		h, w int
		ntk  bool
	}{
		{4, 4, true}, {6, 10, true}, {8, 18, false}, {14, 14, true}, {28, 28, true}, {28, 28, false},
	} {
		name := fmt.Sprintf("%dx%d NTK %v", tc.h, tc.w, tc.ntk)
		op := plainConvOp(3, Same, tc.h, tc.w)
		base := gramState(rng, op, 2, false)
		base.NTK = tc.ntk
		if !tc.ntk {
			base.Theta = nil
		}
		vars(base, rng)
		clone := func() *State {
			c := *base
			c.K = append([]float64(nil), base.K...)
			c.Theta = append([]float64(nil), base.Theta...)
			if !tc.ntk {
				c.Theta = nil
			}
			c.V1, c.V2 = append([]float64(nil), base.V1...), append([]float64(nil), base.V2...)
			return &c
		}
		want, got := clone(), clone()
		if err := want.ConvAffineReLU(op, 1.2, 0.1); err != nil {
			t.Fatal(err)
		}
		want.AvgPool(2)
		if err := got.ConvAffineReLUPool(op, 1.2, 0.1); err != nil {
			t.Fatal(err)
		}
		if got.H != want.H || got.W != want.W || len(got.K) != len(want.K) || len(got.V1) != len(want.V1) {
			t.Fatalf("%s: %dx%d, %d values, %d variances; want %dx%d, %d, %d", name, got.H, got.W, len(got.K), len(got.V1), want.H, want.W, len(want.K), len(want.V1))
		}
		sameBits(t, name+": K", got.K, want.K)
		if tc.ntk {
			sameBits(t, name+": Theta", got.Theta, want.Theta)
		}
		// The global average pooling fused the same way.
		want, got = clone(), clone()
		if err := want.ConvAffineReLU(op, 1.2, 0.1); err != nil {
			t.Fatal(err)
		}
		want.SpatialMean()
		if err := got.ConvAffineReLUMean(op, 1.2, 0.1); err != nil {
			t.Fatal(err)
		}
		if got.P() != 1 || len(got.K) != got.Pairs || len(got.V1) != got.Pairs {
			t.Fatalf("%s, global pooling: %d positions, %d values, %d variances for %d pairs", name, got.P(), len(got.K), len(got.V1), got.Pairs)
		}
		sameBits(t, name+": global pooling, K", got.K, want.K)
		if tc.ntk {
			sameBits(t, name+": global pooling, Theta", got.Theta, want.Theta)
		}
	}
	if !plainConvOp(3, Same, 7, 9).CanMeanFused() || plainConvOp(5, Same, 8, 8).CanMeanFused() || exactGroupOp(c4, 1, 8, 8).CanMeanFused() {
		t.Error("CanMeanFused: want odd grids of 3x3 convolutions, not 5x5 convolutions or liftings")
	}
	for _, op := range []*ConvOp{plainConvOp(3, Same, 7, 8), plainConvOp(3, Valid, 8, 8), plainConvOp(5, Same, 8, 8), exactGroupOp(c4, 1, 8, 8)} {
		if op.CanPoolFused() {
			t.Errorf("%dx%d, %v padding, k=%d, %d outputs: fused pooling accepted", op.OutH, op.OutW, op.Pad, op.K, op.OutG)
		}
	}
}

// vars sets the state's variances for the pairs to the diagonals of
// positive planes, as the driver's tapes would be.
func vars(s *State, rng *rand.Rand) {
	p := s.H * s.W
	s.V1, s.V2 = make([]float64, s.Pairs*p), make([]float64, s.Pairs*p)
	for i := range s.V1 {
		s.V1[i] = 1 + rng.Float64()
		s.V2[i] = 1 + rng.Float64()
	}
}

// TestThetaZero checks that a state marked ThetaZero, whose Theta holds
// NaNs, gives the bits of the state with Theta cleared through every
// convolution map: separable ones read zero rows, the others clear the
// plane; and that the mark is reset.
func TestThetaZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, tc := range []struct {
		name string
		op   *ConvOp
		run  func(s *State, op *ConvOp) error
	}{
		{"3x3 ConvAffineReLU", plainConvOp(3, Same, 8, 8), func(s *State, op *ConvOp) error { return s.ConvAffineReLU(op, 1.1, 0.1) }},
		{"3x3 ConvAffine", plainConvOp(3, Same, 7, 9), func(s *State, op *ConvOp) error { return s.ConvAffine(op, 1.1, 0.1) }},
		{"3x3 Conv", plainConvOp(3, Same, 6, 6), func(s *State, op *ConvOp) error { return s.Conv(op) }},
		{"3x3 pooled", plainConvOp(3, Same, 8, 8), func(s *State, op *ConvOp) error { return s.ConvAffineReLUPool(op, 1.1, 0.1) }},
		{"3x3 global mean", plainConvOp(3, Same, 8, 8), func(s *State, op *ConvOp) error { return s.ConvAffineReLUMean(op, 1.1, 0.1) }},
		{"5x5 (general map)", plainConvOp(5, Same, 8, 8), func(s *State, op *ConvOp) error { return s.ConvAffineReLU(op, 1.1, 0.1) }},
		{"C4 lifting", exactGroupOp(c4, 1, 6, 6), func(s *State, op *ConvOp) error { return s.ConvAffineReLU(op, 1.1, 0.1) }},
	} {
		want := gramState(rng, tc.op, 2, false)
		clear(want.Theta)
		vars(want, rng)
		pout := tc.op.OutG * tc.op.OutH * tc.op.OutW
		for len(want.V1) < want.Pairs*pout {
			want.V1, want.V2 = append(want.V1, want.V1...), append(want.V2, want.V2...)
		}
		got := *want
		got.K = append([]float64(nil), want.K...)
		got.Theta = make([]float64, len(want.Theta))
		for i := range got.Theta {
			got.Theta[i] = math.NaN()
		}
		got.V1, got.V2 = append([]float64(nil), want.V1...), append([]float64(nil), want.V2...)
		got.ThetaZero = true
		if err := tc.run(want, tc.op); err != nil {
			t.Fatal(err)
		}
		if err := tc.run(&got, tc.op); err != nil {
			t.Fatal(err)
		}
		sameBits(t, tc.name+": K", got.K, want.K)
		sameBits(t, tc.name+": Theta", got.Theta, want.Theta)
		if got.ThetaZero {
			t.Errorf("%s: ThetaZero still set", tc.name)
		}
	}
}
