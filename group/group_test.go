package group

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// closedSpecs are the groups whose axioms are checked exhaustively.
func closedSpecs() []string {
	var specs []string
	for n := 1; n <= 16; n++ {
		specs = append(specs, fmt.Sprintf("c%d", n))
	}
	for n := 1; n <= 8; n++ {
		specs = append(specs, fmt.Sprintf("d%d", n))
	}
	return append(specs, "z2", "trivial", "tet", "oct", "ico", "ising:3", "ising:4", "ising:4:flip",
		"c4xz2", "d4xc2", "z2xc8", "octxz2", "ising:3xz2", "c2xc2xc2", "trivialxd4")
}

func TestAxioms(t *testing.T) {
	for _, spec := range closedSpecs() {
		t.Run(spec, func(t *testing.T) { checkAxioms(t, mustParse(t, spec)) })
	}
}

// Large groups compose arithmetically, without a table.
func TestAxiomsLarge(t *testing.T) {
	for _, spec := range []string{"c2048", "d1500", "ising:16", "ising:128:flip", "c64xd16", "ising:6:flipxc4"} {
		t.Run(spec, func(t *testing.T) {
			g := mustParse(t, spec)
			if g.mul != nil {
				t.Fatalf("%s stores a table of %d entries", g, len(g.mul))
			}
			checkAxioms(t, g)
		})
	}
}

// The arithmetic laws of Cyclic and Dihedral agree with matching matrices,
// which is how they were defined first.
func TestCyclicDihedralMatchMatrices(t *testing.T) {
	for n := 1; n <= 16; n++ {
		for _, g := range []*Group{must(Cyclic(n)), must(Dihedral(n))} {
			m, err := FromMatrices("m", 2, g.mats, nil)
			if err != nil || !m.Closed() {
				t.Fatalf("%s: FromMatrices: %v, closed %v", g, err, m != nil && m.Closed())
			}
			for a := 0; a < g.Order(); a++ {
				for b := 0; b < g.Order(); b++ {
					if g.Mul(a, b) != m.Mul(a, b) {
						t.Fatalf("%s: %d∘%d = %d, matrices say %d", g, a, b, g.Mul(a, b), m.Mul(a, b))
					}
				}
				if g.Inv(a) != m.Inv(a) {
					t.Fatalf("%s: Inv(%d) = %d, matrices say %d", g, a, g.Inv(a), m.Inv(a))
				}
			}
		}
	}
}

func must(g *Group, err error) *Group {
	if err != nil {
		panic(err)
	}
	return g
}

// Matrix(a∘b) = Matrix(a) Matrix(b) for every group with geometry, products
// included (block-diagonal).
func TestMatricesCompose(t *testing.T) {
	for _, spec := range []string{"c8", "d6", "z2", "tet", "oct", "ico", "c4xz2", "z2xd3", "octxc4", "c16xtrivial", "c1000"} {
		g := mustParse(t, spec)
		d := g.Dim()
		pairs(g.Order(), 5000, func(a, b int) {
			want := matProd(g.Matrix(a), g.Matrix(b), d)
			if !matClose(want, g.Matrix(g.Mul(a, b))) {
				t.Fatalf("%s: Matrix(%s∘%s) != Matrix(%s) Matrix(%s)", g, g.Label(a), g.Label(b), g.Label(a), g.Label(b))
			}
		})
	}
}

func TestPolyhedral(t *testing.T) {
	for _, c := range []struct {
		g     *Group
		order int
		exact bool
		// number of elements of each rotation angle in degrees
		angles map[int]int
	}{
		{Tetrahedral(), 12, true, map[int]int{0: 1, 120: 8, 180: 3}},
		{Octahedral(), 24, true, map[int]int{0: 1, 90: 6, 120: 8, 180: 9}},
		{Icosahedral(), 60, false, map[int]int{0: 1, 72: 12, 120: 20, 144: 12, 180: 15}},
	} {
		g := c.g
		if g.Order() != c.order || !g.Closed() || g.Dim() != 3 {
			t.Fatalf("%s: order %d closed %v dim %d", g, g.Order(), g.Closed(), g.Dim())
		}
		got := map[int]int{}
		for a := 0; a < g.Order(); a++ {
			m := g.Matrix(a)
			if d := det(m, 3); math.Abs(d-1) > 1e-12 {
				t.Fatalf("%s: element %d has determinant %g", g, a, d)
			}
			got[int(math.Round(math.Acos(math.Max(-1, math.Min(1, (m[0]+m[4]+m[8]-1)/2)))*180/math.Pi))]++
		}
		if fmt.Sprint(got) != fmt.Sprint(c.angles) {
			t.Errorf("%s: rotation angles %v, want %v", g, got, c.angles)
		}
		r, err := VectorRep(g, 1)
		if err != nil || r.Exact() != c.exact {
			t.Errorf("%s: VectorRep exact %v, want %v (%v)", g, r.Exact(), c.exact, err)
		}
	}
	// T ⊂ O and T ⊂ I as matrix sets.
	for _, big := range []*Group{Octahedral(), Icosahedral()} {
		idx := newMatIndex(3)
		for a := 0; a < big.Order(); a++ {
			idx.add(big.Matrix(a), a)
		}
		tet := Tetrahedral()
		for a := 0; a < tet.Order(); a++ {
			if idx.find(big.mats, tet.Matrix(a)) < 0 {
				t.Errorf("tetrahedral element %s not in %s", tet.Label(a), big)
			}
		}
	}
}

func TestFromMatrices(t *testing.T) {
	// Unclosed: rotations by 0 and 90 degrees only.
	g, err := FromMatrices("half", 2, append(rot2(0), rot2(math.Pi/2)...), nil)
	if err != nil || g.Closed() {
		t.Fatalf("unclosed set: %v, closed %v", err, g != nil && g.Closed())
	}
	for _, c := range []struct {
		mats []float64
		want string
	}{
		{append(rot2(1), rot2(0)...), "identity"},
		{append(rot2(0), 1, 1, 0, 1), "orthogonal"},
		{append(rot2(0), rot2(0)...), "same matrix"},
		{[]float64{1, 0, 0}, "matrices"},
	} {
		if _, err := FromMatrices("bad", 2, c.mats, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromMatrices(%v): error %v, want one mentioning %q", c.mats, err, c.want)
		}
	}
	// Matching survives entries near the rounding boundary of the index.
	eps := 0.5e-6
	m1 := []float64{1, 0, 0, 1}
	m2 := []float64{math.Cos(eps), -math.Sin(eps), math.Sin(eps), math.Cos(eps)}
	idx := newMatIndex(2)
	idx.add(m2, 0)
	m3 := []float64{m2[0], m2[1] - 2e-10, m2[2] + 2e-10, m2[3]}
	if idx.find(m2, m3) != 0 || idx.find(m2, m1) != -1 {
		t.Errorf("matIndex: near-boundary match failed")
	}
}

func TestFromPermutations(t *testing.T) {
	id := []int32{0, 1, 2}
	rot := []int32{1, 2, 0}
	rot2 := []int32{2, 0, 1}
	swap := []int32{1, 0, 2}
	g, err := FromPermutations("z3", [][]int32{id, rot, rot2}, nil, []string{"e", "r", "rr"})
	if err != nil {
		t.Fatal(err)
	}
	checkAxioms(t, g)
	if g.Mul(1, 1) != 2 || g.Inv(1) != 2 || g.Label(2) != "rr" {
		t.Errorf("z3: r∘r = %d, r^-1 = %d", g.Mul(1, 1), g.Inv(1))
	}
	// Signed: x -> -x on one site together with the swap: Z2 × Z2.
	neg := []float64{-1, -1, 1}
	g, err = FromPermutations("v4", [][]int32{id, swap, id, swap}, [][]float64{nil, nil, neg, neg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkAxioms(t, g)
	if g.Mul(1, 2) != 3 {
		t.Errorf("v4: swap∘neg = %d, want 3", g.Mul(1, 2))
	}
	for _, c := range []struct {
		perms [][]int32
		signs [][]float64
		want  string
	}{
		{[][]int32{rot, id, rot2}, nil, "identity"},
		{[][]int32{id, rot}, nil, "not closed"},
		{[][]int32{id, rot, rot2, rot}, nil, "same signed permutation"},
		{[][]int32{id, {0, 0, 1}}, nil, "twice"},
		{[][]int32{id, {0, 1, 3}}, nil, "outside"},
		{[][]int32{id, {0, 1}}, nil, "length"},
		{[][]int32{id, id}, [][]float64{nil, {1, 2, 1}}, "±1"},
		{[][]int32{id, swap}, [][]float64{nil, {-1, 1, 1}}, "not closed"}, // order 4, not 2
		{nil, nil, "no permutations"},
	} {
		if _, err := FromPermutations("bad", c.perms, c.signs, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromPermutations(%v, %v): error %v, want one mentioning %q", c.perms, c.signs, err, c.want)
		}
	}
}

// isingPerms returns the signed permutations of the lattice action.
func isingPerms(g *Group) ([][]int32, [][]float64) {
	perms, signs := make([][]int32, g.Order()), make([][]float64, g.Order())
	for a := range perms {
		perms[a], signs[a] = g.act.signedPerm(a)
	}
	return perms, signs
}

// Ising composes arithmetically; FromPermutations on its permutations must
// build the same group, with a table (small L) or without (L = 16).
func TestIsingMatchesFromPermutations(t *testing.T) {
	for _, c := range []struct {
		L    int
		flip bool
	}{{3, false}, {3, true}, {4, false}, {4, true}, {5, true}, {16, false}} {
		g := must(Ising(c.L, c.flip))
		want := 8 * c.L * c.L
		if c.flip {
			want *= 2
		}
		if g.Order() != want {
			t.Fatalf("%s: order %d, want %d", g, g.Order(), want)
		}
		perms, signs := isingPerms(g)
		start := time.Now()
		p, err := FromPermutations(g.Name(), perms, signs, nil)
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		t.Logf("%s: FromPermutations on %d sites in %v (base of %d sites)", g, c.L*c.L, time.Since(start), len(p.law.(*permLaw).base))
		pairs(g.Order(), 200000, func(a, b int) {
			if g.Mul(a, b) != p.Mul(a, b) {
				t.Fatalf("%s: %s∘%s = %d arithmetically, %d by permutations", g, g.Label(a), g.Label(b), g.Mul(a, b), p.Mul(a, b))
			}
		})
		for a := 0; a < g.Order(); a++ {
			if g.Inv(a) != p.Inv(a) {
				t.Fatalf("%s: Inv(%d) = %d arithmetically, %d by permutations", g, a, g.Inv(a), p.Inv(a))
			}
		}
	}
	if _, err := Ising(2, false); err == nil {
		t.Error("Ising(2) is not faithful but was accepted")
	}
}

// FromPermutations handles about a thousand elements quickly.
func TestFromPermutationsSpeed(t *testing.T) {
	g := must(Ising(8, true)) // 1024 elements on 64 sites
	perms, signs := isingPerms(g)
	start := time.Now()
	p, err := FromPermutations("big", perms, signs, nil)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("FromPermutations: %d elements on %d sites in %v", p.Order(), len(perms[0]), el)
	if el > 5*time.Second {
		t.Errorf("FromPermutations took %v for %d elements", el, p.Order())
	}
}

func TestProduct(t *testing.T) {
	c4, d4, z2 := mustParse(t, "c4"), mustParse(t, "d4"), Reflection1D()
	g := must(Product(c4, z2))
	if g.Name() != "c4xz2" || g.Order() != 8 || g.Dim() != 3 || len(g.Factors()) != 2 || g.Label(3) != "r90·flip" {
		t.Fatalf("c4xz2: %s dim %d factors %v label %q", g, g.Dim(), g.Factors(), g.Label(3))
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 4; k++ {
				for l := 0; l < 2; l++ {
					if g.Mul(i*2+j, k*2+l) != c4.Mul(i, k)*2+z2.Mul(j, l) {
						t.Fatalf("c4xz2: product is not componentwise")
					}
				}
			}
		}
	}
	// Geometry: block diagonal; a factor without geometry adds nothing.
	if m := g.Matrix(3); fmt.Sprint(m) != fmt.Sprint([]float64{0, -1, 0, 1, 0, 0, 0, 0, -1}) {
		t.Errorf("c4xz2: Matrix(r90·flip) = %v", m)
	}
	ising := must(Ising(3, false))
	if h := must(Product(d4, ising)); h.Dim() != 2 || fmt.Sprint(h.Matrix(5*ising.Order()+7)) != fmt.Sprint(d4.Matrix(5)) {
		t.Errorf("d4xising:3: dim %d, want the d4 geometry", h.Dim())
	}
	if h := must(Product(ising, Trivial())); h.Dim() != 0 || h.Matrix(1) != nil {
		t.Errorf("ising:3xtrivial has geometry")
	}
	// A product with a sample is an element set.
	so2 := must(SO2Sample(5, 1))
	if h := must(Product(so2, z2)); h.Closed() || h.Order() != 10 {
		t.Errorf("so2:5xz2: closed %v order %d", h.Closed(), h.Order())
	}
}

func TestSamples(t *testing.T) {
	for _, g := range []*Group{must(SO2Sample(50, 3)), must(SO3Sample(50, 3))} {
		d := g.Dim()
		if g.Closed() || g.Order() != 50 || !isIdentity(g.Matrix(0), d) {
			t.Fatalf("%s: closed %v order %d", g, g.Closed(), g.Order())
		}
		for a := 0; a < g.Order(); a++ {
			if err := checkOrthogonal(g.Matrix(a), d); err != nil || det(g.Matrix(a), d) < 0 {
				t.Fatalf("%s: element %d is not a rotation (%v)", g, a, err)
			}
		}
		again := mustParse(t, g.Name())
		if fmt.Sprint(again.mats) != fmt.Sprint(g.mats) {
			t.Errorf("%s: not reproducible from its name", g)
		}
	}
	if a, b := must(SO3Sample(5, 1)), must(SO3Sample(5, 2)); fmt.Sprint(a.mats) == fmt.Sprint(b.mats) {
		t.Error("different seeds give the same sample")
	}
	if _, err := SO2Sample(0, 1); err == nil {
		t.Error("SO2Sample(0) accepted")
	}
}

func TestLabels(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"c8", "r0 r45 r90 r135 r180 r225 r270 r315"},
		{"d2", "r0 r180 r0m r180m"},
		{"z2xc2", "e·r0 e·r180 flip·r0 flip·r180"},
		{"tet", "e r180[0,0,1] r120[1,1,1]"},
	} {
		g := mustParse(t, c.spec)
		var got []string
		for a := 0; a < min(g.Order(), len(strings.Fields(c.want))); a++ {
			got = append(got, g.Label(a))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s labels: %q, want %q", c.spec, strings.Join(got, " "), c.want)
		}
	}
	g := must(Ising(5, true))
	law := g.law.(*isingLaw)
	if l := g.Label(law.encode(1, 5, 1, 2)); l != "flip∘t(1,2)∘r90m" {
		t.Errorf("ising label %q", l)
	}
	if l := g.Label(0); l != "r0" {
		t.Errorf("ising identity label %q", l)
	}
}
