package group

import (
	"fmt"
	"math"
)

// Float is the set of element types representations act on.
type Float interface{ ~float32 | ~float64 }

// Map is a sparse linear map on R^n: out[i] = Σ_k Val[k] in[Idx[k]] for
// k in Ptr[i]..Ptr[i+1]. A signed permutation stores exactly one entry per
// row with value ±1. Maps held by a Rep are shared: do not modify them.
type Map struct {
	Ptr []int32
	Idx []int32
	Val []float64
}

// Len is the dimension the map acts on.
func (m *Map) Len() int { return len(m.Ptr) - 1 }

// oneEach reports whether every row holds exactly one entry.
func (m *Map) oneEach() bool {
	for i, p := range m.Ptr {
		if int(p) != i {
			return false
		}
	}
	return true
}

// isSignedPerm reports whether every row holds one entry of value ±1 and
// every input index is used once.
func (m *Map) isSignedPerm() bool {
	if !m.oneEach() {
		return false
	}
	seen := make([]bool, m.Len())
	for k, j := range m.Idx {
		if math.Abs(m.Val[k]) != 1 || seen[j] {
			return false
		}
		seen[j] = true
	}
	return true
}

// applyMap computes dst = m src, zeroing the rows outside mask (nil: none).
// Maps with one entry per row (permutations, exact elements of interpolated
// representations) take a direct path.
func applyMap[T Float](m *Map, oneEach bool, mask []bool, dst, src []T) {
	if oneEach {
		idx, val := m.Idx[:len(dst)], m.Val[:len(dst)]
		for i, j := range idx {
			dst[i] = T(val[i] * float64(src[j]))
		}
		if mask != nil {
			for i, in := range mask {
				if !in {
					dst[i] = 0
				}
			}
		}
		return
	}
	ptr, idx, val := m.Ptr, m.Idx, m.Val
	start := ptr[0]
	for i := range dst {
		end := ptr[i+1]
		if mask != nil && !mask[i] {
			dst[i] = 0
		} else {
			var s float64
			is, vs := idx[start:end], val[start:end]
			for k := range vs {
				s += vs[k] * float64(src[is[k]])
			}
			dst[i] = T(s)
		}
		start = end
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
// are the channels). A Rep is immutable and safe for concurrent use.
type Rep struct {
	g      *Group
	kind   string
	shape  []int // shape of one vector acted on, e.g. [C H W]
	blocks int
	maps   []Map  // one per element, on the inner space
	mask   []bool // inner-space mask (nil if every map is exact)
	exact  bool   // all maps are signed permutations
	one    []bool // maps[a] has one entry per row
}

// newRep completes a representation: it records which maps have one entry
// per row and whether all are signed permutations.
func newRep(g *Group, kind string, shape []int, blocks int, maps []Map, mask []bool) *Rep {
	r := &Rep{g: g, kind: kind, shape: shape, blocks: blocks, maps: maps, mask: mask, exact: mask == nil, one: make([]bool, len(maps))}
	for a := range maps {
		r.one[a] = maps[a].oneEach()
		r.exact = r.exact && r.one[a] && maps[a].isSignedPerm()
	}
	return r
}

// Group is the group represented.
func (r *Rep) Group() *Group { return r.g }

// Kind says what the representation acts on: "image", "vector", "regular",
// "trivial", "lattice", "domain", "det", "product" or "permutation".
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

// Inner returns the sparse map of element a on the inner space (shared: do
// not modify). The mask, if any, is not part of it.
func (r *Rep) Inner(a int) *Map { return &r.maps[a] }

// Apply writes rho(a) src into dst (both of length Dim(); they must not
// overlap). For interpolated image representations the result is masked.
func Apply[T Float](r *Rep, a int, dst, src []T) {
	n := r.maps[a].Len()
	if len(src) != r.Dim() || len(dst) != r.Dim() {
		panic(fmt.Sprintf("group.Apply: vectors of length %d and %d for a representation of dimension %d", len(dst), len(src), r.Dim()))
	}
	for b := 0; b < r.blocks; b++ {
		applyMap(&r.maps[a], r.one[a], r.mask, dst[b*n:(b+1)*n], src[b*n:(b+1)*n])
	}
}

// ApplyBatch applies rho(a) to each of the vectors stored one after the
// other in src, writing dst. len(src) must be a multiple of Dim() and dst
// at least as long.
func ApplyBatch[T Float](r *Rep, a int, dst, src []T) {
	d := r.Dim()
	if len(src)%d != 0 || len(dst) < len(src) {
		panic(fmt.Sprintf("group.ApplyBatch: %d values in and %d out for vectors of dimension %d", len(src), len(dst), d))
	}
	for i := 0; i < len(src); i += d {
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
	for b := 0; b+n <= len(x); b += n {
		for i, in := range r.mask {
			if !in {
				x[b+i] = 0
			}
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

// OrbitBatch returns the orbits of the vectors stored one after another in
// x (n = len(x)/Dim() of them), stacked by element: block a, the values
// [a·len(x), (a+1)·len(x)), holds rho(a) applied to each of the n vectors
// (ApplyBatch), so the result has Order()·len(x) values and block 0 is a
// copy of x (masked for masked representations). len(x) must be a multiple
// of Dim().
func OrbitBatch[T Float](r *Rep, x []T) []T {
	dst := make([]T, r.g.Order()*len(x))
	OrbitBatchInto(r, dst, x)
	return dst
}

// OrbitBatchInto is OrbitBatch writing into dst, which must hold at least
// Order()·len(x) values; the first Order()·len(x) are written.
func OrbitBatchInto[T Float](r *Rep, dst, x []T) {
	m, G := len(x), r.g.Order()
	if len(dst) < G*m {
		panic(fmt.Sprintf("group.OrbitBatchInto: %d values out for the %d-element orbits of %d values", len(dst), G, m))
	}
	for a := range G {
		ApplyBatch(r, a, dst[a*m:(a+1)*m], x)
	}
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

// TrivialRep returns the trivial representation of g on R^dim: every
// element acts by the identity (the output action of invariant targets).
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
	return newRep(g, "trivial", []int{dim}, 1, maps, nil)
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
		maps[a] = m
	}
	return newRep(g, "vector", []int{copies * d}, copies, maps, nil), nil
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
	return newRep(g, "regular", []int{n}, 1, maps, nil), nil
}

// PermutationRep returns the representation in which element a maps
// out[i] = in[perms[a][i]]: for example classes that a symmetry exchanges.
// The permutations are taken as given: they must compose like the group.
func PermutationRep(g *Group, perms [][]int) (*Rep, error) {
	if len(perms) != g.Order() {
		return nil, fmt.Errorf("group %s: permutation representation needs %d permutations, got %d", g.name, g.Order(), len(perms))
	}
	n := len(perms[0])
	if n == 0 {
		return nil, fmt.Errorf("group %s: permutations of an empty set", g.name)
	}
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
	return newRep(g, "permutation", []int{n}, 1, maps, nil), nil
}
