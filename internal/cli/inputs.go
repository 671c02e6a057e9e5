// Package cli holds the command-line pieces that eqens and eqens-mpi share:
// reading input arrays given by flags, and the flags, checks and file
// handling of eqens predict (PredictFlags), so that both commands accept
// the same flags with the same errors and write the same files.
package cli

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/npy"
)

// Inputs is a batch of samples read from an .npy file given by a flag.
type Inputs struct {
	Flag, Path string
	N          int
	Shape      []int // per-sample shape
	F32        bool  // the file held float32 values
	X          []float64
}

// ReadInputs reads an .npy batch (first axis: samples) for the given flag
// and checks that it is finite and, if want is set, that its sample shape
// matches.
func ReadInputs(flag, path string, want []int) (*Inputs, error) {
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
	in := &Inputs{Flag: flag, Path: path, N: a.Shape[0], Shape: append([]int(nil), a.Shape[1:]...), F32: a.DType == "float32", X: x}
	if want != nil && !sameShape(in.Shape, want) {
		return nil, fmt.Errorf("--%s %s: samples have shape %v, want %v", flag, path, in.Shape, want)
	}
	d := len(x) / in.N
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

// KernelKind parses --kind: true for ntk, false for nngp.
func KernelKind(s string) (ntk bool, err error) {
	switch s {
	case "ntk":
		return true, nil
	case "nngp":
		return false, nil
	}
	return false, fmt.Errorf("--kind: %q is not a kernel (want ntk or nngp)", s)
}

// GroupRep parses a group flag (--average, --augment) for inputs of the
// given shape; an empty name gives nil.
func GroupRep(flag, name string, shape []int) (*group.Rep, error) {
	if name == "" {
		return nil, nil
	}
	g, err := group.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	rep, err := group.InputRep(g, shape)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return rep, nil
}
