package metrics

import (
	"math"
	"testing"
)

// orbitOf builds an orbit from per-element, per-point output rows.
func orbitOf(rows [][][]float64) *Orbit {
	g, n, k := len(rows), len(rows[0]), len(rows[0][0])
	o := NewOrbit(g, n, k)
	for a := range rows {
		for i := range rows[a] {
			copy(o.At(a, i), rows[a][i])
		}
	}
	return o
}

func TestOSPAndChance(t *testing.T) {
	// 4 elements, 2 points, 3 classes.
	o := orbitOf([][][]float64{
		{{1, 0, 0}, {0, 1, 0}},
		{{1, 0, 0}, {0, 0, 1}},
		{{0, 2, 0}, {0, 1, 0}},
		{{1, 0, 0}, {0, 1, 0}},
	})
	osp := OSP(o)
	if osp[0] != 3 || osp[1] != 3 {
		t.Fatalf("OSP = %v, want [3 3]", osp)
	}
	// Predictions: class 0 three times, 1 four times, 2 once.
	sh := ClassShares(o)
	if sh[0] != 3.0/8 || sh[1] != 4.0/8 || sh[2] != 1.0/8 {
		t.Fatalf("shares %v", sh)
	}
	if MajorityShare(o) != 0.5 {
		t.Fatalf("majority share %v", MajorityShare(o))
	}
	want := 1 + 3*(9.0+16+1)/64
	if math.Abs(ChanceOSP(o)-want) > 1e-15 {
		t.Fatalf("chance %v, want %v", ChanceOSP(o), want)
	}
}

func TestInvariantModel(t *testing.T) {
	row := [][]float64{{0.3, -1, 2}, {5, 1, 0}}
	o := orbitOf([][][]float64{row, row, row, row})
	for i, v := range OSP(o) {
		if v != 4 {
			t.Fatalf("OSP[%d] = %v for an invariant model", i, v)
		}
	}
	m, mx := EquivarianceError(o, nil)
	kl := SymmetricKL(o)
	for i := range m {
		if m[i] != 0 || mx[i] != 0 || kl[i] != 0 {
			t.Fatalf("invariant model has errors %v %v %v", m, mx, kl)
		}
	}
	for _, v := range RelativeStd(o) {
		if v != 0 {
			t.Fatalf("relative std %v", v)
		}
	}
}

func TestEquivarianceWithOutputAction(t *testing.T) {
	// f(x) = x on R^2 under C4 rotations: equivariant with rho_Y = rho.
	rot := func(g int, v []float64) []float64 {
		x, y := v[0], v[1]
		for ; g > 0; g-- {
			x, y = -y, x
		}
		return []float64{x, y}
	}
	x := []float64{0.7, -0.2}
	var rows [][][]float64
	for g := 0; g < 4; g++ {
		rows = append(rows, [][]float64{rot(g, x)})
	}
	o := orbitOf(rows)
	act := func(g int, dst, src []float64) { copy(dst, rot(g, src)) }
	m, mx := EquivarianceError(o, act)
	if m[0] > 1e-15 || mx[0] > 1e-15 {
		t.Fatalf("equivariant map has error %v %v", m, mx)
	}
	// Against the trivial action the same map is far from invariant.
	m, _ = EquivarianceError(o, nil)
	if m[0] < 0.5 {
		t.Fatalf("invariance error of a rotating map %v", m)
	}
}

func TestRelativeStdAndKL(t *testing.T) {
	o := orbitOf([][][]float64{{{1}}, {{3}}})
	// mean 2, std 1: relative std 0.5.
	if r := RelativeStd(o)[0]; math.Abs(r-0.5) > 1e-15 {
		t.Fatalf("relative std %v", r)
	}
	// KL between softmax([0,0]) and softmax([log 3, 0]) = p(1/2,1/2), q(3/4,1/4).
	o = orbitOf([][][]float64{{{0, 0}}, {{math.Log(3), 0}}})
	p, q := []float64{0.5, 0.5}, []float64{0.75, 0.25}
	var want float64
	for c := range p {
		want += p[c]*math.Log(p[c]/q[c]) + q[c]*math.Log(q[c]/p[c])
	}
	if got := SymmetricKL(o)[0]; math.Abs(got-want) > 1e-12 {
		t.Fatalf("symmetric KL %v, want %v", got, want)
	}
}

func TestCombineAndAgreement(t *testing.T) {
	a := orbitOf([][][]float64{{{2, 0}}, {{0, 1}}})
	b := orbitOf([][][]float64{{{0, 1}}, {{0, 3}}})
	e := Combine([]*Orbit{a, b}, []int{0, 1}, false)
	if e.At(0, 0)[0] != 1 || e.At(0, 0)[1] != 0.5 || e.At(1, 0)[1] != 2 {
		t.Fatalf("logit mean %v", e.Out)
	}
	ep := Combine([]*Orbit{a, b}, []int{0, 1}, true)
	var s float64
	for _, v := range ep.At(0, 0) {
		s += math.Exp(v)
	}
	if math.Abs(s-1) > 1e-12 {
		t.Fatalf("probability mean does not sum to one: %v", s)
	}
	if Agreement(a, b)[0] != 0 || Agreement(a, a)[0] != 1 {
		t.Fatal("agreement wrong")
	}
	if Correct(a, []int{0})[0] != 1 || Correct(b, []int{0})[0] != 0 {
		t.Fatal("correct wrong")
	}
	if se := SquaredError(a, []float64{1, 0}); se[0] != 1 {
		t.Fatalf("squared error %v", se)
	}
}

func TestBootstrapCoverage(t *testing.T) {
	// Bernoulli(0.3) samples of size 200: the 95% interval should contain
	// 0.3 in roughly 95% of repetitions.
	hits := 0
	const reps = 300
	for r := 0; r < reps; r++ {
		v := make([]float64, 200)
		s := uint64(r)*7919 + 1
		for i := range v {
			s ^= s << 13
			s ^= s >> 7
			s ^= s << 17
			if float64(s%1000)/1000 < 0.3 {
				v[i] = 1
			}
		}
		e := Bootstrap(v, 400, 0.95, uint64(r))
		if e.Lo <= 0.3 && 0.3 <= e.Hi {
			hits++
		}
		if !(e.Lo <= e.Mean && e.Mean <= e.Hi) {
			t.Fatalf("interval %v does not contain the mean", e)
		}
	}
	if cov := float64(hits) / reps; cov < 0.9 || cov > 0.99 {
		t.Fatalf("bootstrap coverage %.3f, want about 0.95", cov)
	}
}

func TestSubsets(t *testing.T) {
	s := Subsets(8, 2, 6, 1)
	if len(s) != 6 {
		t.Fatalf("%d subsets", len(s))
	}
	seen := map[int]bool{}
	for _, b := range s[:4] {
		for _, i := range b {
			if seen[i] {
				t.Fatal("first blocks are not disjoint")
			}
			seen[i] = true
		}
	}
	if Subsets(3, 4, 2, 1) != nil {
		t.Fatal("subsets larger than the set")
	}
	if len(Subsets(4, 4, 3, 1)) != 1 {
		t.Fatal("the full set should appear once")
	}
}

func TestArgmax(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		v    []float64
		want int
	}{
		{nil, 0},
		{[]float64{3}, 0},
		{[]float64{1, 3, 2}, 1},
		{[]float64{1, 3, 3, 2}, 1},                 // first maximum
		{[]float64{math.Inf(-1), math.Inf(-1)}, 0}, // all tied
		{[]float64{1, nan, 2}, 2},                  // NaN passed over
		{[]float64{nan, 5, 7}, 0},                  // NaN first wins
		{[]float64{-2, math.Inf(1), nan, 1e300}, 1},
	} {
		if got := Argmax(tc.v); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.v, got, tc.want)
		}
		v32 := make([]float32, len(tc.v))
		for i, x := range tc.v {
			v32[i] = float32(x)
		}
		if got := Argmax(v32); got != tc.want {
			t.Errorf("Argmax(float32 %v) = %d, want %d", v32, got, tc.want)
		}
	}
}

// TestMemberKL checks the members' divergence: 0 for identical members and
// for one member, the closed form KL(p‖q) + KL(q‖p) for two members with
// known distributions, and the mean over the three pairs of three members.
func TestMemberKL(t *testing.T) {
	orbit := func(logits ...[]float64) *Orbit {
		o := NewOrbit(1, len(logits), len(logits[0]))
		for i, l := range logits {
			copy(o.At(0, i), l)
		}
		return o
	}
	// Softmax of (log p) is p.
	lp := func(p ...float64) []float64 {
		out := make([]float64, len(p))
		for i, v := range p {
			out[i] = math.Log(v)
		}
		return out
	}
	a := orbit(lp(0.5, 0.5), lp(0.9, 0.1))
	b := orbit(lp(0.2, 0.8), lp(0.9, 0.1))
	c := orbit(lp(0.5, 0.5), lp(0.6, 0.4))
	kl := func(p, q []float64) float64 {
		var d float64
		for i := range p {
			d += p[i]*math.Log(p[i]/q[i]) + q[i]*math.Log(q[i]/p[i])
		}
		return d
	}
	if got := MemberKL([]*Orbit{a}); got[0] != 0 || got[1] != 0 {
		t.Errorf("one member: %v", got)
	}
	if got := MemberKL([]*Orbit{a, a}); got[0] != 0 || got[1] != 0 {
		t.Errorf("identical members: %v", got)
	}
	got := MemberKL([]*Orbit{a, b})
	if want := kl([]float64{0.5, 0.5}, []float64{0.2, 0.8}); math.Abs(got[0]-want) > 1e-12 || got[1] > 1e-12 {
		t.Errorf("two members: %v, want [%v 0]", got, want)
	}
	got = MemberKL([]*Orbit{a, b, c})
	p0, p1, p2 := []float64{0.5, 0.5}, []float64{0.2, 0.8}, []float64{0.5, 0.5}
	if want := (kl(p0, p1) + kl(p0, p2) + kl(p1, p2)) / 3; math.Abs(got[0]-want) > 1e-12 {
		t.Errorf("three members: %v, want %v", got[0], want)
	}
}
