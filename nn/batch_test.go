package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBatch checks that the batched program of an ensemble computes, for
// every member, bit for bit the outputs and gradients of the member's own
// Forward and Backward, with members left out of a pass and batches of
// different sizes.
func TestBatch(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"dense(16),relu,dense(8),tanh,dense(3)", []int{10}},
		{"conv(8,k=3,b_std=0.1),relu,conv(6,k=3),relu,globalavgpool,dense(3)", []int{2, 28, 28}},
		{"lift(c4,4,k=3,b_std=0.1),relu,gconv(3,k=3),relu,gpool,dense(3)", []int{1, 12, 12}},
	} {
		t.Run(tc.spec, func(t *testing.T) { testBatch(t, tc.spec, tc.shape) })
	}
}

func testBatch(t *testing.T, spec string, shape []int) {
	a, err := Parse(spec, shape, Standard)
	if err != nil {
		t.Fatal(err)
	}
	ns := []int{40, 17, 40, 3, 40}
	skipBackward := 3
	rng := rand.New(rand.NewPCG(7, 7))
	xs, dys := make([][]float32, len(ns)), make([][]float32, len(ns))
	for m, n := range ns {
		xs[m] = randVec32(rng, n*a.InputSize())
		dys[m] = randVec32(rng, n*a.OutputDim())
	}
	alone := func(m int) ([]float32, []float32) {
		net := New[float32](a)
		net.Init(uint64(m))
		y := slices.Clone(net.Forward(xs[m], ns[m]))
		if m != skipBackward {
			net.Backward(dys[m])
		}
		return y, net.Grads
	}
	nets := make([]*Network[float32], len(ns))
	for m := range nets {
		nets[m] = New[float32](a)
		nets[m].Init(uint64(m))
	}
	b, err := NewBatch(nets)
	if err != nil {
		t.Fatal(err)
	}
	ys := b.Forward(xs, ns)
	bdys := slices.Clone(dys)
	bdys[skipBackward] = nil
	b.Backward(bdys)
	for m := range ns {
		y, g := alone(m)
		if !slices.Equal(ys[m], y) {
			t.Errorf("member %d: batched outputs differ from the member's own", m)
		}
		if !slices.Equal(nets[m].Grads, g) {
			t.Errorf("member %d: batched gradients differ from the member's own", m)
		}
	}
	other, _ := Parse("dense(4)", shape, Standard)
	if _, err := NewBatch([]*Network[float32]{nets[0], New[float32](other)}); err == nil {
		t.Error("NewBatch accepted members of different architectures")
	}
}

func randVec32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// TestPoolGradFused checks that a convolution doing the work of the global
// average pool after it (nn/convpool.go: poolGrad, poolForward) computes bit
// for bit the outputs and gradients of the separate layers, with and
// without a ReLU between them, for plain and group convolutions, both
// pools and both orders of the pool's sums.
func TestPoolGradFused(t *testing.T) {
	// The pool is the last layer: only the backward pass is fused.
	const plainPooled = "conv(5,k=3,b_std=0.1),relu,gpool"
	for _, tc := range []struct {
		spec string
		hw   int
	}{
		// At 16×16 with 8 values per position the pool sums in 64 lanes
		// (vec.SumRows); at 14×14 (1568 values per sample) row after row.
		{"conv(8,k=3,b_std=0.1),relu,conv(8,k=3,b_std=0.1),relu,globalavgpool,dense(3)", 16},
		{"conv(8,k=3,b_std=0.1),relu,conv(8,k=3,b_std=0.1),relu,globalavgpool,dense(3)", 14},
		{"conv(8,k=3),conv(16,k=3,b_std=0.1),globalavgpool,dense(3)", 16},
		{"lift(c4,4,k=3,b_std=0.1),relu,gconv(2,k=3,b_std=0.1),relu,gpool,dense(3)", 16},
		{"lift(d4,2,k=3),relu,gconv(3,k=3,b_std=0.1),relu,globalavgpool,dense(3)", 17},
		{plainPooled, 14},
	} {
		spec := tc.spec
		t.Run(spec, func(t *testing.T) {
			a, err := Parse(spec, []int{2, tc.hw, tc.hw}, Standard)
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			rng := rand.New(rand.NewPCG(8, 8))
			x, dy := randVec32(rng, n*a.InputSize()), randVec32(rng, n*a.OutputDim())
			grads := func(fuse bool) []float32 {
				net := New[float32](a)
				net.Init(4)
				if !fuse {
					if !slices.Contains(net.pooled, true) {
						t.Fatal("no pool fused")
					}
					if spec != plainPooled && !slices.ContainsFunc(net.poolOut, func(j int) bool { return j > 0 }) {
						t.Fatal("no pool forward fused")
					}
					clear(net.pooled)
					clear(net.poolOut)
					for _, l := range net.layers {
						if c, ok := l.(*convImpl[float32]); ok {
							c.poolR, c.poolFwd = 0, false
						}
					}
				}
				out := slices.Clone(net.Forward(x, n))
				return append(append(out, net.BackwardInput(dy)...), net.Grads...)
			}
			fused, plain := grads(true), grads(false)
			if !slices.Equal(fused, plain) {
				t.Error("outputs or gradients differ")
			}
		})
	}
}
