package qm9

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/experiment/experimenttest"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// fixtureXYZ returns molecule id in the published .xyz format (tabs,
// 15 properties, Mulliken charges, frequencies, SMILES and InChI pairs)
// with random atoms and a U0 (Hartree) made of per-element energies and a
// rotation-invariant pair term, so that there is something to learn.
func fixtureXYZ(rng *rand.Rand, id int) string {
	n := 3 + rng.IntN(8)
	syms := []string{"H", "C", "N", "O", "F"}
	eAtom := []float64{-0.5, -37.8, -54.5, -75.0, -99.7}
	var b strings.Builder
	type atom struct {
		e int
		p [3]float64
	}
	atoms := make([]atom, n)
	u0 := 0.0
	for a := range atoms {
		e := []int{0, 0, 1, 1, 2, 3, 4}[rng.IntN(7)]
		if a == 0 {
			e = 1
		}
		atoms[a] = atom{e, [3]float64{3 * rng.NormFloat64(), 3 * rng.NormFloat64(), 3*rng.NormFloat64() + 1}}
		u0 += eAtom[e]
	}
	for i := range atoms {
		for j := i + 1; j < n; j++ {
			var d float64
			for k := range 3 {
				d += (atoms[i].p[k] - atoms[j].p[k]) * (atoms[i].p[k] - atoms[j].p[k])
			}
			u0 -= 0.05 * math.Exp(-math.Sqrt(d)/2)
		}
	}
	fmt.Fprintf(&b, "%d\n", n)
	fmt.Fprintf(&b, "gdb %d\t157.7118\t157.70997\t157.70699\t0.\t13.21\t-0.3877\t0.1171\t0.5048\t35.3641\t0.044749\t%.6f\t%.6f\t%.6f\t%.6f\t6.469\t\n", id, u0, u0+0.003, u0+0.004, u0-0.02)
	for _, a := range atoms {
		fmt.Fprintf(&b, "%s\t%.10f\t%.10f\t%.10f\t%.6f\n", syms[a.e], a.p[0], a.p[1], a.p[2], 0.1*rng.NormFloat64())
	}
	b.WriteString("1341.307\t1562.6731\t3038.3205\n")
	b.WriteString("C\tC\t\nInChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4\n")
	return b.String()
}

// writeFixture writes n molecules as a gzip-compressed tar archive of
// dsgdb9nsd_NNNNNN.xyz files, the layout of the published archive.
func writeFixture(t *testing.T, p string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := 1; i <= n; i++ {
		body := []byte(fixtureXYZ(rng, i))
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("dsgdb9nsd_%06d.xyz", i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const tinyConfig = `  file: FILE
  target: U0
  max_atoms: 12
  coord_scale: 2
  seed: 1
  train_sizes: [20, 40]
  test_size: 30
  arch: "dense(64,b_std=0.1),relu,dense(64,b_std=0.1),relu,dense(1)"
  reg: 0.001
  groups: [oct, "so3:6"]
  rotations: 2
  invariance_test: 5
  band_limit: 3
  signal_quadrature: 12
  atom_kernels:
    - name: mlp
      arch: "dense(32),relu,dense(10),dense(1)"
    - name: so3
      arch: "s2conv(4,2),erf,so3conv(4,2),erf,so3pool,dense(1)"
`

func TestQM9Experiment(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	fixture := filepath.Join(t.TempDir(), "qm9.tar.gz")
	writeFixture(t, fixture, 80)
	res, out := experimenttest.Run(t, "qm9", strings.Replace(tinyConfig, "FILE", fixture, 1), dataDir)
	if u := experimenttest.At(t, res, "unit"); u != "meV" {
		t.Errorf("unit %v", u)
	}
	if n := experimenttest.Num(t, res, "molecules"); n != 80 {
		t.Errorf("%g molecules", n)
	}
	curve := experimenttest.At(t, res, "curve").([]any)
	if len(curve) != 10 {
		t.Fatalf("curve has %d points, want 5 kernels × 2 sizes", len(curve))
	}
	for _, pt := range curve {
		if e := experimenttest.Num(t, pt, "mae"); !(e > 0) || math.IsInf(e, 0) {
			t.Errorf("MAE %g", e)
		}
	}
	if n := len(experimenttest.At(t, res, "baseline").([]any)); n != 2 {
		t.Errorf("baseline has %d points", n)
	}
	// The cube-averaged predictor is invariant under the cube's rotations;
	// the plain one is not.
	plain := experimenttest.Num(t, res, "invariance", "plain", "oct")
	oct := experimenttest.Num(t, res, "invariance", "oct", "oct")
	if !(plain > 1) || oct > 1e-6*plain {
		t.Errorf("change under cube rotations: plain %g meV, cube-averaged %g meV", plain, oct)
	}
	if r := experimenttest.Num(t, res, "invariance", "so3:6:1", "random"); !(r >= 0) {
		t.Errorf("so3 random change %g", r)
	}
	// The SO(3) network's kernel is invariant up to aliasing, the per-atom
	// MLP's is not.
	if so3, mlp := experimenttest.Num(t, res, "invariance", "so3", "kernel_random"), experimenttest.Num(t, res, "invariance", "mlp", "kernel_random"); !(so3 < 0.1*mlp) {
		t.Errorf("relative kernel change under random rotations: so3 %g, mlp %g", so3, mlp)
	}
	for _, f := range []string{"tables/curve.csv", "tables/invariance.csv", "figures/learning-curve.png", "figures/signals.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestQM9Representation checks that the representation is invariant under
// translations and covariant under rotations: encoding a rotated molecule
// equals rotating the encoding's coordinate block.
func TestQM9Representation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	writeFixture(t, filepath.Join(dir, "q.tar.gz"), 6)
	q, err := data.ReadQM9(filepath.Join(dir, "q.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := group.Parse("so3:3:9")
	const A = 12
	rep, _ := group.VectorRep(g, A)
	x, _, err := features(q.Molecules, A, 1)
	if err != nil {
		t.Fatal(err)
	}
	D := 8 * A
	for a := 0; a < g.Order(); a++ {
		R := g.Matrix(a)
		moved := make([]data.Molecule, len(q.Molecules))
		shift := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		for i, m := range q.Molecules {
			mm := m
			mm.Pos = make([][3]float64, len(m.Pos))
			for k, p := range m.Pos {
				for r := range 3 {
					mm.Pos[k][r] = R[3*r]*p[0] + R[3*r+1]*p[1] + R[3*r+2]*p[2] + shift[r]
				}
			}
			moved[i] = mm
		}
		xm, _, err := features(moved, A, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, len(x))
		rotate(rep, a, want, x, len(q.Molecules), D)
		for i := range want {
			if math.Abs(xm[i]-want[i]) > 1e-9 {
				t.Fatalf("rotation %d: feature %d is %g, rotated encoding %g", a, i, xm[i], want[i])
			}
		}
	}
}

// TestQM9AveragedEqualsAugmented checks the theorem behind the experiment
// on molecules: kernel regression with the plain NTK on the training set
// augmented by the cube's 24 rotations (ridge r) gives the same
// predictions as the cube-averaged NTK on the original set (ridge r/24),
// and those are invariant under the cube's rotations of the test molecule.
func TestQM9AveragedEqualsAugmented(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, filepath.Join(dir, "q.tar.gz"), 25)
	q, err := data.ReadQM9(filepath.Join(dir, "q.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const A = 12
	D := 8 * A
	x, _, err := features(q.Molecules, A, 2)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := q.Target(data.QM9U0, "eV")
	n, m := 15, 10
	xtr, xte := x[:n*D], x[n*D:]
	var mean float64
	for _, v := range y[:n] {
		mean += v / float64(n)
	}
	ytr := make([]float64, n)
	for i := range ytr {
		ytr[i] = y[i] - mean
	}
	arch, err := nn.Parse("dense(32,b_std=0.1),relu,dense(1)", []int{D}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := group.Parse("oct")
	rep, _ := group.VectorRep(g, A)
	G := g.Order()
	ctx := context.Background()
	const r = 1e-3
	mua := augmentedMean(t, arch, rep, xtr, ytr, n, xte, m, r)
	kav, err := avgKernel(ctx, arch, rep, xtr, n, xtr, n)
	if err != nil {
		t.Fatal(err)
	}
	symmetrize(kav, n)
	pv, err := predict.NewRegressor(n, kav, ytr, 1, predict.Options{Reg: predict.AveragedReg(r, G), RegAbsolute: true})
	if err != nil {
		t.Fatal(err)
	}
	muv := averagedMean(t, arch, rep, pv, xte, m, xtr, n)
	if d := experiment.MaxRelDiff(mua, muv); d > 1e-8 {
		t.Errorf("augmented plain kernel vs averaged kernel: max rel diff %g", d)
	}
	// Invariance of the averaged predictor under the cube's rotations.
	xr := make([]float64, m*D)
	for a := 1; a < G; a++ {
		rotate(rep, a, xr, xte, m, D)
		mu := averagedMean(t, arch, rep, pv, xr, m, xtr, n)
		if d := experiment.MaxRelDiff(mu, muv); d > 1e-10 {
			t.Fatalf("rotation %d changes the averaged prediction by %g (relative)", a, d)
		}
	}
}

// augmentedMean returns the t = ∞ prediction at the m test molecules xte
// of kernel regression with the plain NTK of arch (absolute ridge r) on the
// n training molecules xtr (targets ytr) augmented by every rotation of
// rep: block a of the augmented set holds rho(a) xtr.
func augmentedMean(t *testing.T, arch *nn.Arch, rep *group.Rep, xtr, ytr []float64, n int, xte []float64, m int, r float64) []float64 {
	t.Helper()
	ctx := context.Background()
	D := arch.InputSize()
	G := rep.Group().Order()
	xaug := make([]float64, G*n*D)
	yaug := make([]float64, 0, G*n)
	for a := 0; a < G; a++ {
		rotate(rep, a, xaug[a*n*D:(a+1)*n*D], xtr, n, D)
		yaug = append(yaug, ytr...)
	}
	kaug, err := arch.Kernel(ctx, xaug, G*n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	kaugT, err := arch.Kernel(ctx, xte, m, xaug, G*n, nn.KernelOptions{NTK: true})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := predict.NewRegressor(G*n, kaug.Theta, yaug, 1, predict.Options{Reg: r, RegAbsolute: true})
	if err != nil {
		t.Fatal(err)
	}
	mu, err := pa.Mean(kaugT.Theta, m, []float64{math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	return mu
}

// averagedMean returns the t = ∞ prediction of pv, the regression with
// the rep-averaged NTK of arch on the n training molecules xtr, at the m
// test molecules xt.
func averagedMean(t *testing.T, arch *nn.Arch, rep *group.Rep, pv *predict.Regressor, xt []float64, m int, xtr []float64, n int) []float64 {
	t.Helper()
	k, err := avgKernel(context.Background(), arch, rep, xt, m, xtr, n)
	if err != nil {
		t.Fatal(err)
	}
	mu, err := pv.Mean(k, m, []float64{math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	return mu
}

func TestQM9Baseline(t *testing.T) {
	w := [6]float64{-0.5, -38, -54.6, -75.1, -99.8, 0.3}
	rng := rand.New(rand.NewPCG(1, 1))
	var counts [][5]float64
	var y []float64
	for range 30 {
		var c [5]float64
		for e := range 4 { // no fluorine: the ridge keeps the system solvable
			c[e] = float64(rng.IntN(6))
		}
		counts = append(counts, c)
		s := w[5]
		for e := range 5 {
			s += w[e] * c[e]
		}
		y = append(y, s)
	}
	b := fitBaseline(counts, y)
	for i, c := range counts {
		if d := math.Abs(b.predict(c) - y[i]); d > 1e-8*math.Abs(y[i]) {
			t.Fatalf("sample %d: baseline %g, want %g", i, b.predict(c), y[i])
		}
	}
}

func TestQM9MissingData(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	cfg := strings.Replace(tinyConfig, "  file: FILE\n", "", 1)
	start := time.Now()
	_, err := experimenttest.RunErr(t, "qm9", cfg, dataDir)
	if err == nil {
		t.Fatal("ran without QM9")
	}
	for _, want := range []string{"eqens data fetch qm9", "dsgdb9nsd.xyz.tar.bz2", filepath.Join(dataDir, "qm9"), "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
}
