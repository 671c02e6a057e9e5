package train

import (
	"fmt"

	"github.com/eqens/eqens/group"
)

// InputRep returns the action of g on inputs of the given shape. It is the
// one place where augmentation, evaluation and the metrics pick how a group
// acts on data; groups are data, and no other code looks at which group it
// is.
//
// layout "auto" (or "") leaves the choice to group.InputRep, which decides
// by the shape and the group: vectors [D] get the geometric representation
// on D/d stacked d-vectors (group.VectorRep), images [C H W] the rotation
// about the centre (group.ImageRep) for planar groups and the action on
// lattice sites for lattice groups (ising:<L>).
//
// "image", "lattice" and "vector" force one of the three; "lattice" is the
// way to act with a planar group such as c4 on a periodic spin lattice
// about site (0, 0) (group.LatticeRep) instead of rotating about the
// centre.
func InputRep(g *group.Group, shape []int, layout string) (*group.Rep, error) {
	if layout == "" || layout == "auto" {
		return group.InputRep(g, shape)
	}
	size := 1
	for _, s := range shape {
		size *= s
	}
	switch layout {
	case "vector":
		d := g.Dim()
		if d == 0 {
			return nil, fmt.Errorf("group %s has no geometry to act on vectors", g.Name())
		}
		if size%d != 0 {
			return nil, fmt.Errorf("group %s acts on %d-vectors, but inputs have %d values (shape %v), not a multiple of %d", g.Name(), d, size, shape, d)
		}
		return group.VectorRep(g, size/d)
	case "image", "lattice":
		c, h, w, err := imageShape(shape)
		if err != nil {
			return nil, err
		}
		if layout == "image" {
			return group.ImageRep(g, c, h, w)
		}
		if c != 1 || h != w {
			return nil, fmt.Errorf("group %s acts on 1×L×L lattices, but inputs have shape %v", g.Name(), shape)
		}
		return group.LatticeRep(g, h)
	}
	return nil, fmt.Errorf("unknown input layout %q (want auto, image, lattice or vector)", layout)
}

func imageShape(shape []int) (c, h, w int, err error) {
	switch len(shape) {
	case 2:
		return 1, shape[0], shape[1], nil
	case 3:
		return shape[0], shape[1], shape[2], nil
	}
	return 0, 0, 0, fmt.Errorf("inputs of shape %v are not images (want [C H W])", shape)
}

// OutputRep returns the representation rho_Y of g on targets of dimension
// dim: "trivial" (invariant targets, class scores) or "vector" (the
// geometric representation on dim/g.Dim() stacked vectors, e.g. the cross
// product u×v under rotations).
func OutputRep(g *group.Group, kind string, dim int) (*group.Rep, error) {
	switch kind {
	case "", "trivial":
		return group.TrivialRep(g, dim), nil
	case "vector":
		d := g.Dim()
		if d == 0 {
			return nil, fmt.Errorf("group %s has no geometry to act on vector targets", g.Name())
		}
		if dim%d != 0 {
			return nil, fmt.Errorf("group %s acts on %d-vectors, but targets have dimension %d", g.Name(), d, dim)
		}
		return group.VectorRep(g, dim/d)
	}
	return nil, fmt.Errorf("unknown output representation %q (want trivial or vector)", kind)
}
