// Package data holds the datasets eqens trains and evaluates on: the
// Dataset type, readers for the on-disk formats (IDX, CIFAR-10 binary
// batches, MedMNIST npz, the QM9 xyz archive), the embedded MNIST copy,
// lookup of locally installed data (Fashion-MNIST from Debian's
// dataset-fashion-mnist package, the user cache, $EQENS_DATA), checksummed
// and resumable downloads, and synthetic sets (the toy regression, cross
// products, out-of-distribution images).
//
// Spec is the one registry of datasets. Registry lists the datasets with
// files (what "eqens data" lists, checks and fetches); Sets lists the
// datasets a training config names, with what is known before reading them
// (splits, sample shape, classes or target dimension), and Open reads any
// of them: the image sets of the registry, the synthetic cross-product set
// and a user's .npz file.
package data
