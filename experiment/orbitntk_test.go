package experiment

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// orbitFixture returns orbit kernels of the group name on n random 1×h×h
// images (and two test images) and a CNN NTK architecture.
func orbitFixture(t *testing.T, name string, n, h int) (*orbitKernels, *nn.Arch) {
	t.Helper()
	g, err := group.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	set := func(m int) *data.Dataset {
		d := &data.Dataset{Shape: []int{1, h, h}, Classes: 2, X: make([]float32, m*h*h), Labels: make([]int, m)}
		for i := range d.X {
			d.X[i] = float32(rng.NormFloat64())
		}
		return d
	}
	ps, err := PoolHeads(set(n), set(2), n, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	ks := &orbitKernels{ps: ps, big: g, n: n, m: 2, k: 2, B: g.Order()}
	if ks.repB, err = group.ImageRep(g, 1, h, h); err != nil {
		t.Fatal(err)
	}
	arch, err := nn.Parse("conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", ps.Shape, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	return ks, arch
}

// TestOrbitKernelsHalfGroup checks the training kernel that compute
// assembles from half of the group's blocks (inverse blocks transposed,
// involutions mirrored) against the kernel of the images against their
// whole orbit.
func TestOrbitKernelsHalfGroup(t *testing.T) {
	const n = 6
	ks, arch := orbitFixture(t, "d4", n, 7)
	if err := ks.compute(context.Background(), &Env{}, arch); err != nil {
		t.Fatal(err)
	}
	xo := group.OrbitBatch(ks.repB, ks.ps.X)
	full, err := arch.Kernel(context.Background(), ks.ps.X, n, xo, ks.B*n, nn.KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := MaxRelDiff(ks.ktr, full.Theta); d > 1e-13 || d == 0 {
		t.Errorf("half-group training kernel vs full: max rel diff %g, want round-off (nonzero: the blocks are computed differently)", d)
	}
}

// TestOrbitInvariance checks the invariance that the half-group kernel
// relies on: exact (round-off) for the square grid's D4, and detected as
// broken for rotations by 45 degrees, which act on the grid by
// interpolation.
func TestOrbitInvariance(t *testing.T) {
	for _, tc := range []struct {
		group    string
		lo, high float64
	}{{"d4", 0, 1e-13}, {"c8", 1e-3, 10}} {
		ks, arch := orbitFixture(t, tc.group, 3, 7)
		d, err := ks.invariance(context.Background(), arch)
		if err != nil {
			t.Fatal(err)
		}
		if d < tc.lo || d > tc.high {
			t.Errorf("%s: invariance %g, want in [%g, %g]", tc.group, d, tc.lo, tc.high)
		}
	}
}
