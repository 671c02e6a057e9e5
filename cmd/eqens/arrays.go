package main

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/npy"
)

// inputArray is a batch of samples read from an .npy file given by a flag.
type inputArray struct {
	flag, path string
	n          int
	shape      []int // per-sample shape
	f32        bool  // the file held float32 values
	x          []float64
}

// readInputs reads an .npy batch (first axis: samples) for the given flag
// and checks that it is finite and, if want is set, that its sample shape
// matches.
func readInputs(flag, path string, want []int) (*inputArray, error) {
	if path == "" {
		return nil, fmt.Errorf("--%s: missing (an .npy file of samples)", flag)
	}
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	if len(a.Shape) < 2 {
		return nil, fmt.Errorf("--%s %s: shape %v: want (samples, ...) with at least 2 axes, e.g. (N, C, H, W) images or (N, D) vectors", flag, path, a.Shape)
	}
	if a.Shape[0] == 0 {
		return nil, fmt.Errorf("--%s %s: no samples (shape %v)", flag, path, a.Shape)
	}
	x, err := a.Float64()
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flag, path, err)
	}
	in := &inputArray{flag: flag, path: path, n: a.Shape[0], shape: append([]int(nil), a.Shape[1:]...), f32: a.DType == "float32", x: x}
	if want != nil && !sameShape(in.shape, want) {
		return nil, fmt.Errorf("--%s %s: samples have shape %v, want %v", flag, path, in.shape, want)
	}
	d := len(x) / in.n
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--%s %s: sample %d has a non-finite value (%v at offset %d)", flag, path, i/d, v, i%d)
		}
	}
	return in, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// inputRep returns the action of g on samples of the given shape: images
// (C, H, W) are rotated/reflected, vectors (D) transformed by the group's
// matrices (D a multiple of its dimension), Ising lattices by lattice
// symmetries.
func inputRep(g *group.Group, shape []int) (*group.Rep, error) {
	return group.InputRep(g, shape)
}
