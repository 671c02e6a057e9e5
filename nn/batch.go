package nn

import (
	"fmt"
	"runtime"
	"sync"
)

// Batch runs the members of an ensemble, networks of one architecture with
// their own parameters, as one program: each layer runs for all members at
// once before the next layer starts. Within a layer the work items are the
// members' parts of the batch (a convolution splits its samples into fixed
// parts, see SetWorkers), so that members × parts items, more than there
// are cores, keep every core busy whatever the number of members; the
// runtime's scheduler hands them out. Every member computes exactly what it
// computes alone: its outputs and gradients are bit for bit those of its
// own Forward and Backward.
type Batch[T Float] struct {
	nets []*Network[T]
}

// NewBatch returns the batched program of nets, which must share one
// architecture. It lets every network split its layers into parts on up
// to GOMAXPROCS goroutines.
func NewBatch[T Float](nets []*Network[T]) (*Batch[T], error) {
	for i, net := range nets {
		if net.Arch.Spec != nets[0].Arch.Spec || len(net.Params) != len(nets[0].Params) {
			return nil, fmt.Errorf("nn.NewBatch: member %d has architecture %q, member 0 %q", i, net.Arch.Spec, nets[0].Arch.Spec)
		}
		net.SetWorkers(runtime.GOMAXPROCS(0))
	}
	return &Batch[T]{nets: nets}, nil
}

// Len returns the number of members.
func (b *Batch[T]) Len() int { return len(b.nets) }

// eachMember calls f(m) concurrently for every member m with use(m) true
// and waits for all.
func (b *Batch[T]) eachMember(use func(m int) bool, f func(m int)) {
	var wg sync.WaitGroup
	for m := range b.nets {
		if !use(m) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(m)
		}()
	}
	wg.Wait()
}

// Forward evaluates member m on the ns[m] samples in xs[m] (as in
// Network.Forward; a nil xs[m] leaves member m out) and returns their
// outputs, owned by the members' networks.
func (b *Batch[T]) Forward(xs [][]T, ns []int) [][]T {
	if len(xs) != len(b.nets) || len(ns) != len(b.nets) {
		panic(fmt.Sprintf("nn.Batch.Forward: inputs for %d and %d members, the batch has %d", len(xs), len(ns), len(b.nets)))
	}
	use := func(m int) bool { return xs[m] != nil }
	b.eachMember(use, func(m int) { b.nets[m].startForward(xs[m], ns[m]) })
	for i := range b.nets[0].layers {
		b.eachMember(use, func(m int) { b.nets[m].forwardLayer(i) })
	}
	out := make([][]T, len(b.nets))
	for m, net := range b.nets {
		if use(m) {
			out[m] = net.output()
		}
	}
	return out
}

// Backward propagates the output gradient dys[m] of every member through
// its network (as Network.Backward; a nil dys[m] leaves member m out) and
// adds the parameter gradients to the members' Grads.
func (b *Batch[T]) Backward(dys [][]T) {
	if len(dys) != len(b.nets) {
		panic(fmt.Sprintf("nn.Batch.Backward: gradients for %d members, the batch has %d", len(dys), len(b.nets)))
	}
	use := func(m int) bool { return dys[m] != nil }
	b.eachMember(use, func(m int) { b.nets[m].startBackward(dys[m]) })
	for i := len(b.nets[0].layers) - 1; i >= 0; i-- {
		b.eachMember(use, func(m int) { b.nets[m].backwardLayer(i, false) })
	}
}
