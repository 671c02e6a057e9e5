package group

import (
	"fmt"
	"math"
)

// Float is the set of element types representations act on.
type Float interface{ ~float32 | ~float64 }

// Map is a sparse linear map on R^n: out[i] = Σ_k Val[k] in[Idx[k]] for
// k in Ptr[i]..Ptr[i+1]. A signed permutation stores exactly one entry per
// row with value ±1.
type Map struct {
	Ptr []int32
	Idx []int32
	Val []float64
}

// Len is the dimension the map acts on.
func (m *Map) Len() int { return len(m.Ptr) - 1 }

// isSignedPerm reports whether every row holds one entry of value ±1 and
// every input index is used once.
func (m *Map) isSignedPerm() bool {
	seen := make([]bool, m.Len())
	for i := 0; i < m.Len(); i++ {
		if m.Ptr[i+1]-m.Ptr[i] != 1 {
			return false
		}
		k := m.Ptr[i]
		if math.Abs(m.Val[k]) != 1 || seen[m.Idx[k]] {
			return false
		}
		seen[m.Idx[k]] = true
	}
	return true
}

func applyMap[T Float](m *Map, dst, src []T) {
	for i := 0; i+1 < len(m.Ptr); i++ {
		var s float64
		for k := m.Ptr[i]; k < m.Ptr[i+1]; k++ {
			s += m.Val[k] * float64(src[m.Idx[k]])
		}
		dst[i] = T(s)
	}
}

// permMap builds the map out[i] = sign[i]*in[perm[i]] (sign nil means +1).
func permMap(perm []int32, sign []float64) Map {
	n := len(perm)
	m := Map{Ptr: make([]int32, n+1), Idx: append([]int32(nil), perm...), Val: make([]float64, n)}
	for i := range perm {
		m.Ptr[i+1] = int32(i + 1)
		m.Val[i] = 1
		if sign != nil {
			m.Val[i] = sign[i]
		}
	}
	return m
}

// Rep is a representation of a group (or element set) on R^Dim(): one linear
// map per element, applied block-wise to Blocks() consecutive copies of an
// inner space (for images the inner space is the pixel grid and the blocks
// are the channels).
type Rep struct {
	g      *Group
	kind   string
	shape  []int // shape of one vector acted on, e.g. [C H W]
	blocks int
	maps   []Map   // one per element, on the inner space
	mask   []bool  // inner-space mask (nil if every map is exact)
	exact  bool    // all maps are signed permutations
}

// Group is the group represented.
func (r *Rep) Group() *Group { return r.g }

// Kind says what the representation acts on: "image", "vector", "regular",
// "trivial", "lattice" or "permutation".
func (r *Rep) Kind() string { return r.kind }

// Shape is the shape of one vector the representation acts on.
func (r *Rep) Shape() []int { return r.shape }

// Dim is the dimension of the space acted on.
func (r *Rep) Dim() int { return r.blocks * r.maps[0].Len() }

// Blocks is the number of copies of the inner space (channels for images).
func (r *Rep) Blocks() int { return r.blocks }

// Exact reports whether every element acts by a signed permutation, so that
// the homomorphism property holds to the bit and no mask is applied.
func (r *Rep) Exact() bool { return r.exact }

// Inner returns the sparse map of element a on the inner space.
func (r *Rep) Inner(a int) *Map { return &r.maps[a] }

// Apply writes rho(a) src into dst (both of length Dim(); they must not
// overlap). For interpolated image representations the result is masked.
func Apply[T Float](r *Rep, a int, dst, src []T) {
	n := r.maps[a].Len()
	if len(src) != r.Dim() || len(dst) != r.Dim() {
		panic(fmt.Sprintf("group.Apply: vectors of length %d and %d for a representation of dimension %d", len(dst), len(src), r.Dim()))
	}
	for b := 0; b < r.blocks; b++ {
		applyMap(&r.maps[a], dst[b*n:(b+1)*n], src[b*n:(b+1)*n])
	}
	if r.mask != nil {
		MaskInPlace(r, dst)
	}
}

// ApplyBatch applies rho(a) to each of the n vectors stored one after the
// other in src.
func ApplyBatch[T Float](r *Rep, a int, dst, src []T) {
	d := r.Dim()
	for i := 0; i+d <= len(src); i += d {
		Apply(r, a, dst[i:i+d], src[i:i+d])
	}
}

// MaskInPlace zeroes the entries outside the representation's mask (a
// no-op for exact representations). Inputs must be masked before they are
// compared with their transforms, so that orbits are well defined.
func MaskInPlace[T Float](r *Rep, x []T) {
	if r.mask == nil {
		return
	}
	n := len(r.mask)
	for i := range x {
		if !r.mask[i%n] {
			x[i] = 0
		}
	}
}

// Masked reports whether the representation applies a mask.
func (r *Rep) Masked() bool { return r.mask != nil }

// Orbit returns rho(a) x for every element a, in element order.
func Orbit[T Float](r *Rep, x []T) [][]T {
	out := make([][]T, r.g.Order())
	for a := range out {
		out[a] = make([]T, len(x))
		Apply(r, a, out[a], x)
	}
	return out
}

// Dense returns the matrix of element a on the whole space (Dim×Dim,
// row-major), including the mask. Intended for tests and small spaces.
func (r *Rep) Dense(a int) []float64 {
	d := r.Dim()
	m := make([]float64, d*d)
	e := make([]float64, d)
	col := make([]float64, d)
	for j := 0; j < d; j++ {
		clear(e)
		e[j] = 1
		Apply(r, a, col, e)
		for i := 0; i < d; i++ {
			m[i*d+j] = col[i]
		}
	}
	return m
}

// Trivial returns the trivial representation of g on R^dim: every element
// acts by the identity (the output action of invariant targets).
func TrivialRep(g *Group, dim int) *Rep {
	perm := make([]int32, dim)
	for i := range perm {
		perm[i] = int32(i)
	}
	id := permMap(perm, nil)
	maps := make([]Map, g.Order())
	for a := range maps {
		maps[a] = id
	}
	return &Rep{g: g, kind: "trivial", shape: []int{dim}, blocks: 1, maps: maps, exact: true}
}

// VectorRep returns the geometric representation of g on copies stacked
// d-vectors, acting on each by the element's d×d matrix: for example the
// action of SO(3) on a pair of 3-vectors (copies = 2) or on a 3-vector
// output (copies = 1). The group must have geometry.
func VectorRep(g *Group, copies int) (*Rep, error) {
	if g.dim == 0 {
		return nil, fmt.Errorf("group %s has no geometric representation to act on vectors", g.name)
	}
	if copies < 1 {
		return nil, fmt.Errorf("group %s: vector representation needs at least one copy, got %d", g.name, copies)
	}
	d := g.dim
	maps := make([]Map, g.Order())
	exact := true
	for a := range maps {
		m := Map{Ptr: make([]int32, d+1)}
		mat := g.Matrix(a)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				if v := mat[i*d+j]; v != 0 {
					m.Idx = append(m.Idx, int32(j))
					m.Val = append(m.Val, v)
				}
			}
			m.Ptr[i+1] = int32(len(m.Idx))
		}
		exact = exact && m.isSignedPerm()
		maps[a] = m
	}
	return &Rep{g: g, kind: "vector", shape: []int{copies * d}, blocks: copies, maps: maps, exact: exact}, nil
}

// RegularRep returns the regular representation of a closed group on
// functions on the group: [rho_reg(a) f](h) = f(a^{-1} h).
func RegularRep(g *Group) (*Rep, error) {
	if !g.Closed() {
		return nil, fmt.Errorf("group %s is not closed: it has no regular representation", g.name)
	}
	n := g.Order()
	maps := make([]Map, n)
	for a := 0; a < n; a++ {
		perm := make([]int32, n)
		ai := g.Inv(a)
		for h := 0; h < n; h++ {
			perm[h] = int32(g.Mul(ai, h))
		}
		maps[a] = permMap(perm, nil)
	}
	return &Rep{g: g, kind: "regular", shape: []int{n}, blocks: 1, maps: maps, exact: true}, nil
}

// PermutationRep returns the representation in which element a maps
// out[i] = in[perms[a][i]]: for example classes that a symmetry exchanges.
func PermutationRep(g *Group, perms [][]int) (*Rep, error) {
	if len(perms) != g.Order() {
		return nil, fmt.Errorf("group %s: permutation representation needs %d permutations, got %d", g.name, g.Order(), len(perms))
	}
	n := len(perms[0])
	maps := make([]Map, len(perms))
	for a, p := range perms {
		if len(p) != n {
			return nil, fmt.Errorf("group %s: permutation %d has length %d, want %d", g.name, a, len(p), n)
		}
		p32 := make([]int32, n)
		for i, v := range p {
			if v < 0 || v >= n {
				return nil, fmt.Errorf("group %s: permutation %d maps to %d, outside 0..%d", g.name, a, v, n-1)
			}
			p32[i] = int32(v)
		}
		maps[a] = permMap(p32, nil)
		if !maps[a].isSignedPerm() {
			return nil, fmt.Errorf("group %s: entry %d is not a permutation", g.name, a)
		}
	}
	return &Rep{g: g, kind: "permutation", shape: []int{n}, blocks: 1, maps: maps, exact: true}, nil
}
