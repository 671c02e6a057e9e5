// Package convergence registers the kernel-convergence experiment: the
// empirical NTK and NNGP of single finite networks (MLP, CNN, C4 GCNN)
// against the analytic infinite-width kernels, as the width grows.
//
// Files: convergence.go (registration, parameters, run), measure.go (the
// inputs and the errors at one width), report.go (figures, table, summary).
package convergence
