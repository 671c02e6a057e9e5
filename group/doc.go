// Package group describes symmetry groups as data: a finite set of elements
// (the integers 0..Order()-1, 0 being the identity), their composition when
// the set is closed, inverses, and optional geometry (an orthogonal matrix
// per element acting on R^d). Representations (Rep) turn a group into linear
// maps on images, lattices, vectors, outputs or functions on the group
// itself, so that augmentation, GCNN layers, kernels and metrics never
// special-case a group.
//
// # Groups
//
// Each named constructor has a spec that Parse accepts (see Parse for the
// grammar):
//
//   - Cyclic (c<n>) and Dihedral (d<n>): rotations and reflections of the
//     plane (Dim 2); Reflection1D (z2): x -> -x on the line (Dim 1);
//     Trivial (trivial).
//   - Tetrahedral (tet, 12 elements), Octahedral (oct, 24) and Icosahedral
//     (ico, 60): the finite rotation groups of R^3 (Dim 3), built by closing
//     generator matrices; handy for partial augmentation in 3D.
//   - SO2Sample (so2:<n>:<seed>) and SO3Sample (so3:<n>:<seed>): n
//     Haar-random rotations, element 0 the identity. They are finite samples
//     of continuous groups: Closed reports false and Mul and Inv panic.
//     c<n> is the equally spaced subgroup of SO(2), a group.
//   - Ising (ising:<L>, ising:<L>:flip): the symmetries of the periodic
//     L×L square lattice, translations ⋊ D4, optionally × the global spin
//     flip; no geometry, it acts on spin arrays through LatticeRep.
//   - FromPermutations: any group given by a faithful action by signed
//     permutations on a finite domain; FromMatrices: any set of orthogonal
//     matrices.
//   - Product (<a>x<b>): the direct product, elements (i, j) ↦ i*b.Order()+j.
//
// Groups are immutable and safe for concurrent use. Structured groups
// (cyclic, dihedral, lattice, products, large permutation groups) compose
// elements arithmetically; a composition table is stored only for groups of
// at most 1024 elements and for FromMatrices, so large groups cost memory
// linear in their order.
//
// # Representations
//
// A Rep holds one sparse linear map (Map) per element, acting block-wise on
// copies of an inner space, with rho(Mul(a, b)) = rho(a) rho(b):
//
//   - ImageRep: planar groups on C×H×W images about the image centre. Exact
//     pixel permutations for multiples of 90 degrees and axis reflections,
//     bilinear interpolation inside a circular mask otherwise (C8, C16,
//     SO(2) samples), where the homomorphism property only holds to
//     interpolation accuracy. A product of a planar group and z2 acts on
//     images by rotating and flipping the sign of the intensities.
//   - LatticeRep: lattice groups (and the 90-degree planar groups) on
//     1×L×L spin arrays, by signed site permutations; DomainRep: the action
//     of a FromPermutations group on its domain.
//   - VectorRep (the geometric matrices on stacked d-vectors), RegularRep
//     (functions on the group), PermutationRep, TrivialRep, DetRep (the
//     sign of the determinant: z2 flipping every coordinate) and ProductRep
//     (two commuting representations of the factors of a product).
//
// Rep.Exact reports whether every element acts by a signed permutation;
// then the homomorphism property holds bit for bit on any data.
//
// InputRepLayout (and InputRep, its "auto" layout) is the one place that
// picks the action of a group on data of a given shape, and OutputRep the
// one on targets; augmentation, evaluation, the metrics and the command
// line all go through them. Apply and ApplyBatch act with one element;
// OrbitBatch stacks the whole orbits of a batch, element after element.
package group
