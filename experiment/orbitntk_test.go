package experiment

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	if err := ks.compute(context.Background(), &Env{Out: t.TempDir()}, arch); err != nil {
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
	// The test kernel, computed element by element, has the bits of the
	// kernel against the whole orbit.
	fullTest, err := arch.Kernel(context.Background(), ks.ps.XT, ks.m, xo, ks.B*n, nn.KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ks.kte, fullTest.Theta) {
		t.Errorf("test kernel by elements differs from the kernel against the orbit: max rel diff %g", MaxRelDiff(ks.kte, fullTest.Theta))
	}
}

// TestOrbitKernelsResume checks that a second run reuses the blocks the
// first one kept (same bits, nothing computed: the log says so for every
// block), that a damaged block is computed again, and that another
// network gets blocks of its own.
func TestOrbitKernelsResume(t *testing.T) {
	ks, arch := orbitFixture(t, "c4", 4, 6)
	out := t.TempDir()
	run := func(a *nn.Arch) (string, []float64, []float64) {
		var log strings.Builder
		k := *ks
		if err := k.compute(context.Background(), &Env{Out: out, Log: &log}, a); err != nil {
			t.Fatal(err)
		}
		return log.String(), k.ktr, k.kte
	}
	_, tr1, te1 := run(arch)
	log2, tr2, te2 := run(arch)
	// C4: elements 0, 1 (with 3), 2 for training, all 4 for testing.
	if n := strings.Count(log2, "reused"); n != 7 {
		t.Errorf("second run reused %d blocks, want 7:\n%s", n, log2)
	}
	if !slices.Equal(tr1, tr2) || !slices.Equal(te1, te2) {
		t.Error("resumed kernels differ from the first run's")
	}
	dirs, err := filepath.Glob(filepath.Join(out, "kernels", "orbit-ntk-*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("kernel folders %v (%v), want one", dirs, err)
	}
	if err := os.WriteFile(filepath.Join(dirs[0], "test-2.npy"), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	log3, _, te3 := run(arch)
	if n := strings.Count(log3, "reused"); n != 6 || !strings.Contains(log3, "test kernel, element 2 of c4: ") {
		t.Errorf("after damaging one block: %d reused, want 6, and the block computed:\n%s", n, log3)
	}
	if !slices.Equal(te1, te3) {
		t.Error("recomputed block differs")
	}
	other, err := nn.Parse("conv(4,k=3),relu,globalavgpool,dense(1)", ks.ps.Shape, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	if log4, _, _ := run(other); strings.Contains(log4, "reused") {
		t.Errorf("another network reused blocks:\n%s", log4)
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
