// Package demo registers the demo experiment (eqens demo): MLP ensembles
// trained on MNIST with and without C4 augmentation, a GCNN and the
// infinite ensemble of the NTK, compared by their orbit same predictions
// (OSP) in and out of distribution.
//
// Files: demo.go (registration, parameters, run), sets.go (test sets),
// models.go (training, evaluation, statistics, the OSP curve), ntk.go (the
// NTK prediction), report.go (tables, figures, summary).
package demo
