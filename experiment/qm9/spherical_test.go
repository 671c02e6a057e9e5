package qm9

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment/experimenttest"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/sphere"
)

// TestSphericalSignalValues checks the signals of a two-atom molecule
// against the formula by hand: C at the origin, O at (0, 0, 1.2) Å. The
// C atom sees O (Z_i Z_j = 48) in its channels (O, r⁻²) and (O, r⁻⁶); the
// angular weight is 1 towards O, 0.05 at the cutoff angle π/4 and
// exp(−4/β) opposite; the other channels are zero.
func TestSphericalSignalValues(t *testing.T) {
	m := &data.Molecule{ID: 1, Z: []int{6, 8}, Pos: [][3]float64{{0, 0, 0}, {0, 0, 1.2}}}
	el, err := elements(m)
	if err != nil {
		t.Fatal(err)
	}
	beta := sphericalBeta(sphericalCutoff)
	tests := []struct {
		name string
		atom int
		dir  [3]float64
		ch   int
		want float64
	}{
		{"C sees O (r^-2) ahead", 0, [3]float64{0, 0, 1}, 2*3 + 0, 48 / 1.44},
		{"C sees O (r^-6) ahead", 0, [3]float64{0, 0, 1}, 2*3 + 1, 48 / math.Pow(1.2, 6)},
		{"C sees O at the cutoff angle", 0, sphere.UnitVector(math.Pi/4, 0.3), 2 * 3, 0.05 * 48 / 1.44},
		{"C sees O behind", 0, [3]float64{0, 0, -1}, 2 * 3, 48 / 1.44 * math.Exp(-4/beta)},
		{"C sees no H", 0, [3]float64{0, 0, 1}, 0, 0},
		{"C sees no C", 0, [3]float64{0, 0, 1}, 2, 0},
		{"O sees C below", 1, [3]float64{0, 0, -1}, 2 * 1, 48 / 1.44},
		{"O sees no O", 1, [3]float64{0, 0, -1}, 2 * 3, 0},
	}
	for _, tc := range tests {
		row := make([]float64, sphericalChannels)
		if err := atomSignals(m, el, tc.atom, [][3]float64{tc.dir}, beta, row); err != nil {
			t.Fatal(err)
		}
		if got := row[tc.ch]; math.Abs(got-tc.want) > 1e-12*math.Max(1, tc.want) {
			t.Errorf("%s: channel %d is %.15g, want %.15g", tc.name, tc.ch, got, tc.want)
		}
	}
}

// TestSphericalSignalsCovariance checks that the signals are invariant
// under translations of the molecule and rotate with it: the signal of the
// rotated molecule at R x equals the original's at x.
func TestSphericalSignalsCovariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	mols, err := syntheticMolecules(&syntheticParams{Molecules: 5, MinAtoms: 3, MaxAtoms: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	beta := sphericalBeta(sphericalCutoff)
	dirs := make([][3]float64, 20)
	for i := range dirs {
		dirs[i] = sphere.Random(rng).Apply([3]float64{0, 0, 1})
	}
	for _, m := range mols {
		R := sphere.Random(rng)
		shift := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		moved := m
		moved.Pos = make([][3]float64, len(m.Pos))
		for a, x := range m.Pos {
			y := R.Apply(x)
			for k := range 3 {
				moved.Pos[a][k] = y[k] + shift[k]
			}
		}
		rdirs := make([][3]float64, len(dirs))
		for i, x := range dirs {
			rdirs[i] = R.Apply(x)
		}
		el, _ := elements(&m)
		for a := range m.Z {
			f := make([]float64, sphericalChannels*len(dirs))
			g := make([]float64, len(f))
			if err := atomSignals(&m, el, a, dirs, beta, f); err != nil {
				t.Fatal(err)
			}
			if err := atomSignals(&moved, el, a, rdirs, beta, g); err != nil {
				t.Fatal(err)
			}
			for i := range f {
				if math.Abs(f[i]-g[i]) > 1e-10*(1+math.Abs(f[i])) {
					t.Fatalf("molecule %d atom %d: value %d is %g, rotated molecule at the rotated direction %g", m.ID, a, i, f[i], g[i])
				}
			}
		}
	}
}

// TestSphericalFeaturesLayout checks the atom rows and offsets of
// sphericalFeatures against atomSignals on the grid points, and the error
// for coinciding atoms.
func TestSphericalFeaturesLayout(t *testing.T) {
	mols, _ := syntheticMolecules(&syntheticParams{Molecules: 3, MinAtoms: 2, MaxAtoms: 4, Seed: 1})
	const L = 3
	s, err := sphericalFeatures(mols, L, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := sphere.NewS2Grid(L)
	if s.dim != 10*L*(2*L-1) || s.off[0] != 0 || len(s.off) != 4 {
		t.Fatalf("dim %d, offsets %v", s.dim, s.off)
	}
	for i, m := range mols {
		if s.off[i+1]-s.off[i] != len(m.Z) {
			t.Fatalf("molecule %d: %d rows for %d atoms", i, s.off[i+1]-s.off[i], len(m.Z))
		}
		el, _ := elements(&m)
		for a := range m.Z {
			for _, p := range []int{0, 7, g.Len() - 1} {
				one := make([]float64, sphericalChannels)
				atomSignals(&m, el, a, [][3]float64{g.Point(p)}, sphericalBeta(sphericalCutoff), one)
				for c := range sphericalChannels {
					if got := s.x[(s.off[i]+a)*s.dim+c*g.Len()+p]; got != one[c] {
						t.Fatalf("molecule %d atom %d channel %d point %d: %g, want %g", i, a, c, p, got, one[c])
					}
				}
			}
		}
	}
	bad := []data.Molecule{{ID: 9, Z: []int{1, 1}, Pos: [][3]float64{{1, 2, 3}, {1, 2, 3}}}}
	if _, err := sphericalFeatures(bad, L, 0); err == nil || !strings.Contains(err.Error(), "molecule 9") {
		t.Errorf("coinciding atoms: error %v", err)
	}
}

// TestSumKernel checks the molecule kernel against the sum over atom pairs
// of the atom kernel computed in one piece, for a symmetric and a
// rectangular matrix spanning several atom blocks.
func TestSumKernel(t *testing.T) {
	mols, _ := syntheticMolecules(&syntheticParams{Molecules: 120, MinAtoms: 2, MaxAtoms: 5, Seed: 2})
	s1, err := sphericalFeatures(mols[:90], 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := sphericalFeatures(mols[90:], 2, 0)
	if s1.atoms() <= atomBlock {
		t.Fatalf("%d atoms: the test needs more than one block", s1.atoms())
	}
	arch, err := nn.Parse("dense(16),relu,dense(1)", []int{10, 2, 3}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a, b *atomSet
	}{{"symmetric", s1, s1}, {"rectangular", s1, s2}} {
		got, err := sumKernel(ctx, arch, tc.a, tc.b, "test")
		if err != nil {
			t.Fatal(err)
		}
		k, err := arch.Kernel(ctx, tc.a.x, tc.a.atoms(), tc.b.x, tc.b.atoms(), nn.KernelOptions{NTK: true})
		if err != nil {
			t.Fatal(err)
		}
		n1, n2, nb := len(tc.a.off)-1, len(tc.b.off)-1, tc.b.atoms()
		for i := range n1 {
			for j := range n2 {
				var want float64
				for a := tc.a.off[i]; a < tc.a.off[i+1]; a++ {
					for b := tc.b.off[j]; b < tc.b.off[j+1]; b++ {
						want += k.Theta[a*nb+b]
					}
				}
				if d := math.Abs(got[i*n2+j] - want); d > 1e-12*math.Abs(want) {
					t.Fatalf("%s: molecules %d, %d: %g, want %g", tc.name, i, j, got[i*n2+j], want)
				}
			}
		}
	}
}

// TestSyntheticMolecules checks the generated molecules: atom counts and
// spacing within bounds, the same molecules for the same seed, and an
// energy invariant under rotations and translations and equal to the
// free atoms' energies when the atoms are far apart.
func TestSyntheticMolecules(t *testing.T) {
	sp := &syntheticParams{Molecules: 50, MinAtoms: 3, MaxAtoms: 9, Seed: 4}
	mols, err := syntheticMolecules(sp)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := syntheticMolecules(sp)
	rng := rand.New(rand.NewPCG(1, 1))
	for i, m := range mols {
		if n := len(m.Z); n < 3 || n > 9 {
			t.Fatalf("molecule %d has %d atoms", i, n)
		}
		if m.Props[data.QM9U0] != again[i].Props[data.QM9U0] {
			t.Fatalf("molecule %d differs between two runs", i)
		}
		el, _ := elements(&m)
		for a := range m.Pos {
			for b := a + 1; b < len(m.Pos); b++ {
				if d := dist(m.Pos[a], m.Pos[b]); d < synthMinDist {
					t.Fatalf("molecule %d: atoms %d and %d at %g Å", i, a, b, d)
				}
			}
		}
		R := sphere.Random(rng)
		moved := make([][3]float64, len(m.Pos))
		for a, x := range m.Pos {
			y := R.Apply(x)
			moved[a] = [3]float64{y[0] + 3, y[1] - 1, y[2] + 2}
		}
		u, v := m.Props[data.QM9U0], syntheticEnergy(el, moved)
		if math.Abs(u-v) > 1e-12*math.Abs(u) {
			t.Fatalf("molecule %d: energy %.15g, moved %.15g", i, u, v)
		}
	}
	far := syntheticEnergy([]int{0, 1}, [][3]float64{{0, 0, 0}, {0, 0, 100}})
	if want := synthAtomE[0] + synthAtomE[1]; math.Abs(far-want) > 1e-12 {
		t.Errorf("far apart: %.15g, want %.15g", far, want)
	}
}

func TestSyntheticParamErrors(t *testing.T) {
	for _, tc := range []struct {
		sp   syntheticParams
		want string
	}{
		{syntheticParams{Molecules: 0, MinAtoms: 3, MaxAtoms: 5}, "molecules"},
		{syntheticParams{Molecules: 5, MinAtoms: 1, MaxAtoms: 5}, "min_atoms"},
		{syntheticParams{Molecules: 5, MinAtoms: 6, MaxAtoms: 5}, "max_atoms"},
		{syntheticParams{Molecules: 5, MinAtoms: 3, MaxAtoms: 30}, "max_atoms"},
	} {
		_, err := syntheticMolecules(&tc.sp)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.sp, err, tc.want)
		}
	}
}

// TestSetupErrors checks that bad per-atom settings are refused with an
// error naming the key.
func TestSetupErrors(t *testing.T) {
	good := func() params {
		return params{Target: "U0", MaxAtoms: 5, TestSize: 5, TrainSizes: []int{5}, Arch: "dense(8),relu,dense(1)", BandLimit: 3,
			AtomKernels: []atomKernelParams{{Name: "mlp", Arch: "dense(8),relu,dense(1)"}}}
	}
	if _, err := parseSetup(ptr(good()), "qm9"); err != nil {
		t.Fatalf("good parameters: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(p *params)
		exp    string
		want   string
	}{
		{"band limit", func(p *params) { p.BandLimit = 0 }, "qm9", "band_limit"},
		{"two outputs", func(p *params) { p.AtomKernels[0].Arch = "dense(8),relu,dense(2)" }, "qm9", "want 1"},
		{"bad arch", func(p *params) { p.AtomKernels[0].Arch = "so3pool" }, "qm9", "atom_kernels[0] (mlp): arch"},
		{"taken name", func(p *params) { p.AtomKernels[0].Name = "plain" }, "qm9", "atom_kernels[0]: name"},
		{"synthetic in qm9", func(p *params) { p.Synthetic = &syntheticParams{} }, "qm9", "synthetic"},
		{"no synthetic", func(p *params) {}, "qm9-synthetic", "experiments/qm9-synthetic.yaml: synthetic"},
	} {
		p := good()
		tc.change(&p)
		_, err := parseSetup(&p, tc.exp)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestMatrixCache checks that the per-atom kernels' matrices are written
// to the cache, read back bit for bit, and that a truncated file is an
// error naming it.
func TestMatrixCache(t *testing.T) {
	out := t.TempDir()
	mols, _ := syntheticMolecules(&syntheticParams{Molecules: 6, MinAtoms: 2, MaxAtoms: 3, Seed: 1})
	set, _ := sphericalFeatures(mols, 2, 0)
	ms := &molSet{n: 6, atoms: set}
	arch, _ := nn.Parse("dense(8),relu,dense(1)", []int{10, 2, 3}, nn.NTK)
	k := &kernelSpec{name: "mlp", arch: arch, atoms: true}
	p := &params{Seed: 1}
	ctx := context.Background()
	first, err := cachedMatrix(out, "qm9", p)(ctx, k, "train", ms, ms)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "cache", "mlp-train-*.f64"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	// Overwrite the file with other values: a second call must read them.
	other := make([]float64, len(first))
	for i := range other {
		other[i] = float64(i)
	}
	if err := writeMatrix(files[0], other); err != nil {
		t.Fatal(err)
	}
	got, err := cachedMatrix(out, "qm9", p)(ctx, k, "train", ms, ms)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != other[i] {
			t.Fatalf("entry %d: %g, want the cached %g", i, got[i], other[i])
		}
	}
	// Other parameters: another file.
	if _, err := cachedMatrix(out, "qm9", &params{Seed: 2})(ctx, k, "train", ms, ms); err != nil {
		t.Fatal(err)
	}
	if files, _ = filepath.Glob(filepath.Join(out, "cache", "mlp-train-*.f64")); len(files) != 2 {
		t.Fatalf("cache files %v, want one per parameter set", files)
	}
	if err := os.WriteFile(files[0], []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err1 := cachedMatrix(out, "qm9", p)(ctx, k, "train", ms, ms)
	_, err2 := cachedMatrix(out, "qm9", &params{Seed: 2})(ctx, k, "train", ms, ms)
	if (err1 == nil) == (err2 == nil) {
		t.Fatalf("truncated cache file: errors %v and %v, want exactly one", err1, err2)
	}
}

// TestSignalMaps checks the signals figure's maps: ten channels scaled to
// a maximum of 1, zero for elements no other atom has.
func TestSignalMaps(t *testing.T) {
	m := &data.Molecule{ID: 1, Z: []int{6, 8, 1}, Pos: [][3]float64{{0, 0, 0}, {0, 0, 1.2}, {1, 0, 0}}}
	maps, labels, err := signalMaps(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 10 || len(labels) != 10 || !strings.HasPrefix(labels[6], "O r^-2") {
		t.Fatalf("%d maps, labels %q", len(maps), labels)
	}
	for c, mp := range maps {
		var top float32
		for _, v := range mp {
			top = max(top, v)
		}
		present := c/2 == 0 || c/2 == 3 // H and O
		if (present && top != 1) || (!present && top != 0) {
			t.Errorf("channel %d (%s): maximum %g", c, labels[c], top)
		}
	}
	if _, _, err := signalMaps(m, 3); err == nil {
		t.Error("atom 4 of 3: no error")
	}
}

const tinySynthetic = `  synthetic: {molecules: 60, min_atoms: 2, max_atoms: 4, seed: 1}
  target: U0
  max_atoms: 4
  seed: 1
  train_sizes: [15, 30]
  test_size: 20
  arch: "dense(64,b_std=0.1),relu,dense(1)"
  reg: 5.0e-5
  groups: [oct]
  rotations: 2
  invariance_test: 3
  band_limit: 4
  signal_quadrature: QUAD
  atom_kernels:
    - name: mlp
      arch: "dense(64),relu,dense(10),dense(1)"
    - name: so3
      arch: "s2conv(4,2),erf,so3conv(4,2),erf,so3pool,dense(1)"
    - name: so3lin
      arch: "s2conv(4,2),so3conv(4,2),so3pool,dense(1)"
`

// tinyQuadratic adds to tinySynthetic an SO(3) network with quadratic
// activations, on a grid exact for their degree (2·1 + 1 ≤ 2·3 − 2).
const tinyQuadratic = `    - name: so3q
      arch: "s2conv(4,2,grid=3,w_std=0.1),quadratic,so3conv(4,2),quadratic,so3pool,dense(1)"
`

// TestQM9SyntheticExperiment runs qm9-synthetic on a tiny config, with
// band-limited and with sampled signals, and checks the invariance
// pattern: the cube-averaged kernel is invariant under the cube's
// rotations to round-off; the SO(3) networks' kernels change far less
// under random rotations than the plain and per-atom MLP kernels; without
// activations, and with quadratic activations on a grid exact for their
// degree, on band-limited signals the SO(3) network's kernel is invariant
// to round-off, while sampled signals alias.
func TestQM9SyntheticExperiment(t *testing.T) {
	for _, tc := range []struct {
		quad         string
		linLo, linHi float64 // bounds on the linear SO(3) network's kernel change
		ratio        float64 // bound on the SO(3) network's change over the MLPs'
		text         string  // in the description of the signals
	}{
		{"32", 0, 1e-12, 0.05, "band-limited first"},
		{"0", 1e-3, 1, 1, "sampled as they are"},
	} {
		dataDir := experimenttest.IsolateDataDirs(t)
		res, out := experimenttest.Run(t, "qm9-synthetic", strings.Replace(tinySynthetic, "QUAD", tc.quad, 1)+tinyQuadratic, dataDir)
		if n := len(experimenttest.At(t, res, "curve").([]any)); n != 6*2 {
			t.Errorf("quadrature %s: curve has %d points, want 6 kernels × 2 sizes", tc.quad, n)
		}
		kr := func(k, f string) float64 { return experimenttest.Num(t, res, "invariance", k, f) }
		if v := kr("oct", "kernel_oct"); v > 1e-12 {
			t.Errorf("quadrature %s: cube-averaged kernel changes by %g under the cube's rotations", tc.quad, v)
		}
		so3, lin, mlp, plain := kr("so3", "kernel_random"), kr("so3lin", "kernel_random"), kr("mlp", "kernel_random"), kr("plain", "kernel_random")
		if !(so3 < tc.ratio*mlp && so3 < tc.ratio*plain && lin >= tc.linLo && lin <= tc.linHi) {
			t.Errorf("quadrature %s: relative kernel change under random rotations: so3 %g, so3 without activations %g (want %g to %g), per-atom MLP %g, plain %g", tc.quad, so3, lin, tc.linLo, tc.linHi, mlp, plain)
		}
		if q := kr("so3q", "kernel_random"); !(q >= tc.linLo && q <= tc.linHi) {
			t.Errorf("quadrature %s: relative kernel change of the quadratic SO(3) network under random rotations %g, want %g to %g", tc.quad, q, tc.linLo, tc.linHi)
		}
		for _, f := range []string{"figures/signals.png", "figures/learning-curve.png", "tables/invariance.csv", "cache"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("missing %s", f)
			}
		}
		if s, _ := experimenttest.At(t, res, "spherical_signals").(string); !strings.Contains(s, "π/4") || !strings.Contains(s, tc.text) {
			t.Errorf("spherical_signals: %q", s)
		}
	}
}

// TestQuadraticConfig checks that experiments/qm9-synthetic-quadratic.yaml
// parses at both scales and differs from experiments/qm9-synthetic.yaml
// only in its SO(3) network, which is exactly invariant.
func TestQuadraticConfig(t *testing.T) {
	for _, scale := range []string{"quick", "full"} {
		load := func(file string) params {
			var p params
			experimenttest.DecodeConfig(t, "qm9-synthetic", scale, file, &p)
			if _, err := parseSetup(&p, "qm9-synthetic"); err != nil {
				t.Fatalf("%s (%s): %v", file, scale, err)
			}
			return p
		}
		q, e := load("../../experiments/qm9-synthetic-quadratic.yaml"), load("../../experiments/qm9-synthetic.yaml")
		if len(q.AtomKernels) != 2 || q.AtomKernels[1].Name != "so3q" || !strings.Contains(q.AtomKernels[1].Arch, "quadratic") {
			t.Errorf("%s: atom kernels %+v", scale, q.AtomKernels)
		}
		q.AtomKernels, e.AtomKernels = nil, nil
		if !reflect.DeepEqual(q, e) {
			t.Errorf("%s: the quadratic config differs from qm9-synthetic beyond its atom kernels:\n%+v\n%+v", scale, q, e)
		}
	}
}
