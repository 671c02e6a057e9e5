package group

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// productLaw composes (i, j) ↦ i*b.Order()+j componentwise.
type productLaw struct{ a, b *Group }

func (l productLaw) mul(x, y int) int {
	nb := l.b.n
	return l.a.Mul(x/nb, y/nb)*nb + l.b.Mul(x%nb, y%nb)
}

func (l productLaw) inv(x int) int {
	nb := l.b.n
	return l.a.Inv(x/nb)*nb + l.b.Inv(x%nb)
}

// Product returns the direct product A×B: element i*b.Order()+j is the pair
// (i, j), composed componentwise, labelled "x·y" from the factors' labels,
// named "<a>x<b>", with Factors() = [a, b]. It is closed when both factors
// are; a product with a sample of a continuous group is an element set.
//
// Geometry: the product acts on R^(a.Dim()+b.Dim()) by the block-diagonal
// matrix diag(M_a(i), M_b(j)), the direct sum of the factors' geometric
// representations (faithful when both are). A factor without geometry
// contributes nothing, so a planar group times an abstract group (a lattice
// group, Trivial, FromPermutations) keeps Dim 2, with the abstract factor
// acting trivially on the plane; two abstract factors give no geometry.
// Note that c4xz2 has Dim 3 = 2 + 1: ImageRep treats that case specially
// (rotate the plane, flip the sign of the intensities).
func Product(a, b *Group) (*Group, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("group: product with a nil group")
	}
	name := a.name + "x" + b.name
	if a.n > math.MaxInt32/b.n {
		return nil, fmt.Errorf("group %s: order %d×%d is too large", name, a.n, b.n)
	}
	n, nb := a.n*b.n, b.n
	g := &Group{name: name, n: n, factors: []*Group{a, b}}
	g.label = func(x int) string { return a.Label(x/nb) + "·" + b.Label(x%nb) }
	if d := a.dim + b.dim; d > 0 {
		g.dim = d
		g.mats = make([]float64, n*d*d)
		for x := 0; x < n; x++ {
			m := g.mats[x*d*d : (x+1)*d*d]
			putBlock(m, d, 0, a.Matrix(x/nb), a.dim)
			putBlock(m, d, a.dim, b.Matrix(x%nb), b.dim)
		}
	}
	if !a.closed || !b.closed {
		return g, nil
	}
	g.law = productLaw{a, b}
	return g.finish(), nil
}

// putBlock copies the bd×bd matrix blk into the d×d matrix dst at (off, off).
func putBlock(dst []float64, d, off int, blk []float64, bd int) {
	for i := 0; i < bd; i++ {
		copy(dst[(off+i)*d+off:(off+i)*d+off+bd], blk[i*bd:(i+1)*bd])
	}
}

// ProductRep returns the representation rho(i, j) = rho_a(i) rho_b(j) of
// the direct product of ra's and rb's groups (built with Product), for two
// representations on the same space whose actions commute, e.g. rotations
// of an image and a global sign flip of its intensities (DetRep of z2). It
// is a homomorphism exactly because they commute, which ProductRep checks
// on a random vector for every pair of elements. The two representations
// may split the space into blocks differently if one inner space is a
// multiple of the other; the result is masked by both masks, and exact
// when both are.
func ProductRep(ra, rb *Rep) (*Rep, error) {
	g, err := Product(ra.g, rb.g)
	if err != nil {
		return nil, err
	}
	return productRep(g, ra, rb)
}

func productRep(g *Group, ra, rb *Rep) (*Rep, error) {
	if ra.Dim() != rb.Dim() {
		return nil, fmt.Errorf("group %s: product of representations on spaces of dimension %d and %d", g.name, ra.Dim(), rb.Dim())
	}
	na, nb := ra.maps[0].Len(), rb.maps[0].Len()
	inner := max(na, nb)
	if inner%na != 0 || inner%nb != 0 {
		return nil, fmt.Errorf("group %s: representations with inner spaces of sizes %d and %d do not share a block structure", g.name, na, nb)
	}
	if err := checkCommute(g.name, ra, rb); err != nil {
		return nil, err
	}
	maskA, maskB := tileMask(ra.mask, inner), tileMask(rb.mask, inner)
	var mask []bool
	if maskA != nil || maskB != nil {
		mask = make([]bool, inner)
		for i := range mask {
			mask[i] = (maskA == nil || maskA[i]) && (maskB == nil || maskB[i])
		}
	}
	mb := make([]Map, rb.g.n)
	for j := range mb {
		mb[j] = tileMap(&rb.maps[j], inner/nb)
	}
	maps := make([]Map, g.n)
	acc, used := make([]float64, inner), make([]bool, inner)
	for i := 0; i < ra.g.n; i++ {
		A := tileMap(&ra.maps[i], inner/na)
		for j := range mb {
			maps[i*rb.g.n+j] = composeMaps(&A, &mb[j], maskB, acc, used)
		}
	}
	shape := ra.shape
	if nb > na {
		shape = rb.shape
	}
	return newRep(g, "product", shape, ra.Dim()/inner, maps, mask), nil
}

// checkCommute applies rho_a(i) rho_b(j) and rho_b(j) rho_a(i) to a fixed
// random vector for every pair and fails if they differ beyond rounding.
func checkCommute(name string, ra, rb *Rep) error {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, ra.Dim())
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	ax, bx := make([]float64, len(x)), make([]float64, len(x))
	ab, ba := make([]float64, len(x)), make([]float64, len(x))
	for j := 0; j < rb.g.n; j++ {
		Apply(rb, j, bx, x)
		for i := 0; i < ra.g.n; i++ {
			Apply(ra, i, ax, x)
			Apply(ra, i, ab, bx)
			Apply(rb, j, ba, ax)
			for k := range ab {
				if math.Abs(ab[k]-ba[k]) > 1e-9*(1+math.Abs(ab[k])) {
					return fmt.Errorf("group %s: the factors' actions do not commute (elements %s and %s)", name, ra.g.Label(i), rb.g.Label(j))
				}
			}
		}
	}
	return nil
}

// tileMask repeats a mask of an inner space to fill n entries (nil stays nil).
func tileMask(mask []bool, n int) []bool {
	if mask == nil || len(mask) == n {
		return mask
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = mask[i%len(mask)]
	}
	return out
}

// tileMap returns the block-diagonal map with k copies of m.
func tileMap(m *Map, k int) Map {
	if k == 1 {
		return *m
	}
	n, nnz := m.Len(), len(m.Idx)
	out := Map{Ptr: make([]int32, 0, k*n+1), Idx: make([]int32, 0, k*nnz), Val: make([]float64, 0, k*nnz)}
	out.Ptr = append(out.Ptr, 0)
	for b := 0; b < k; b++ {
		for i := 0; i < n; i++ {
			for p := m.Ptr[i]; p < m.Ptr[i+1]; p++ {
				out.Idx = append(out.Idx, m.Idx[p]+int32(b*n))
				out.Val = append(out.Val, m.Val[p])
			}
			out.Ptr = append(out.Ptr, int32(len(out.Idx)))
		}
	}
	return out
}

// composeMaps returns the sparse product A·diag(mask)·B (mask nil: all
// true), using acc (zeroed, length n) as a dense accumulator and used
// (false, length n) to mark its non-empty columns.
func composeMaps(a, b *Map, mask []bool, acc []float64, used []bool) Map {
	n := a.Len()
	out := Map{Ptr: make([]int32, 1, n+1)}
	var cols []int32
	for i := 0; i < n; i++ {
		cols = cols[:0]
		for p := a.Ptr[i]; p < a.Ptr[i+1]; p++ {
			c := a.Idx[p]
			if mask != nil && !mask[c] {
				continue
			}
			for q := b.Ptr[c]; q < b.Ptr[c+1]; q++ {
				k := b.Idx[q]
				if !used[k] {
					used[k] = true
					cols = append(cols, k)
				}
				acc[k] += a.Val[p] * b.Val[q]
			}
		}
		slices.Sort(cols)
		for _, k := range cols {
			if acc[k] != 0 {
				out.Idx = append(out.Idx, k)
				out.Val = append(out.Val, acc[k])
			}
			acc[k], used[k] = 0, false
		}
		out.Ptr = append(out.Ptr, int32(len(out.Idx)))
	}
	return out
}

// DetRep returns the one-dimensional representation a ↦ det(Matrix(a)) = ±1
// of a group with geometry, acting on every coordinate of R^dim: for z2 the
// global sign flip x -> -x, for D_n the sign of the reflections, for
// rotation groups the trivial action. It is exact.
func DetRep(g *Group, dim int) (*Rep, error) {
	if g.dim == 0 {
		return nil, fmt.Errorf("group %s has no geometry: it has no determinant representation", g.name)
	}
	if dim < 1 {
		return nil, fmt.Errorf("group %s: determinant representation on dimension %d", g.name, dim)
	}
	plus := Map{Ptr: []int32{0, 1}, Idx: []int32{0}, Val: []float64{1}}
	minus := Map{Ptr: plus.Ptr, Idx: plus.Idx, Val: []float64{-1}}
	maps := make([]Map, g.n)
	for a := range maps {
		maps[a] = plus
		if det(g.Matrix(a), g.dim) < 0 {
			maps[a] = minus
		}
	}
	return newRep(g, "det", []int{dim}, dim, maps, nil), nil
}

// det returns the determinant of a d×d matrix by Gaussian elimination with
// partial pivoting.
func det(m []float64, d int) float64 {
	a := append([]float64(nil), m...)
	s := 1.0
	for k := 0; k < d; k++ {
		p := k
		for i := k + 1; i < d; i++ {
			if math.Abs(a[i*d+k]) > math.Abs(a[p*d+k]) {
				p = i
			}
		}
		if a[p*d+k] == 0 {
			return 0
		}
		if p != k {
			for j := 0; j < d; j++ {
				a[k*d+j], a[p*d+j] = a[p*d+j], a[k*d+j]
			}
			s = -s
		}
		s *= a[k*d+k]
		for i := k + 1; i < d; i++ {
			f := a[i*d+k] / a[k*d+k]
			for j := k; j < d; j++ {
				a[i*d+j] -= f * a[k*d+j]
			}
		}
	}
	return s
}
