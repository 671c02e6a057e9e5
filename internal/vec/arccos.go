package vec

import "math"

// The arc-cosine map of the rectifier needs theta = atan2(sqrt(P - k²), k)
// for every entry of a kernel plane. There are two maps, each arranged
// without branches so that the AVX2 and AVX-512 kernels compute the same
// operations on four or eight entries at once and give the same bits as the
// Go loop: ReLUArcCos reduces the angle to atan(x) with |x| <= tan(pi/8)
// (one division per entry) and evaluates that with a polynomial; it serves
// entries whose variances are not shared (MLP pairs). The division-free map
// below (ReLUArcCosR, ReLUArcCosRowR, ReLUArcCosRow) needs 1/sqrt of each
// variance once and then one square root per entry, and serves the planes
// of convolutional kernels, where a row's entries share their first
// variance and the rows their second ones. The two agree to a few units in
// the last place, not bit for bit.

// atanConst holds the coefficients c0..c10 of atan(x) = x + x z p(z),
// p(z) = c0 + c1 z + ... + c10 z^10, z = x² <= tan²(pi/8) (fitted at
// Chebyshev nodes in 50-digit arithmetic: 1.1e-16 relative error of atan
// in float64 evaluation), and the other constants of the map; the
// AVX2 kernel reads them at 32-byte offsets (atanConst4), the AVX-512 one
// at 8-byte offsets.
var atanConst = [...]float64{
	-0.3333333333333333,             // c0
	0.1999999999999552,              // c1
	-0.14285714284666542,            // c2
	0.11111111015256361,             // c3
	-0.09090904578123903,            // c4
	0.07692183190826087,             // c5
	-0.06664511447381948,            // c6
	0.0585814891280221,              // c7
	-0.0508544973794026,             // c8
	0.03923165829558719,             // c9
	-0.01917688711906226,            // c10
	0.41421356237309503,             // 11: tan(pi/8), the end of the direct range
	math.Pi / 4,                     // 12
	0.5 * morebits,                  // 13
	math.Pi / 2,                     // 14
	morebits,                        // 15
	math.Pi,                         // 16
	math.Float64frombits(1<<63 - 1), // 17: the mask of |x|
}

// morebits is pi/2 - float64(pi/2), the part of pi/2 a float64 drops.
const morebits = 6.123233995736765886130e-17

// ReLUArcCos applies the arc-cosine kernel map of the rectifier (Cho &
// Saul) to the covariances k[i] of pairs with variances v1[i] and v2[i]:
// with P = v1 v2, s = sqrt(max(P - k², 0)) and theta = atan2(s, k),
//
//	k[i] = (s + (pi - theta) k) · scale,  t[i] *= (pi - theta) · scale.
//
// t may be nil (NNGP only); v1, v2 and t (if not nil) must be at least as
// long as k. Zero variances give theta = atan2(0, k) as math.Atan2 does
// (0 for k >= +0, pi for k <= -0). It divides once per entry; where the
// variances are shared by rows and columns, ReLUArcCosR and ReLUArcCosRow
// do not.
func ReLUArcCos(k, t, v1, v2 []float64, scale float64) {
	reluArcCos(k, t, v1[:len(k)], 1, v2, scale)
}

// reluArcCos applies the map with variance v1[i*v1step] for entry i.
func reluArcCos(k, t, v1 []float64, v1step int, v2 []float64, scale float64) {
	v2 = v2[:len(k)]
	if t != nil {
		t = t[:len(k)]
	}
	i := reluArcCosBulk(k, t, v1, v1step, v2, scale)
	for ; i < len(k); i++ {
		kp, kd := reluArcCosOne(k[i], v1[i*v1step]*v2[i])
		k[i] = kp * scale
		if t != nil {
			t[i] *= float64(kd * scale)
		}
	}
}

// atanPoly evaluates p(z) by Estrin's scheme (a short dependency chain,
// which the latency-bound AVX2 kernel needs); the kernels use the same
// operations.
func atanPoly(z float64) float64 {
	c := &atanConst
	z2 := float64(z * z)
	r0 := math.FMA(math.FMA(c[3], z, c[2]), z2, math.FMA(c[1], z, c[0]))
	r1 := math.FMA(math.FMA(c[7], z, c[6]), z2, math.FMA(c[5], z, c[4]))
	r2 := math.FMA(c[10], z2, math.FMA(c[9], z, c[8]))
	z4 := float64(z2 * z2)
	s0 := math.FMA(r1, z4, r0)
	z8 := float64(z4 * z4)
	return math.FMA(r2, z8, s0)
}

// reluArcCosOne returns s + (pi - theta) k and pi - theta; the assembly
// kernels perform the same operations in the same order. Every product
// that is not an explicit math.FMA is rounded by a float64 conversion so
// that no multiply and add are fused, whatever the compiler allows.
func reluArcCosOne(kk, prod float64) (float64, float64) {
	c := &atanConst
	d := prod - float64(kk*kk)
	if !(d > 0) {
		d = 0
	}
	sq := math.Sqrt(d)
	ax := math.Abs(kk)
	mx, mn := ax, sq
	swap := sq > ax
	if swap {
		mx, mn = sq, ax
	}
	// The reduced argument x = mn/mx, or for mn/mx > tan(pi/8) (decided
	// without dividing) x = (mn - mx)/(mn + mx), whose atan is that of
	// mn/mx less pi/4; one division either way.
	big := mn > float64(c[11]*mx)
	num, den := mn, mx
	if big {
		num, den = mn-mx, mn+mx
	}
	x := num / den
	if mx == 0 {
		x = 0
	}
	z := float64(x * x)
	p := atanPoly(z)
	th := math.FMA(x, float64(z*p), x)
	if big {
		th = (c[12] + th) + c[13]
	}
	if swap {
		th = (c[14] - th) + c[15]
	}
	if math.Signbit(kk) {
		th = c[16] - th
	}
	kd := c[16] - th
	return sq + float64(kd*kk), kd
}

// The division-free map (ReLUArcCosR, ReLUArcCosRowR and ReLUArcCosRow)
// takes r = 1/sqrt(v) of both variances, computed once per position
// (InvSqrt), so that with q = r1 r2 an entry needs one square root and no
// division: sin(theta) = s = sqrt(d) q and cos(theta) = c = k q, with
// d = max(P - k², 0) as in reluArcCosOne (exactly 0 where k² = v1 v2, on
// the diagonal). The angle is reduced by octants: theta is within pi/8 of
// j pi/4, j = 0 or 4 where s <= sin(pi/8) (the sign of k decides), j = 2
// where s >= cos(pi/8), else 1 or 3; a rotation gives the sine x of
// j pi/4 - theta (-s or s, c, (c -+ s)/sqrt 2; |x| <= sin(pi/8)), and
// pi - theta = (4 - j) pi/4 + asin(x), asin(x) a polynomial. Where d = 0,
// s = 0, x = ±0 and theta is exactly 0 (k >= +0) or pi (k <= -0), as
// math.Atan2(0, k) gives.

// asinConst holds the coefficients c0..c9 of asin(x) = x + x z p(z),
// p(z) = c0 + c1 z + ... + c9 z^9, z = x² <= 0.1475 (sin²(pi/8) = 0.14645
// and a margin for rounding): interpolated at 10 Chebyshev nodes of
// [0, 0.1475] in 60-digit arithmetic (mpmath), largest error of z p(z)
// against (asin(x) - x)/x 2.5e-17 there; then the other constants of the
// map. The AVX-512 kernel reads them at 8-byte offsets, the AVX2 kernel at
// 32-byte offsets (asinConst4).
var asinConst = [...]float64{
	0.16666666666666652,           // c0
	0.07500000000018317,           // c1
	0.04464285710201231,           // c2
	0.030381947966801274,          // c3
	0.02237200539701901,           // c4
	0.017356597258433176,          // c5
	0.013907085577983777,          // c6
	0.012083787846893016,          // c7
	0.006872450189456192,          // c8
	0.016552252188620144,          // c9
	0.3826834323650898,            // 10: sin(pi/8), the octant bound
	0.7071067811865476,            // 11: 1/sqrt(2)
	math.Pi / 4,                   // 12: pi/4 in float64
	3.061616997868383e-17,         // 13: pi/4 - float64(pi/4)
	math.MaxFloat64,               // 14: the bound of q
	2,                             // 15
	1,                             // 16
	0.9238795325112867,            // 17: cos(pi/8)
	math.Float64frombits(1 << 63), // 18: the sign bit
}

// InvSqrt sets r[i] = 1/sqrt(v[i]) for v[i] > 0 and r[i] = 0 otherwise
// (with a zero variance P = 0 and d = 0, and the division-free map takes
// theta from the sign of k alone; q = 0 keeps sqrt(d) q = 0 there); r must
// be at least as long as v.
func InvSqrt(r, v []float64) {
	r = r[:len(v)]
	for i, x := range v {
		r[i] = invSqrt(x)
	}
}

func invSqrt(v float64) float64 {
	if v > 0 {
		return 1 / math.Sqrt(v)
	}
	return 0
}

// ReLUArcCosR is the map of ReLUArcCos without a division per entry: r1
// and r2 must be InvSqrt(v1) and InvSqrt(v2). It agrees with ReLUArcCos to
// a few units in the last place (not bit for bit) and gives the same bits
// in every build. v1, r1, v2, r2 and t (if not nil) must be at least as
// long as k.
func ReLUArcCosR(k, t, v1, r1, v2, r2 []float64, scale float64) {
	reluArcCosR(k, t, v1[:len(k)], r1[:len(k)], 0, 0, v2, r2, scale)
}

// ReLUArcCosRowR is ReLUArcCosR with the same first variance v1 (and
// r1 = InvSqrt of it) for every entry, with the same bits.
func ReLUArcCosRowR(k, t []float64, v1, r1 float64, v2, r2 []float64, scale float64) {
	reluArcCosR(k, t, nil, nil, v1, r1, v2, r2, scale)
}

// ReLUArcCosRow applies the division-free map to one row of a kernel plane
// (first variance v1 for every entry): ReLUArcCosRowR with r1 and r2
// computed here, one division per entry of v2; loops over the rows of a
// plane compute InvSqrt(v2) once and call ReLUArcCosRowR. It agrees with
// ReLUArcCos to a few units in the last place.
func ReLUArcCosRow(k, t []float64, v1 float64, v2 []float64, scale float64) {
	v2 = v2[:len(k)]
	r2 := make([]float64, len(v2))
	InvSqrt(r2, v2)
	ReLUArcCosRowR(k, t, v1, invSqrt(v1), v2, r2, scale)
}

// reluArcCosRBulk runs the vector kernels of the division-free map on a
// prefix of the entries and returns how many it did; nil where there are
// none (set by vec_amd64.go). Its arguments are those of reluArcCosR.
var reluArcCosRBulk func(k, t, v1, r1 []float64, v1s, r1s float64, v2, r2 []float64, scale float64) int

// reluArcCosR applies the division-free map with variance v1[i] and
// r1[i] for entry i, or v1s and r1s for every entry where v1 is nil (a
// row; scalars, so that a row allocates nothing).
func reluArcCosR(k, t, v1, r1 []float64, v1s, r1s float64, v2, r2 []float64, scale float64) {
	v2, r2 = v2[:len(k)], r2[:len(k)]
	if t != nil {
		t = t[:len(k)]
	}
	i := 0
	if reluArcCosRBulk != nil {
		i = reluArcCosRBulk(k, t, v1, r1, v1s, r1s, v2, r2, scale)
	}
	for ; i < len(k); i++ {
		a, ra := v1s, r1s
		if v1 != nil {
			a, ra = v1[i], r1[i]
		}
		kp, kd := reluArcCosOneR(k[i], float64(a*v2[i]), float64(ra*r2[i]))
		k[i] = kp * scale
		if t != nil {
			t[i] *= float64(kd * scale)
		}
	}
}

// asinPoly evaluates p(z) of asinConst by Estrin's scheme, as atanPoly.
func asinPoly(z float64) float64 {
	c := &asinConst
	z2 := float64(z * z)
	r0 := math.FMA(math.FMA(c[3], z, c[2]), z2, math.FMA(c[1], z, c[0]))
	r1 := math.FMA(math.FMA(c[7], z, c[6]), z2, math.FMA(c[5], z, c[4]))
	z4 := float64(z2 * z2)
	s0 := math.FMA(r1, z4, r0)
	z8 := float64(z4 * z4)
	return math.FMA(math.FMA(c[9], z, c[8]), z8, s0)
}

// reluArcCosOneR returns s + (pi - theta) k and pi - theta for the
// covariance kk, the product of the variances prod and q = r1 r2; the
// assembly kernels perform the same operations in the same order, with
// blends for the branches. Every product that is not an explicit math.FMA
// is rounded by a float64 conversion.
func reluArcCosOneR(kk, prod, q float64) (float64, float64) {
	c := &asinConst
	d := prod - float64(kk*kk)
	if !(d > 0) {
		d = 0
	}
	sq := math.Sqrt(d)
	if !(q < c[14]) {
		q = c[14] // two subnormal variances: keep s = 0 where sq = 0
	}
	s := float64(sq * q)  // sin(theta)
	ck := float64(kk * q) // cos(theta)
	sign := math.Float64bits(kk) & (1 << 63)
	nsk := math.Float64frombits(math.Float64bits(s) | (sign ^ 1<<63)) // s with the sign of -k
	axis := s <= c[10]                                                // theta within pi/8 of 0 or pi
	mid := s >= c[17]                                                 // theta within pi/8 of pi/2
	// x = sin(j pi/4 - theta) and e = |2 - j|.
	x := float64((ck + nsk) * c[11])
	e := c[16]
	if mid {
		x, e = ck, 0
	}
	if axis {
		x, e = nsk, c[15]
	}
	m := c[15] + math.Float64frombits(math.Float64bits(e)|sign) // 4 - j
	z := float64(x * x)
	p := asinPoly(z)
	y := math.FMA(x, float64(z*p), x) // asin(x)
	kd := math.FMA(m, c[12], math.FMA(m, c[13], y))
	return math.FMA(kd, kk, sq), kd
}
