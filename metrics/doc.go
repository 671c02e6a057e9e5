// Package metrics measures how equivariant a model is, on and off the data:
// orbit same predictions (OSP), invariance and equivariance errors, the
// relative spread of predictions over an orbit, the symmetric KL divergence
// between predictive distributions on an orbit, accuracy, MSE and agreement
// between models, for single members, ensembles of any size (by subsampling
// members) and kernel predictions, with bootstrap confidence intervals.
//
// Every metric starts from an Orbit: a model's outputs on the transforms
// rho(g) x of N test points x for every element g of a group (element 0 the
// identity). Per-point values are returned so that any of them can be
// averaged, bootstrapped or plotted.
package metrics
