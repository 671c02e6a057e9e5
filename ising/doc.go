// Package ising samples spin configurations of the two-dimensional Ising
// model, the data set of the Ising experiment in "Emergent Equivariance in
// Deep Ensembles": a network learns the energy of a configuration, which is
// invariant under the symmetries of the square lattice (rotations by 90
// degrees, reflections, translations) and under the global spin flip.
//
// The model lives on an L×L square lattice with periodic boundaries. Spins
// take the values ±1 and the Hamiltonian is
//
//	H = -J Σ_<ij> s_i s_j,  J = 1,
//
// a sum over the 2L² nearest-neighbour bonds, each counted once (every site
// with its right and its lower neighbour), with no external field. The
// ground states (all spins equal) have H = -2L², energy per site -2.
//
// Configurations are drawn by Markov chain Monte Carlo at temperature T
// (k_B = 1, β = 1/T) with either single-spin-flip Metropolis updates or
// Wolff cluster updates (see [Algorithm]); [Sample] runs one chain per
// temperature and returns the configurations as a [data.Dataset] of 1×L×L
// images with the energy per site (and optionally the magnetisation per
// site) as regression targets. [RandomSpins] gives uniformly random
// configurations, an out-of-distribution set for models trained on
// thermal samples. [Energy], [Magnetization], [OnsagerEnergy] and
// [OnsagerMagnetization] are exact reference values.
//
// All randomness comes from math/rand/v2's PCG generator seeded from the
// configuration, so equal configurations give equal samples on every
// machine.
package ising
