package nn

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/eqens/eqens/group"
)

// TestKernelBlock checks that every block of a kernel computed on its own
// has the bits of the same block of the whole kernel: for the kernel of
// inputs with themselves (blocks on, above, below and across the
// diagonal) and between two sets, plain and group-averaged, for an MLP
// (GEMM path), a CNN and a C4 GCNN, with and without Theta.
func TestKernelBlock(t *testing.T) {
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 1, 5, 5)
	shape := []int{1, 5, 5}
	archs := []struct {
		spec string
		avg  *group.Rep
	}{
		{"dense(16,b_std=0.1),relu,dense(16),erf,dense(1)", nil},
		{"dense(16,b_std=0.1),relu,dense(1)", rep},
		{"conv(4,k=3,b_std=0.2),relu,conv(4,k=3),relu,globalavgpool,dense(1)", nil},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", nil},
	}
	const n1, n2 = 7, 4
	x1, x2 := randInputs(31, n1, 25), randInputs(32, n2, 25)
	spans := []Span{{0, 7}, {0, 3}, {2, 5}, {3, 7}, {5, 6}, {1, 2}, {6, 7}}
	for _, ac := range archs {
		a, err := Parse(ac.spec, shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []KernelOptions{{NTK: true, Average: ac.avg}, {NTK: false, Average: ac.avg}, {NTK: true, ThetaOnly: true, Average: ac.avg}} {
			ctx := context.Background()
			full, err := a.Kernel(ctx, x1, n1, nil, 0, opts)
			if err != nil {
				t.Fatal(err)
			}
			cross, err := a.Kernel(ctx, x1, n1, x2, n2, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range spans {
				for _, c := range spans {
					b, err := a.KernelBlock(ctx, x1, n1, nil, 0, r, c, opts)
					if err != nil {
						t.Fatal(err)
					}
					checkBlock(t, ac.spec+" sym", full, b, r, c)
					if c.Hi <= n2 {
						b, err := a.KernelBlock(ctx, x1, n1, x2, n2, r, c, opts)
						if err != nil {
							t.Fatal(err)
						}
						checkBlock(t, ac.spec+" cross", cross, b, r, c)
					}
				}
			}
		}
	}
}

func checkBlock(t *testing.T, what string, full, b *KernelResult, r, c Span) {
	t.Helper()
	if b.N1 != r.Len() || b.N2 != c.Len() || (b.K == nil) != (full.K == nil) || (b.Theta == nil) != (full.Theta == nil) {
		t.Fatalf("%s block %v×%v: %d×%d (K %v, Theta %v), want %d×%d", what, r, c, b.N1, b.N2, b.K != nil, b.Theta != nil, r.Len(), c.Len())
	}
	for i := r.Lo; i < r.Hi; i++ {
		for j := c.Lo; j < c.Hi; j++ {
			at, bt := i*full.N2+j, (i-r.Lo)*b.N2+j-c.Lo
			if full.K != nil && math.Float64bits(full.K[at]) != math.Float64bits(b.K[bt]) {
				t.Fatalf("%s block %v×%v: K[%d,%d] = %v, whole kernel %v", what, r, c, i, j, b.K[bt], full.K[at])
			}
			if full.Theta != nil && math.Float64bits(full.Theta[at]) != math.Float64bits(b.Theta[bt]) {
				t.Fatalf("%s block %v×%v: Theta[%d,%d] = %v, whole kernel %v", what, r, c, i, j, b.Theta[bt], full.Theta[at])
			}
		}
	}
}

// TestKernelBlockRejects checks the errors for empty and out-of-range
// blocks.
func TestKernelBlockRejects(t *testing.T) {
	a, err := Parse("dense(8),relu,dense(1)", []int{3}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	x := randInputs(1, 4, 3)
	for _, s := range [][2]Span{{{0, 0}, {0, 4}}, {{0, 5}, {0, 4}}, {{-1, 2}, {0, 4}}, {{0, 4}, {3, 2}}} {
		if _, err := a.KernelBlock(context.Background(), x, 4, nil, 0, s[0], s[1], KernelOptions{}); err == nil {
			t.Errorf("block %v×%v accepted", s[0], s[1])
		}
	}
}

// TestKernelBlockAcrossTiles checks blocks that cut through the engine's
// own tiles (256×256 pairs for an MLP, whose first layer is one matrix
// product per tile): the entries must not depend on how the products are
// cut.
func TestKernelBlockAcrossTiles(t *testing.T) {
	const n = 300
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 1, 8, 8)
	cases := []struct {
		shape []int
		avg   *group.Rep
	}{{[]int{5}, nil}, {[]int{64}, nil}, {[]int{1, 8, 8}, rep}}
	for _, tc := range cases {
		a, err := Parse("dense(32,b_std=0.1),relu,dense(32),relu,dense(1)", tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		x := randInputs(41, n, a.InputSize())
		ctx := context.Background()
		opts := KernelOptions{NTK: true, Average: tc.avg}
		full, err := a.Kernel(ctx, x, n, nil, 0, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range [][2]Span{{{0, 300}, {250, 300}}, {{100, 290}, {3, 299}}, {{255, 258}, {0, 300}}, {{17, 40}, {200, 271}}, {{260, 300}, {260, 300}}, {{0, 64}, {248, 300}}} {
			b, err := a.KernelBlock(ctx, x, n, nil, 0, s[0], s[1], opts)
			if err != nil {
				t.Fatal(err)
			}
			checkBlock(t, fmt.Sprintf("mlp on %v, average %v", tc.shape, tc.avg != nil), full, b, s[0], s[1])
		}
	}
}

// TestKernelBlockChain checks that runs of exact group convolutions and
// rectifiers computed block by block (kernelchain.go) give the bits of the
// layer-by-layer computation, for liftings and group convolutions with
// full and identity support, C4 and D4, a chain that a pooling layer
// interrupts, and blocks of one and of several pairs; and that the chains
// are found where expected.
func TestKernelBlockChain(t *testing.T) {
	shape := []int{2, 6, 6}
	x1, x2 := randInputs(41, 5, 72), randInputs(42, 3, 72)
	for _, c := range []struct {
		spec   string
		chains map[int]int // layer -> end of its chain
	}{
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", map[int]int{0: 6}},
		{"lift(d4,4,k=3,b_std=0.3),relu,gconv(4,k=3,support=e),relu,gpool,dense(1)", map[int]int{0: 4}},
		{"lift(c4,4,k=3),relu,avgpool(2),gconv(4,k=3),relu,gconv(4,k=3),gpool,dense(1)", map[int]int{3: 6}},
		{"lift(c4,4,k=3),relu,gconv(4,k=3,support=e),relu,gconv(3,k=5,padding=valid,support=e),gpool,dense(1)", map[int]int{0: 5}},
		{"lift(c8,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", nil}, // interpolated taps: no slab
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", nil},
	} {
		a, err := Parse(c.spec, shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		e := &kernelEngine{arch: a, ntk: true, d: a.InputSize()}
		e.plan(0)
		// The chains the engine runs, walking the layers as run does.
		found := map[int]int{}
		for l := 0; l < len(e.chainTo); l++ {
			if m := e.chainTo[l]; m > 0 {
				found[l] = m
				l = m - 1
			}
		}
		if fmt.Sprint(found) != fmt.Sprint(c.chains) && len(found)+len(c.chains) > 0 {
			t.Errorf("%s: chains %v, want %v", c.spec, found, c.chains)
		}
		for _, mem := range []int{0, 1} { // default blocks, and blocks of one pair
			for _, ntk := range []bool{true, false} {
				opts := KernelOptions{NTK: ntk, MemoryMB: mem}
				ref := opts
				ref.noChains = true
				ctx := context.Background()
				got, err := a.Kernel(ctx, x1, 5, x2, 3, opts)
				if err != nil {
					t.Fatal(err)
				}
				want, err := a.Kernel(ctx, x1, 5, x2, 3, ref)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want.K {
					if math.Float64bits(got.K[i]) != math.Float64bits(want.K[i]) ||
						(ntk && math.Float64bits(got.Theta[i]) != math.Float64bits(want.Theta[i])) {
						t.Fatalf("%s (ntk %v, memory %d MB): entry %d differs from the layer-by-layer kernel", c.spec, ntk, mem, i)
					}
				}
			}
		}
	}
}

// TestPlanKernelPairBytes checks the planned working memory of one pair:
// four planes (three for the NNGP) of the largest state, whose columns a
// slab stores for one group element only.
func TestPlanKernelPairBytes(t *testing.T) {
	for _, c := range []struct {
		spec  string
		shape []int
		ntk   bool
		want  int64
	}{
		{"conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 6, 6}, true, 32 * 36 * 36},
		{"conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 6, 6}, false, 24 * 36 * 36},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 6, 6}, true, 32 * (4 * 36) * 36},
		{"lift(d4,4,k=3),relu,avgpool(2),gconv(4,k=3),gpool,dense(1)", []int{1, 6, 6}, true, 32 * (8 * 36) * 36},
		{"lift(c8,4,k=3),relu,gpool,dense(1)", []int{1, 6, 6}, true, 32 * (8 * 36) * (8 * 36)}, // interpolated: no slab
		{"dense(8),relu,dense(1)", []int{5}, true, 32},
	} {
		a, err := Parse(c.spec, c.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		p := a.PlanKernel(3, 3, KernelOptions{NTK: c.ntk})
		if p.PairBytes != c.want {
			t.Errorf("%s (ntk %v): %d bytes per pair, want %d", c.spec, c.ntk, p.PairBytes, c.want)
		}
	}
}
