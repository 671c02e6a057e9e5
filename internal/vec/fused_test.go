package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// fusedCase is one input of Sum3AffineReLU: the three rows of K and of
// Theta, the affine map's scalars and the variances with their 1/sqrt.
type fusedCase struct {
	ka, kb, kc, ta, tb, tc []float64
	norm, w, add0, v1, r1  float64
	v2, r2                 []float64
}

// fusedCases returns inputs of length n over the map's whole range (the
// covariances and variances of arcCosCasesR, spread over the three rows
// of K), with entries whose K is +0 or -0, zero second variances, and a
// first variance that is normal, zero or subnormal.
func fusedCases(rng *rand.Rand, n int) []fusedCase {
	k0, v1, _, v2, r2 := arcCosCasesR(rng, n)
	var out []fusedCase
	for _, add0 := range []float64{0, math.Copysign(0, -1), 0.25} {
		for _, a := range []float64{1, 0, 3e-320} {
			if n > 0 && a == 1 {
				a = v1[0]
			}
			c := fusedCase{norm: 1 / 9.0, w: 1 + rng.Float64(), add0: add0, v1: a, r1: invSqrt(a), v2: v2, r2: r2}
			c.ka, c.kb, c.kc = make([]float64, n), make([]float64, n), make([]float64, n)
			c.ta, c.tb, c.tc = make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range n {
				x := 3 * k0[i] / c.w
				c.ka[i], c.kb[i], c.kc[i] = x*(1+1e-3*rng.NormFloat64()), x, x*(1+1e-3*rng.NormFloat64())
				switch rng.IntN(6) {
				case 0: // K = ±0 before the map (with add0 = ±0)
					z := math.Copysign(0, float64(rng.IntN(2))-0.5)
					c.ka[i], c.kb[i], c.kc[i] = z, z, z
				case 1: // a zero second variance
					c.v2[i], c.r2[i] = 0, 0
				}
				c.ta[i], c.tb[i], c.tc[i] = rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
			}
			out = append(out, c)
		}
	}
	return out
}

// fusedRef computes Sum3AffineReLU's outputs entry by entry from the
// definitions (Sum3Affine's operations and reluArcCosOneR), in Go; t is
// nil without Theta.
func fusedRef(c fusedCase, theta bool, scale float64) (k, t []float64) {
	n := len(c.ka)
	k = make([]float64, n)
	if theta {
		t = make([]float64, n)
	}
	for i := range n {
		nw := float64(c.norm * c.w)
		kk := math.FMA(nw, (c.ka[i]+c.kb[i])+c.kc[i], c.add0)
		kp, kd := reluArcCosOneR(kk, float64(c.v1*c.v2[i]), float64(c.r1*c.r2[i]))
		k[i] = kp * scale
		if theta {
			tt := math.FMA(nw, (c.ta[i]+c.tb[i])+c.tc[i], kk)
			t[i] = tt * float64(kd*scale)
		}
	}
	return k, t
}

// fusedRun runs Sum3AffineReLU (fused) or the three calls it stands for.
func fusedRun(c fusedCase, theta, fused bool, scale float64) (k, t []float64) {
	n := len(c.ka)
	k = make([]float64, n)
	if theta {
		t = make([]float64, n)
	}
	if fused {
		Sum3AffineReLU(k, t, c.ka, c.kb, c.kc, c.ta, c.tb, c.tc, c.norm, c.w, c.add0, c.v1, c.r1, c.v2, c.r2, scale)
		return k, t
	}
	Sum3Affine(k, c.ka, c.kb, c.kc, c.norm, c.w, nil, c.add0)
	if theta {
		Sum3Affine(t, c.ta, c.tb, c.tc, c.norm, c.w, k, 0)
	}
	ReLUArcCosRowR(k, t, c.v1, c.r1, c.v2, c.r2, scale)
	return k, t
}

// sameBits64 fails the test unless got and want have the same bits.
func sameBits64(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s, entry %d of %d: %v, want %v", what, i, len(want), got[i], want[i])
		}
	}
}

// TestSum3AffineReLUBits checks the fused kernel against the three calls
// it replaces and against the definitions in Go, bit for bit, at every
// tail length up to 17 and a few row lengths, with and without Theta; then
// the Go code alone (the vector kernels off) against the definitions.
func TestSum3AffineReLUBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	lengths := []int{28, 64, 784, 1003}
	for n := 0; n <= 17; n++ {
		lengths = append(lengths, n)
	}
	check := func(what string) {
		t.Helper()
		for _, n := range lengths {
			for ci, c := range fusedCases(rng, n) {
				for _, theta := range []bool{true, false} {
					wk, wt := fusedRef(c, theta, inv2piTest)
					fk, ft := fusedRun(c, theta, true, inv2piTest)
					uk, ut := fusedRun(c, theta, false, inv2piTest)
					tag := func(s string) string {
						return fmt.Sprintf("%s: %s, n=%d, case %d, theta %v", what, s, n, ci, theta)
					}
					sameBits64(t, tag("fused K vs definition"), fk, wk)
					sameBits64(t, tag("unfused K vs definition"), uk, wk)
					if theta {
						sameBits64(t, tag("fused Theta vs definition"), ft, wt)
						sameBits64(t, tag("unfused Theta vs definition"), ut, wt)
					}
				}
			}
		}
	}
	check("native")
	rbulk := reluArcCosRBulk
	fusedGo, reluArcCosRBulk = true, nil
	defer func() { fusedGo, reluArcCosRBulk = false, rbulk }()
	check("Go code")
}

// TestSum3MaskAffineReLUOuter checks the first pass generating K's rows
// from an outer product (FirstPass.Outer: the AVX-512 kernel computes
// the products as it goes; elsewhere they are generated first) against
// the calls on the rows ScaleF64 generates, bit for bit: with either
// neighbouring row in the padding (a zero row),
// scalars of both signs and zero, and zeros and negative values in the
// row, so that signed zeros arise; with and without Theta, its inputs
// zero or not, L(next) read by either end row.
func TestSum3MaskAffineReLUOuter(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, s := range [][2]int{{28, 28}, {32, 32}, {16, 8}, {14, 14}, {6, 5}} {
		h, w := s[0], s[1]
		n := h * w
		for ci, c := range sepRowCases(rng, h, w)[:4] {
			x := make([]float64, n)
			for i := range x {
				switch i % 7 {
				case 0:
					x[i] = 0
				case 3:
					x[i] = math.Copysign(0, -1)
				default:
					x[i] = rng.NormFloat64()
				}
			}
			for _, pad := range []int{0, 1, 2, 3} {
				for _, oa := range [][3]float64{{0.7, -1.3, 2.1}, {-0.5, 0, 0.25}, {0, 0, 0}} {
					for _, theta := range []bool{false, true} {
						for _, up := range []bool{false, true} {
							ref := c
							ref.orow = [3]bool{pad&1 == 0, true, pad&2 == 0}
							zero := make([]float64, n)
							for v := range 3 {
								ref.src[0][v] = zero
								if ref.orow[v] {
									ref.src[0][v] = make([]float64, n)
									ScaleF64(ref.src[0][v], x, oa[v])
								}
							}
							gen := ref
							gen.outer, gen.oa = x, oa
							gen.src[0] = [3][]float64{zero, zero, zero}
							k, th, lk, _ := gen.run(w, theta, true, true, up)
							wk, wt, wlk, _ := ref.run(w, theta, true, false, up)
							tag := fmt.Sprintf("%dx%d, case %d, padding %d, scalars %v, Theta %v, up %v", h, w, ci, pad, oa, theta, up)
							sameBits64(t, tag+": K", k, wk)
							sameBits64(t, tag+": L of K", lk, wlk)
							if theta {
								sameBits64(t, tag+": Theta", th, wt)
							}
						}
					}
				}
			}
		}
	}
}

// TestFirstPassRun checks FirstPass.Run (AVX-512 where the masks are
// given as bits) against Sum3MaskRow, bit for bit, for K and Theta and K
// alone, on image shapes the vector kernel takes and leaves, and with the
// vector kernels off; a mask bit flipped must change the row.
func TestFirstPassRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	check := func(what string) {
		t.Helper()
		for _, s := range [][2]int{{28, 28}, {14, 14}, {16, 7}, {6, 5}, {4, 2}, {32, 32}} {
			h, w := s[0], s[1]
			n := h * w
			for ci, c := range sepRowCases(rng, h, w)[:2] {
				for _, theta := range []bool{false, true} {
					f := &FirstPass{LK: make([]float64, n), K: c.src[0], MA: c.ma, MC: c.mc, M8: c.m8}
					want := [2][]float64{make([]float64, n), make([]float64, n)}
					Sum3MaskRow(want[0], c.src[0][0], c.src[0][1], c.src[0][2], c.ma, c.mc)
					if theta {
						f.LT, f.T = make([]float64, n), c.src[1]
						Sum3MaskRow(want[1], c.src[1][0], c.src[1][1], c.src[1][2], c.ma, c.mc)
					}
					f.Run()
					tag := fmt.Sprintf("%s %dx%d case %d Theta %v", what, h, w, ci, theta)
					sameBits64(t, tag+": L of K", f.LK, want[0])
					if theta {
						sameBits64(t, tag+": L of Theta", f.LT, want[1])
					}
					// A mask bit that the rows' values depend on: entry 9's
					// left term (an interior column where w > 2), of the
					// scale of the others.
					if w > 2 && n > 9 {
						var k [3][]float64
						for v := range k {
							k[v] = make([]float64, n)
							for i := range k[v] {
								k[v][i] = 1 + rng.Float64()
							}
						}
						m8 := append([]byte(nil), c.m8...)
						ma := append([]uint64(nil), c.ma...)
						g := &FirstPass{LK: make([]float64, n), K: k, MA: ma, MC: c.mc, M8: m8}
						g.Run()
						before := g.LK[9]
						m8[2] ^= 2
						ma[9] ^= math.MaxUint64
						g.Run()
						if g.LK[9] == before {
							t.Errorf("%s: entry 9 unchanged with its left term masked", tag)
						}
					}
				}
			}
		}
	}
	check("vector kernels")
	fusedGo = true
	defer func() { fusedGo = false }()
	check("Go")
}

// TestFusedRowReuse checks FusedRow.Run as a caller reusing one FusedRow
// calls it: first with the map on generated outer-product rows, then,
// in the same struct, without the map (whose kernels need the rows
// written first): each call has the bits of the function it stands for,
// and Run leaves the caller's arguments as they were.
func TestFusedRowReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const h, w = 28, 28
	n := h * w
	c := sepRowCases(rng, h, w)[0]
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	c.outer, c.oa, c.orow = x, [3]float64{0.5, -1.5, 2}, [3]bool{true, true, false}
	zero := make([]float64, n)
	c.src[0] = [3][]float64{zero, zero, zero}
	var r FusedRow
	for _, mapped := range []bool{true, false} {
		wk, wt, wlk, wlt := c.run(w, true, mapped, true, false)
		l := [2][]float64{append([]float64(nil), c.l[0][2]...), append([]float64(nil), c.l[1][2]...)}
		r.First = FirstPass{LK: l[0][w : w+n], LT: l[1][w : w+n], K: c.src[0], T: c.src[1], MA: c.ma, MC: c.mc, M8: c.m8,
			Ahead: w + 1, Outer: c.outer, OuterA: c.oa, OuterRow: c.orow}
		r.K, r.T = make([]float64, n), make([]float64, n)
		r.KL = [3][]float64{c.l[0][0][:n], c.l[0][1][w : w+n], l[0][2*w:]}
		r.TL = [3][]float64{c.l[1][0][:n], c.l[1][1][w : w+n], l[1][2*w:]}
		r.Norm, r.W, r.Add0, r.ReLU = c.norm, c.w, c.add0, mapped
		r.V1, r.R1, r.V2, r.R2, r.Scale = c.v1, c.r1, c.v2, c.r2, inv2piTest
		r.Run()
		tag := fmt.Sprintf("map %v", mapped)
		sameBits64(t, tag+": K", r.K, wk)
		sameBits64(t, tag+": Theta", r.T, wt)
		sameBits64(t, tag+": L of K", r.First.LK, wlk)
		sameBits64(t, tag+": L of Theta", r.First.LT, wlt)
		if &r.First.Outer[0] != &x[0] || &r.First.K[0][0] != &zero[0] {
			t.Errorf("%s: Run changed the caller's first pass", tag)
		}
	}
}

// inv2piTest is the rectifier's scale 1/(2 pi) as the kernel package
// passes it.
const inv2piTest = 1 / (2 * math.Pi)

// sepRowCase is one input of Sum3MaskAffineReLU as the separable map of an
// h×w image passes it: for K and Theta three input rows (the sources of
// the first pass), the two rows of L already computed and the one the
// first pass writes, each padded with w zeros on both sides.
type sepRowCase struct {
	src    [2][3][]float64 // sources of K and Theta
	l      [2][3][]float64 // padded rows of L: previous, current, next (written)
	ma, mc []uint64
	m8     []byte // FirstPassBits(ma, mc), or nil: the AVX2 kernel
	zeroT  bool   // FirstPass.ZeroT (Theta's rows zero)
	// outer, where not nil, is FirstPass.Outer (with oa and orow): K's
	// rows generated.
	outer []float64
	oa    [3]float64
	orow  [3]bool
	fusedCase
}

// sepRowCases returns inputs for an h×w image: the values of fusedCases
// spread over the sources (so that the map sees covariances of the scale
// of the variances), masks zero at the image columns 0 and w-1.
func sepRowCases(rng *rand.Rand, h, w int) []sepRowCase {
	n := h * w
	var out []sepRowCase
	for _, fc := range fusedCases(rng, n) {
		c := sepRowCase{fusedCase: fc, ma: make([]uint64, n), mc: make([]uint64, n)}
		for p := range n {
			if p%w >= 1 {
				c.ma[p] = math.MaxUint64
			}
			if p%w <= w-2 {
				c.mc[p] = math.MaxUint64
			}
		}
		c.m8 = FirstPassBits(c.ma, c.mc)
		for pl, rows := range [2][3][]float64{{fc.ka, fc.kb, fc.kc}, {fc.ta, fc.tb, fc.tc}} {
			for j := range 3 {
				c.src[pl][j] = make([]float64, n)
				c.l[pl][j] = make([]float64, n+2*w)
				for i := range n {
					c.src[pl][j][i] = rows[j][i] / 3 * (1 + 1e-3*rng.NormFloat64())
					c.l[pl][j][w+i] = rows[(j+1)%3][(i+7)%n] * (1 + 1e-3*rng.NormFloat64())
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// run computes the case with Sum3MaskAffineReLU, or without the map
// (mapped false) Sum3MaskAffine (fused), or the calls they stand for,
// reading L(next) as the first (up) or the last row of the second step,
// and returns the outputs and the written rows of L; the fused calls
// with up set get rows to prefetch (FirstPass.Next), which must not
// change a bit.
func (c sepRowCase) run(w int, theta, mapped, fused, up bool) (k, t, lk, lt []float64) {
	n := len(c.ma)
	var l [2][3][]float64
	for pl := range 2 {
		for j := range 3 {
			l[pl][j] = append([]float64(nil), c.l[pl][j]...)
		}
	}
	f := &FirstPass{LK: l[0][2][w : w+n], K: c.src[0], MA: c.ma, MC: c.mc, M8: c.m8, ZeroT: c.zeroT, Ahead: w + 1,
		Outer: c.outer, OuterA: c.oa, OuterRow: c.orow}
	k = make([]float64, n)
	if theta {
		f.LT, f.T = l[1][2][w:w+n], c.src[1]
		t = make([]float64, n)
	}
	rows := func(pl int) (a, b, cc []float64) {
		if up {
			return l[pl][2][:n], l[pl][1][w : w+n], l[pl][0][2*w:]
		}
		return l[pl][0][:n], l[pl][1][w : w+n], l[pl][2][2*w:]
	}
	ka, kb, kc := rows(0)
	ta, tb, tc := rows(1)
	if up {
		f.Next = [4][]float64{c.src[0][1], nil, c.v2, c.r2}
		if theta {
			f.Next[1] = c.src[1][2]
		}
	}
	switch {
	case fused && mapped:
		Sum3MaskAffineReLU(f, k, t, ka, kb, kc, ta, tb, tc, c.norm, c.w, c.add0, c.v1, c.r1, c.v2, c.r2, inv2piTest)
		return k, t, f.LK, f.LT
	case fused:
		Sum3MaskAffine(f, k, t, ka, kb, kc, ta, tb, tc, c.norm, c.w, c.add0)
		return k, t, f.LK, f.LT
	}
	Sum3MaskRow(f.LK, f.K[0], f.K[1], f.K[2], c.ma, c.mc)
	Sum3Affine(k, ka, kb, kc, c.norm, c.w, nil, c.add0)
	if theta {
		Sum3MaskRow(f.LT, f.T[0], f.T[1], f.T[2], c.ma, c.mc)
		Sum3Affine(t, ta, tb, tc, c.norm, c.w, k, 0)
	}
	if mapped {
		ReLUArcCosRowR(k, t, c.v1, c.r1, c.v2, c.r2, inv2piTest)
	}
	return k, t, f.LK, f.LT
}

// sepVariant is a way to run a sepRowCase: with Theta, with the map, and
// which end row of the second step reads the row of L written.
type sepVariant struct{ theta, mapped, up bool }

// TestSum3MaskAffineReLUBits checks the first pass run ahead of the second
// step and map (Sum3MaskAffineReLU; without the map, Sum3MaskAffine)
// against the calls it stands for, bit for bit (the outputs and the row of
// L written), on image shapes that the vector kernels take (with AVX-512,
// 14×14 and 20×9, of an odd multiple of 4 entries, the AVX2 kernel) and on
// shapes they leave to the Go code, with and without Theta, L(next) read by either
// end row of the second step, and without the masks as bits (FirstPass.M8
// nil: the AVX2 kernel); then with the vector kernels off.
func TestSum3MaskAffineReLUBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	shapes := [][2]int{{28, 28}, {32, 32}, {16, 7}, {12, 12}, {14, 14}, {20, 9}, {6, 5}, {4, 4}, {9, 3}}
	variants := []sepVariant{{true, true, true}, {true, true, false}, {false, true, true}, {false, true, false},
		{true, false, true}, {false, false, false}}
	check := func(what string) {
		t.Helper()
		for _, s := range shapes {
			for ci, c := range sepRowCases(rng, s[0], s[1]) {
				if ci%2 == 1 {
					c.m8 = nil
				}
				for _, v := range variants {
					k, th, lk, lt := c.run(s[1], v.theta, v.mapped, true, v.up)
					wk, wt, wlk, wlt := c.run(s[1], v.theta, v.mapped, false, v.up)
					tag := func(x string) string {
						return fmt.Sprintf("%s: %s, %dx%d, case %d (mask bits %v), %+v", what, x, s[0], s[1], ci, c.m8 != nil, v)
					}
					sameBits64(t, tag("K"), k, wk)
					sameBits64(t, tag("L of K"), lk, wlk)
					if v.theta {
						sameBits64(t, tag("Theta"), th, wt)
						sameBits64(t, tag("L of Theta"), lt, wlt)
					}
				}
			}
		}
	}
	check("native")
	// Theta's inputs zero (FirstPass.ZeroT): the same K and Theta as the
	// calls on the zero rows, whether or not the kernel reads them.
	for _, s := range shapes {
		for ci, c := range sepRowCases(rng, s[0], s[1]) {
			w, n := s[1], s[0]*s[1]
			c.zeroT = true
			for j := range 3 {
				c.src[1][j] = make([]float64, n)
				c.l[1][j] = make([]float64, n+2*w)
			}
			for _, up := range []bool{false, true} {
				k, th, lk, _ := c.run(w, true, true, true, up)
				wk, wt, wlk, _ := c.run(w, true, true, false, up)
				tag := fmt.Sprintf("Theta's inputs zero, %dx%d, case %d, up %v", s[0], s[1], ci, up)
				sameBits64(t, tag+": K", k, wk)
				sameBits64(t, tag+": Theta", th, wt)
				sameBits64(t, tag+": L of K", lk, wlk)
			}
		}
	}
	rbulk := reluArcCosRBulk
	fusedGo, reluArcCosRBulk = true, nil
	defer func() { fusedGo, reluArcCosRBulk = false, rbulk }()
	check("Go code")
}

// benchRow returns m values uniform in [lo, lo+1).
func benchRow(rng *rand.Rand, m int, lo float64) []float64 {
	x := make([]float64, m)
	for i := range x {
		x[i] = lo + rng.Float64()
	}
	return x
}

// rowEndMasks returns the first pass's masks for h×w images: ma zero at
// the first position of each image row, mc at the last.
func rowEndMasks(h, w int) (ma, mc []uint64) {
	ma, mc = make([]uint64, h*w), make([]uint64, h*w)
	for p := range h * w {
		if p%w >= 1 {
			ma[p] = math.MaxUint64
		}
		if p%w <= w-2 {
			mc[p] = math.MaxUint64
		}
	}
	return ma, mc
}

// BenchmarkSepRow times one output row of a 28×28 separable map with the
// rectifier (784 entries of K and Theta, the rows in L1/L2), per entry:
// the separate calls (first pass, second pass, map), the second pass
// fused with the map (Sum3AffineReLU after the first pass), and all three
// in one kernel (Sum3MaskAffineReLU). The values are those of a layer
// (positive covariances well inside their variances), not the tests'
// edge cases: subnormal variances among them made every variant slow
// (microcode assists) and about equally so.
func BenchmarkSepRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(25, 26))
	const h, w = 28, 28
	n := h * w
	row := func(m int, lo float64) []float64 { return benchRow(rng, m, lo) }
	ma, mc := rowEndMasks(h, w)
	// L padded by one image row on both sides; the first pass writes the
	// last of the three rows the second pass reads.
	lk, lt := row(n+4*w, 3), row(n+4*w, 3)
	ka, kb, kc := lk[:n], lk[w:w+n], lk[2*w:2*w+n]
	ta, tb, tc := lt[:n], lt[w:w+n], lt[2*w:2*w+n]
	v2 := row(n, 20)
	r2 := make([]float64, n)
	InvSqrt(r2, v2)
	const v1, norm, wt, add0, scale = 21, 1.0 / 9, 1.5, 0.1, 0.159
	r1 := invSqrt(v1)
	f := &FirstPass{LK: kc, LT: tc, K: [3][]float64{row(n, 1), row(n, 1), row(n, 1)},
		T: [3][]float64{row(n, 1), row(n, 1), row(n, 1)}, MA: ma, MC: mc, M8: FirstPassBits(ma, mc), Ahead: w + 1}
	k, t := make([]float64, n), make([]float64, n)
	for _, bc := range []struct {
		name string
		f    func()
	}{
		{"separate", func() {
			Sum3MaskRow(f.LK, f.K[0], f.K[1], f.K[2], ma, mc)
			Sum3MaskRow(f.LT, f.T[0], f.T[1], f.T[2], ma, mc)
			Sum3Affine(k, ka, kb, kc, norm, wt, nil, add0)
			Sum3Affine(t, ta, tb, tc, norm, wt, k, 0)
			ReLUArcCosRowR(k, t, v1, r1, v2, r2, scale)
		}},
		{"second+map", func() {
			Sum3MaskRow(f.LK, f.K[0], f.K[1], f.K[2], ma, mc)
			Sum3MaskRow(f.LT, f.T[0], f.T[1], f.T[2], ma, mc)
			Sum3AffineReLU(k, t, ka, kb, kc, ta, tb, tc, norm, wt, add0, v1, r1, v2, r2, scale)
		}},
		{"first+second+map", func() {
			Sum3MaskAffineReLU(f, k, t, ka, kb, kc, ta, tb, tc, norm, wt, add0, v1, r1, v2, r2, scale)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}

// BenchmarkSepRowPlanes times Sum3MaskAffineReLU as a 28×28 layer calls
// it, one output row per position of the lines of the image, per entry:
// with the input and output rows in the cache ("cached": eight of each,
// reused), with them streaming through whole planes (4.9 MB each for K
// and Theta, in and out: "planes"), and streaming with the next call's
// new input rows and output rows prefetched (FirstPass.Next:
// "planes+next").
func BenchmarkSepRowPlanes(b *testing.B) {
	rng := rand.New(rand.NewPCG(27, 28))
	const h, w = 28, 28
	n := h * w
	row := func(m int, lo float64) []float64 { return benchRow(rng, m, lo) }
	ma, mc := rowEndMasks(h, w)
	m8 := FirstPassBits(ma, mc)
	kin, tin := row(n*n, 1), row(n*n, 1)
	kout, tout := make([]float64, n*n), make([]float64, n*n)
	// L for three lines of positions, each row padded by an image row.
	ring := func() [][]float64 {
		r := make([][]float64, 3*w)
		for i := range r {
			r[i] = row(n+2*w, 3)
		}
		return r
	}
	lk, lt := ring(), ring()
	v2 := row(n, 20)
	r2 := make([]float64, n)
	InvSqrt(r2, v2)
	const v1, norm, wt, add0, scale = 21, 1.0 / 9, 1.5, 0.1, 0.159
	r1 := invSqrt(v1)
	plane := func(x []float64, p int) []float64 { return x[p*n : (p+1)*n] }
	for _, bc := range []struct {
		name string
		rows int // distinct input and output rows
		next bool
	}{{"cached", 8, false}, {"planes", n, false}, {"planes+next", n, true}} {
		b.Run(bc.name, func(b *testing.B) {
			calls := 0
			for b.Loop() {
				for o := 0; o < h-1; o++ {
					for i := range w {
						p, q := ((o+1)*w+i)%bc.rows, (o*w+i)%bc.rows
						pm, pp := max(p-1, 0), min(p+1, n-1)
						dk, dt := lk[((o+1)%3)*w+i], lt[((o+1)%3)*w+i]
						f := &FirstPass{LK: dk[w : w+n], LT: dt[w : w+n],
							K:  [3][]float64{plane(kin, pm), plane(kin, p), plane(kin, pp)},
							T:  [3][]float64{plane(tin, pm), plane(tin, p), plane(tin, pp)},
							MA: ma, MC: mc, M8: m8, Ahead: w + 1}
						if bc.next {
							np, nq := min(p+2, n-1), min(q+1, n-1)
							f.Next = [4][]float64{plane(kin, np), plane(tin, np), plane(kout, nq), plane(tout, nq)}
						}
						ka, kb := lk[((o+2)%3)*w+i], lk[(o%3)*w+i]
						ta, tb := lt[((o+2)%3)*w+i], lt[(o%3)*w+i]
						Sum3MaskAffineReLU(f, plane(kout, q), plane(tout, q), ka[:n], kb[w:w+n], dk[2*w:2*w+n],
							ta[:n], tb[w:w+n], dt[2*w:2*w+n], norm, wt, add0, v1, r1, v2, r2, scale)
						calls++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(calls*n), "ns/entry")
		})
	}
}
