//go:build amd64 && !purego

package vec

//go:noescape
func sum3AffineReLUAVX512(k, t, ka, kb, kc, ta, tb, tc *float64, n int, nw, add0, v1, r1 float64, v2, r2 *float64, scale float64, c *float64)

//go:noescape
func sum3AffineReLUAVX2(k, t, ka, kb, kc, ta, tb, tc *float64, n int, nw, add0, v1, r1 float64, v2, r2 *float64, scale float64, c *float64)

// sum3AffineReLUBulk runs the vector kernels of Sum3AffineReLU (AVX-512 on
// blocks of 8: sepRowAVX512's pipelined second step and map, without a
// first pass, from 16 entries on; then AVX2 on a block of 4) on the
// largest multiple of 4 entries and returns how many they did (0 without
// AVX2 and FMA).
func sum3AffineReLUBulk(k, t, ka, kb, kc, ta, tb, tc []float64, nw, add0, v1, r1 float64, v2, r2 []float64, scale float64) int {
	if !hasAVX2 || !hasFMA {
		return 0
	}
	done := 0
	if n := len(k) &^ 7; hasAVX512 && n >= 16 {
		// The pipelined kernel without its first pass (no lead, none ahead).
		a := sepRowArgs{k: &k[0], t: at(t, 0), ka: &ka[0], kb: &kb[0], kc: &kc[0], ta: at(ta, 0), tb: at(tb, 0), tc: at(tc, 0),
			v2: &v2[0], r2: &r2[0], n8: 8 * n, nw: nw, add0: add0, v1: v1, r1: r1, scale: scale, c: &asinConst[0]}
		a.next = [4]*float64{a.k, a.k, a.k, a.k}
		sepRowAVX512(&a)
		done = n
	} else if hasAVX512 && n > 0 {
		sum3AffineReLUAVX512(&k[0], at(t, 0), &ka[0], &kb[0], &kc[0], at(ta, 0), at(tb, 0), at(tc, 0), n, nw, add0, v1, r1, &v2[0], &r2[0], scale, &asinConst[0])
		done = n
	}
	if n := (len(k) - done) &^ 3; n > 0 {
		sum3AffineReLUAVX2(&k[done], at(t, done), &ka[done], &kb[done], &kc[done], at(ta, done), at(tb, done), at(tc, done), n, nw, add0, v1, r1, &v2[done], &r2[done], scale, &asinConst4[0])
		done += n
	}
	return done
}

// at returns &t[i], or nil where t is nil.
func at(t []float64, i int) *float64 {
	if t == nil {
		return nil
	}
	return &t[i]
}

// sepRowArgs are the arguments of sepRowAVX512 and sepRowAVX2, which read
// them by offset (8 bytes each, in this order): the rows of the second
// step (those of sum3AffineReLUAVX512), the first pass's destinations,
// sources (K: sa, sb, sc; Theta: ua, ub, uc) and masks, all advanced by
// lead entries, the lengths in bytes (n8: the row, lead8: the lead,
// fend8: where the first pass ends, less the lead), the scalars, the
// constants, whether the map is left out, and the rows to prefetch
// (FirstPass.Next, the call's own output row for a nil one).
type sepRowArgs struct {
	k, t, ka, kb, kc, ta, tb, tc, v2, r2 *float64
	lk, lt, sa, sb, sc, ua, ub, uc       *float64
	ma, mc                               *uint64
	n8, lead8, fend8                     int
	nw, add0, v1, r1, scale              float64
	c                                    *float64
	plain                                int // 1: no map
	next                                 [4]*float64
	m8                                   *byte      // FirstPass.M8 (AVX-512), advanced by lead
	zt                                   int        // 1: FirstPass.ZeroT with the map (AVX-512: Theta's rows not read)
	outer                                *float64   // FirstPass.Outer, advanced by lead (AVX-512), or nil
	oa                                   [3]float64 // FirstPass.OuterA
	okeep                                [2]uint8   // 0xff where OuterRow[0], OuterRow[2]: the rows not in the padding
}

//go:noescape
func sepRowAVX512(a *sepRowArgs)

//go:noescape
func sepRowAVX2(a *sepRowArgs)

// sepRowBulk runs sepRowAVX512, or sepRowAVX2 (without AVX-512, or for
// rows of an odd multiple of 4 entries), on the call r where they apply
// (sepRowLead), and reports whether it did.
func sepRowBulk(r *FusedRow) bool {
	f := &r.First
	k, t := r.K, r.T
	n := len(k)
	lead, wide, ok := sepRowLead(f, n)
	if !ok {
		return false
	}
	kl, tl := &r.KL, &r.TL
	a := sepRowArgs{
		k: &k[0], ka: &kl[0][:n][0], kb: &kl[1][:n][0], kc: &kl[2][:n][0],
		lk: &f.LK[lead], sa: &f.K[0][:n][lead], sb: &f.K[1][:n][lead], sc: &f.K[2][:n][lead],
		ma: &f.MA[:n][lead], mc: &f.MC[:n][lead],
		n8: 8 * n, lead8: 8 * lead, fend8: 8 * (n - lead),
		nw: float64(r.Norm * r.W), add0: r.Add0, plain: 1,
	}
	if r.ReLU {
		a.v2, a.r2, a.v1, a.r1, a.scale, a.plain = &r.V2[:n][0], &r.R2[:n][0], r.V1, r.R1, r.Scale, 0
	}
	if t != nil {
		a.t, a.ta, a.tb, a.tc = &t[:n][0], &tl[0][:n][0], &tl[1][:n][0], &tl[2][:n][0]
		a.lt, a.ua, a.ub, a.uc = &f.LT[:n][lead], &f.T[0][:n][lead], &f.T[1][:n][lead], &f.T[2][:n][lead]
	}
	for i, x := range f.Next {
		a.next[i] = a.k
		if x != nil {
			a.next[i] = &x[:n][0]
		}
	}
	if wide {
		if f.ZeroT && r.ReLU && t != nil {
			a.zt = 1
		}
		a.m8 = &f.M8[2*lead/8]
		if f.Outer != nil {
			a.outer, a.oa = &f.Outer[:n][lead], f.OuterA
			for i, v := range [2]int{0, 2} {
				if f.OuterRow[v] {
					a.okeep[i] = 0xff
				}
			}
		}
		a.c = &asinConst[0]
		sepRowAVX512(&a)
	} else {
		a.c = &asinConst4[0]
		sepRowAVX2(&a)
	}
	return true
}

//go:noescape
func firstRowAVX512(a *sepRowArgs)

// firstPassBulk runs firstRowAVX512 on f where it applies — AVX-512, the
// masks as bits (f.M8), rows of a positive multiple of 8 entries, masks
// zero at the row ends (the kernel's masked loads leave the terms outside
// the rows to them), no generated rows (f.Outer) — and reports whether it
// did.
func firstPassBulk(f *FirstPass) bool {
	n := len(f.LK)
	if !hasAVX512 || n == 0 || n%8 != 0 || len(f.M8) < 2*n/8 || f.MA[:n][0] != 0 || f.MC[:n][n-1] != 0 || f.Outer != nil {
		return false
	}
	a := sepRowArgs{lk: &f.LK[0], sa: &f.K[0][:n][0], sb: &f.K[1][:n][0], sc: &f.K[2][:n][0], m8: &f.M8[0], n8: 8 * n}
	if f.LT != nil {
		a.t, a.lt = &f.LT[:n][0], &f.LT[:n][0]
		a.ua, a.ub, a.uc = &f.T[0][:n][0], &f.T[1][:n][0], &f.T[2][:n][0]
	}
	firstRowAVX512(&a)
	return true
}

// sepRowLead returns how many entries the first pass runs ahead of the
// second step, whether the AVX-512 kernel takes rows of n entries (wide),
// and whether either does: AVX2 and FMA, n a multiple of 4 (AVX-512: of
// 8, and the masks as bits, f.M8), rows long enough for the lead, and masks zero at the ends (the
// vector first pass leaves the terms outside the rows to them). The lead
// is f.Ahead rounded up to blocks of 8, and 8 blocks more, so that the
// second step's loads find the first pass's stores in the cache rather
// than in the store buffer.
func sepRowLead(f *FirstPass, n int) (lead int, wide, ok bool) {
	lead = (f.Ahead+14)&^7 + 64
	if !hasAVX2 || !hasFMA || n%4 != 0 || lead+8 > n || len(f.LK) != n || f.MA[0] != 0 || f.MC[n-1] != 0 {
		return 0, false, false
	}
	return lead, hasAVX512 && n%8 == 0 && len(f.M8) >= 2*n/8, true
}
