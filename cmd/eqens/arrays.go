package main

import (
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/cli"
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
// matches (cli.ReadInputs).
func readInputs(flag, path string, want []int) (*inputArray, error) {
	in, err := cli.ReadInputs(flag, path, want)
	if err != nil {
		return nil, err
	}
	return &inputArray{flag: in.Flag, path: in.Path, n: in.N, shape: in.Shape, f32: in.F32, x: in.X}, nil
}

// inputRep returns the action of g on samples of the given shape: images
// (C, H, W) are rotated/reflected, vectors (D) transformed by the group's
// matrices (D a multiple of its dimension), Ising lattices by lattice
// symmetries.
func inputRep(g *group.Group, shape []int) (*group.Rep, error) {
	return group.InputRep(g, shape)
}
