package qm9

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// point is one point of the learning curves.
type point struct {
	Kernel    string  `json:"kernel"`
	TrainSize int     `json:"train_size"`
	MAE       float64 `json:"mae"`
	RMSE      float64 `json:"rmse"`
}

// invariance says how much a predictor changes under rotations of the test
// molecules: mean |f(Rx) − f(x)| in the target unit, over random SO(3)
// rotations and over the 23 non-trivial rotations of the cube; and how much
// its kernel changes, max |Θ(Rx, x') − Θ(x, x')| / max |Θ(x, x')| over the
// rotated test molecules and all training molecules x'.
type invariance struct {
	Random       float64 `json:"random"`
	Oct          float64 `json:"oct"`
	KernelRandom float64 `json:"kernel_random"`
	KernelOct    float64 `json:"kernel_oct"`
}

// molSet is a set of encoded molecules: the coordinate encoding x (D
// values each, see representation), the atoms' spherical signals (nil
// when no per-atom kernel is asked for) and the element counts c.
type molSet struct {
	n     int
	x     []float64
	atoms *atomSet
	c     [][5]float64
}

// encode returns the encodings of mols that the kernels of s need.
func encode(p *params, s *setup, mols []data.Molecule) (*molSet, error) {
	x, c, err := features(mols, p.MaxAtoms, p.CoordScale)
	if err != nil {
		return nil, err
	}
	set := &molSet{n: len(mols), x: x, c: c}
	if s.needAtoms() {
		if set.atoms, err = sphericalFeatures(mols, p.BandLimit, p.SignalQuadrature); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// split holds the test molecules and the largest training set (nmax
// molecules; the smaller ones are its prefixes), encoded, and their
// targets; teMols are the test molecules themselves (for rotations).
type split struct {
	tr, te   *molSet
	teMols   []data.Molecule
	yTr, yTe []float64
	nmax, m  int
}

// splitData draws the test molecules and the nmax training molecules (a
// random permutation of the data with the configured seed) and encodes
// them.
func splitData(p *params, s *setup, mols []data.Molecule, yAll []float64, nmax int) (*split, error) {
	perm := rand.New(rand.NewPCG(p.Seed, 0x5eed)).Perm(len(mols))
	pick := func(idx []int) ([]data.Molecule, []float64) {
		ms := make([]data.Molecule, len(idx))
		ys := make([]float64, len(idx))
		for i, j := range idx {
			ms[i], ys[i] = mols[j], yAll[j]
		}
		return ms, ys
	}
	teMols, yTe := pick(perm[:p.TestSize])
	trMols, yTr := pick(perm[p.TestSize : p.TestSize+nmax])
	d := &split{teMols: teMols, yTr: yTr, yTe: yTe, nmax: nmax, m: len(teMols)}
	var err error
	if d.te, err = encode(p, s, teMols); err != nil {
		return nil, err
	}
	if d.tr, err = encode(p, s, trMols); err != nil {
		return nil, err
	}
	return d, nil
}

// baselineCurve returns the test errors of the per-element baseline alone,
// by training size.
func baselineCurve(d *split, sizes []int) []point {
	var curve []point
	for _, ns := range sizes {
		b := fitBaseline(d.tr.c[:ns], d.yTr[:ns])
		pred := make([]float64, d.m)
		for i := range pred {
			pred[i] = b.predict(d.te.c[i])
		}
		mae, rmse := maeRMSE(pred, d.yTe)
		curve = append(curve, point{Kernel: "baseline", TrainSize: ns, MAE: mae, RMSE: rmse})
	}
	return curve
}

// rotatedSets are the first ni test molecules under random rotations and
// under the cube's non-trivial rotations, block after block, encoded.
type rotatedSets struct {
	ni          int
	random, oct *molSet
}

// rotatedTests returns the rotated copies of the first ni test molecules
// for the invariance check, or nil when it is not asked for.
func rotatedTests(p *params, s *setup, d *split, ni int) (*rotatedSets, error) {
	if p.Rotations <= 0 || ni <= 0 {
		return nil, nil
	}
	rg, err := group.Parse(fmt.Sprintf("so3:%d:%d", p.Rotations, p.Seed+17))
	if err != nil {
		return nil, err
	}
	og, _ := group.Parse("oct")
	rs := &rotatedSets{ni: ni}
	if rs.random, err = encode(p, s, rotateMolecules(d.teMols[:ni], rg, false)); err != nil {
		return nil, err
	}
	if rs.oct, err = encode(p, s, rotateMolecules(d.teMols[:ni], og, true)); err != nil {
		return nil, err
	}
	return rs, nil
}

// rotateMolecules returns mols rotated about the origin by every element
// of the rotation group g (but the identity, with skipIdentity), block
// after block.
func rotateMolecules(mols []data.Molecule, g *group.Group, skipIdentity bool) []data.Molecule {
	var out []data.Molecule
	for a := 0; a < g.Order(); a++ {
		if skipIdentity && a == g.Identity() {
			continue
		}
		R := g.Matrix(a)
		for _, m := range mols {
			mm := m
			mm.Pos = make([][3]float64, len(m.Pos))
			for k, x := range m.Pos {
				for r := range 3 {
					mm.Pos[k][r] = R[3*r]*x[0] + R[3*r+1]*x[1] + R[3*r+2]*x[2]
				}
			}
			out = append(out, mm)
		}
	}
	return out
}

// kernelSpec is one kernel of the comparison: the NTK of arch on the
// coordinate encoding, averaged over rep's rotations (nil rep: plain), or,
// with atoms, the NTK of arch applied to every atom's spherical signals
// and summed over the atoms (sumKernel).
type kernelSpec struct {
	name  string
	arch  *nn.Arch
	rep   *group.Rep
	atoms bool
}

// matrix returns the a.n × b.n kernel between the molecule sets; desc
// names the progress output.
func (k *kernelSpec) matrix(ctx context.Context, a, b *molSet, desc string) ([]float64, error) {
	if k.atoms {
		return sumKernel(ctx, k.arch, a.atoms, b.atoms, desc) // symmetric when a == b
	}
	return avgKernel(ctx, k.arch, k.rep, a.x, a.n, b.x, b.n)
}

// evalKernel computes the learning curve of kernel k and, when rot is not
// nil, the invariance of its predictor on the largest training set. mat
// returns the kernel matrices (computed, or read back from the cache).
func evalKernel(ctx context.Context, p *params, k *kernelSpec, mat matrixFunc, d *split, sizes []int, rot *rotatedSets) ([]point, *invariance, error) {
	ktr, err := mat(ctx, k, "train", d.tr, d.tr)
	if err != nil {
		return nil, nil, err
	}
	symmetrize(ktr, d.nmax)
	kte, err := mat(ctx, k, "test", d.te, d.tr)
	if err != nil {
		return nil, nil, err
	}
	var curve []point
	var fit *residualFit
	for _, ns := range sizes {
		f, err := newResidualFit(prefixCols(ktr[:ns*d.nmax], ns, d.nmax, ns), ns, d.tr.c, d.yTr, p.Reg)
		if err != nil {
			return nil, nil, fmt.Errorf("qm9: kernel %s, %d molecules: %w", k.name, ns, err)
		}
		pred, err := f.predict(prefixCols(kte, d.m, d.nmax, ns), d.m, d.te.c)
		if err != nil {
			return nil, nil, err
		}
		mae, rmse := maeRMSE(pred, d.yTe)
		curve = append(curve, point{Kernel: k.name, TrainSize: ns, MAE: mae, RMSE: rmse})
		fit = f
	}
	if rot == nil {
		return curve, nil, nil
	}
	inv, err := measureInvariance(ctx, k, mat, fit, kte, d, rot)
	if err != nil {
		return nil, nil, err
	}
	return curve, inv, nil
}

// matrixFunc returns the kernel matrix of k between two molecule sets;
// role names the matrix (train, test, random, oct) for the cache.
type matrixFunc func(ctx context.Context, k *kernelSpec, role string, a, b *molSet) ([]float64, error)

// measureInvariance returns the mean change of the predictor fit (kernel
// k) on the rotated test molecules against its prediction on the
// originals, and the largest relative change of their kernel rows; kte is
// the test kernel.
func measureInvariance(ctx context.Context, k *kernelSpec, mat matrixFunc, fit *residualFit, kte []float64, d *split, rot *rotatedSets) (*invariance, error) {
	ni, n := rot.ni, d.nmax
	base, err := fit.predict(kte[:ni*n], ni, d.te.c[:ni])
	if err != nil {
		return nil, err
	}
	kmax := absMax(kte[:ni*n])
	change := func(role string, s *molSet) (pred, kern float64, err error) {
		kr, err := mat(ctx, k, role, s, d.tr)
		if err != nil {
			return 0, 0, err
		}
		pr, err := fit.predict(kr, s.n, s.c)
		if err != nil {
			return 0, 0, err
		}
		for i, v := range pr {
			pred += math.Abs(v - base[i%ni])
		}
		return pred / float64(s.n), rowsChange(kr, kte, ni, n) / kmax, nil
	}
	var inv invariance
	if inv.Random, inv.KernelRandom, err = change("random", rot.random); err != nil {
		return nil, err
	}
	if inv.Oct, inv.KernelOct, err = change("oct", rot.oct); err != nil {
		return nil, err
	}
	return &inv, nil
}

// absMax returns max |v[i]|.
func absMax(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// rowsChange returns max |rot[i] − base[row of i]| for rotated kernel rows
// rot, blocks of ni rows of n columns, against the ni rows of base.
func rowsChange(rot, base []float64, ni, n int) float64 {
	var d float64
	for i, v := range rot {
		r, j := i/n%ni, i%n
		d = math.Max(d, math.Abs(v-base[r*n+j]))
	}
	return d
}
