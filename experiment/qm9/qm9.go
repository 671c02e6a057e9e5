package qm9

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "qm9",
		Summary: "QM9 internal energy U0: kernel regression with NTKs averaged over rotations (octahedral group, SO(3) samples) against the plain NTK, learning curves in meV",
		Run:     runQM9,
	})
}

// qm9Params are the parameters of experiments/qm9.yaml.
type qm9Params struct {
	// File, if set, is a QM9 archive (tar, optionally bzip2/gzip) or a
	// directory of .xyz files read without checksum verification (tests,
	// custom copies). Empty: the published archive, looked up like
	// `eqens data list` does.
	File string `yaml:"file"`
	// Target is a QM9 property (U0); energies are reported in meV.
	Target string `yaml:"target"`
	// MaxAtoms is the padded atom count (29 covers QM9).
	MaxAtoms int `yaml:"max_atoms"`
	// CoordScale divides the coordinates (Å).
	CoordScale float64 `yaml:"coord_scale"`
	Seed       uint64  `yaml:"seed"`
	// TrainSizes is the learning curve (nested random subsets), TestSize
	// the number of test molecules (disjoint from the training ones).
	TrainSizes []int `yaml:"train_sizes"`
	TestSize   int   `yaml:"test_size"`
	// Arch is the network whose NTK is used (a vector input).
	Arch string `yaml:"arch"`
	// Reg is the ridge relative to the mean diagonal of the training
	// kernel.
	Reg float64 `yaml:"reg"`
	// Groups are the rotation sets the kernel is averaged over: oct (the
	// 24 rotations of the cube), ico (60), so3:N[:seed] (N Haar-random
	// rotations; the kernel of the network averaged over them, at N²
	// kernel evaluations, see qm9AvgKernel).
	Groups []string `yaml:"groups"`
	// Rotations random rotations of InvarianceTest test molecules measure
	// how much each predictor changes when the molecule is rotated.
	Rotations      int `yaml:"rotations"`
	InvarianceTest int `yaml:"invariance_test"`
}

// qm9Elements are the elements of QM9 in feature order, with their
// standard atomic weights (for the centre of mass).
var (
	qm9FeatZ    = []int{1, 6, 7, 8, 9}
	qm9FeatMass = []float64{1.008, 12.011, 14.007, 15.999, 18.998}
	qm9FeatSym  = []string{"H", "C", "N", "O", "F"}
)

// qm9Representation documents the input representation.
const qm9Representation = "Each molecule is a vector of 8·A numbers (A = max_atoms = 29 for QM9): the atoms are centred at their centre of mass (standard atomic weights) and sorted by a rotation-invariant key (atomic number descending, then distance from the centre of mass ascending, then file order); the first 3·A entries are their coordinates x, y, z in Å divided by coord_scale, atom after atom, the last 5·A their one-hot elements (H, C, N, O, F); absent atoms are zeros. A rotation R acts on the coordinate block only, as R on each atom's 3-vector (group.VectorRep with A copies), and leaves the order and the one-hot block unchanged, so the representation is exactly rotation covariant."

// qm9Features returns the representation of the molecules (n × 8A, see
// qm9Representation) and their element counts (n × 5).
func qm9Features(mols []data.Molecule, maxAtoms int, scale float64) ([]float64, [][5]float64, error) {
	A := maxAtoms
	D := 8 * A
	x := make([]float64, len(mols)*D)
	counts := make([][5]float64, len(mols))
	for i := range mols {
		m := &mols[i]
		if len(m.Z) > A {
			return nil, nil, fmt.Errorf("qm9: molecule %d has %d atoms, more than max_atoms = %d", m.ID, len(m.Z), A)
		}
		el := make([]int, len(m.Z))
		var com [3]float64
		var mass float64
		for a, z := range m.Z {
			el[a] = slices.Index(qm9FeatZ, z)
			if el[a] < 0 {
				return nil, nil, fmt.Errorf("qm9: molecule %d has element Z = %d (want H, C, N, O, F)", m.ID, z)
			}
			w := qm9FeatMass[el[a]]
			for k := range 3 {
				com[k] += w * m.Pos[a][k]
			}
			mass += w
			counts[i][el[a]]++
		}
		for k := range 3 {
			com[k] /= mass
		}
		pos := make([][3]float64, len(m.Z))
		dist := make([]float64, len(m.Z))
		for a := range m.Z {
			for k := range 3 {
				pos[a][k] = m.Pos[a][k] - com[k]
			}
			dist[a] = math.Sqrt(pos[a][0]*pos[a][0] + pos[a][1]*pos[a][1] + pos[a][2]*pos[a][2])
		}
		order := experiment.Indices(len(m.Z))
		sort.SliceStable(order, func(p, q int) bool {
			a, b := order[p], order[q]
			if m.Z[a] != m.Z[b] {
				return m.Z[a] > m.Z[b]
			}
			return dist[a] < dist[b]
		})
		row := x[i*D : (i+1)*D]
		for s, a := range order {
			for k := range 3 {
				row[3*s+k] = pos[a][k] / scale
			}
			row[3*A+5*s+el[a]] = 1
		}
	}
	return x, counts, nil
}

// qm9Rotate applies element a of rep (acting on the 3A coordinates) to
// the n molecules of x (each D values), leaving the other features.
func qm9Rotate(rep *group.Rep, a int, dst, src []float64, n, D int) {
	c := rep.Dim()
	for i := 0; i < n; i++ {
		s, d := src[i*D:(i+1)*D], dst[i*D:(i+1)*D]
		group.Apply(rep, a, d[:c], s[:c])
		copy(d[c:], s[c:])
	}
}

// qm9AvgKernel returns the n1×n2 NTK averaged over the rotations of
// rep's group (nil rep: the plain kernel), one pair of elements at a time
// so that memory stays O(n1·n2). For a closed group G it is
// (1/|G|) Σ_a Θ(x1, ρ(a) x2), the kernel of the G-averaged network and the
// infinite-ensemble limit of training with G-augmentation. A sample S of
// SO(3) is not a group and its single average is not positive definite,
// so for samples it is the NTK of the network averaged over the sample,
// f̄(x) = (1/|S|) Σ_R f(Rx): (1/|S|²) Σ_{R,R'} Θ(R x1, R' x2), at |S|²
// kernel evaluations.
func qm9AvgKernel(ctx context.Context, arch *nn.Arch, rep *group.Rep, x1 []float64, n1 int, x2 []float64, n2 int) ([]float64, error) {
	D := arch.InputSize()
	if rep == nil {
		k, err := arch.Kernel(ctx, x1, n1, x2, n2, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		return k.Theta, nil
	}
	g := rep.Group()
	left := []int{g.Identity()}
	if !g.Closed() {
		left = experiment.Indices(g.Order())
	}
	w := 1 / float64(len(left)*g.Order())
	out := make([]float64, n1*n2)
	buf1 := make([]float64, n1*D)
	buf2 := make([]float64, n2*D)
	for _, a := range left {
		qm9Rotate(rep, a, buf1, x1, n1, D)
		for b := 0; b < g.Order(); b++ {
			qm9Rotate(rep, b, buf2, x2, n2, D)
			k, err := arch.Kernel(ctx, buf1, n1, buf2, n2, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, err
			}
			for i, v := range k.Theta {
				out[i] += v * w
			}
		}
	}
	return out, nil
}

// qm9Symmetrize replaces the n×n matrix by (k + kᵀ)/2 (averages over rotation
// samples that are not closed under inversion are only nearly symmetric).
func qm9Symmetrize(k []float64, n int) {
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := (k[i*n+j] + k[j*n+i]) / 2
			k[i*n+j], k[j*n+i] = v, v
		}
	}
}

// qm9Baseline fits y ≈ Σ_e w_e n_e + b (element counts, least squares with
// a tiny ridge for elements absent from the training set).
type qm9Baseline struct {
	W [6]float64 `json:"w"` // H, C, N, O, F, intercept
}

func fitQM9Baseline(counts [][5]float64, y []float64) qm9Baseline {
	var ata [6][6]float64
	var aty [6]float64
	for i, c := range counts {
		row := [6]float64{c[0], c[1], c[2], c[3], c[4], 1}
		for p := range 6 {
			aty[p] += row[p] * y[i]
			for q := range 6 {
				ata[p][q] += row[p] * row[q]
			}
		}
	}
	var tr float64
	for p := range 6 {
		tr += ata[p][p]
	}
	for p := range 6 {
		if ata[p][p] == 0 { // an element absent from the training set
			ata[p][p] = 1
		}
		ata[p][p] += 1e-12 * tr
	}
	// Gaussian elimination with partial pivoting on the 6×6 system.
	var b qm9Baseline
	m := ata
	v := aty
	for c := range 6 {
		piv := c
		for r := c + 1; r < 6; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		m[c], m[piv] = m[piv], m[c]
		v[c], v[piv] = v[piv], v[c]
		for r := c + 1; r < 6; r++ {
			f := m[r][c] / m[c][c]
			for q := c; q < 6; q++ {
				m[r][q] -= f * m[c][q]
			}
			v[r] -= f * v[c]
		}
	}
	for c := 5; c >= 0; c-- {
		s := v[c]
		for q := c + 1; q < 6; q++ {
			s -= m[c][q] * b.W[q]
		}
		b.W[c] = s / m[c][c]
	}
	return b
}

func (b qm9Baseline) predict(c [5]float64) float64 {
	s := b.W[5]
	for e := range 5 {
		s += b.W[e] * c[e]
	}
	return s
}

// qm9Point is one point of the learning curves.
type qm9Point struct {
	Kernel    string  `json:"kernel"`
	TrainSize int     `json:"train_size"`
	MAE       float64 `json:"mae"`
	RMSE      float64 `json:"rmse"`
}

// qm9Invariance says how much a predictor changes under rotations of the
// test molecules: mean |f(Rx) − f(x)| in the target unit, over random SO(3)
// rotations and over the 23 non-trivial rotations of the cube.
type qm9Invariance struct {
	Random float64 `json:"random"`
	Oct    float64 `json:"oct"`
}

// qm9Fit is kernel regression of the standardised baseline residuals with
// one training kernel; predict returns the predictions in target units.
type qm9Fit struct {
	pred  *predict.Regressor
	base  qm9Baseline
	scale float64
}

func newQM9Fit(ktrain []float64, n int, counts [][5]float64, y []float64, reg float64) (*qm9Fit, error) {
	base := fitQM9Baseline(counts[:n], y[:n])
	r := make([]float64, n)
	var ss float64
	for i := range r {
		r[i] = y[i] - base.predict(counts[i])
		ss += r[i] * r[i]
	}
	scale := math.Sqrt(ss / float64(n))
	if scale == 0 {
		scale = 1
	}
	for i := range r {
		r[i] /= scale
	}
	p, err := predict.NewRegressor(n, ktrain, r, 1, predict.Options{Reg: reg})
	if err != nil {
		return nil, err
	}
	return &qm9Fit{pred: p, base: base, scale: scale}, nil
}

func (f *qm9Fit) predict(ktest []float64, m int, counts [][5]float64) ([]float64, error) {
	mu, err := f.pred.Mean(ktest, m, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	for i := range mu {
		mu[i] = mu[i]*f.scale + f.base.predict(counts[i])
	}
	return mu, nil
}

// qm9PrefixCols returns the first n columns of the rows×stride matrix k.
func qm9PrefixCols(k []float64, rows, stride, n int) []float64 {
	out := make([]float64, rows*n)
	for i := 0; i < rows; i++ {
		copy(out[i*n:(i+1)*n], k[i*stride:i*stride+n])
	}
	return out
}

func qm9Errors(pred, y []float64) (mae, rmse float64) {
	for i, p := range pred {
		d := p - y[i]
		mae += math.Abs(d)
		rmse += d * d
	}
	n := float64(len(pred))
	return mae / n, math.Sqrt(rmse / n)
}

// qm9Load reads QM9 from the configured file or the installed archive.
func qm9Load(env *experiment.Env, p *qm9Params) (*data.QM9Set, error) {
	if p.File != "" {
		q, err := data.ReadQM9(p.File)
		if err != nil {
			return nil, fmt.Errorf("experiments/qm9.yaml: file: %w", err)
		}
		return q, nil
	}
	q, err := data.LoadQM9(env.DataDir)
	if err != nil {
		return nil, fmt.Errorf("the qm9 experiment needs the QM9 archive dsgdb9nsd.xyz.tar.bz2, which is not usable here:\n  %v\nDownload it (86 MB) with `eqens data fetch qm9`, or put it into DIR/qm9/ and pass --data-dir DIR (or set $EQENS_DATA=DIR)", err)
	}
	return q, nil
}

// runQM9 runs the qm9 experiment. results.json holds
//
//	target, unit, representation   what is regressed and how molecules
//	                               are encoded (qm9Representation)
//	molecules, test_size           the data used
//	kernels                        "plain" and one per rotation set
//	baseline                       MAE of the per-element linear baseline
//	                               alone, by training size
//	curve                          MAE and RMSE (unit) by kernel and
//	                               training size: baseline + kernel
//	                               regression of the residuals
//	invariance                     per kernel, mean |f(Rx) − f(x)| over
//	                               random rotations and over the cube's
//	                               rotations (largest training size)
//	params
//
// Tables: curve, invariance.
func runQM9(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	start := time.Now()
	var p qm9Params
	if err := experiment.DecodeParams("qm9", node, &p); err != nil {
		return nil, err
	}
	prop, err := data.ParseQM9Property(p.Target)
	if err != nil {
		return nil, fmt.Errorf("experiments/qm9.yaml: target: %w", err)
	}
	unit := prop.Unit()
	if prop.IsEnergy() {
		unit = "meV"
	}
	if p.MaxAtoms < 1 || p.TestSize < 1 || len(p.TrainSizes) == 0 {
		return nil, errors.New("experiments/qm9.yaml: max_atoms, test_size and train_sizes must be given")
	}
	if p.CoordScale <= 0 {
		p.CoordScale = 1
	}
	var groups []*group.Group
	var reps []*group.Rep
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("experiments/qm9.yaml: groups: %w", err)
		}
		if g.Dim() != 3 {
			return nil, fmt.Errorf("experiments/qm9.yaml: groups: %s does not rotate 3D space (want oct, ico, so3:N)", g.Name())
		}
		rep, err := group.VectorRep(g, p.MaxAtoms)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
		reps = append(reps, rep)
	}
	arch, err := nn.Parse(p.Arch, []int{8 * p.MaxAtoms}, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("experiments/qm9.yaml: arch: %w", err)
	}
	q, err := qm9Load(env, &p)
	if err != nil {
		return nil, err
	}
	yAll, err := q.Target(prop, unit)
	if err != nil {
		return nil, err
	}
	nmax := slices.Max(p.TrainSizes)
	if nmax+p.TestSize > len(q.Molecules) {
		return nil, fmt.Errorf("experiments/qm9.yaml: %d training and %d test molecules asked for, the data has %d", nmax, p.TestSize, len(q.Molecules))
	}
	env.Logf("qm9: %d molecules read in %.1f s; %s in %s, %d test molecules, training sizes %v", len(q.Molecules), time.Since(start).Seconds(), prop, unit, p.TestSize, p.TrainSizes)
	perm := rand.New(rand.NewPCG(p.Seed, 0x5eed)).Perm(len(q.Molecules))
	pick := func(idx []int) ([]data.Molecule, []float64) {
		ms := make([]data.Molecule, len(idx))
		ys := make([]float64, len(idx))
		for i, j := range idx {
			ms[i], ys[i] = q.Molecules[j], yAll[j]
		}
		return ms, ys
	}
	teMols, yTe := pick(perm[:p.TestSize])
	trMols, yTr := pick(perm[p.TestSize : p.TestSize+nmax])
	xTe, cTe, err := qm9Features(teMols, p.MaxAtoms, p.CoordScale)
	if err != nil {
		return nil, err
	}
	xTr, cTr, err := qm9Features(trMols, p.MaxAtoms, p.CoordScale)
	if err != nil {
		return nil, err
	}
	m := len(teMols)
	D := 8 * p.MaxAtoms
	sizes := slices.Clone(p.TrainSizes)
	slices.Sort(sizes)
	kernels := []string{"plain"}
	kreps := []*group.Rep{nil}
	for i, g := range groups {
		kernels = append(kernels, g.Name())
		kreps = append(kreps, reps[i])
	}
	// Rotations of a few test molecules for the invariance check.
	ni := min(p.InvarianceTest, m)
	var randRep, octRep *group.Rep
	if p.Rotations > 0 && ni > 0 {
		rg, err := group.Parse(fmt.Sprintf("so3:%d:%d", p.Rotations, p.Seed+17))
		if err != nil {
			return nil, err
		}
		if randRep, err = group.VectorRep(rg, p.MaxAtoms); err != nil {
			return nil, err
		}
		og, _ := group.Parse("oct")
		if octRep, err = group.VectorRep(og, p.MaxAtoms); err != nil {
			return nil, err
		}
	}
	rotated := func(rep *group.Rep, skipIdentity bool) ([]float64, [][5]float64, int) {
		var xs []float64
		var cs [][5]float64
		buf := make([]float64, ni*D)
		for a := 0; a < rep.Group().Order(); a++ {
			if skipIdentity && a == rep.Group().Identity() {
				continue
			}
			qm9Rotate(rep, a, buf, xTe[:ni*D], ni, D)
			xs = append(xs, buf...)
			cs = append(cs, cTe[:ni]...)
		}
		return xs, cs, len(cs)
	}
	var xRand, xOct []float64
	var cRand, cOct [][5]float64
	var nRand, nOct int
	if randRep != nil {
		xRand, cRand, nRand = rotated(randRep, false)
		xOct, cOct, nOct = rotated(octRep, true)
	}
	var curve []qm9Point
	var baseline []qm9Point
	invariance := map[string]qm9Invariance{}
	for _, ns := range sizes {
		b := fitQM9Baseline(cTr[:ns], yTr[:ns])
		pred := make([]float64, m)
		for i := range pred {
			pred[i] = b.predict(cTe[i])
		}
		mae, rmse := qm9Errors(pred, yTe)
		baseline = append(baseline, qm9Point{Kernel: "baseline", TrainSize: ns, MAE: mae, RMSE: rmse})
	}
	for ki, kn := range kernels {
		kst := time.Now()
		rep := kreps[ki]
		ktr, err := qm9AvgKernel(ctx, arch, rep, xTr, nmax, xTr, nmax)
		if err != nil {
			return nil, err
		}
		qm9Symmetrize(ktr, nmax)
		kte, err := qm9AvgKernel(ctx, arch, rep, xTe, m, xTr, nmax)
		if err != nil {
			return nil, err
		}
		var fit *qm9Fit
		for _, ns := range sizes {
			f, err := newQM9Fit(qm9PrefixCols(ktr[:ns*nmax], ns, nmax, ns), ns, cTr, yTr, p.Reg)
			if err != nil {
				return nil, fmt.Errorf("qm9: kernel %s, %d molecules: %w", kn, ns, err)
			}
			pred, err := f.predict(qm9PrefixCols(kte, m, nmax, ns), m, cTe)
			if err != nil {
				return nil, err
			}
			mae, rmse := qm9Errors(pred, yTe)
			curve = append(curve, qm9Point{Kernel: kn, TrainSize: ns, MAE: mae, RMSE: rmse})
			fit = f
		}
		if randRep != nil {
			base, err := fit.predict(kte[:ni*nmax], ni, cTe[:ni])
			if err != nil {
				return nil, err
			}
			change := func(x []float64, c [][5]float64, n int) (float64, error) {
				k, err := qm9AvgKernel(ctx, arch, rep, x, n, xTr, nmax)
				if err != nil {
					return 0, err
				}
				pr, err := fit.predict(k, n, c)
				if err != nil {
					return 0, err
				}
				var s float64
				for i, v := range pr {
					s += math.Abs(v - base[i%ni])
				}
				return s / float64(n), nil
			}
			var inv qm9Invariance
			if inv.Random, err = change(xRand, cRand, nRand); err != nil {
				return nil, err
			}
			if inv.Oct, err = change(xOct, cOct, nOct); err != nil {
				return nil, err
			}
			invariance[kn] = inv
		}
		env.Logf("qm9: kernel %s done in %.1f s", kn, time.Since(kst).Seconds())
	}
	res := map[string]any{
		"target":         prop.String(),
		"unit":           unit,
		"representation": qm9Representation,
		"molecules":      len(q.Molecules),
		"test_size":      m,
		"arch":           arch.Spec,
		"kernels":        kernels,
		"baseline":       baseline,
		"curve":          curve,
		"invariance":     invariance,
		"params":         p,
	}
	r, sum := qm9Report(&p, prop, unit, arch.Spec, len(q.Molecules), m, ni, kernels, sizes, baseline, curve, invariance)
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// qm9KernelLabel names a kernel in tables; qm9KernelShort in legends.
func qm9KernelLabel(k string) string {
	switch {
	case k == "plain":
		return "plain NTK"
	case k == "baseline":
		return "element counts only"
	case k == "oct":
		return "NTK averaged over the cube's 24 rotations"
	case k == "ico":
		return "NTK averaged over the icosahedron's 60 rotations"
	case strings.HasPrefix(k, "so3:"):
		f := strings.Split(k, ":")
		return "NTK of the network averaged over " + f[1] + " random rotations"
	}
	return "NTK averaged over " + k
}

func qm9KernelShort(k string) string {
	switch {
	case k == "plain":
		return "plain"
	case k == "baseline":
		return "counts only"
	case k == "oct":
		return "cube (24)"
	case k == "ico":
		return "icosahedron (60)"
	case strings.HasPrefix(k, "so3:"):
		f := strings.Split(k, ":")
		return "SO(3) sample (" + f[1] + ")"
	}
	return k
}

// qm9Report builds the report and the summary.
func qm9Report(p *qm9Params, prop data.QM9Property, unit, spec string, nMol, m, ni int, kernels []string, sizes []int, baseline, curve []qm9Point, inv map[string]qm9Invariance) (*report.Report, string) {
	var sum strings.Builder
	cols := []string{"training molecules", qm9KernelShort("baseline")}
	var legend []string
	for _, k := range kernels {
		cols = append(cols, qm9KernelShort(k))
		legend = append(legend, qm9KernelShort(k)+": "+qm9KernelLabel(k))
	}
	ct := report.Table{Name: "curve", Caption: fmt.Sprintf("Mean absolute error (%s) of %s on %d test molecules: the per-element linear baseline alone (counts only), and the baseline plus kernel regression of its residuals with each kernel (%s).", unit, prop, m, strings.Join(legend, "; ")), Columns: cols}
	fmt.Fprintf(&sum, "\nQM9 %s, MAE in %s on %d test molecules\n%-10s %12s", prop, unit, m, "n train", "baseline")
	for _, k := range kernels {
		fmt.Fprintf(&sum, " %12s", k)
	}
	sum.WriteString("\n")
	var series []report.Series
	bx, by := []float64{}, []float64{}
	for _, b := range baseline {
		bx = append(bx, float64(b.TrainSize))
		by = append(by, b.MAE)
	}
	series = append(series, report.Series{Name: qm9KernelShort("baseline"), X: bx, Y: by, Points: true, Dashed: true, Color: 7})
	for ki, k := range kernels {
		var xs, ys []float64
		for _, c := range curve {
			if c.Kernel == k {
				xs = append(xs, float64(c.TrainSize))
				ys = append(ys, c.MAE)
			}
		}
		series = append(series, report.Series{Name: qm9KernelShort(k), X: xs, Y: ys, Points: true, Color: ki + 1})
	}
	for si, ns := range sizes {
		row := []string{fmt.Sprint(ns), fmt.Sprintf("%.1f", baseline[si].MAE)}
		fmt.Fprintf(&sum, "%-10d %12.1f", ns, baseline[si].MAE)
		for _, k := range kernels {
			for _, c := range curve {
				if c.Kernel == k && c.TrainSize == ns {
					row = append(row, fmt.Sprintf("%.1f", c.MAE))
					fmt.Fprintf(&sum, " %12.1f", c.MAE)
				}
			}
		}
		sum.WriteString("\n")
		ct.Rows = append(ct.Rows, row)
	}
	pl := &report.Plot{Title: fmt.Sprintf("QM9 %s: learning curves", prop), XLabel: "training molecules", YLabel: fmt.Sprintf("test MAE (%s)", unit), LogX: true, LogY: true, Series: series}
	sections := []report.Section{
		{Heading: "Learning curves", Text: fmt.Sprintf("Kernel: the NTK of `%s` (infinite ensembles of infinitely wide networks trained to convergence on the MSE), ridge %g × mean diagonal. Averaging the kernel over a finite rotation group, Θ_G(x, x') = (1/|G|) Σ_R Θ(x, R x'), gives the NTK of the group-averaged network, whose predictor is exactly invariant under the group (Misof, Kessel & Gerken 2025) and equals training the plain kernel on the rotated copies of every molecule (Gerken & Kessel 2024). A random sample S of SO(3) is not a group: its kernel is that of the network averaged over the sample, (1/|S|²) Σ_{R,R'} Θ(R x, R' x'), which is only approximately invariant. Targets: %s minus a per-element linear baseline (least squares on the element counts and a constant, fitted on the same training molecules), standardised; the baseline is added back.", spec, p.Reg, prop),
			Tables: []report.Table{ct}, Figures: []report.Figure{{Name: "learning-curve", Caption: fmt.Sprintf("Test MAE (%s) against the number of training molecules (log-log).", unit), Plot: pl}}},
	}
	if len(inv) > 0 {
		it := report.Table{Name: "invariance", Caption: fmt.Sprintf("Mean change |f(Rx) − f(x)| (%s) of each predictor (largest training set) when %d test molecules are rotated: by %d random rotations (Haar) and by the 23 non-trivial rotations of the cube.", unit, ni, p.Rotations),
			Columns: []string{"kernel", "random rotations", "cube rotations"}}
		fmt.Fprintf(&sum, "change under rotations of the test molecules (%s): ", unit)
		for _, k := range kernels {
			iv := inv[k]
			it.Rows = append(it.Rows, []string{qm9KernelLabel(k), fmt.Sprintf("%.3g", iv.Random), fmt.Sprintf("%.3g", iv.Oct)})
			fmt.Fprintf(&sum, "%s random %.3g cube %.3g; ", k, iv.Random, iv.Oct)
		}
		sum.WriteString("\n")
		sections = append(sections, report.Section{Heading: "Invariance", Text: "The plain kernel sees the orientation of the molecule; averaging over the cube's rotations makes the prediction exactly invariant under them (up to round-off), and averaging over random rotations reduces the change under arbitrary rotations.", Tables: []report.Table{it}})
	}
	rtext := qm9Representation
	if p.File != "" {
		rtext += fmt.Sprintf("\n\nThe molecules were read from %s, which is not checksum-verified against the published QM9 archive.", p.File)
	}
	sections = append(sections, report.Section{Heading: "Representation", Text: rtext})
	intro := fmt.Sprintf("Regression of the QM9 %s (DFT, %d molecules of up to 9 heavy atoms) with neural tangent kernels: the plain NTK of an MLP on a fixed-size encoding of the atoms against the same NTK averaged over rotations of the molecule, which is the NTK of the corresponding group-equivariant network and the infinite-ensemble limit of training with rotation augmentation.", prop, nMol)
	return &report.Report{Title: "Rotation-averaged NTKs for QM9", Intro: intro, Sections: sections}, sum.String()
}
