package main

import (
	"github.com/eqens/eqens/group"
)

// inputRep returns the action of g on samples of the given shape: images
// (C, H, W) are rotated/reflected, vectors (D) transformed by the group's
// matrices (D a multiple of its dimension), Ising lattices by lattice
// symmetries.
func inputRep(g *group.Group, shape []int) (*group.Rep, error) {
	return group.InputRep(g, shape)
}
