package group

import (
	"math"
	"math/rand/v2"
	"testing"
)

// mustParse parses a spec or fails the test.
func mustParse(t testing.TB, spec string) *Group {
	t.Helper()
	g, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return g
}

// randVec returns n standard normal values from a fixed-seed generator.
func randVec(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// pairs calls f for every pair of elements when there are at most limit
// pairs, and otherwise for limit random pairs.
func pairs(n, limit int, f func(a, b int)) {
	if n*n <= limit {
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				f(a, b)
			}
		}
		return
	}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for k := 0; k < limit; k++ {
		f(rng.IntN(n), rng.IntN(n))
	}
}

// checkAxioms checks that g is a group: identity, inverses, closure (every
// product is an element and every row and column of the table is a
// permutation) and associativity; exhaustively for small groups, on random
// elements for large ones.
func checkAxioms(t *testing.T, g *Group) {
	t.Helper()
	n := g.Order()
	if !g.Closed() {
		t.Fatalf("%s: not closed", g)
	}
	for a := 0; a < n; a++ {
		if g.Mul(0, a) != a || g.Mul(a, 0) != a {
			t.Fatalf("%s: 0 is not the identity for %d", g, a)
		}
		ai := g.Inv(a)
		if ai < 0 || ai >= n || g.Mul(a, ai) != 0 || g.Mul(ai, a) != 0 {
			t.Fatalf("%s: Inv(%d) = %d is not an inverse", g, a, ai)
		}
	}
	if n <= 256 {
		for a := 0; a < n; a++ {
			row, col := make([]bool, n), make([]bool, n)
			for b := 0; b < n; b++ {
				r, c := g.Mul(a, b), g.Mul(b, a)
				if r < 0 || r >= n || c < 0 || c >= n || row[r] || col[c] {
					t.Fatalf("%s: row or column %d of the table is not a permutation", g, a)
				}
				row[r], col[c] = true, true
			}
		}
	}
	checkAssoc := func(a, b, c int) {
		if g.Mul(g.Mul(a, b), c) != g.Mul(a, g.Mul(b, c)) {
			t.Fatalf("%s: (%d∘%d)∘%d != %d∘(%d∘%d)", g, a, b, c, a, b, c)
		}
	}
	if n <= 256 {
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				for c := 0; c < n; c++ {
					checkAssoc(a, b, c)
				}
			}
		}
	} else {
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		for k := 0; k < 100000; k++ {
			checkAssoc(rng.IntN(n), rng.IntN(n), rng.IntN(n))
		}
	}
}

// checkHomomorphism checks rho(a) rho(b) x = rho(a∘b) x bit for bit on
// random data.
func checkHomomorphism(t *testing.T, r *Rep) {
	t.Helper()
	g := r.Group()
	x := randVec(r.Dim(), 11)
	bx, abx, cx := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	pairs(g.Order(), 20000, func(a, b int) {
		Apply(r, b, bx, x)
		Apply(r, a, abx, bx)
		Apply(r, g.Mul(a, b), cx, x)
		for i := range abx {
			if math.Float64bits(abx[i]) != math.Float64bits(cx[i]) {
				t.Fatalf("%s %s rep: rho(%s) rho(%s) != rho(%s) at %d: %v vs %v", g, r.Kind(), g.Label(a), g.Label(b), g.Label(g.Mul(a, b)), i, abx[i], cx[i])
			}
		}
	})
}

// matProd returns the product of two d×d row-major matrices.
func matProd(a, b []float64, d int) []float64 {
	c := make([]float64, d*d)
	matMul(c, a, b, d)
	return c
}
