// Package predict computes the predictions of infinite ensembles of
// infinitely wide networks: kernel regression with gradient-descent
// dynamics (the mean and covariance at any training time, as
// neural-tangents' predict.gradient_descent_mse_ensemble), from kernel
// matrices (Regressor) or from an architecture, training data and an
// optional group, augmenting the training set or averaging the kernel
// (Fit). docs/predict.md derives the formulas.
package predict
