// Package kernel computes infinite-width kernels of neural networks: the
// NNGP kernel K (the covariance of the outputs at initialisation) and the
// neural tangent kernel Theta, following the conventions of neural-tangents
// (NTK parametrisation, weight and bias standard deviations w_std, b_std).
//
// The kernels are propagated layer by layer on a State, the joint second
// moments of the pre-activations for a block of input pairs. Positions carry
// a group axis and two spatial axes, so the same State serves MLPs (one
// position), CNNs (pixel positions, full pixel-pixel covariances) and GCNNs
// (group × pixel positions, the recursion of Misof, Kessel & Gerken). The
// layer definitions live in package nn; this package holds the State, the
// closed-form and quadrature transforms of activations, the linear operators
// of convolutions and pooling. Kernel regression with these kernels (the
// predictions of the infinite ensemble) is package predict.
package kernel
