package group

import "fmt"

// InputRep returns the action of g on samples of the given shape, chosen
// from the shape and the group's data rather than from its name:
//
//   - images [C H W] (or [H W]): a planar group (Dim 2) rotates and reflects
//     them (ImageRep); a permutation group on H*W sites (the Ising lattice
//     group) permutes the sites of single-channel lattices;
//   - vectors [D]: a group with d×d matrices acts on D/d stacked d-vectors
//     (VectorRep); a permutation group on D points permutes them;
//   - the trivial group acts by the identity on anything.
//
// It is InputRepLayout with layout "auto".
func InputRep(g *Group, shape []int) (*Rep, error) {
	size := 1
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("group %s: sample shape %v has a non-positive dimension", g.Name(), shape)
		}
		size *= s
	}
	if g.Order() == 1 {
		return TrivialRep(g, size), nil
	}
	switch len(shape) {
	case 2, 3:
		c, h, w := 1, shape[0], shape[1]
		if len(shape) == 3 {
			c, h, w = shape[0], shape[1], shape[2]
		}
		if g.Dim() == 2 {
			return ImageRep(g, c, h, w)
		}
		if d, err := DomainRep(g); err == nil && c == 1 && d.Dim() == h*w {
			return d, nil
		}
		return nil, fmt.Errorf("group %s cannot act on %dx%dx%d images (use a planar group such as c4 or d4, or ising:%d for %dx%d lattices)", g.Name(), c, h, w, h, h, w)
	case 1:
		if g.Dim() > 0 && size%g.Dim() == 0 {
			return VectorRep(g, size/g.Dim())
		}
		if d, err := DomainRep(g); err == nil && d.Dim() == size {
			return d, nil
		}
		return nil, fmt.Errorf("group %s cannot act on vectors of length %d (its matrices are %dx%d)", g.Name(), size, g.Dim(), g.Dim())
	}
	return nil, fmt.Errorf("group %s: samples of shape %v are neither images [C H W] nor vectors [D]", g.Name(), shape)
}

// InputRepLayout returns the action of g on inputs of the given shape. It
// is the one place where augmentation, evaluation, the metrics and the
// command line pick how a group acts on data; groups are data, and no other
// code looks at which group it is.
//
// layout "auto" (or "") leaves the choice to InputRep, which decides by the
// shape and the group: vectors [D] get the geometric representation on D/d
// stacked d-vectors (VectorRep), images [C H W] the rotation about the
// centre (ImageRep) for planar groups and the action on lattice sites for
// lattice groups (ising:<L>).
//
// "image", "lattice" and "vector" force one of the three; "lattice" is the
// way to act with a planar group such as c4 on a periodic spin lattice
// about site (0, 0) (LatticeRep) instead of rotating about the centre.
func InputRepLayout(g *Group, shape []int, layout string) (*Rep, error) {
	if layout == "" || layout == "auto" {
		return InputRep(g, shape)
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
		return VectorRep(g, size/d)
	case "image", "lattice":
		c, h, w, err := imageShape(shape)
		if err != nil {
			return nil, err
		}
		if layout == "image" {
			return ImageRep(g, c, h, w)
		}
		if c != 1 || h != w {
			return nil, fmt.Errorf("group %s acts on 1×L×L lattices, but inputs have shape %v", g.Name(), shape)
		}
		return LatticeRep(g, h)
	}
	return nil, fmt.Errorf("unknown input layout %q (want auto, image, lattice or vector)", layout)
}

// imageShape reads [H W] or [C H W] (C = 1 for [H W]).
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
// dim: kind "trivial" (or "": invariant targets, class scores) or "vector"
// (the geometric representation on dim/g.Dim() stacked vectors, e.g. the
// cross product u×v under rotations).
func OutputRep(g *Group, kind string, dim int) (*Rep, error) {
	switch kind {
	case "", "trivial":
		return TrivialRep(g, dim), nil
	case "vector":
		d := g.Dim()
		if d == 0 {
			return nil, fmt.Errorf("group %s has no geometry to act on vector targets", g.Name())
		}
		if dim%d != 0 {
			return nil, fmt.Errorf("group %s acts on %d-vectors, but targets have dimension %d", g.Name(), d, dim)
		}
		return VectorRep(g, dim/d)
	}
	return nil, fmt.Errorf("unknown output representation %q (want trivial or vector)", kind)
}
