package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// Layer is the description of one layer: its shape arithmetic, its number
// of parameters, its finite implementations and its infinite-width kernel
// map. Each layer kind is one type implementing it (see the package
// documentation); Network and Arch.Kernel use nothing else.
type Layer interface {
	// String returns the layer as a spec token, e.g. "dense(512,w_std=1.4)".
	String() string
	// setup validates the layer against its input shape and returns the
	// output shape and the number of parameters.
	setup(in Shape, ctx *buildCtx) (out Shape, nparams int, err error)
	// finite32 and finite64 create the trainable implementation for the
	// element type (in and out are the layer's shapes, as set up).
	finite32(in, out Shape, p Param) finite[float32]
	finite64(in, out Shape, p Param) finite[float64]
	// kernel maps the kernel state of the layer's input to its output.
	kernel(s *kernel.State) error
	// kernelPositions returns the number of positions of the kernel state
	// after the layer, given p positions before it and the output shape.
	kernelPositions(p int, out Shape) int
}

// Optional methods of layers.
type (
	// groupLayer is a group-equivariant layer (Arch.Group).
	groupLayer interface{ groupOf() *group.Group }
	// varianceReader's kernel map needs the variances of both inputs at
	// every position (activations).
	varianceReader interface{ readsVariances() bool }
	// flatInput layers read their input as one vector: first in a
	// network, their kernel needs the inputs' inner products only, not
	// their pixel covariances (dense, flatten).
	flatInput interface{ flatInput() }
	// inputKernel layers, first in a network, compute the kernel state
	// after themselves directly from the inputs (liftdense): the pairs
	// (x1[i], x2[j]) for i in [i0, i1) and j in [j0, j1), or (x1[i], x1[i])
	// when diag is set.
	inputKernel interface {
		inputKernel(st *kernel.State, inShape []int, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool) error
	}
	// kernelChecker layers may have no kernel at all (maxpool):
	// Arch.Kernel fails before computing anything.
	kernelChecker interface{ checkKernel() error }
	// rectifierLayer reports whether the layer is max(x, 0): it may then
	// overwrite its input (the sign of its output is that of its input)
	// and be fused into a preceding convolution.
	rectifierLayer interface{ rectifier() bool }
	// reluKernelFuser layers can apply a following rectifier's kernel map
	// in the same pass as their own (conv, lift, gconv): the kernel engine
	// loads the rectifier's variances and calls kernelReLU instead of the
	// two kernel maps. The result has the same bits.
	reluKernelFuser interface {
		kernelReLU(s *kernel.State) error
	}
	// poolKernelFuser layers can also apply a 2×2 average pooling
	// (kernelReLUPool; plain 3×3 convolutions on even grids, canPoolFused)
	// or the global average pooling (kernelReLUMean; plain 3×3
	// convolutions, canMeanFused) after the rectifier in the same pass,
	// with the bits of the three maps.
	poolKernelFuser interface {
		canPoolFused() bool
		kernelReLUPool(s *kernel.State) error
		canMeanFused() bool
		kernelReLUMean(s *kernel.State) error
	}
)

// buildCtx carries what layers need to know about their neighbours.
type buildCtx struct {
	group *group.Group // the group of the current GCNN features, if any
	first bool         // the layer is the first one
	flat  bool         // the features are a flat vector (vector input, or after dense/flatten)
	so3   int          // band limit of SO(3) grid features (after s2conv, so3conv), 0 otherwise
}

// finite is the trainable implementation of a layer for element type T.
type finite[T Float] interface {
	// init fills the layer's parameters.
	init(p []T, rng *rand.Rand)
	// forward computes y from x for a batch of n samples.
	forward(p []T, x, y []T, n int)
	// backward accumulates the parameter gradient into dp and, if dx is not
	// nil, writes the input gradient, given the output gradient dy.
	backward(p []T, x, y, dy, dx, dp []T, n int)
}

// Optional methods of finite implementations.
type (
	// workerSetter splits its passes among goroutines (Network.SetWorkers).
	workerSetter interface{ setWorkers(n int) }
	// outputFree's backward pass does not read its output: a following
	// ReLU may overwrite it in place.
	outputFree interface{ outputFree() bool }
	// reluFuser applies a following ReLU itself (and its backward pass
	// masks the output gradient), so that the ReLU layer does nothing.
	reluFuser interface{ fuseReLU() }
)

// newFinite creates the trainable implementation of a layer description.
func newFinite[T Float](l Layer, in, out Shape, p Param) finite[T] {
	var f any
	switch any(T(0)).(type) {
	case float32:
		f = l.finite32(in, out, p)
	default:
		f = l.finite64(in, out, p)
	}
	return f.(finite[T])
}

func checkStd(wStd, bStd float64) error {
	if !(wStd > 0) || math.IsInf(wStd, 0) {
		return fmt.Errorf("w_std must be a positive number, got %g", wStd)
	}
	if !(bStd >= 0) || math.IsInf(bStd, 0) {
		return fmt.Errorf("b_std must be a non-negative number, got %g", bStd)
	}
	return nil
}

func stdSuffix(wStd, bStd float64) string {
	s := ""
	if wStd != 1 {
		s += ",w_std=" + fmtFloat(wStd)
	}
	if bStd != 0 {
		s += ",b_std=" + fmtFloat(bStd)
	}
	return s
}

// fmtFloat formats a keyword value compactly.
func fmtFloat(v float64) string { return fmt.Sprintf("%g", v) }

// weightScale returns the factor multiplying W x in the forward pass and
// the standard deviation of W at initialisation for a fan-in.
func weightScale(p Param, wStd float64, fanIn int) (scale, initStd float64) {
	s := wStd / math.Sqrt(float64(fanIn))
	if p == Standard {
		return 1, s
	}
	return s, 1
}

// biasScale returns the forward factor of b and its initial deviation.
func biasScale(p Param, bStd float64) (scale, initStd float64) {
	if p == Standard {
		return 1, bStd
	}
	return bStd, 1
}

func fillNormal[T Float](p []T, rng *rand.Rand, std float64) {
	for i := range p {
		p[i] = T(rng.NormFloat64() * std)
	}
}
