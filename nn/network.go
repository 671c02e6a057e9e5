package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Network is a trainable instance of an Arch in element type T. It owns its
// parameters, gradients and activation buffers; it is not safe for
// concurrent use (give each goroutine, e.g. each ensemble member, its own).
type Network[T Float] struct {
	Arch *Arch
	// Params holds all parameters, layer after layer (weights then biases).
	Params []T
	// Grads accumulates the gradient of the loss with respect to Params.
	Grads []T

	layers []finite[T]
	// inPlace[i] says that layer i (a ReLU) overwrites its input: its
	// backward pass reads the sign from its output, and the layer before it
	// does not need its own output in its backward pass.
	inPlace []bool
	// fused[i] says that layer i (a ReLU) is computed by the convolution
	// before it (convImpl.relu): it shares that layer's output and output
	// gradient and does nothing itself.
	fused []bool
	// pooled[i] says that layer i (a global average pool) hands its output
	// gradient to the convolution before it (convImpl.poolGrad), which
	// broadcasts it over the grid itself; layer i does nothing backward.
	// With poolOut[c] = i the convolution c computes the pool's outputs
	// too (convImpl.poolForward) and its own outputs are not stored; layer
	// i does nothing forward (else poolOut[c] is 0).
	pooled  []bool
	poolOut []int
	offs    []int // parameter offset of each layer, plus the total
	acts    [][]T // acts[0]: input (channels-last), acts[i+1]: output of layer i
	dacts   [][]T
	n       int // batch size of the last Forward
}

// New creates a network for the architecture with zero parameters; call
// Init to initialise them.
func New[T Float](a *Arch) *Network[T] {
	net := &Network[T]{Arch: a, offs: make([]int, len(a.Layers)+1)}
	for i, l := range a.Layers {
		net.layers = append(net.layers, newFinite[T](l, a.Shapes[i], a.Shapes[i+1], a.Param))
		net.offs[i+1] = net.offs[i] + a.NParams[i]
	}
	net.inPlace = make([]bool, len(a.Layers))
	net.fused = make([]bool, len(a.Layers))
	for i := 1; i < len(a.Layers); i++ {
		if r, ok := a.Layers[i].(rectifierLayer); !ok || !r.rectifier() {
			continue
		}
		switch prev := net.layers[i-1].(type) {
		case reluFuser:
			net.inPlace[i] = true
			// Not for an output ReLU: its output gradient is the caller's
			// slice, which the fused backward pass would mask in place.
			if i < len(a.Layers)-1 {
				net.fused[i] = true
				prev.fuseReLU()
			}
		case outputFree:
			net.inPlace[i] = prev.outputFree()
		}
	}
	net.pooled = make([]bool, len(a.Layers))
	net.poolOut = make([]int, len(a.Layers))
	for i := range net.layers {
		net.fusePool(i)
	}
	net.Params = make([]T, net.offs[len(a.Layers)])
	net.Grads = make([]T, len(net.Params))
	net.acts = make([][]T, len(a.Layers)+1)
	net.dacts = make([][]T, len(a.Layers)+1)
	return net
}

// fusePool lets convolution i take the output gradient of a global
// average pool that follows it, directly or after its fused ReLU.
func (net *Network[T]) fusePool(i int) {
	c, ok := net.layers[i].(*convImpl[T])
	j := i + 1
	if j < len(net.layers) && net.fused[j] {
		j++
	}
	if !ok || j >= len(net.layers) {
		return
	}
	p, ok := net.layers[j].(*poolImpl[T])
	if !ok || !p.global || p.cfg.Kind == "maxpool" || !c.poolGrad(p.out.Size(), p.inv) {
		return
	}
	net.pooled[j] = true
	// Not when the pool is the last layer: the features of
	// EmpiricalKernel are the input of the last layer.
	if j < len(net.layers)-1 && c.poolForward() {
		net.poolOut[i] = j
	}
}

// Init draws fresh parameters from seed. Layer i uses its own random
// stream derived from (seed, i), so adding a layer does not change the
// initialisation of the others.
func (net *Network[T]) Init(seed uint64) {
	for i, l := range net.layers {
		rng := rand.New(rand.NewPCG(seed, uint64(i)+0x9e3779b97f4a7c15))
		l.init(net.layerParams(i, net.Params), rng)
	}
}

func (net *Network[T]) layerParams(i int, all []T) []T { return all[net.offs[i]:net.offs[i+1]] }

// LayerParams returns the parameters of layer i (a view).
func (net *Network[T]) LayerParams(i int) []T { return net.layerParams(i, net.Params) }

// SetWorkers lets the network use up to n goroutines within one forward or
// backward pass (convolutions split a batch into fixed parts and run them
// concurrently). Results do not depend on n. The default is 1: ensembles
// run one member per core instead. Matrix products use the BLAS threads
// set with linalg.SetThreads.
func (net *Network[T]) SetWorkers(n int) {
	for _, l := range net.layers {
		if w, ok := l.(workerSetter); ok {
			w.setWorkers(n)
		}
	}
}

// ZeroGrad clears the gradient.
func (net *Network[T]) ZeroGrad() { clear(net.Grads) }

func ensure[T Float](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}

// Forward evaluates the network on n samples stored one after the other in
// x (dataset layout: C×H×W images or D-vectors) and returns the n×OutputDim
// outputs. The returned slice is owned by the network and overwritten by
// the next call.
func (net *Network[T]) Forward(x []T, n int) []T {
	net.startForward(x, n)
	for i := range net.layers {
		net.forwardLayer(i)
	}
	return net.output()
}

// startForward sizes the activations for n samples and copies the input
// x to channels-last layout.
func (net *Network[T]) startForward(x []T, n int) {
	a := net.Arch
	in := a.Shapes[0]
	if len(x) != n*in.Size() {
		panic(fmt.Sprintf("nn.Forward: %d input values for %d samples of size %d", len(x), n, in.Size()))
	}
	net.n = n
	skip := 0 // the last activation not stored (poolOut)
	for i := range net.acts {
		if i > 0 && net.poolOut[i-1] > 0 {
			skip = net.poolOut[i-1]
		}
		switch {
		case i > 0 && net.inPlace[i-1]:
			net.acts[i] = net.acts[i-1]
		case skip > 0 && i <= skip:
			net.acts[i] = nil
		default:
			net.acts[i] = ensure(net.acts[i], n*a.Shapes[i].Size())
		}
	}
	toChannelsLast(net.acts[0], x, n, in)
}

// forwardLayer runs layer i of the forward pass.
func (net *Network[T]) forwardLayer(i int) {
	if j := net.poolOut[i]; j > 0 {
		net.layers[i].forward(net.layerParams(i, net.Params), net.acts[i], net.acts[j+1], net.n)
		return
	}
	// A pool whose outputs the convolution before computed does nothing
	// (poolOut holds its index; 0 means none, and a pool is never layer 0).
	if !net.fused[i] && !(i > 0 && slices.Contains(net.poolOut, i)) {
		net.layers[i].forward(net.layerParams(i, net.Params), net.acts[i], net.acts[i+1], net.n)
	}
}

// output returns the outputs of the last forward pass.
func (net *Network[T]) output() []T { return net.acts[len(net.layers)] }

// Backward propagates the output gradient dy (n×OutputDim, for the batch of
// the last Forward) through the network and adds the parameter gradient to
// Grads.
func (net *Network[T]) Backward(dy []T) {
	net.backward(dy, false)
}

// BackwardInput is Backward that also returns the gradient with respect to
// the input (dataset layout), e.g. for input-sensitivity analysis.
func (net *Network[T]) BackwardInput(dy []T) []T {
	dx := net.backward(dy, true)
	out := make([]T, len(dx))
	fromChannelsLast(out, dx, net.n, net.Arch.Shapes[0])
	return out
}

func (net *Network[T]) backward(dy []T, wantInput bool) []T {
	net.startBackward(dy)
	for i := len(net.layers) - 1; i >= 0; i-- {
		net.backwardLayer(i, wantInput)
	}
	return net.dacts[0]
}

// startBackward checks and installs the output gradient dy.
func (net *Network[T]) startBackward(dy []T) {
	a := net.Arch
	L := len(net.layers)
	if len(dy) != net.n*a.Shapes[L].Size() {
		panic(fmt.Sprintf("nn.Backward: %d gradient values for %d outputs of size %d", len(dy), net.n, a.Shapes[L].Size()))
	}
	net.dacts[L] = dy
}

// backwardLayer runs layer i of the backward pass (the input gradient of
// layer 0 only if wantInput).
func (net *Network[T]) backwardLayer(i int, wantInput bool) {
	if net.fused[i] || net.pooled[i] {
		// The convolution before masks (fused) or broadcasts (pooled) it.
		net.dacts[i] = net.dacts[i+1]
		return
	}
	n := net.n
	var dx []T
	if i > 0 || wantInput {
		net.dacts[i] = ensure(net.dacts[i], n*net.Arch.Shapes[i].Size())
		dx = net.dacts[i]
	}
	net.layers[i].backward(net.layerParams(i, net.Params), net.acts[i], net.acts[i+1], net.dacts[i+1], dx, net.layerParams(i, net.Grads), n)
}

// toChannelsLast copies n samples from C×H×W to H×W×C layout.
func toChannelsLast[T Float](dst, src []T, n int, s Shape) {
	if s.C == 1 || !s.Spatial() {
		copy(dst, src)
		return
	}
	hw := s.H * s.W
	sz := hw * s.C
	for b := 0; b < n; b++ {
		d := dst[b*sz : (b+1)*sz]
		x := src[b*sz : (b+1)*sz]
		for c := 0; c < s.C; c++ {
			for p := 0; p < hw; p++ {
				d[p*s.C+c] = x[c*hw+p]
			}
		}
	}
}

// fromChannelsLast is the inverse of toChannelsLast.
func fromChannelsLast[T Float](dst, src []T, n int, s Shape) {
	if s.C == 1 || !s.Spatial() {
		copy(dst, src)
		return
	}
	hw := s.H * s.W
	sz := hw * s.C
	for b := 0; b < n; b++ {
		d := dst[b*sz : (b+1)*sz]
		x := src[b*sz : (b+1)*sz]
		for c := 0; c < s.C; c++ {
			for p := 0; p < hw; p++ {
				d[c*hw+p] = x[p*s.C+c]
			}
		}
	}
}
