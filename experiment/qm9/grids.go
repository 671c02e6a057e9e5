package qm9

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/sphere"
)

// gridParams configure the table invariance_grids: how invariant the
// per-atom kernels with spherical convolutions are under random rotations
// as a function of the SO(3) grid on which their activations act.
type gridParams struct {
	// Grids are the grid band limits, coarsest first: every s2conv and
	// so3conv samples its output on the SO(3) grid of band limit
	// max(L, grid) (the layer's grid=, nn.SphereConv). The finest grid
	// measured for a kernel and activation is the reference of its
	// kernel_finest.
	Grids []int `yaml:"grids"`
	// Activations, if given, replace every layer of the arch whose spec
	// is one of them by each of them in turn ("none": removed, the
	// linear network, measured on the first grid only, where it is
	// exact at every grid). Empty: the arch as configured.
	Activations []string `yaml:"activations"`
	// MaxGrid caps the grids of an activation (by name): finer grids are
	// skipped for it.
	MaxGrid map[string]int `yaml:"max_grid"`
	// StopBelow, if positive, skips the finer grids of a kernel and
	// activation once its kernel change is below it (round-off reached).
	StopBelow float64 `yaml:"stop_below"`
	// Train is the number of training molecules (the first of the
	// largest training set) against which the kernel rows are compared;
	// the rows are those of the first invariance_test test molecules
	// and of their rotations by `rotations` Haar-random rotations (the
	// same molecules and rotations as the table invariance).
	Train int `yaml:"train"`
	// Alone runs this table only, without the learning curves and the
	// coordinate kernels (arch, groups and train_sizes are then not
	// needed): see experiments/qm9-synthetic-invariance.yaml.
	Alone bool `yaml:"alone"`
}

// gridRow is one row of invariance_grids.
type gridRow struct {
	// Kernel names the atom kernel, Activation the activation put in
	// (empty: as configured), Grid the grid band limit asked for and
	// Arch the per-atom network measured.
	Kernel     string `json:"kernel"`
	Activation string `json:"activation"`
	Grid       int    `json:"grid"`
	Arch       string `json:"arch"`
	// GridPoints is the number of points of the finest SO(3) grid of the
	// network's layers.
	GridPoints int `json:"grid_points"`
	// KernelRandom is max |Θ(Rx, x') − Θ(x, x')| / max |Θ(x, x')| over
	// the rotated test molecules and the training molecules x'.
	KernelRandom float64 `json:"kernel_random"`
	// KernelFinest is max |Θ(x, x') − Θ_finest(x, x')| / max |Θ_finest|
	// over the unrotated rows: the distance from the kernel on the
	// finest grid of the same activation.
	KernelFinest float64 `json:"kernel_finest"`
	// Entries is the number of per-atom kernel entries computed (pairs
	// of atoms), Seconds their wall-clock time (with building the
	// layers' tables) and MsPerEntry the ratio in milliseconds.
	Entries    int     `json:"entries"`
	Seconds    float64 `json:"seconds"`
	MsPerEntry float64 `json:"ms_per_entry"`
}

// checkGrids validates invariance_grids.
func checkGrids(p *params, cfg string) error {
	g := p.InvarianceGrids
	if g == nil {
		return nil
	}
	switch {
	case len(g.Grids) == 0:
		return fmt.Errorf("%s: invariance_grids: grids: empty", cfg)
	case g.Train < 1:
		return fmt.Errorf("%s: invariance_grids: train: %d, want at least 1 training molecule", cfg, g.Train)
	case p.Rotations < 1 || p.InvarianceTest < 1:
		return fmt.Errorf("%s: invariance_grids needs rotations and invariance_test (the rotated test molecules)", cfg)
	case len(p.AtomKernels) == 0:
		return fmt.Errorf("%s: invariance_grids needs atom_kernels with s2conv or so3conv layers", cfg)
	}
	for i, v := range g.Grids {
		if v < 1 || v > nn.MaxBand {
			return fmt.Errorf("%s: invariance_grids: grid %d, want 1 to %d", cfg, v, nn.MaxBand)
		}
		if i > 0 && v <= g.Grids[i-1] {
			return fmt.Errorf("%s: invariance_grids: grids %v, want them increasing", cfg, g.Grids)
		}
	}
	for _, a := range g.Activations {
		if a == "" || strings.ContainsAny(a, ", ") {
			return fmt.Errorf("%s: invariance_grids: activation %q is not a layer name", cfg, a)
		}
	}
	for a, v := range g.MaxGrid {
		if !slices.Contains(g.Activations, a) || v < 1 {
			return fmt.Errorf("%s: invariance_grids: max_grid: %s: %d, want a grid for one of the activations", cfg, a, v)
		}
	}
	if g.StopBelow < 0 {
		return fmt.Errorf("%s: invariance_grids: stop_below: %g, want 0 (never) or a positive bound", cfg, g.StopBelow)
	}
	return nil
}

// hasSphere reports whether arch has spherical convolutions.
func hasSphere(a *nn.Arch) bool {
	for _, l := range a.Layers {
		if _, ok := l.(*nn.SphereConv); ok {
			return true
		}
	}
	return false
}

// gridArch returns arch with every spherical convolution sampling its
// output on the grid of band limit max(L, grid) and, unless act is empty,
// every layer named in acts replaced by act (removed for "none").
func gridArch(a *nn.Arch, grid int, act string, acts []string) (*nn.Arch, error) {
	var parts []string
	for _, l := range a.Layers {
		if c, ok := l.(*nn.SphereConv); ok {
			v := *c
			v.Grid = max(grid, c.L)
			parts = append(parts, v.String())
			continue
		}
		s := l.String()
		if act != "" && slices.Contains(acts, s) {
			if act == "none" {
				continue
			}
			s = act
		}
		parts = append(parts, s)
	}
	return nn.Parse(strings.Join(parts, ","), a.InShape, a.Param)
}

// finestGrid returns the number of points of the finest SO(3) grid of
// arch's layers.
func finestGrid(a *nn.Arch) int {
	n := 0
	for _, l := range a.Layers {
		if c, ok := l.(*nn.SphereConv); ok {
			n = max(n, sphere.SO3GridLen(max(c.Grid, c.L)))
		}
	}
	return n
}

// prefix returns the atoms of the first n molecules of s.
func (s *atomSet) prefix(n int) *atomSet {
	return &atomSet{x: s.rows(0, n), off: s.off[:n+1], dim: s.dim}
}

// concatAtoms returns the molecules of a followed by those of b.
func concatAtoms(a, b *atomSet) *atomSet {
	s := &atomSet{x: slices.Concat(a.x[:a.atoms()*a.dim], b.x[:b.atoms()*b.dim]), dim: a.dim, off: slices.Clone(a.off)}
	for _, o := range b.off[1:] {
		s.off = append(s.off, a.atoms()+o)
	}
	return s
}

// invarianceGrids computes the table invariance_grids: for every atom
// kernel with spherical convolutions, every activation and every grid,
// the kernel rows of the first rot.ni test molecules and of their random
// rotations against the first Train training molecules (one call of
// sumKernel, timed), their largest relative change under the rotations
// and their distance from the rows on the finest grid.
func invarianceGrids(ctx context.Context, env *experiment.Env, p *params, s *setup, d *split, rot *rotatedSets) ([]gridRow, error) {
	gp := p.InvarianceGrids
	nt, ni := min(gp.Train, d.nmax), rot.ni
	tr := d.tr.atoms.prefix(nt)
	rows := concatAtoms(d.te.atoms.prefix(ni), rot.random.atoms)
	acts := gp.Activations
	if len(acts) == 0 {
		acts = []string{""}
	}
	var table []gridRow
	for _, k := range s.specs {
		if !k.atoms || !hasSphere(k.arch) {
			continue
		}
		for _, act := range acts {
			var base [][]float64 // unrotated rows, by grid
			first := len(table)
			for gi, g := range gp.Grids {
				if act == "none" && gi > 0 {
					break
				}
				if mg, ok := gp.MaxGrid[act]; ok && g > mg {
					continue
				}
				if n := len(table); gp.StopBelow > 0 && n > first && table[n-1].KernelRandom < gp.StopBelow {
					break
				}
				arch, err := gridArch(k.arch, g, act, gp.Activations)
				if err != nil {
					return nil, fmt.Errorf("invariance_grids: kernel %s, activation %q, grid %d: %w", k.name, act, g, err)
				}
				start := time.Now()
				m, err := sumKernel(ctx, arch, rows, tr, fmt.Sprintf("%s grid %d %s", k.name, g, act))
				if err != nil {
					return nil, err
				}
				secs := time.Since(start).Seconds()
				row := gridRow{Kernel: k.name, Activation: act, Grid: g, Arch: arch.Spec, GridPoints: finestGrid(arch),
					KernelRandom: rowChange(m, ni, nt), Entries: rows.atoms() * tr.atoms(), Seconds: experiment.Round3(secs)}
				row.MsPerEntry = 1e3 * secs / float64(row.Entries)
				base = append(base, m[:ni*nt])
				table = append(table, row)
				env.Logf("invariance_grids: %s, activation %q, grid %d (%d points): kernel change %.3g under random rotations, %.3g ms per entry", k.name, act, g, row.GridPoints, row.KernelRandom, row.MsPerEntry)
			}
			if len(base) == 0 {
				continue
			}
			fine := base[len(base)-1]
			for i, b := range base {
				table[first+i].KernelFinest = relDiff(b, fine)
			}
		}
	}
	return table, nil
}

// rowChange returns max |m[rotated row] − m[its original]| / max |m[original
// rows]| for the matrix m of ni original rows followed by blocks of ni
// rotated rows, n columns each.
func rowChange(m []float64, ni, n int) float64 {
	return rowsChange(m[ni*n:], m, ni, n) / absMax(m[:ni*n])
}

// relDiff returns max |a − b| / max |b|.
func relDiff(a, b []float64) float64 {
	var bmax, d float64
	for i, v := range b {
		bmax = math.Max(bmax, math.Abs(v))
		d = math.Max(d, math.Abs(a[i]-v))
	}
	return d / bmax
}

// gridsSection returns the report section with the table
// "invariance-grids" and writes it to the summary.
func gridsSection(sum *strings.Builder, p *params, ni, nt int, table []gridRow) report.Section {
	it := report.Table{Name: "invariance-grids", Caption: fmt.Sprintf("Change of the per-atom SO(3) network's NTK (summed over atom pairs) when %d test molecules are rotated by %d Haar-random rotations, against the activation grid: max |Θ(Rx, x') − Θ(x, x')| / max |Θ(x, x')| over %d training molecules x' (relative), the distance from the kernel on the finest grid (unrotated rows, relative), and the wall-clock time per per-atom kernel entry.", ni, p.Rotations, nt),
		Columns: []string{"kernel", "activation", "grid band limit", "SO(3) grid points", "kernel change, random (rel.)", "distance from the finest grid (rel.)", "ms per entry"}}
	fmt.Fprintf(sum, "kernel change under random rotations against the activation grid (relative; distance from the finest grid; ms per entry):\n")
	for _, r := range table {
		act := r.Activation
		if act == "" {
			act = "as configured"
		}
		it.Rows = append(it.Rows, []string{r.Kernel, act, fmt.Sprint(r.Grid), fmt.Sprint(r.GridPoints), fmt.Sprintf("%.2g", r.KernelRandom), fmt.Sprintf("%.2g", r.KernelFinest), fmt.Sprintf("%.3g", r.MsPerEntry)})
		fmt.Fprintf(sum, "  %-6s %-14s grid %2d (%5d points): %.2g; %.2g; %.3g ms\n", r.Kernel, act, r.Grid, r.GridPoints, r.KernelRandom, r.KernelFinest, r.MsPerEntry)
	}
	text := "The SO(3) network's kernel is invariant under all rotations up to the aliasing of the grid quadratures: its pointwise activations act on the values of band-limited features on an SO(3) grid, and their outputs are not band-limited. Sampling the features of every s2conv and so3conv on a finer grid (grid=, the grid band limit) reduces the aliasing, at a cost that grows like the square of the number of grid points over 2·grid − 1 (the kernel state of a pair of atoms holds the kernel at pairs of grid points, stored as a slab). Without activations (\"none\") the network is exactly invariant on band-limited signals at every grid."
	return report.Section{Heading: "Invariance against the activation grid", Text: text, Tables: []report.Table{it}}
}
