// Package crossproduct is the "cross-product" experiment (eqens reproduce cross-product).
//
// The "cross-product" experiment: emergent SO(3) equivariance. MLP
// ensembles are trained on the cross-product regression (inputs (u, v) ∈ R⁶,
// target u × v, which rotates with the inputs) with partial augmentation by
// a finite set of rotations (a random element of the set per sample and
// step, targets rotated with the vector representation), and without
// augmentation. Their relative equivariance error
//
//	mean_{x, R} ||f(Rx) − R f(x)|| / mean_x ||f(x)||
//
// is measured under Haar-random rotations R that were never trained on, on
// the data manifold (test samples from the training distribution) and off
// it (u, v on the sphere of radius 3), for single members and ensembles of
// growing size, next to the infinite ensemble of infinitely wide networks
// trained on the same augmented data (the NTK mean at t = ∞).
//
// results.json (besides "meta", see Run) holds:
//
//   - "params": the parameters of the scale (experiments/cross-product.yaml).
//   - "eval_group": the evaluation rotations (a so3:<n>:<seed> sample whose
//     element 0 is the identity; the errors average over the others) and
//     "eval_rotations", their number besides the identity.
//   - "groups": the augmentation sets, each {"name", "order", "closed"}.
//   - "models": name → {"members", "label", "on", "off"}, where "on" (test
//     data from the training distribution) and "off" (off-manifold) each
//     hold "rel_mse" (Σ||f(x) − y||² / Σ||y||²), "eq_err" (the relative
//     equivariance error above under the evaluation rotations) and
//     "eq_err_train" (the same under the augmentation set's own rotations,
//     for augmented models), every one {"mean", "lo", "hi"}: the value and
//     its 95% bootstrap interval over test points. Names: "member_noaug",
//     "ensemble_noaug", "ntk_noaug", and "member_da_<group>",
//     "ensemble_da_<group>", "ntk_da_<group>" per augmentation set.
//     "member" rows average the members' values; "ntk" rows are absent
//     when ntk.arch is empty.
//   - "curve": the equivariance error and relative MSE against ensemble
//     size, {"group" ("none" without augmentation), "size", "subsets",
//     "eq_on", "eq_off", "rel_mse_on", "rel_mse_off"}, averaged over up to
//     8 groups of members.
//   - "ntk_checks": checks of the kernel identities, one per augmentation
//     set, on the first check_size training points: "group", "closed", "n",
//     "route" (how the NTK rows were computed: "averaged kernel" for
//     groups, "expanded set" otherwise), "averaged_asymmetry"
//     (max |K̄ − K̄ᵀ| / max |K̄| of the matrix-valued averaged kernel
//     K̄(x, x') = (1/|S|) Σ_s Θ(x, ρ(s)x') ρ_Y(s) on the n points),
//     "averaged_min_eig_rel" (smallest over largest eigenvalue of its
//     symmetric part), "averaged_vs_expanded_inf" and
//     "averaged_vs_expanded_t" (max |difference| / max |μ| between the
//     averaged kernel's prediction and kernel regression on the n·|S|
//     augmented points, at t = ∞ and at t = "t"; absent when the averaged
//     kernel is not positive semi-definite), "eq_err_own_group" and
//     "eq_err_own_group_averaged" (the relative equivariance error of the
//     two predictions under the set's own rotations).
//
// Tables: tables/summary.csv, curve.csv and ntk_checks.csv.
//
// Files: crossproduct.go (registration, parameters, the run in steps),
// measure.go (per-point errors, bootstrap statistics, the size curve),
// ntk.go (the infinite ensemble: augmented set or averaged kernel),
// check.go (the kernel identity checks) and report.go (report and texts).
package crossproduct
