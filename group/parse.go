package group

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits of Parse, so that no spec allocates without bound.
const (
	maxParseCyclic   = 4096    // largest n of c<n>
	maxParseDihedral = 2048    // largest n of d<n> (order 2n)
	maxParseLattice  = 128     // largest L of ising:<L>
	maxParseSample   = 100000  // largest n of so2:<n>, so3:<n>
	maxParseOrder    = 1 << 18 // largest order of a product (that of ising:128:flip)
	maxParseFactors  = 8       // most factors of a product
	maxParseGeometry = 1 << 23 // most matrix entries (order × dim²) of a product
	defaultSeed      = 1       // seed of so2:<n> and so3:<n> without one
)

// parseForms lists the valid forms, for error messages.
const parseForms = "c<n> (n ≤ 4096), d<n> (n ≤ 2048), z2, trivial, so2:<n>[:<seed>], so3:<n>[:<seed>] (n ≤ 100000), tet, oct, ico, ising:<L>[:flip] (3 ≤ L ≤ 128), and products <a>x<b>"

// Parse returns the group named by a command-line spec. The grammar is
//
//	spec   = factor { "x" factor }
//	factor = "c" n                  cyclic group C_n of rotations of the plane
//	       | "d" n                  dihedral group D_n, order 2n
//	       | "z2"                   the reflection x -> -x of the real line
//	       | "trivial" | "e" | "none"  the group with one element
//	       | "so2:" n [":" seed]    n Haar-random rotations of the plane
//	       | "so3:" n [":" seed]    n Haar-random rotations of space
//	       | "tet" | "tetrahedral"  the 12 rotations of the tetrahedron
//	       | "oct" | "octahedral"   the 24 rotations of the cube
//	       | "ico" | "icosahedral"  the 60 rotations of the icosahedron
//	       | "ising:" L [":flip"]   symmetries of the periodic L×L lattice,
//	                                optionally with the global spin flip
//
// where n, L and seed are decimal integers (no sign). A spec with several
// factors is their direct product, grouped from the left: "c4xz2xd1" is
// Product(Product(c4, z2), d1). No factor contains the letter x, so the
// split is unambiguous (seeds are decimal, never hex). Names are
// case-insensitive and spaces around factors are ignored. so2:<n> and
// so3:<n> use seed 1; c<n> is the equally spaced subgroup of SO(2),
// so2:<n> a random sample. Every group Parse builds has a Name that Parse
// maps back to the same group (samples are named with their seed,
// "so2:32:1").
//
// Sizes are capped so that no spec allocates without bound: n ≤ 4096 for
// c<n>, n ≤ 2048 for d<n>, 3 ≤ L ≤ 128 for ising, n ≤ 100000 for samples;
// a spec has at most 8 factors, order at most 2^18, and at most 2^23
// matrix entries (order × Dim²; so3:65536xc4 has 6.5 million). Errors name
// the offending part and list the valid forms.
func Parse(spec string) (*Group, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "" {
		return nil, fmt.Errorf("empty group name (valid: %s; e.g. c4, d4, c16, so2:32, so3:24, oct, ising:8, c4xz2)", parseForms)
	}
	parts := strings.Split(s, "x")
	if len(parts) > maxParseFactors {
		return nil, fmt.Errorf("group %q: %d factors, above the limit %d of Parse", spec, len(parts), maxParseFactors)
	}
	factors := make([]factor, len(parts))
	order, dim := 1, 0
	for k, p := range parts {
		f, err := parseFactor(strings.TrimSpace(p))
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("group %q: factor %d: %w", spec, k+1, err)
			}
			return nil, fmt.Errorf("group %q: %w", spec, err)
		}
		if order > maxParseOrder/f.order {
			return nil, fmt.Errorf("group %q: order above the limit %d of Parse", spec, maxParseOrder)
		}
		factors[k], order, dim = f, order*f.order, dim+f.dim
		if order*dim*dim > maxParseGeometry {
			return nil, fmt.Errorf("group %q: %d matrices of size %dx%d, above the limit of %d entries of Parse", spec, order, dim, dim, maxParseGeometry)
		}
	}
	g, err := factors[0].build()
	for _, f := range factors[1:] {
		if err != nil {
			break
		}
		var h *Group
		if h, err = f.build(); err == nil {
			g, err = Product(g, h)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", spec, err)
	}
	return g, nil
}

// factor is one parsed factor of a spec: how to build it, and the order
// and geometric dimension it will have.
type factor struct {
	build      func() (*Group, error)
	order, dim int
}

// parseFactor parses one factor of a spec.
func parseFactor(s string) (factor, error) {
	fixed := func(g func() *Group, order, dim int) (factor, error) {
		return factor{func() (*Group, error) { return g(), nil }, order, dim}, nil
	}
	switch s {
	case "":
		return factor{}, fmt.Errorf("empty factor (valid: %s)", parseForms)
	case "trivial", "e", "none":
		return fixed(Trivial, 1, 0)
	case "z2":
		return fixed(Reflection1D, 2, 1)
	case "tet", "tetrahedral":
		return fixed(Tetrahedral, 12, 3)
	case "oct", "octahedral":
		return fixed(Octahedral, 24, 3)
	case "ico", "icosahedral":
		return fixed(Icosahedral, 60, 3)
	}
	head, rest, colon := strings.Cut(s, ":")
	switch {
	case !colon && len(head) > 0 && (head[0] == 'c' || head[0] == 'd'):
		if head[0] == 'd' {
			n, err := parseCount(head[1:], maxParseDihedral)
			if err != nil {
				return factor{}, fmt.Errorf("dihedral group %q: %w", s, err)
			}
			return factor{func() (*Group, error) { return Dihedral(n) }, 2 * n, 2}, nil
		}
		n, err := parseCount(head[1:], maxParseCyclic)
		if err != nil {
			return factor{}, fmt.Errorf("cyclic group %q: %w", s, err)
		}
		return factor{func() (*Group, error) { return Cyclic(n) }, n, 2}, nil
	case colon && (head == "so2" || head == "so3"):
		ns, seeds, hasSeed := strings.Cut(rest, ":")
		n, err := parseCount(ns, maxParseSample)
		if err != nil {
			return factor{}, fmt.Errorf("sample %q: size: %w", s, err)
		}
		seed := uint64(defaultSeed)
		if hasSeed {
			if !isDigits(seeds) {
				return factor{}, fmt.Errorf("sample %q: seed %q is not a decimal integer", s, seeds)
			}
			if seed, err = strconv.ParseUint(seeds, 10, 64); err != nil {
				return factor{}, fmt.Errorf("sample %q: seed %q does not fit 64 bits", s, seeds)
			}
		}
		if head == "so2" {
			return factor{func() (*Group, error) { return SO2Sample(n, seed) }, n, 2}, nil
		}
		return factor{func() (*Group, error) { return SO3Sample(n, seed) }, n, 3}, nil
	case colon && head == "ising":
		ls, opt, flip := strings.Cut(rest, ":")
		if flip && opt != "flip" {
			return factor{}, fmt.Errorf("lattice %q: unknown option %q (want ising:<L> or ising:<L>:flip)", s, opt)
		}
		L, err := parseCount(ls, maxParseLattice)
		if err == nil && L < 3 {
			err = fmt.Errorf("%d is below 3 (the point group is not faithful on smaller lattices)", L)
		}
		if err != nil {
			return factor{}, fmt.Errorf("lattice %q: size: %w", s, err)
		}
		n := 8 * L * L
		if flip {
			n *= 2
		}
		return factor{func() (*Group, error) { return Ising(L, flip) }, n, 0}, nil
	}
	return factor{}, fmt.Errorf("unknown group %q (valid: %s)", s, parseForms)
}

// parseCount parses a decimal count in 1..limit.
func parseCount(s string, limit int) (int, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("%q is not a decimal integer", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%s is above the limit %d", s, limit)
	}
	if n < 1 {
		return 0, fmt.Errorf("%s must be at least 1", s)
	}
	return n, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
