package group

import (
	"fmt"
	"slices"
)

// siteAction is a faithful action by signed permutations on the sites
// 0..sites()-1: (rho(a) x)[i] = sign[i] x[perm[i]].
type siteAction interface {
	sites() int
	// signedPerm returns the permutation and signs of element a; sign nil
	// means +1 on every site. The slices must not be modified.
	signedPerm(a int) (perm []int32, sign []float64)
}

// permAction is an explicit list of signed permutations.
type permAction struct {
	perms [][]int32
	signs [][]float64 // a nil row means +1 everywhere
}

func (p *permAction) sites() int { return len(p.perms[0]) }

func (p *permAction) signedPerm(a int) ([]int32, []float64) { return p.perms[a], p.signs[a] }

// sign returns the sign of element a at site i.
func (p *permAction) sign(a int, i int32) float64 {
	if p.signs[a] == nil {
		return 1
	}
	return p.signs[a][i]
}

// FromPermutations builds a group from a faithful action by signed
// permutations on the domain 0..m-1: element a acts on x in R^m by
//
//	(rho(a) x)[i] = signs[a][i] * x[perms[a][i]],
//
// so perms[a][i] is the site whose value a moves to site i (the convention
// of PermutationRep and of images, [rho(g) f](y) = f(g^{-1} y)). signs may
// be nil, and so may any row of it, meaning +1 everywhere; signs must be ±1.
// labels may be nil. Element 0 must be the identity, no two elements may be
// equal, and the set must be closed under composition; otherwise
// FromPermutations returns an error naming the offending elements.
//
// Elements are identified by their signed images of a base (a short list of
// sites that tells the elements apart, found by partition refinement) looked
// up in a hash map, so that a composition costs O(|base|) and checking
// closure O(n·log n·m) through a generating set. The composition table of
// at most 1024 elements is stored; larger groups compose on demand. The
// slices are copied. The group has no geometry (Dim 0); DomainRep is its
// action.
func FromPermutations(name string, perms [][]int32, signs [][]float64, labels []string) (*Group, error) {
	n := len(perms)
	if n == 0 {
		return nil, fmt.Errorf("group %s: no permutations", name)
	}
	m := len(perms[0])
	if m == 0 {
		return nil, fmt.Errorf("group %s: permutations of an empty domain", name)
	}
	if signs != nil && len(signs) != n {
		return nil, fmt.Errorf("group %s: %d sign rows for %d permutations", name, len(signs), n)
	}
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("group %s: %d labels for %d permutations", name, len(labels), n)
	}
	act := &permAction{perms: make([][]int32, n), signs: make([][]float64, n)}
	seen := make([]int, m)
	for a, p := range perms {
		if len(p) != m {
			return nil, fmt.Errorf("group %s: permutation %d has length %d, want %d", name, a, len(p), m)
		}
		for i, v := range p {
			if v < 0 || int(v) >= m {
				return nil, fmt.Errorf("group %s: permutation %d maps site %d to %d, outside 0..%d", name, a, i, v, m-1)
			}
			if seen[v] == a+1 {
				return nil, fmt.Errorf("group %s: permutation %d is not a permutation (site %d appears twice)", name, a, v)
			}
			seen[v] = a + 1
		}
		act.perms[a] = slices.Clone(p)
		if signs == nil || signs[a] == nil {
			continue
		}
		if len(signs[a]) != m {
			return nil, fmt.Errorf("group %s: sign row %d has length %d, want %d", name, a, len(signs[a]), m)
		}
		plus := true
		for i, s := range signs[a] {
			if s != 1 && s != -1 {
				return nil, fmt.Errorf("group %s: sign %d of element %d is %g, want ±1", name, i, a, s)
			}
			plus = plus && s == 1
		}
		if !plus {
			act.signs[a] = slices.Clone(signs[a])
		}
	}
	for i, v := range act.perms[0] {
		if v != int32(i) || act.signs[0] != nil {
			return nil, fmt.Errorf("group %s: element 0 must be the identity", name)
		}
	}
	l, err := newPermLaw(name, act)
	if err != nil {
		return nil, err
	}
	if err := l.checkClosed(name); err != nil {
		return nil, err
	}
	g := &Group{name: name, n: n, law: l, act: act}
	if labels != nil {
		g.labels = slices.Clone(labels)
	}
	return g.finish(), nil
}

// permLaw composes signed permutations through their images of a base.
type permLaw struct {
	act   *permAction
	base  []int32          // sites whose signed images tell the elements apart
	index map[string]int32 // base key -> element
}

// code is the signed image of one site, as stored in a base key.
func code(p int32, s float64) uint32 {
	c := uint32(p) << 1
	if s < 0 {
		c |= 1
	}
	return c
}

func newPermLaw(name string, act *permAction) (*permLaw, error) {
	n, m := len(act.perms), act.sites()
	// Partition refinement: keep a site if it splits some class of elements
	// that agree on the sites kept so far.
	type classKey struct {
		class int32
		code  uint32
	}
	class, next := make([]int32, n), make([]int32, n)
	classes := 1
	ids := map[classKey]int32{}
	var base []int32
	for x := int32(0); int(x) < m && classes < n; x++ {
		clear(ids)
		for a := 0; a < n; a++ {
			k := classKey{class[a], code(act.perms[a][x], act.sign(a, x))}
			id, ok := ids[k]
			if !ok {
				id = int32(len(ids))
				ids[k] = id
			}
			next[a] = id
		}
		if len(ids) > classes {
			base = append(base, x)
			class, next = next, class
			classes = len(ids)
		}
	}
	if classes < n {
		first := make(map[int32]int, classes)
		for a := 0; a < n; a++ {
			if b, ok := first[class[a]]; ok {
				return nil, fmt.Errorf("group %s: elements %d and %d are the same signed permutation", name, b, a)
			}
			first[class[a]] = a
		}
	}
	l := &permLaw{act: act, base: base, index: make(map[string]int32, n)}
	for a := 0; a < n; a++ {
		l.index[string(l.key(nil, a, 0, false))] = int32(a)
	}
	return l, nil
}

// key appends the base key of a (when compose is false) or of a∘b:
// (a∘b)(x) = p_b[p_a[x]] with sign s_a[x] s_b[p_a[x]].
func (l *permLaw) key(buf []byte, a, b int, compose bool) []byte {
	pa := l.act.perms[a]
	for _, x := range l.base {
		img, s := pa[x], l.act.sign(a, x)
		if compose {
			s *= l.act.sign(b, img)
			img = l.act.perms[b][img]
		}
		c := code(img, s)
		buf = append(buf, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
	}
	return buf
}

func (l *permLaw) lookup(a, b int) (int, bool) {
	var arr [64]byte
	c, ok := l.index[string(l.key(arr[:0], a, b, true))]
	return int(c), ok
}

func (l *permLaw) mul(a, b int) int {
	c, ok := l.lookup(a, b)
	if !ok {
		panic(fmt.Sprintf("group: composition %d∘%d not found in a verified permutation group", a, b))
	}
	return c
}

func (l *permLaw) inv(a int) int {
	p, m := l.act.perms[a], l.act.sites()
	// The inverse q satisfies q[p[i]] = i with sign s_a[i] at site p[i].
	var arr [64]byte
	buf := arr[:0]
	for _, x := range l.base {
		for i := 0; i < m; i++ {
			if p[i] == x {
				c := code(int32(i), l.act.sign(a, int32(i)))
				buf = append(buf, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
				break
			}
		}
	}
	c, ok := l.index[string(buf)]
	if !ok {
		panic(fmt.Sprintf("group: inverse of %d not found in a verified permutation group", a))
	}
	return int(c)
}

// checkClosed verifies that the set is a group: it grows a generating set
// greedily (every element not yet generated becomes a generator) and checks
// in full that every generated element times every generator is in the set.
// Elements generated by elements of the set that all lie in the set, and
// that include every element, form the set: it is closed.
func (l *permLaw) checkClosed(name string) error {
	n, m := len(l.act.perms), l.act.sites()
	in := make([]bool, n)
	in[0] = true
	members := []int{0}
	var gens []int
	for s := 1; s < n; s++ {
		if in[s] {
			continue
		}
		gens = append(gens, s)
		for k := 0; k < len(members); k++ {
			x := members[k]
			for _, t := range gens {
				c, ok := l.lookup(x, t)
				if ok && !l.composesTo(x, t, c, m) {
					ok = false
				}
				if !ok {
					return fmt.Errorf("group %s: the set is not closed: element %d ∘ element %d is not in it", name, x, t)
				}
				if !in[c] {
					in[c] = true
					members = append(members, c)
				}
			}
		}
	}
	return nil
}

// composesTo reports whether a∘b equals c on every site.
func (l *permLaw) composesTo(a, b, c, m int) bool {
	pa, pb, pc := l.act.perms[a], l.act.perms[b], l.act.perms[c]
	for i := 0; i < m; i++ {
		j := pa[i]
		if pb[j] != pc[i] || l.act.sign(a, int32(i))*l.act.sign(b, j) != l.act.sign(c, int32(i)) {
			return false
		}
	}
	return true
}

// DomainRep returns the action of a group with a signed-permutation action
// (FromPermutations, Ising) on R^m, m the size of its domain. It is exact.
func DomainRep(g *Group) (*Rep, error) {
	if g.act == nil {
		return nil, fmt.Errorf("group %s has no action on a finite domain", g.name)
	}
	if err := checkActionSize(g, g.act.sites()); err != nil {
		return nil, err
	}
	return newRep(g, "domain", []int{g.act.sites()}, 1, actionMaps(g.act, g.n), nil), nil
}

// maxActionEntries bounds the site indices a signed-permutation
// representation holds (512 MiB): ising:64 fits, ising:64:flip does not.
const maxActionEntries = 1 << 27

func checkActionSize(g *Group, sites int) error {
	if g.n > maxActionEntries/sites {
		return fmt.Errorf("group %s: a representation on %d sites would hold %d×%d site indices, above the limit %d", g.name, sites, g.n, sites, maxActionEntries)
	}
	return nil
}

// actionMaps builds the maps of a signed-permutation action. Row pointers
// and all-(+1) or all-(−1) values are shared by every element.
func actionMaps(act siteAction, n int) []Map {
	m := act.sites()
	ptr := make([]int32, m+1)
	for i := range ptr {
		ptr[i] = int32(i)
	}
	var plus, minus []float64
	shared := func(v float64) []float64 {
		s := make([]float64, m)
		for i := range s {
			s[i] = v
		}
		return s
	}
	maps := make([]Map, n)
	for a := range maps {
		p, s := act.signedPerm(a)
		maps[a] = Map{Ptr: ptr, Idx: p}
		switch {
		case s == nil || allEqual(s, 1):
			if plus == nil {
				plus = shared(1)
			}
			maps[a].Val = plus
		case allEqual(s, -1):
			if minus == nil {
				minus = shared(-1)
			}
			maps[a].Val = minus
		default:
			maps[a].Val = s
		}
	}
	return maps
}

func allEqual(s []float64, v float64) bool {
	for _, x := range s {
		if x != v {
			return false
		}
	}
	return true
}
