package group

import (
	"fmt"
	"math"
	"strings"
)

// maxIsingL bounds the lattice size of Ising so that element indices stay
// far from overflow; LatticeRep costs 8L⁴ site indices long before that.
const maxIsingL = 4096

// isingLaw is the symmetry group of the periodic L×L lattice: element
// a = ((f*8 + p)*L + ti)*L + tj maps the site v = (i, j) (row, column) to
// P_p v + (ti, tj) mod L, with P_p the point operation p of D4 written in
// lattice coordinates, and multiplies every spin by -1 when f = 1.
type isingLaw struct {
	l    int
	flip bool
	pts  [8][4]int // P_p row-major in (i, j) coordinates
}

func newIsingLaw(l int, flip bool) *isingLaw {
	d4, err := Dihedral(4)
	if err != nil {
		panic(err) // fixed, valid input
	}
	law := &isingLaw{l: l, flip: flip}
	for p := range law.pts {
		law.pts[p] = latticeMatrix(d4.Matrix(p))
	}
	return law
}

// latticeMatrix converts an integer 2×2 matrix M acting on planar
// coordinates (x right, y up) to lattice coordinates (i down, j right), with
// (x, y) = (j, -i): P = [[M11, -M10], [-M01, M00]]. The result is exact for
// matrices with entries in {-1, 0, 1}.
func latticeMatrix(m []float64) [4]int {
	r := func(v float64) int { return int(math.Round(v)) }
	return [4]int{r(m[3]), -r(m[2]), -r(m[1]), r(m[0])}
}

func (l *isingLaw) decode(a int) (f, p, ti, tj int) {
	L := l.l
	tj, a = a%L, a/L
	ti, a = a%L, a/L
	return a / 8, a % 8, ti, tj
}

func (l *isingLaw) encode(f, p, ti, tj int) int {
	L := l.l
	return ((f*8+p)*L+ti)*L + tj
}

func (l *isingLaw) mod(v int) int { return ((v % l.l) + l.l) % l.l }

// (P1, t1) ∘ (P2, t2) = (P1 P2, P1 t2 + t1).
func (l *isingLaw) mul(a, b int) int {
	f1, p1, ti1, tj1 := l.decode(a)
	f2, p2, ti2, tj2 := l.decode(b)
	P := l.pts[p1]
	return l.encode(f1^f2, dihedralLaw{4}.mul(p1, p2), l.mod(P[0]*ti2+P[1]*tj2+ti1), l.mod(P[2]*ti2+P[3]*tj2+tj1))
}

// (P, t)^{-1} = (P^T, -P^T t).
func (l *isingLaw) inv(a int) int {
	f, p, ti, tj := l.decode(a)
	q := dihedralLaw{4}.inv(p)
	Q := l.pts[q]
	return l.encode(f, q, l.mod(-(Q[0]*ti + Q[1]*tj)), l.mod(-(Q[2]*ti + Q[3]*tj)))
}

func (l *isingLaw) sites() int { return l.l * l.l }

// signedPerm: (rho(g) s)[v] = ±s[g^{-1} v].
func (l *isingLaw) signedPerm(a int) ([]int32, []float64) {
	f, q, ti, tj := l.decode(l.inv(a))
	L := l.l
	Q := l.pts[q]
	perm := make([]int32, L*L)
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			perm[i*L+j] = int32(l.mod(Q[0]*i+Q[1]*j+ti)*L + l.mod(Q[2]*i+Q[3]*j+tj))
		}
	}
	if f == 0 {
		return perm, nil
	}
	sign := make([]float64, L*L)
	for i := range sign {
		sign[i] = -1
	}
	return perm, sign
}

var d4Labels = [8]string{"r0", "r90", "r180", "r270", "r0m", "r90m", "r180m", "r270m"}

func (l *isingLaw) label(a int) string {
	f, p, ti, tj := l.decode(a)
	var parts []string
	if f == 1 {
		parts = append(parts, "flip")
	}
	if ti != 0 || tj != 0 {
		parts = append(parts, fmt.Sprintf("t(%d,%d)", ti, tj))
	}
	if p != 0 || len(parts) == 0 {
		parts = append(parts, d4Labels[p])
	}
	return strings.Join(parts, "∘")
}

// Ising returns the symmetry group of the periodic L×L square lattice (the
// 2D Ising model): translations Z_L × Z_L semidirect the point group D4
// about site (0, 0), of order 8L², and with flip also the global spin flip
// s -> -s, of order 16L². Element a = ((f*8 + p)*L + ti)*L + tj maps site
// (i, j) (row, column) to P_p (i, j) + (ti, tj) mod L, where p indexes D4 as
// Dihedral(4) does (p < 4: rotation by 90p degrees counter-clockwise; p ≥ 4:
// rotation ∘ mirror x -> -x, in the image orientation of ImageRep), and
// flips every spin when f = 1. Labels read like "flip∘t(1,2)∘r90m".
//
// The group is faithful for L ≥ 3 (for L ≤ 2 distinct point operations
// coincide on the lattice), so L must be at least 3. It has no geometry;
// LatticeRep and DomainRep are its action on spin arrays (exact signed
// permutations). Composition is arithmetic, so the group itself costs O(1)
// memory beyond the table of small groups; FromPermutations on the same
// permutations builds the same group (a test checks it).
func Ising(L int, flip bool) (*Group, error) {
	name := fmt.Sprintf("ising:%d", L)
	if flip {
		name += ":flip"
	}
	if L < 3 || L > maxIsingL {
		return nil, fmt.Errorf("group %s: the lattice size must be in 3..%d (the point group does not act faithfully for L < 3)", name, maxIsingL)
	}
	law := newIsingLaw(L, flip)
	n := 8 * L * L
	if flip {
		n *= 2
	}
	return (&Group{name: name, n: n, law: law, act: law, label: law.label}).finish(), nil
}

// LatticeRep returns the action of g on 1×L×L spin arrays (site (i, j) at
// index i*L+j) by signed site permutations, [rho(g) s](v) = ±s(g^{-1} v);
// it is exact. g is either a group with an action on L² sites (Ising(L, ·),
// or FromPermutations on L² sites) or a planar group whose matrices are
// integer (C1, C2, C4, D1, D2, D4): its elements then act as point
// operations about site (0, 0), modulo L, as in Ising. It holds one
// permutation of L² sites per element (8L⁴ indices for Ising(L, false)) and
// refuses more than 2^27.
func LatticeRep(g *Group, L int) (*Rep, error) {
	if L < 1 {
		return nil, fmt.Errorf("group %s: lattice size %d must be positive", g.name, L)
	}
	if err := checkActionSize(g, L*L); err != nil {
		return nil, err
	}
	var maps []Map
	switch {
	case g.act != nil:
		if g.act.sites() != L*L {
			return nil, fmt.Errorf("group %s acts on %d sites, not on an %dx%d lattice", g.name, g.act.sites(), L, L)
		}
		maps = actionMaps(g.act, g.n)
	case g.dim == 2:
		act := &permAction{perms: make([][]int32, g.n), signs: make([][]float64, g.n)}
		for a := 0; a < g.n; a++ {
			m := g.Matrix(a)
			for _, v := range m {
				if v != math.Round(v) {
					return nil, fmt.Errorf("group %s: element %s is not a symmetry of the square lattice", g.name, g.Label(a))
				}
			}
			// g^{-1} = M^T; in lattice coordinates that is P^T.
			P := latticeMatrix(m)
			perm := make([]int32, L*L)
			for i := 0; i < L; i++ {
				for j := 0; j < L; j++ {
					ii, jj := P[0]*i+P[2]*j, P[1]*i+P[3]*j
					perm[i*L+j] = int32(((ii%L+L)%L)*L + (jj%L+L)%L)
				}
			}
			act.perms[a] = perm
		}
		maps = actionMaps(act, g.n)
	default:
		return nil, fmt.Errorf("group %s does not act on a square lattice", g.name)
	}
	return newRep(g, "lattice", []int{1, L, L}, 1, maps, nil), nil
}
