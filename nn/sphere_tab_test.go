package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/kernel"
)

// maxRelDiff returns max |a - b| / max |b| (max |a - b| if b is zero).
func maxRelDiff(a, b []float64) float64 {
	var d, s float64
	for i, v := range b {
		d = math.Max(d, math.Abs(a[i]-v))
		s = math.Max(s, math.Abs(v))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// TestSphereMapsTabulated checks the layer maps of s2conv and so3conv
// (kernel.State.Sphere: tabulated where it pays) against the pair-by-pair
// maps of the original implementation (kernel.State.SphereReference) on
// random covariances, full and slab states, NNGP and NTK, to 1e-12
// relative.
func TestSphereMapsTabulated(t *testing.T) {
	for _, tc := range []struct {
		kind         string
		lin, L, grid int
		slab         bool
	}{
		{"s2conv", 6, 3, 3, false}, {"s2conv", 4, 3, 5, false},
		{"so3conv", 3, 3, 3, false}, {"so3conv", 3, 3, 3, true},
		{"so3conv", 5, 4, 5, true}, {"so3conv", 4, 3, 4, true},
	} {
		spec := fmtSpec("s2conv(2,%d,grid=%d,b_std=0.3)", tc.L, tc.grid)
		shape, idx := []int{1, tc.lin, 2*tc.lin - 1}, 0
		if tc.kind == "so3conv" {
			spec, idx = fmtSpec("s2conv(2,%d),so3conv(2,%d,grid=%d,b_std=0.3)", tc.lin, tc.L, tc.grid), 1
		}
		a, err := Parse(spec, shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		layer := a.Layers[idx].(*SphereConv)
		rng := rand.New(rand.NewPCG(uint64(tc.lin), uint64(tc.grid)))
		so3 := tc.kind == "so3conv"
		for _, ntk := range []bool{false, true} {
			k := inputCovariance(so3, tc.lin, false, rng)
			th := inputCovariance(so3, tc.lin, false, rng)
			var states [2]*kernel.State
			for i := range states {
				st := stateOf(so3, tc.lin, tc.slab, k)
				if ntk {
					st.Theta = stateOf(so3, tc.lin, tc.slab, th).K
				} else {
					st.NTK, st.Theta = false, nil
				}
				layer.reference = i == 1
				if err := layer.kernel(st); err != nil {
					t.Fatal(err)
				}
				states[i] = st
			}
			name := fmt.Sprintf("%s slab=%v ntk=%v", spec, tc.slab, ntk)
			checkTabulated(t, name, states[0].K, states[1].K, states[0].Theta, states[1].Theta)
		}
	}
}

// checkTabulated compares the kernels of the tabulated maps (k, th) with
// the reference (kr, thr) to 1e-12 relative.
func checkTabulated(t *testing.T, name string, k, kr, th, thr []float64) {
	t.Helper()
	if len(k) != len(kr) || len(th) != len(thr) {
		t.Fatalf("%s: %d and %d values, reference %d and %d", name, len(k), len(th), len(kr), len(thr))
	}
	if d := maxRelDiff(k, kr); d > 1e-12 {
		t.Errorf("%s: K differs from the reference by %.3g (relative)", name, d)
	}
	if d := maxRelDiff(th, thr); d > 1e-12 {
		t.Errorf("%s: Theta differs from the reference by %.3g (relative)", name, d)
	}
}

// TestSphereKernelTabulated checks Arch.Kernel of spherical networks
// (first s2conv from the inputs' coefficients, tabulated maps) against the
// reference pair-by-pair maps on the input covariances: the qm9 network,
// a deeper and wider one and a shallow one; NNGP and NTK, symmetric and
// cross kernels, to 1e-12 relative.
func TestSphereKernelTabulated(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{qm9Spec, qm9Shape},
		{"s2conv(24,4,grid=5,b_std=0.2),relu,so3conv(20,4,w_std=1.3),erf,so3conv(12,3,grid=4),erf,so3pool,dense(1)", []int{3, 5, 9}},
		{"s2conv(8,2,grid=3,w_std=0.9,b_std=0.5),relu,so3pool,dense(1)", []int{2, 3, 5}},
	} {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		const n1, n2 = 5, 3
		x1 := randInputs(11, n1, sizeOf(tc.shape))
		x2 := randInputs(12, n2, sizeOf(tc.shape))
		for _, ntk := range []bool{false, true} {
			for _, cross := range []bool{false, true} {
				var res [2]*KernelResult
				for i := range res {
					setSphereReference(a, i == 1)
					var err error
					if cross {
						res[i], err = a.Kernel(ctx, x1, n1, x2, n2, KernelOptions{NTK: ntk})
					} else {
						res[i], err = a.Kernel(ctx, x1, n1, nil, 0, KernelOptions{NTK: ntk})
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				name := fmt.Sprintf("%s ntk=%v cross=%v", tc.spec, ntk, cross)
				checkTabulated(t, name, res[0].K, res[1].K, res[0].Theta, res[1].Theta)
			}
		}
	}
}
