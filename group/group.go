package group

import (
	"fmt"
	"math"
	"strings"
)

// Group is a finite set of symmetry transformations. When Closed reports
// true it is a group: Mul and Inv are defined on every element. Otherwise it
// is a finite sample of a continuous group (its elements still have
// matrices, and inverses as matrices, but products may fall outside the
// set). A Group is immutable and safe for concurrent use.
type Group struct {
	name   string
	n      int
	closed bool
	mul    []int32 // n*n composition table (a∘b at a*n+b); nil when law composes
	law    law     // arithmetic composition of a structured group, or nil
	inv    []int32 // inverse of each element, nil when law composes
	dim    int     // dimension of the geometric representation, 0 if none
	mats   []float64
	labels []string         // element labels, or nil
	label  func(int) string // computes labels when labels is nil
	// act, when set, is a faithful action by signed permutations on a
	// finite domain (lattice sites, FromPermutations).
	act     siteAction
	factors []*Group // the factors of a direct product
}

// law is the composition of a structured group, computed instead of stored.
// Implementations are immutable.
type law interface {
	mul(a, b int) int
	inv(a int) int
}

// tableMax is the largest order for which a composition table is stored
// (4 MiB); larger structured groups compose arithmetically.
const tableMax = 1024

// Name is the canonical name of the group, as accepted by Parse (for the
// groups Parse can build).
func (g *Group) Name() string { return g.name }

// Order is the number of elements.
func (g *Group) Order() int { return g.n }

// Identity is the index of the identity element (always 0).
func (g *Group) Identity() int { return 0 }

// Closed reports whether the element set is closed under composition, i.e.
// whether this is a finite group on which Mul and Inv are defined.
func (g *Group) Closed() bool { return g.closed }

// Mul returns the index of the composition a∘b (apply b first, then a), so
// that rho(Mul(a, b)) = rho(a) rho(b) for every representation rho. It
// panics if the set is not closed; check Closed first.
func (g *Group) Mul(a, b int) int {
	if g.mul != nil {
		return int(g.mul[a*g.n+b])
	}
	if g.law == nil {
		panic(fmt.Sprintf("group %s: Mul on a set that is not closed", g.name))
	}
	if a < 0 || a >= g.n || b < 0 || b >= g.n {
		panic(fmt.Sprintf("group %s: Mul(%d, %d) outside 0..%d", g.name, a, b, g.n-1))
	}
	return g.law.mul(a, b)
}

// Inv returns the index of the inverse of a. It panics if the set is not
// closed; check Closed first.
func (g *Group) Inv(a int) int {
	if g.inv != nil {
		return int(g.inv[a])
	}
	if g.law == nil {
		panic(fmt.Sprintf("group %s: Inv on a set that is not closed", g.name))
	}
	if a < 0 || a >= g.n {
		panic(fmt.Sprintf("group %s: Inv(%d) outside 0..%d", g.name, a, g.n-1))
	}
	return g.law.inv(a)
}

// Dim is the dimension d of the geometric representation (2 for groups
// acting on the plane, 3 for rotations of space), or 0 if the group has none.
func (g *Group) Dim() int { return g.dim }

// Matrix returns the d×d row-major orthogonal matrix of element a (a view;
// do not modify). It returns nil for groups without geometry.
func (g *Group) Matrix(a int) []float64 {
	if g.dim == 0 {
		return nil
	}
	d2 := g.dim * g.dim
	return g.mats[a*d2 : (a+1)*d2]
}

// Label is a human-readable name of element a, e.g. "r90" or "r0m".
func (g *Group) Label(a int) string {
	if a >= 0 && a < len(g.labels) && g.labels[a] != "" {
		return g.labels[a]
	}
	if g.labels == nil && g.label != nil && a >= 0 && a < g.n {
		return g.label(a)
	}
	return fmt.Sprintf("g%d", a)
}

// Factors returns the two factors of a direct product built by Product (nil
// otherwise).
func (g *Group) Factors() []*Group { return g.factors }

// String returns the name and order.
func (g *Group) String() string { return fmt.Sprintf("%s (order %d)", g.name, g.n) }

// finish completes a structured group whose law is set: it stores the
// composition table and the inverses when the group is small.
func (g *Group) finish() *Group {
	g.closed = true
	n := g.n
	if n > tableMax {
		return g
	}
	g.mul = make([]int32, n*n)
	g.inv = make([]int32, n)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			g.mul[a*n+b] = int32(g.law.mul(a, b))
		}
		g.inv[a] = int32(g.law.inv(a))
	}
	return g
}

// matTol is the tolerance under which two geometric matrices are taken to
// be the same element.
const matTol = 1e-9

// FromMatrices builds a group (or element set) from orthogonal d×d matrices,
// given row-major one after the other; the first must be the identity. The
// composition table is computed by matching products (through a hash of the
// rounded entries, so O(n²) products); if some product is not in the set,
// the result is an unclosed element set (Closed reports false). A closed
// result stores its n×n table.
func FromMatrices(name string, d int, mats []float64, labels []string) (*Group, error) {
	if d <= 0 || len(mats) == 0 || len(mats)%(d*d) != 0 {
		return nil, fmt.Errorf("group %s: need a positive number of %dx%d matrices, got %d values", name, d, d, len(mats))
	}
	n := len(mats) / (d * d)
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("group %s: %d labels for %d elements", name, len(labels), n)
	}
	g := &Group{name: name, n: n, dim: d, mats: append([]float64(nil), mats...)}
	if labels != nil {
		g.labels = append([]string(nil), labels...)
	}
	if !isIdentity(g.Matrix(0), d) {
		return nil, fmt.Errorf("group %s: the first element must be the identity", name)
	}
	for a := 0; a < n; a++ {
		if err := checkOrthogonal(g.Matrix(a), d); err != nil {
			return nil, fmt.Errorf("group %s: element %d: %w", name, a, err)
		}
	}
	idx := newMatIndex(d)
	for a := 0; a < n; a++ {
		if c := idx.find(g.mats, g.Matrix(a)); c >= 0 {
			return nil, fmt.Errorf("group %s: elements %d and %d have the same matrix", name, c, a)
		}
		idx.add(g.Matrix(a), a)
	}
	// Rows are appended one by one: an unclosed set is usually detected in
	// row 1, so that large samples cost O(n), not O(n²) memory.
	var table []int32
	prod := make([]float64, d*d)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			matMul(prod, g.Matrix(a), g.Matrix(b), d)
			c := idx.find(g.mats, prod)
			if c < 0 {
				return g, nil // not closed
			}
			table = append(table, int32(c))
		}
	}
	g.mul, g.closed = table, true
	g.inv = make([]int32, n)
	for a := 0; a < n; a++ {
		g.inv[a] = -1
		for b := 0; b < n; b++ {
			if g.mul[a*n+b] == 0 {
				g.inv[a] = int32(b)
				break
			}
		}
		if g.inv[a] < 0 {
			return nil, fmt.Errorf("group %s: element %d has no inverse in the set", name, a)
		}
	}
	return g, nil
}

// matIndex finds matrices by a hash of their entries rounded to a grid of
// 1e-6. Two matrices within matTol of each other can round differently only
// at entries near a rounding boundary; find tries both roundings there, so
// matching is exact to matTol and costs O(1) per look-up.
type matIndex struct {
	d    int
	keys map[string][]int32
}

func newMatIndex(d int) *matIndex { return &matIndex{d: d, keys: map[string][]int32{}} }

const matGrid = 1e6

func appendKey(buf []byte, q int64) []byte {
	for s := 0; s < 64; s += 8 {
		buf = append(buf, byte(q>>s))
	}
	return buf
}

func (x *matIndex) add(m []float64, a int) {
	var buf []byte
	for _, v := range m {
		buf = appendKey(buf, int64(math.Round(v*matGrid)))
	}
	x.keys[string(buf)] = append(x.keys[string(buf)], int32(a))
}

// find returns the index of the element of mats (d×d blocks) whose matrix
// equals m to matTol, or -1.
func (x *matIndex) find(mats, m []float64) int {
	d2 := x.d * x.d
	var amb []int // entries near a rounding boundary
	q := make([]int64, len(m))
	for i, v := range m {
		s := v * matGrid
		q[i] = int64(math.Round(s))
		if math.Abs(math.Abs(s-math.Trunc(s))-0.5) <= matTol*matGrid {
			amb = append(amb, i)
		}
	}
	if len(amb) > 10 { // adversarial input: scan
		for c := 0; c*d2 < len(mats); c++ {
			if matClose(mats[c*d2:(c+1)*d2], m) {
				return c
			}
		}
		return -1
	}
	buf := make([]byte, 0, 8*len(m))
	for combo := 0; combo < 1<<len(amb); combo++ {
		buf = buf[:0]
		for i := range m {
			v := q[i]
			for bit, j := range amb {
				if j == i && combo>>bit&1 == 1 {
					v = int64(math.Floor(m[i]*matGrid)) + int64(math.Ceil(m[i]*matGrid)) - v
				}
			}
			buf = appendKey(buf, v)
		}
		for _, c := range x.keys[string(buf)] {
			if matClose(mats[int(c)*d2:int(c+1)*d2], m) {
				return int(c)
			}
		}
	}
	return -1
}

func matClose(a, b []float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > matTol {
			return false
		}
	}
	return true
}

func isIdentity(m []float64, d int) bool {
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(m[i*d+j]-want) > matTol {
				return false
			}
		}
	}
	return true
}

func matMul(dst, a, b []float64, d int) {
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			var s float64
			for k := 0; k < d; k++ {
				s += a[i*d+k] * b[k*d+j]
			}
			dst[i*d+j] = s
		}
	}
}

func checkOrthogonal(m []float64, d int) error {
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			var s float64
			for k := 0; k < d; k++ {
				s += m[k*d+i] * m[k*d+j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(s-want) > 1e-9 {
				return fmt.Errorf("matrix is not orthogonal (M^T M [%d,%d] = %g)", i, j, s)
			}
		}
	}
	return nil
}

// rot2 returns the 2×2 rotation matrix by angle t (counter-clockwise).
func rot2(t float64) []float64 {
	c, s := math.Cos(t), math.Sin(t)
	// Snap to exact values at multiples of 90 degrees so that pixel
	// permutations are recognised exactly.
	for _, v := range []*float64{&c, &s} {
		if r := math.Round(*v); math.Abs(*v-r) < 1e-12 {
			*v = r
		}
		if math.Abs(*v) < 1e-12 {
			*v = 0
		}
	}
	return []float64{c, -s, s, c}
}

// cyclicLaw composes C_n: element k is the rotation r_k.
type cyclicLaw struct{ n int }

func (l cyclicLaw) mul(a, b int) int { return (a + b) % l.n }
func (l cyclicLaw) inv(a int) int    { return (l.n - a) % l.n }

// dihedralLaw composes D_n: element k < n is r_k and n+k is r_k ∘ m, with
// m r_j = r_{-j} m.
type dihedralLaw struct{ n int }

func (l dihedralLaw) mul(a, b int) int {
	n := l.n
	ra, rb := a%n, b%n
	if a < n { // r_ra ∘ r_rb m^e = r_{ra+rb} m^e
		return (ra+rb)%n + b/n*n
	}
	// r_ra m ∘ r_rb m^e = r_{ra-rb} m^{1+e}
	return (ra-rb+n)%n + (1-b/n)*n
}

func (l dihedralLaw) inv(a int) int {
	if a < l.n {
		return (l.n - a) % l.n
	}
	return a // reflections are involutions
}

// Cyclic returns C_n: rotations of the plane by multiples of 360/n degrees.
// Element k is the rotation by k*360/n degrees counter-clockwise. It is the
// equally spaced subgroup of SO(2); SO2Sample draws Haar-random rotations
// instead.
func Cyclic(n int) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("group c%d: the order must be at least 1", n)
	}
	g := &Group{name: fmt.Sprintf("c%d", n), n: n, dim: 2, law: cyclicLaw{n}, mats: make([]float64, 0, 4*n), labels: make([]string, n)}
	for k := 0; k < n; k++ {
		g.mats = append(g.mats, rot2(2*math.Pi*float64(k)/float64(n))...)
		g.labels[k] = "r" + angleLabel(360*float64(k)/float64(n))
	}
	return g.finish(), nil
}

// Dihedral returns D_n, the symmetry group of the regular n-gon, of order
// 2n: elements 0..n-1 are the rotations of C_n and element n+k is the
// reflection across the vertical axis followed by rotation k: r_k ∘ m.
func Dihedral(n int) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("group d%d: n must be at least 1", n)
	}
	g := &Group{name: fmt.Sprintf("d%d", n), n: 2 * n, dim: 2, law: dihedralLaw{n}, mats: make([]float64, 0, 8*n), labels: make([]string, 2*n)}
	for k := 0; k < n; k++ {
		g.mats = append(g.mats, rot2(2*math.Pi*float64(k)/float64(n))...)
		g.labels[k] = "r" + angleLabel(360*float64(k)/float64(n))
	}
	m := []float64{-1, 0, 0, 1} // x -> -x: mirror across the vertical axis
	prod := make([]float64, 4)
	for k := 0; k < n; k++ {
		matMul(prod, g.Matrix(k), m, 2)
		g.mats = append(g.mats, prod...)
		g.labels[n+k] = "r" + angleLabel(360*float64(k)/float64(n)) + "m"
	}
	return g.finish(), nil
}

func angleLabel(deg float64) string {
	if deg == math.Trunc(deg) {
		return fmt.Sprintf("%d", int(deg))
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", deg), "0"), ".")
}

// Reflection1D returns Z2 acting on the real line by x -> -x (dimension 1),
// the symmetry of the toy regression problem. In a product with a planar
// group it acts on images by flipping the sign of the intensities (see
// ImageRep).
func Reflection1D() *Group {
	return (&Group{name: "z2", n: 2, dim: 1, law: cyclicLaw{2}, mats: []float64{1, -1}, labels: []string{"e", "flip"}}).finish()
}

// Trivial returns the group with one element and no geometry.
func Trivial() *Group {
	return (&Group{name: "trivial", n: 1, law: cyclicLaw{1}, labels: []string{"e"}}).finish()
}
