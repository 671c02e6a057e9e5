// Package toy is the "toy" experiment (eqens reproduce toy).
//
// The "toy" experiment: the talk's toy regression figure. Ensembles of wide
// MLPs (NTK parametrisation) are trained by full-batch gradient descent on
// the MSE loss with full Z2 augmentation (x → −x) on points of the even
// function cos(3x)·exp(−x²/4) that lie on one side of the origin only; the
// ground truth, a few members, the ensemble mean and the infinite-ensemble
// NTK mean μ_t are shown at chosen training steps, and the symmetry error
// |f(x) − f(−x)| is followed over training for members, ensembles and the
// NTK, with an unaugmented ensemble for comparison.
//
// results.json (besides "meta", see Run) holds:
//
//   - "params": the parameters of the scale (experiments/toy.yaml).
//   - "arch": the architecture spec trained and used for the NTK.
//   - "train": {"x", "y"}: the training inputs and targets (before
//     augmentation; the augmented set adds (−x, y) for every point).
//   - "grid": {"x", "truth"}: the evaluation grid (mirror symmetric:
//     x[m−1−i] = −x[i]) and the ground truth on it.
//   - "lr": the learning rate η; "lr_lambda_max_over_n": η·λ_max(Θ(X,X))/N
//     for the augmented training set (N = 2·train_size; discrete gradient
//     descent is stable below 2).
//   - "curve": one entry per recorded step with "step" and, all averaged
//     over the grid: "sym_member_da", "sym_ensemble_da", "sym_ntk_da",
//     "sym_ntk_da_continuous", "sym_member_noaug", "sym_ensemble_noaug",
//     "sym_ntk_noaug" (symmetry error mean_i |f(x_i) − f(−x_i)|; "member"
//     is the mean over members, "ensemble" the ensemble mean of all
//     members, "ntk" the infinite ensemble under discrete gradient descent,
//     "ntk_da_continuous" the continuous-time predict.Regressor mean);
//     "dist_ensemble_ntk_da", "dist_ensemble_ntk_noaug" (root mean square
//     over the grid of ensemble mean − NTK mean), "dist_ntk_discrete_continuous"
//     (same, NTK discrete vs continuous time, augmented); "rmse_member_da",
//     "rmse_ensemble_da", "rmse_ntk_da", "rmse_ensemble_noaug",
//     "rmse_ntk_noaug" (root mean square error against the ground truth on
//     the grid; member: mean over members).
//   - "sizes": the final step against ensemble size: "size", "subsets"
//     (member groups averaged), "sym_ensemble_da", "sym_ensemble_noaug",
//     "dist_ntk_da", "dist_ntk_noaug" (the noaug keys are absent for sizes
//     above noaug_members).
//   - "widths": the final step against width, at width_members members
//     ("width", "members", "sym_member_da", "sym_ensemble_da",
//     "dist_ntk_da", "rmse_ensemble_da"); the main width is included
//     (averaged over groups of width_members of its members).
//   - "ntk_sym_rel_max": max over the recorded steps of the NTK symmetry
//     error divided by max over steps of mean_i |μ_t(x_i)| (augmented,
//     discrete and continuous time: the larger); exact theory says 0.
//   - "panels": for each panel step, "step", "title", "ensemble_da",
//     "ntk_da", "ensemble_noaug", "ntk_noaug" and "members_da" (the first
//     `shown` members) on the grid.
//
// Tables: tables/curve.csv, sizes.csv, widths.csv, final.csv from the
// report, and tables/toy_predictions.csv with every panel's curves on the
// grid.
//
// Files: toy.go (registration, parameters, the run in steps), train.go
// (training with snapshots on the grid), ntk.go (the NTK means), stats.go
// (symmetry errors, distances and the curves) and report.go (report and
// the predictions table).
package toy
