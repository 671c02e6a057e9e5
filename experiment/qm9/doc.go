// Package qm9 registers the qm9 and qm9-synthetic experiments: kernel
// regression of a QM9 property (U0) with the NTK of an MLP on a
// rotation-covariant encoding of the molecules, plain and averaged over
// rotation sets, against per-atom networks on spherical signals of each
// atom's environment (an MLP and the SO(3)-invariant s2conv, erf, so3conv,
// erf, so3pool network of Misof, Kessel & Gerken) summed over the atoms,
// with learning curves and a measure of how invariant each predictor and
// kernel is. qm9-synthetic runs the same comparison on generated molecules
// with an exactly rotation-invariant energy, without the QM9 data.
//
// Files: qm9.go (registration, parameters, run), features.go (the
// coordinate encoding), spherical.go (the spherical signals), signals.go
// (their figure, also drawn by eqens data show qm9), synthetic.go (the
// synthetic molecules), kernel.go (averaged kernels), atomkernel.go (kernels
// of networks summed over atoms), cache.go (the per-atom kernels' matrices
// on disk, for resuming), fit.go (per-element baseline and kernel
// regression of its residuals), evaluate.go (data split, learning curves,
// invariance), grids.go (the invariance of the per-atom SO(3) kernels
// against the grid of their activations, also run alone with
// experiments/qm9-synthetic-invariance.yaml), report.go (tables, figure,
// summary).
package qm9
