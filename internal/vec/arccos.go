package vec

import "math"

// The arc-cosine map of the rectifier needs theta = atan2(sqrt(P - k²), k)
// for every entry of a kernel plane. ReLUArcCos reduces the angle to
// atan(x) with |x| <= tan(pi/8) (one division) and evaluates that with a
// polynomial, arranged without branches so that the AVX2 and AVX-512
// kernels compute the same operations on four or eight entries at once and
// give the same bits as the Go loop below. A square root and a division per
// entry are what the vector units cannot pipeline; the polynomial replaced
// the Cephes rational approximation and its second division.

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
// (0 for k >= +0, pi for k <= -0).
func ReLUArcCos(k, t, v1, v2 []float64, scale float64) {
	reluArcCos(k, t, v1[:len(k)], 1, v2, scale)
}

// ReLUArcCosRow is ReLUArcCos with the same first variance v1 for every
// entry (one row of a kernel plane), with the same bits.
func ReLUArcCosRow(k, t []float64, v1 float64, v2 []float64, scale float64) {
	reluArcCos(k, t, []float64{v1}, 0, v2, scale)
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
