package crossproduct

// This file holds the kernel identity checks: on a few training points,
// the averaged kernel's prediction against kernel regression on the
// augmented set, and the equivariance of both under the set's own
// rotations.

import (
	"context"
	"math"
	"slices"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
)

// identityCheck is the kernel identity check of one augmentation set.
type identityCheck struct {
	Group  string `json:"group"`
	Closed bool   `json:"closed"`
	N      int    `json:"n"`
	Route  string `json:"route"`
	// AvgAsymmetry is max |K̄ − K̄ᵀ| / max |K̄| of the 3n×3n averaged
	// kernel, AvgMinEig the smallest eigenvalue of its symmetric part over
	// the largest.
	AvgAsymmetry float64 `json:"averaged_asymmetry"`
	AvgMinEig    float64 `json:"averaged_min_eig_rel"`
	// DiffInf and DiffT compare the two routes (absent when the averaged
	// kernel is not positive semi-definite and so cannot be used).
	DiffInf *float64 `json:"averaged_vs_expanded_inf,omitempty"`
	DiffT   *float64 `json:"averaged_vs_expanded_t,omitempty"`
	CheckT  float64  `json:"t"`
	// EqOwnGroup is the equivariance error of the augmented-set prediction
	// under the set's own rotations, EqOwnGroupAv that of the averaged
	// kernel's prediction.
	EqOwnGroup   float64  `json:"eq_err_own_group"`
	EqOwnGroupAv *float64 `json:"eq_err_own_group_averaged,omitempty"`
}

// checkIdentity compares, on the first n training points, kernel
// regression on the augmented set with the prediction of the matrix-valued
// averaged kernel, at t = ∞ and at a finite time, on the m test points xt;
// and measures the equivariance of both under the set's own rotations. For
// a set that is not a group the averaged kernel is not symmetric; its
// symmetric part is used if it is positive semi-definite.
func checkIdentity(ctx context.Context, arch *nn.Arch, x, y []float64, n int, xt []float64, m int, in, out *group.Rep, reg float64) (identityCheck, error) {
	g := in.Group()
	ck := identityCheck{Group: g.Name(), Closed: g.Closed(), N: n, CheckT: 100}
	x, y = x[:n*6], y[:n*3]
	tr, err := ntkTrace(ctx, arch, x, n)
	if err != nil {
		return ck, err
	}
	r := reg * tr / float64(n)
	lr := 1.0 / (tr / float64(n)) // a stable step for the check's finite time
	ex, err := ntkExpanded(ctx, arch, x, y, n, in, out, r, lr)
	if err != nil {
		return ck, err
	}
	kb, err := averagedKernel(ctx, arch, x, n, x, n, in, out)
	if err != nil {
		return ck, err
	}
	N := 3 * n
	ck.AvgAsymmetry = symmetrize(N, kb)
	w := make([]float64, N)
	if err := linalg.EigSym(N, slices.Clone(kb), w); err != nil {
		return ck, err
	}
	ck.AvgMinEig = w[0] / w[N-1]
	ds := &data.Dataset{Name: "check", Shape: []int{6}, X: make([]float32, m*6), Y: make([]float32, m*3), TargetDim: 3}
	for i := range ds.X {
		ds.X[i] = float32(xt[i])
	}
	if ck.EqOwnGroup, err = ownGroupEqErr(ctx, ex, ds, in, out); err != nil {
		return ck, err
	}
	if ck.AvgMinEig < -1e-8 {
		return ck, nil
	}
	av, err := averagedModel(arch, x, y, n, in, out, kb, r, lr)
	if err != nil {
		return ck, err
	}
	times := []float64{math.Inf(1), ck.CheckT}
	a, err := av.predict(ctx, xt, m, times)
	if err != nil {
		return ck, err
	}
	b, err := ex.predict(ctx, xt, m, times)
	if err != nil {
		return ck, err
	}
	di, dt := experiment.MaxRelDiff(a[:m*3], b[:m*3]), experiment.MaxRelDiff(a[m*3:], b[m*3:])
	ck.DiffInf, ck.DiffT = &di, &dt
	ea, err := ownGroupEqErr(ctx, av, ds, in, out)
	if err != nil {
		return ck, err
	}
	ck.EqOwnGroupAv = &ea
	return ck, nil
}

// symmetrize replaces the N×N matrix a by its symmetric part and returns
// its asymmetry max |a − aᵀ| / max |a| before.
func symmetrize(N int, a []float64) float64 {
	var asym, big float64
	for i := 0; i < N; i++ {
		for j := 0; j < N; j++ {
			asym = max(asym, math.Abs(a[i*N+j]-a[j*N+i]))
			big = max(big, math.Abs(a[i*N+j]))
		}
	}
	for i := 0; i < N; i++ {
		for j := 0; j < i; j++ {
			v := (a[i*N+j] + a[j*N+i]) / 2
			a[i*N+j], a[j*N+i] = v, v
		}
	}
	return asym / big
}

// ownGroupEqErr is the relative equivariance error of model's t = ∞ mean on
// ds under the rotations of the set itself (in on inputs, out on outputs).
func ownGroupEqErr(ctx context.Context, model *ntkModel, ds *data.Dataset, in, out *group.Rep) (float64, error) {
	o, err := model.orbit(ctx, ds, in)
	if err != nil {
		return 0, err
	}
	s := measureOrbit(o, nil, out, nil, make([]float64, ds.Len()*3))
	return metrics.Mean(s.eqNum) / metrics.Mean(s.norm), nil
}
