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
// rotations and over the 23 non-trivial rotations of the cube.
type invariance struct {
	Random float64 `json:"random"`
	Oct    float64 `json:"oct"`
}

// split holds the encoded test molecules and the largest training set
// (nmax molecules; the smaller ones are its prefixes): inputs x (D values
// each), element counts c and targets y.
type split struct {
	xTr, xTe []float64
	cTr, cTe [][5]float64
	yTr, yTe []float64
	nmax, m  int
	D        int
}

// splitData draws the test molecules and the nmax training molecules (a
// random permutation of the data with the configured seed) and encodes
// them.
func splitData(p *params, mols []data.Molecule, yAll []float64, nmax int) (*split, error) {
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
	d := &split{yTr: yTr, yTe: yTe, nmax: nmax, m: len(teMols), D: 8 * p.MaxAtoms}
	var err error
	if d.xTe, d.cTe, err = features(teMols, p.MaxAtoms, p.CoordScale); err != nil {
		return nil, err
	}
	if d.xTr, d.cTr, err = features(trMols, p.MaxAtoms, p.CoordScale); err != nil {
		return nil, err
	}
	return d, nil
}

// baselineCurve returns the test errors of the per-element baseline alone,
// by training size.
func baselineCurve(d *split, sizes []int) []point {
	var curve []point
	for _, ns := range sizes {
		b := fitBaseline(d.cTr[:ns], d.yTr[:ns])
		pred := make([]float64, d.m)
		for i := range pred {
			pred[i] = b.predict(d.cTe[i])
		}
		mae, rmse := maeRMSE(pred, d.yTe)
		curve = append(curve, point{Kernel: "baseline", TrainSize: ns, MAE: mae, RMSE: rmse})
	}
	return curve
}

// rotatedSet is n rotated copies of test molecules, block after block:
// inputs x and element counts c.
type rotatedSet struct {
	x []float64
	c [][5]float64
	n int
}

// rotatedSets are the first ni test molecules (base) under random
// rotations and under the cube's non-trivial rotations.
type rotatedSets struct {
	ni          int
	random, oct rotatedSet
}

// rotatedTests returns the rotated copies of the first ni test molecules
// for the invariance check, or nil when it is not asked for.
func rotatedTests(p *params, d *split, ni int) (*rotatedSets, error) {
	if p.Rotations <= 0 || ni <= 0 {
		return nil, nil
	}
	rg, err := group.Parse(fmt.Sprintf("so3:%d:%d", p.Rotations, p.Seed+17))
	if err != nil {
		return nil, err
	}
	randRep, err := group.VectorRep(rg, p.MaxAtoms)
	if err != nil {
		return nil, err
	}
	og, _ := group.Parse("oct")
	octRep, err := group.VectorRep(og, p.MaxAtoms)
	if err != nil {
		return nil, err
	}
	return &rotatedSets{ni: ni, random: rotatedTest(d, ni, randRep, false), oct: rotatedTest(d, ni, octRep, true)}, nil
}

// rotatedTest returns the first ni test molecules rotated by every element
// of rep's group (but the identity, with skipIdentity).
func rotatedTest(d *split, ni int, rep *group.Rep, skipIdentity bool) rotatedSet {
	var s rotatedSet
	buf := make([]float64, ni*d.D)
	for a := 0; a < rep.Group().Order(); a++ {
		if skipIdentity && a == rep.Group().Identity() {
			continue
		}
		rotate(rep, a, buf, d.xTe[:ni*d.D], ni, d.D)
		s.x = append(s.x, buf...)
		s.c = append(s.c, d.cTe[:ni]...)
	}
	s.n = len(s.c)
	return s
}

// evalKernel computes the learning curve of the kernel kn (averaged over
// rep; nil: plain) and, when rot is not nil, the invariance of its
// predictor on the largest training set.
func evalKernel(ctx context.Context, p *params, arch *nn.Arch, rep *group.Rep, kn string, d *split, sizes []int, rot *rotatedSets) ([]point, *invariance, error) {
	ktr, err := avgKernel(ctx, arch, rep, d.xTr, d.nmax, d.xTr, d.nmax)
	if err != nil {
		return nil, nil, err
	}
	symmetrize(ktr, d.nmax)
	kte, err := avgKernel(ctx, arch, rep, d.xTe, d.m, d.xTr, d.nmax)
	if err != nil {
		return nil, nil, err
	}
	var curve []point
	var fit *residualFit
	for _, ns := range sizes {
		f, err := newResidualFit(prefixCols(ktr[:ns*d.nmax], ns, d.nmax, ns), ns, d.cTr, d.yTr, p.Reg)
		if err != nil {
			return nil, nil, fmt.Errorf("qm9: kernel %s, %d molecules: %w", kn, ns, err)
		}
		pred, err := f.predict(prefixCols(kte, d.m, d.nmax, ns), d.m, d.cTe)
		if err != nil {
			return nil, nil, err
		}
		mae, rmse := maeRMSE(pred, d.yTe)
		curve = append(curve, point{Kernel: kn, TrainSize: ns, MAE: mae, RMSE: rmse})
		fit = f
	}
	if rot == nil {
		return curve, nil, nil
	}
	inv, err := measureInvariance(ctx, arch, rep, fit, kte, d, rot)
	if err != nil {
		return nil, nil, err
	}
	return curve, inv, nil
}

// measureInvariance returns the mean change of the predictor fit (kernel
// averaged over rep) on the rotated test molecules against its prediction
// on the originals; kte is its test kernel.
func measureInvariance(ctx context.Context, arch *nn.Arch, rep *group.Rep, fit *residualFit, kte []float64, d *split, rot *rotatedSets) (*invariance, error) {
	ni := rot.ni
	base, err := fit.predict(kte[:ni*d.nmax], ni, d.cTe[:ni])
	if err != nil {
		return nil, err
	}
	change := func(s rotatedSet) (float64, error) {
		k, err := avgKernel(ctx, arch, rep, s.x, s.n, d.xTr, d.nmax)
		if err != nil {
			return 0, err
		}
		pr, err := fit.predict(k, s.n, s.c)
		if err != nil {
			return 0, err
		}
		var sum float64
		for i, v := range pr {
			sum += math.Abs(v - base[i%ni])
		}
		return sum / float64(s.n), nil
	}
	var inv invariance
	if inv.Random, err = change(rot.random); err != nil {
		return nil, err
	}
	if inv.Oct, err = change(rot.oct); err != nil {
		return nil, err
	}
	return &inv, nil
}
