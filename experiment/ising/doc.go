// Package ising is the "ising" experiment (eqens reproduce ising).
//
// The Ising experiment (`eqens reproduce ising`) of "Emergent Equivariance
// in Deep Ensembles" (Gerken & Kessel 2024): MLP ensembles regress the
// energy per site of 2D Ising configurations, trained by full-batch
// gradient descent with random augmentation by the lattice group
// ising:L (translations ⋊ D4, 8L² elements). The invariance of the
// ensemble mean, of single members and of the infinite ensemble (the NTK
// with full augmentation, i.e. the group-averaged NTK) is followed over
// training time, in distribution and out of distribution.
//
// results.json holds, besides "meta" (see Run):
//
//	group            "ising:L", the group augmented with and measured against
//	group_order      its order 8L²
//	orbit_elements   the group elements (indices, 0 = identity first) on
//	                 whose images the relative standard deviation is
//	                 measured: all of them, or the identity and a fixed
//	                 random subset (params.orbit_elements)
//	steps            the evaluation steps: full-batch GD steps, equal to
//	                 the NTK time t (same learning rate, loss 1/(2N) Σ)
//	widths           the hidden widths trained
//	statistic        "median" or "mean": which per-point average the
//	                 figures, tables and claims use (both are in curves)
//	train            {n, temperatures, energy_mean, energy_std}
//	sets             [{name, label, temperature (0 for random spins), n,
//	                 excluded_uniform (uniform configurations dropped: their
//	                 orbit is one point), energy_mean, energy_std}]; names
//	                 "id", "low_t", "high_t", "random"
//	curves           [{model, width, set, points, rel_std_mean,
//	                 rel_std_median, mse: one value per step}]; model
//	                 "ensemble" (mean of the members), "member" (per-member
//	                 values averaged over members), "ntk" (group-averaged
//	                 NTK, gradient flow of predict.Regressor) or "ntk_gd"
//	                 (the same kernel with discrete GD steps), width 0 for
//	                 the NTK; rel_std is metrics.RelativeStd (std over the
//	                 orbit / |orbit mean|) averaged over test points (for
//	                 the NTK over the orbit points, see points); mse is on
//	                 the untransformed test points
//	final            [{model, width, set, rel_std_mean, rel_std_lo,
//	                 rel_std_hi (95% bootstrap interval over test points),
//	                 rel_std_median, mse}] at the last step
//	ensemble_size    [{width, set ("id", or "ood": the three other sets
//	                 pooled), size, rel_std (the statistic), subsets}] at
//	                 the last step, averaged over disjoint member subsets
//	full_orbit       [{width, set, model, points, subset, full}]: the
//	                 statistic at the last step on the first points of each
//	                 set, over the element subset and over the whole group
//	finite_m         [{width, set, excess_fraction, excess_lo, excess_hi,
//	                 pooled_rel_std_ensemble, pooled_rel_std_infinite_m}]:
//	                 the share of the ensemble's orbit variance that the
//	                 finite number of members does not explain (95%
//	                 jackknife interval over members), see finiteM
//	ntk_max_rel_std  the largest relative std of the NTK predictions (both
//	                 variants) over all times, sets and points
//	ntk_eta_lambda_over_n  {max, min}: η λ/N of the averaged training kernel
//	claims           [{claim, holds, detail}]: the paper's statements as
//	                 measured here
//	params           the parameters of the scale
//
// Tables (tables/*.csv) hold the same numbers; figures/ the plots.
package ising
