// Package eqntk registers the equivariant-ntk experiment: kernel
// regression on MNIST (or Fashion-MNIST) digits at full size with the NTK
// of a CNN and its averages over C4 and D4, which are the NTKs of the
// mirrored roto-translation GCNNs (Misof, Kessel & Gerken 2025): learning
// curves, orbit same predictions and the identity check against the GCNN
// specs, all from one kernel evaluation against the orbits of the
// training images (experiment.OrbitNTK).
//
// Files: eqntk.go (registration, parameters, data, run and report).
package eqntk
