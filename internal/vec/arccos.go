package vec

import "math"

// The arc-cosine map of the rectifier needs theta = atan2(sqrt(P - k²), k)
// for every entry of a kernel plane. ReLUArcCos evaluates it with the
// Cephes rational approximation that the Go math package uses for Atan
// (accurate to about one unit in the last place), arranged without
// branches so that the AVX2 kernel computes the same operations on four
// entries at once and gives the same bits as the Go loop below.

// atanConst holds the coefficients P0..P4, Q0..Q4 of the Cephes
// approximation atan(x) = x + x z P(z)/Q(z), z = x², 0 <= x <= 0.66
// (math/atan.go), and the other constants of the map; the AVX2 kernel reads
// them at 32-byte offsets (atanConst4), the AVX-512 one at 8-byte offsets.
var atanConst = [...]float64{
	-8.750608600031904122785e-01,    // P0
	-1.615753718733365076637e+01,    // P1
	-7.500855792314704667340e+01,    // P2
	-1.228866684490136173410e+02,    // P3
	-6.485021904942025371773e+01,    // P4
	+2.485846490142306297962e+01,    // Q0
	+1.650270098316988542046e+02,    // Q1
	+4.328810604912902668951e+02,    // Q2
	+4.853903996359136964868e+02,    // Q3
	+1.945506571482613964425e+02,    // Q4
	0.66,                            // 10: the end of the direct range
	math.Pi / 4,                     // 11
	0.5 * morebits,                  // 12
	math.Pi / 2,                     // 13
	morebits,                        // 14
	math.Pi,                         // 15
	math.Float64frombits(1<<63 - 1), // 16: the mask of |x|
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

// reluArcCosOne returns s + (pi - theta) k and pi - theta; the assembly
// kernel performs the same operations in the same order. Every product is
// rounded by an explicit float64 conversion so that no multiply and add
// are fused into one instruction, whatever GOAMD64 allows.
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
	// The reduced argument x = mn/mx, or for mn/mx > 0.66 (decided without
	// dividing) x = (mn - mx)/(mn + mx), whose atan is that of mn/mx less
	// pi/4; one division either way.
	big := mn > float64(c[10]*mx)
	num, den := mn, mx
	if big {
		num, den = mn-mx, mn+mx
	}
	x := num / den
	if mx == 0 {
		x = 0
	}
	z := float64(x * x)
	num = float64(c[0]*z) + c[1]
	num = float64(num*z) + c[2]
	num = float64(num*z) + c[3]
	num = float64(num*z) + c[4]
	den = z + c[5]
	den = float64(den*z) + c[6]
	den = float64(den*z) + c[7]
	den = float64(den*z) + c[8]
	den = float64(den*z) + c[9]
	th := float64(x*(float64(z*num)/den)) + x
	if big {
		th = (c[11] + th) + c[12]
	}
	if swap {
		th = (c[13] - th) + c[14]
	}
	if math.Signbit(kk) {
		th = c[15] - th
	}
	kd := c[15] - th
	return sq + float64(kd*kk), kd
}
