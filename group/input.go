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
