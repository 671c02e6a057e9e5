package group

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every signed-permutation representation is a homomorphism bit for bit on
// random float64 data.
func TestHomomorphismExact(t *testing.T) {
	type repCase struct {
		name string
		rep  func() (*Rep, error)
	}
	var cases []repCase
	add := func(name string, f func() (*Rep, error)) { cases = append(cases, repCase{name, f}) }
	for _, spec := range []string{"c1", "c2", "c4", "d1", "d2", "d4"} {
		add("image "+spec+" 3x28x28", func() (*Rep, error) { return ImageRep(mustParse(t, spec), 3, 28, 28) })
		add("image "+spec+" 2x5x5", func() (*Rep, error) { return ImageRep(mustParse(t, spec), 2, 5, 5) })
		add("lattice "+spec, func() (*Rep, error) { return LatticeRep(mustParse(t, spec), 6) })
	}
	for _, spec := range []string{"ising:3", "ising:4", "ising:4:flip", "ising:7:flip"} {
		add("lattice "+spec, func() (*Rep, error) {
			g := mustParse(t, spec)
			return LatticeRep(g, int(math.Sqrt(float64(g.act.sites()))))
		})
		add("domain "+spec, func() (*Rep, error) { return DomainRep(mustParse(t, spec)) })
	}
	for _, spec := range closedSpecs() {
		add("regular "+spec, func() (*Rep, error) { return RegularRep(mustParse(t, spec)) })
	}
	for _, spec := range []string{"c4", "d4", "c2", "d2", "z2", "tet", "oct", "c4xz2", "octxz2"} {
		add("vector "+spec, func() (*Rep, error) { return VectorRep(mustParse(t, spec), 2) })
	}
	for _, spec := range []string{"z2", "d4", "oct", "c4xz2"} {
		add("det "+spec, func() (*Rep, error) { return DetRep(mustParse(t, spec), 7) })
	}
	add("image c4xz2", func() (*Rep, error) { return ImageRep(mustParse(t, "c4xz2"), 2, 9, 9) })
	add("image z2xd4", func() (*Rep, error) { return ImageRep(mustParse(t, "z2xd4"), 1, 8, 8) })
	add("product lattice ising:4 x det z2", func() (*Rep, error) {
		return ProductRep(must2(LatticeRep(mustParse(t, "ising:4"), 4)), must2(DetRep(Reflection1D(), 16)))
	})
	add("permutation c3", func() (*Rep, error) {
		return PermutationRep(mustParse(t, "c3"), [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}})
	})
	add("trivial oct", func() (*Rep, error) { return TrivialRep(mustParse(t, "oct"), 5), nil })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.rep()
			if err != nil {
				t.Fatal(err)
			}
			if !r.Exact() || r.Masked() {
				t.Fatalf("%s: exact %v masked %v", c.name, r.Exact(), r.Masked())
			}
			checkHomomorphism(t, r)
		})
	}
}

func must2(r *Rep, err error) *Rep {
	if err != nil {
		panic(err)
	}
	return r
}

// Dense(g) Dense(h) = Dense(gh), and Dense(0) = I.
func TestDenseHomomorphism(t *testing.T) {
	for _, c := range []struct {
		name string
		rep  *Rep
	}{
		{"image d4 1x4x4", must2(ImageRep(mustParse(t, "d4"), 1, 4, 4))},
		{"image c8 1x5x5", must2(ImageRep(mustParse(t, "c8"), 1, 5, 5))},
		{"vector oct", must2(VectorRep(Octahedral(), 1))},
		{"vector ico", must2(VectorRep(Icosahedral(), 1))},
		{"regular d3", must2(RegularRep(mustParse(t, "d3")))},
		{"lattice ising:3:flip", must2(LatticeRep(mustParse(t, "ising:3:flip"), 3))},
		{"image c4xz2 1x3x3", must2(ImageRep(mustParse(t, "c4xz2"), 1, 3, 3))},
	} {
		r, g, d := c.rep, c.rep.Group(), c.rep.Dim()
		exact := r.Exact()
		for a := 0; a < g.Order(); a++ {
			da := r.Dense(a)
			for b := 0; b < g.Order(); b++ {
				prod := matProd(da, r.Dense(b), d)
				want := r.Dense(g.Mul(a, b))
				for i := range prod {
					if exact && prod[i] != want[i] || !exact && math.Abs(prod[i]-want[i]) > 1e-12 {
						if r.Masked() {
							continue // interpolated maps: checked below
						}
						t.Fatalf("%s: Dense(%s) Dense(%s) != Dense(%s)", c.name, g.Label(a), g.Label(b), g.Label(g.Mul(a, b)))
					}
				}
			}
		}
		if r.Masked() {
			// For the interpolated C8 only elements of C4 compose exactly.
			for _, a := range []int{0, 2, 4, 6} {
				for _, b := range []int{0, 2, 4, 6} {
					if !slices.Equal(matProd(r.Dense(a), r.Dense(b), d), r.Dense(g.Mul(a, b))) {
						t.Fatalf("%s: Dense(%s) Dense(%s) != Dense(%s)", c.name, g.Label(a), g.Label(b), g.Label(g.Mul(a, b)))
					}
				}
			}
		}
	}
}

// Four quarter turns, and every element of D4 composed with itself (or the
// orbit of D4 taken twice), give a random 28×28 image back bit for bit.
func TestQuarterTurnsBitForBit(t *testing.T) {
	x := randVec(2*28*28, 5)
	for _, spec := range []string{"c4", "d4"} {
		g := mustParse(t, spec)
		r := must2(ImageRep(g, 2, 28, 28))
		for a := 0; a < g.Order(); a++ {
			y := slices.Clone(x)
			tmp := make([]float64, len(x))
			order := 0
			for {
				Apply(r, a, tmp, y)
				y, tmp = tmp, y
				order++
				if slices.Equal(y, x) {
					break
				}
				if order > 4 {
					t.Fatalf("%s: %s^%d != identity", spec, g.Label(a), order)
				}
			}
			want := 4
			if a == 0 {
				want = 1
			} else if a == 2 || a >= 4 {
				want = 2
			}
			if order != want {
				t.Errorf("%s: %s has order %d on images, want %d", spec, g.Label(a), order, want)
			}
		}
	}
	// r90 moves the top-left pixel to the bottom-left (counter-clockwise).
	img := make([]float64, 9)
	img[0] = 1
	out := make([]float64, 9)
	Apply(must2(ImageRep(mustParse(t, "c4"), 1, 3, 3)), 1, out, img)
	if out[6] != 1 {
		t.Errorf("r90 of the top-left pixel: %v", out)
	}
}

// blob is a smooth, anisotropic, off-centre Gaussian in an h×h image.
func blob(h int, cx, cy, sx, sy float64) []float64 {
	x := make([]float64, h*h)
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			px, py := pixelCoord(i, j, h, h)
			dx, dy := px-cx, py-cy
			x[i*h+j] = math.Exp(-dx*dx/(2*sx*sx) - dy*dy/(2*sy*sy))
		}
	}
	return x
}

// strokes is an MNIST-like digit: a ring and a bar of Gaussian profile
// (about 2.5 pixels wide) in an h×h image.
func strokes(h int) []float64 {
	x := make([]float64, h*h)
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			px, py := pixelCoord(i, j, h, h)
			ring := math.Hypot((px+2)/5, (py-3)/4) - 1 // ellipse, radius ~4.5
			bar := math.Abs(px-4.5+0.3*py) / 1
			if py < -8 || py > 9 {
				bar = math.Inf(1)
			}
			x[i*h+j] = math.Max(math.Exp(-ring*ring*4.5*4.5/2), math.Exp(-bar*bar/2))
		}
	}
	return x
}

// Interpolated representations are homomorphisms to interpolation
// accuracy on smooth masked images. The relative errors
// ‖rho(g)rho(h)x − rho(gh)x‖ / ‖x‖ measured here are documented in
// ImageRep.
func TestHomomorphismInterpolated(t *testing.T) {
	images := []struct {
		name  string
		x     []float64
		bound float64 // on the worst pair
	}{
		{"blob σ=3,2", blob(28, 4, -2, 3, 2), 0.05},
		{"blob σ=4", blob(28, 2, 1, 4, 4), 0.03},
		{"strokes", strokes(28), 0.16},
	}
	for _, spec := range []string{"c8", "c16", "d8"} {
		g := mustParse(t, spec)
		r := must2(ImageRep(g, 1, 28, 28))
		if r.Exact() || !r.Masked() {
			t.Fatalf("%s: exact %v masked %v", spec, r.Exact(), r.Masked())
		}
		for _, im := range images {
			x := slices.Clone(im.x)
			MaskInPlace(r, x)
			hx, ghx, gx := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
			var worst, sum float64
			count := 0
			for a := 0; a < g.Order(); a++ {
				for b := 0; b < g.Order(); b++ {
					Apply(r, b, hx, x)
					Apply(r, a, ghx, hx)
					Apply(r, g.Mul(a, b), gx, x)
					var d, n float64
					for i := range x {
						d += (ghx[i] - gx[i]) * (ghx[i] - gx[i])
						n += x[i] * x[i]
					}
					e := math.Sqrt(d / n)
					worst, sum = max(worst, e), sum+e
					count++
				}
			}
			t.Logf("%-5s %-12s relative homomorphism error: max %.2e, mean %.2e", spec, im.name, worst, sum/float64(count))
			if worst > im.bound {
				t.Errorf("%s %s: worst relative error %.3g > %g", spec, im.name, worst, im.bound)
			}
		}
	}
}

// The Ising energy −Σ_<ij> s_i s_j (periodic nearest neighbours) is
// invariant under every lattice symmetry, exactly.
func TestIsingEnergyInvariant(t *testing.T) {
	energy := func(s []float64, L int) float64 {
		var e float64
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				e -= s[i*L+j] * (s[i*L+(j+1)%L] + s[(i+1)%L*L+j])
			}
		}
		return e
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		L    int
		flip bool
	}{{3, false}, {4, false}, {4, true}, {5, true}, {8, true}} {
		g := must(Ising(c.L, c.flip))
		r := must2(LatticeRep(g, c.L))
		s, gs := make([]float64, c.L*c.L), make([]float64, c.L*c.L)
		for trial := 0; trial < 5; trial++ {
			for i := range s {
				s[i] = float64(2*rng.IntN(2) - 1)
			}
			e := energy(s, c.L)
			for a := 0; a < g.Order(); a++ {
				Apply(r, a, gs, s)
				if energy(gs, c.L) != e {
					t.Fatalf("%s: energy %v changes to %v under %s", g, e, energy(gs, c.L), g.Label(a))
				}
			}
		}
		// The test can fail: a field term Σ s_i is not flip-invariant, and
		// swapping two non-adjacent spins is no symmetry.
		if c.flip {
			var m, fm float64
			Apply(r, g.Order()/2, gs, s)
			for i := range s {
				m, fm = m+s[i], fm+gs[i]
			}
			if m != -fm {
				t.Fatalf("%s: the spin flip does not negate the magnetisation", g)
			}
		}
	}
	// The helper is no constant: flipping one spin of the ground state
	// costs 8.
	s := make([]float64, 16)
	for i := range s {
		s[i] = 1
	}
	e0 := energy(s, 4)
	s[5] = -1
	if e0 != -32 || energy(s, 4) != -24 {
		t.Fatalf("energy helper: %v and %v, want -32 and -24", e0, energy(s, 4))
	}
}

// The lattice point operations use the orientation of images: D4 on the
// lattice is D4 on L×L images up to a translation, and the point-group
// elements of Ising are those of LatticeRep(d4).
func TestLatticeOrientation(t *testing.T) {
	const L = 5
	d4 := mustParse(t, "d4")
	ising := must(Ising(L, false))
	lr, ir, dr := must2(LatticeRep(ising, L)), must2(ImageRep(d4, 1, L, L)), must2(LatticeRep(d4, L))
	law := ising.law.(*isingLaw)
	for p := 0; p < 8; p++ {
		if !slices.Equal(lr.Inner(law.encode(0, p, 0, 0)).Idx, dr.Inner(p).Idx) {
			t.Errorf("point operation %s differs between Ising and LatticeRep(d4)", d4.Label(p))
		}
		found := false
		for ti := 0; ti < L && !found; ti++ {
			for tj := 0; tj < L && !found; tj++ {
				found = slices.Equal(lr.Inner(law.encode(0, p, ti, tj)).Idx, ir.Inner(p).Idx)
			}
		}
		if !found {
			t.Errorf("image element %s is no lattice symmetry of Ising(%d)", d4.Label(p), L)
		}
	}
	if _, err := LatticeRep(mustParse(t, "c8"), L); err == nil {
		t.Error("LatticeRep(c8) accepted")
	}
	if _, err := LatticeRep(ising, L+1); err == nil {
		t.Error("LatticeRep of ising:5 on a 6×6 lattice accepted")
	}
	if _, err := LatticeRep(mustParse(t, "ising:128"), 128); err == nil {
		t.Error("LatticeRep of ising:128 (2^31 site indices) accepted")
	}
}

// Rotations × global sign flip: c4xz2 and c8xz2 on images.
func TestProductRep(t *testing.T) {
	c8, z2 := mustParse(t, "c8"), Reflection1D()
	img := must2(ImageRep(c8, 2, 12, 12))
	sign := must2(DetRep(z2, img.Dim()))
	r, err := ProductRep(img, sign)
	if err != nil {
		t.Fatal(err)
	}
	if r.Group().Name() != "c8xz2" || !r.Masked() || r.Blocks() != 2 || fmt.Sprint(r.Shape()) != "[2 12 12]" {
		t.Fatalf("product rep: %s masked %v blocks %d shape %v", r.Group(), r.Masked(), r.Blocks(), r.Shape())
	}
	// Element (i, j) acts by rho_a(i) rho_b(j), to the bit.
	x := blob(12, 1, 2, 2, 3)
	x = append(x, x...)
	MaskInPlace(r, x)
	y, z, w := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	for i := 0; i < 8; i++ {
		for j := 0; j < 2; j++ {
			Apply(sign, j, y, x)
			Apply(img, i, z, y)
			Apply(r, i*2+j, w, x)
			if !slices.Equal(z, w) {
				t.Fatalf("rho(%d, %d) != rho_a(%d) rho_b(%d)", i, j, i, j)
			}
		}
	}
	// ImageRep of the product group gives the same action.
	ri := must2(ImageRep(r.Group(), 2, 12, 12))
	for a := 0; a < 16; a++ {
		if !slices.Equal(ri.Dense(a), r.Dense(a)) {
			t.Fatalf("ImageRep(c8xz2) differs from ProductRep at %d", a)
		}
	}
	// Non-commuting actions are refused: rotations of the image and a
	// mirror of the first row only.
	row := make([][]int, 2)
	row[0] = make([]int, 9)
	row[1] = make([]int, 9)
	for i := range row[0] {
		row[0][i], row[1][i] = i, i
	}
	row[1][0], row[1][2] = 2, 0
	mirror := must2(PermutationRep(must(Cyclic(2)), row))
	if _, err := ProductRep(must2(ImageRep(mustParse(t, "c4"), 1, 3, 3)), mirror); err == nil {
		t.Error("ProductRep of non-commuting actions accepted")
	}
	if _, err := ProductRep(img, must2(DetRep(z2, 5))); err == nil {
		t.Error("ProductRep on different spaces accepted")
	}
}

// Apply on float32 agrees with float64 to float32 rounding, and ApplyBatch
// with Apply.
func TestApplyFloat32AndBatch(t *testing.T) {
	r := must2(ImageRep(mustParse(t, "c16"), 1, 10, 10))
	x := blob(10, 1, 1, 2, 2)
	MaskInPlace(r, x)
	x32 := make([]float32, len(x))
	for i := range x {
		x32[i] = float32(x[i])
	}
	batch := append(slices.Clone(x32), x32...)
	out := make([]float32, len(batch))
	ApplyBatch(r, 3, out, batch)
	y := make([]float64, len(x))
	Apply(r, 3, y, x)
	for i := range y {
		if math.Abs(float64(out[i])-y[i]) > 1e-6 || out[i] != out[i+len(x)] {
			t.Fatalf("float32 batch differs at %d: %v vs %v", i, out[i], y[i])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("ApplyBatch with a partial vector did not panic")
		}
	}()
	ApplyBatch(r, 0, out, batch[:len(batch)-1])
}
