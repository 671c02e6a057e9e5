// Package qm9 registers the qm9 experiment: kernel regression of a QM9
// property (U0) with the NTK of an MLP on a rotation-covariant encoding of
// the molecules, plain and averaged over rotation sets, with learning
// curves and a measure of how invariant each predictor is.
//
// Files: qm9.go (registration, parameters, run), features.go (the
// encoding), kernel.go (averaged kernels), fit.go (per-element baseline and
// kernel regression of its residuals), evaluate.go (data split, learning
// curves, invariance), report.go (tables, figure, summary).
package qm9
