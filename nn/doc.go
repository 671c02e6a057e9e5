// Package nn defines neural networks from a small serial architecture spec,
// such as
//
//	dense(512),relu,dense(512),relu,dense(10)
//	lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(10)
//
// following the idea of neural-tangents' stax: one description, three views.
// An Arch (the parsed spec) gives
//
//   - a trainable finite network, Network[T], in float32 or float64, with
//     forward and backward passes and initialisation in NTK or standard
//     parametrisation;
//   - its empirical NTK, from per-example gradients of a Network[float64];
//   - its analytic infinite-width NNGP and NTK kernels, Arch.Kernel, by
//     propagating kernel.State through every layer.
//
// Layers: dense, conv, flatten, globalavgpool, avgpool, maxpool, relu, erf,
// quadratic, tanh, gelu, and the group-equivariant lift, gconv, gpool and liftdense
// (a full-support lifting layer) for any finite group acting on the pixel
// grid, and the SO(3)-equivariant s2conv, so3conv and so3pool for
// band-limited signals on the sphere (see SphereConv and package sphere).
// Keyword arguments follow neural-tangents: w_std (default 1) and b_std
// (default 0). lift and gconv learn pixel filters (basis=pixel, the
// default) or the coefficients of a band-limited steerable filter basis
// evaluated exactly at the rotated taps (basis=fourier, as escnn; see
// basis.go; no infinite-width kernel).
//
// Activations are stored channels-last: one sample is an H×W×G×C array (G
// is the group axis of GCNN features, 1 elsewhere). Network inputs use the
// dataset layout (C×H×W images, NCHW batches) and are transposed on entry.
//
// # Code layout
//
// Every layer kind is one type implementing Layer (layer.go), in its own
// file (dense.go, conv.go, pool.go, flatten.go, liftdense.go, canon.go,
// activation.go): it parses its arguments, checks its input and gives its
// output shape (setup), builds its float32 and float64 finite
// implementations (finite32, finite64, usually two one-line calls of one
// generic constructor) and maps the kernel state (kernel,
// kernelPositions). Network and Arch.Kernel only call these methods.
//
// To add a layer: write a file with the type, its methods and a
// parseXxx(a *args) function reading its arguments, and add its name to
// makeLayer and layerNames in spec.go. Optional behaviours (a group, a
// first-layer kernel from the inputs, no kernel at all, in-place ReLU
// after it) are the small interfaces listed in layer.go.
//
// Network fuses layers where that saves memory traffic, always with the
// same bits as the separate layers: a ReLU after a convolution is applied
// by the convolution (convImpl.relu), and a global average pool after a
// convolution (and its ReLU) is computed by the convolution, which then
// keeps only the sign bits of its outputs (convpool.go). Batch runs the
// networks of an ensemble as one program, layer by layer (batch.go).
//
// To add an activation: add one entry to the activations table in
// activations.go (name, parameters, φ and φ', and optionally a closed-form
// kernel map or vectorised passes). Without a closed form its kernel is
// computed by Gauss–Hermite quadrature of φ and φ'.
package nn
