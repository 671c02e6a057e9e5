// Command eqens trains deep ensembles with data augmentation, builds
// group-equivariant networks, computes their infinite-width kernels and
// measures how equivariant a model really is.
//
// Run "eqens --help" for the list of commands and "eqens demo" for the
// main experiment on the embedded MNIST data.
package main
