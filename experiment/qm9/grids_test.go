package qm9

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
	"github.com/eqens/eqens/nn"
)

// TestGridArch checks the per-atom networks of the table invariance_grids:
// the grid of every spherical convolution (never below its band limit)
// and the activations replaced or removed.
func TestGridArch(t *testing.T) {
	a, err := nn.Parse("s2conv(4,3),erf,so3conv(4,2,grid=4),erf,so3pool,dense(1)", []int{10, 4, 7}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		grid int
		act  string
		want string
	}{
		{2, "", "s2conv(4,3),erf,so3conv(4,2),erf,so3pool,dense(1)"},
		{5, "", "s2conv(4,3,grid=5),erf,so3conv(4,2,grid=5),erf,so3pool,dense(1)"},
		{3, "relu", "s2conv(4,3),relu,so3conv(4,2,grid=3),relu,so3pool,dense(1)"},
		{6, "none", "s2conv(4,3,grid=6),so3conv(4,2,grid=6),so3pool,dense(1)"},
	} {
		g, err := gridArch(a, tc.grid, tc.act, []string{"erf", "relu", "none"})
		if err != nil {
			t.Fatalf("grid %d, %q: %v", tc.grid, tc.act, err)
		}
		if g.Spec != tc.want {
			t.Errorf("grid %d, %q: %s, want %s", tc.grid, tc.act, g.Spec, tc.want)
		}
	}
	if g, _ := gridArch(a, 5, "", nil); finestGrid(g) != 5*9*9 {
		t.Errorf("finest grid of %s: %d points", g.Spec, finestGrid(g))
	}
}

// TestConcatAtoms checks the concatenated and prefix atom sets.
func TestConcatAtoms(t *testing.T) {
	a := &atomSet{x: []float64{1, 2, 3, 4, 5, 6}, off: []int{0, 1, 3}, dim: 2}
	b := &atomSet{x: []float64{7, 8, 9, 10}, off: []int{0, 2}, dim: 2}
	c := concatAtoms(a.prefix(1), b)
	if got := c.off; len(got) != 3 || got[1] != 1 || got[2] != 3 || len(c.x) != 6 || c.x[2] != 7 || c.x[5] != 10 {
		t.Errorf("concat: off %v, x %v", c.off, c.x)
	}
}

// tinyGrids is the table invariance_grids at fixture scale.
const tinyGrids = `  invariance_grids:
    grids: [2, 3, 6]
    activations: [erf, relu, none]
    max_grid: {relu: 3}
    stop_below: 1.0e-13
    train: TRAIN
`

// TestInvarianceGrids runs the table invariance_grids at fixture scale,
// alone and as part of a qm9-synthetic run: the SO(3) network without
// activations is invariant to round-off on band-limited signals; with erf
// its kernel's change under random rotations falls by orders of magnitude
// from the grid of its band limit to the grid of band limit 6; and on the
// configured grid, against the whole training set, the table's change is
// the one the table invariance measures.
func TestInvarianceGrids(t *testing.T) {
	sig := strings.Replace(tinySynthetic, "QUAD", "32", 1)
	// Alone: no coordinate kernels, no learning curves.
	var atomOnly []string
	for _, l := range strings.SplitAfter(sig, "\n") {
		if !strings.HasPrefix(l, "  arch:") && !strings.HasPrefix(l, "  groups:") && !strings.HasPrefix(l, "  train_sizes:") && !strings.HasPrefix(l, "  reg:") {
			atomOnly = append(atomOnly, l)
		}
	}
	alone := strings.Join(atomOnly, "") + strings.Replace(tinyGrids, "TRAIN", "10", 1) + "    alone: true\n"
	dataDir := experimenttest.IsolateDataDirs(t)
	res, out := experimenttest.Run(t, "qm9-synthetic", alone, dataDir)
	if _, ok := res["curve"]; ok {
		t.Error("alone: results have learning curves")
	}
	rows := experimenttest.At(t, res, "invariance_grids").([]any)
	// so3: erf on 3 grids, relu on 2 (max_grid), none on the first;
	// so3lin (no activations to replace) on the first grid only, where
	// it is invariant to round-off (stop_below).
	if len(rows) != 3+2+1+3 {
		t.Fatalf("alone: %d rows, want 9", len(rows))
	}
	get := func(kernel, act string, grid int) map[string]any {
		for _, r := range rows {
			m := r.(map[string]any)
			if m["kernel"] == kernel && m["activation"] == act && int(m["grid"].(float64)) == grid {
				return m
			}
		}
		t.Fatalf("no row %s %s %d", kernel, act, grid)
		return nil
	}
	num := func(m map[string]any, k string) float64 { return experimenttest.Num(t, m, k) }
	for _, k := range []string{"so3", "so3lin"} {
		if v := num(get(k, "none", 2), "kernel_random"); v > 1e-12 {
			t.Errorf("%s without activations: kernel changes by %g under random rotations", k, v)
		}
	}
	coarse, fine := get("so3", "erf", 2), get("so3", "erf", 6)
	if c, f := num(coarse, "kernel_random"), num(fine, "kernel_random"); !(c > 1e-6 && f < 1e-2*c) {
		t.Errorf("so3 with erf: kernel change %g on the grid of band limit 2, %g on that of band limit 6", c, f)
	}
	if c := num(coarse, "kernel_finest"); !(c > 0) || num(fine, "kernel_finest") != 0 {
		t.Errorf("distance from the finest grid: %g and %g", c, num(fine, "kernel_finest"))
	}
	if p := num(fine, "grid_points"); p != 6*11*11 {
		t.Errorf("grid points %g", p)
	}
	if !(num(fine, "ms_per_entry") > 0) || num(fine, "entries") < 1 {
		t.Errorf("time %g ms for %g entries", num(fine, "ms_per_entry"), num(fine, "entries"))
	}
	if s, _ := coarse["arch"].(string); s != "s2conv(4,2),erf,so3conv(4,2),erf,so3pool,dense(1)" {
		t.Errorf("arch %q", s)
	}
	if _, err := os.Stat(filepath.Join(out, "tables", "invariance-grids.csv")); err != nil {
		t.Error(err)
	}

	// Part of the run, against all training molecules: the configured
	// grid's row is the table invariance's kernel change.
	res = experimenttest.RunConfig(t, "qm9-synthetic", "name: qm9-synthetic\nquick:\n"+sig+strings.Replace(tinyGrids, "TRAIN", "30", 1), filepath.Join(t.TempDir(), "out"))
	rows = experimenttest.At(t, res, "invariance_grids").([]any)
	want := experimenttest.Num(t, res, "invariance", "so3", "kernel_random")
	if got := num(get("so3", "erf", 2), "kernel_random"); math.Abs(got-want) > 1e-12*want {
		t.Errorf("grid table %g, invariance table %g", got, want)
	}
	if _, ok := res["curve"]; !ok {
		t.Error("no learning curves")
	}
}

// TestGridParamErrors checks that bad invariance_grids settings are refused
// with an error naming the key, and that the committed configuration of
// the table run alone parses.
func TestGridParamErrors(t *testing.T) {
	good := func() params {
		return params{Target: "U0", MaxAtoms: 5, TestSize: 5, BandLimit: 3, Rotations: 2, InvarianceTest: 2,
			AtomKernels:     []atomKernelParams{{Name: "so3", Arch: "s2conv(4,2),erf,so3pool,dense(1)"}},
			InvarianceGrids: &gridParams{Grids: []int{2, 4}, Train: 5, Alone: true}}
	}
	if _, err := parseSetup(ptr(good()), "qm9"); err != nil {
		t.Fatalf("good parameters: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(p *params)
		want   string
	}{
		{"no grids", func(p *params) { p.InvarianceGrids.Grids = nil }, "grids: empty"},
		{"grid too fine", func(p *params) { p.InvarianceGrids.Grids = []int{nn.MaxBand + 1} }, "want 1 to"},
		{"no training", func(p *params) { p.InvarianceGrids.Train = 0 }, "train"},
		{"no rotations", func(p *params) { p.Rotations = 0 }, "rotations"},
		{"no atom kernels", func(p *params) { p.AtomKernels = nil }, "atom_kernels"},
		{"bad activation", func(p *params) { p.InvarianceGrids.Activations = []string{"erf,relu"} }, "activation"},
		{"grids not increasing", func(p *params) { p.InvarianceGrids.Grids = []int{4, 2} }, "increasing"},
		{"max_grid of no activation", func(p *params) { p.InvarianceGrids.MaxGrid = map[string]int{"relu": 3} }, "max_grid"},
		{"negative stop_below", func(p *params) { p.InvarianceGrids.StopBelow = -1 }, "stop_below"},
		{"arch alone", func(p *params) { p.Arch = "dense(8),relu,dense(1)" }, "not used with invariance_grids"},
		{"curves needed", func(p *params) { p.InvarianceGrids.Alone = false }, "train_sizes"},
	} {
		p := good()
		tc.change(&p)
		_, err := parseSetup(&p, "qm9")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	for _, scale := range []string{"quick", "full"} {
		var p params
		experimenttest.DecodeConfig(t, "qm9-synthetic", scale, "../../experiments/qm9-synthetic-invariance.yaml", &p)
		s, err := parseSetup(&p, "qm9-synthetic")
		if err != nil || !s.alone {
			t.Errorf("experiments/qm9-synthetic-invariance.yaml (%s): %v", scale, err)
		}
	}
}
