package vec

import "math"

// ErfMap is the kernel map of the activation φ(x) = a·erf(b·x) + c
// (neural-tangents' Erf) for one pair entry with covariance k and
// variances v1, v2 (see ErfKernel). Its constants are derived from a, b
// and c once (NewErfMap).
type ErfMap struct {
	B2, A, C2, D float64 // b², a²·2/π, c², a²b²·4/π
}

// NewErfMap returns the map of a·erf(b·x) + c.
func NewErfMap(a, b, c float64) ErfMap {
	a2, b2 := a*a, b*b
	return ErfMap{B2: b2, A: a2 * (2 / math.Pi), C2: c * c, D: a2 * b2 * (4 / math.Pi)}
}

// erfConst holds the coefficients c0..c12 of asin(y) = y + y z q(z),
// q(z) = c0 + c1 z + ... + c12 z^12, z = y² <= 1/4 (fitted at Chebyshev
// nodes in 50-digit arithmetic: 1.1e-16 relative error of asin in float64
// Horner evaluation), then the other constants of the map; the AVX-512
// kernel reads them at 8-byte offsets.
var erfConst = [...]float64{
	0.16666666666666669,             // c0
	0.07499999999998433,             // c1
	0.04464285714635543,             // c2
	0.030381944138531247,            // c3
	0.02237217294214989,             // c4
	0.017352392720869973,            // c5
	0.013971212973552933,            // c6
	0.011479177415184906,            // c7
	0.01032281435018578,             // c8
	0.005457506718640358,            // c9
	0.01740087944269402,             // c10
	-0.014851887071247204,           // c11
	0.028757851367421566,            // c12
	0.5,                             // 13
	math.Pi / 2,                     // 14
	1,                               // 15
	1e-300,                          // 16: the floor of P - 4 kk²
	-1,                              // 17
	math.Float64frombits(1<<63 - 1), // 18: the mask of |x|
}

// ErfKernel applies m to the covariances k[i] of pairs with variances
// v1[i] and v2[i] and multiplies t[i] (nil: NNGP only) by the derivative
// factor: with kk = b² k, P = (1 + 2b² v1)(1 + 2b² v2) and
// x = 2 kk/sqrt(P) clamped to [-1, 1],
//
//	k[i] = a² (2/π) asin(x) + c²,  t[i] *= a² b² (4/π) / sqrt(max(P - 4 kk², 1e-300)).
//
// The arcsine is a polynomial on |x| <= 1/2 and, above, π/2 - 2 asin(y) with
// y = sqrt((1 - |x|)/2), without branches; every build gives the same bits.
func ErfKernel(k, t, v1, v2 []float64, m ErfMap) {
	erfKernel(k, t, v1[:len(k)], 1, v2, m)
}

// ErfKernelRow is ErfKernel with the same first variance v1 for every entry
// (one row of a kernel plane), with the same bits.
func ErfKernelRow(k, t []float64, v1 float64, v2 []float64, m ErfMap) {
	erfKernel(k, t, []float64{v1}, 0, v2, m)
}

// erfKernel applies the map with variance v1[i*v1step] for entry i.
func erfKernel(k, t, v1 []float64, v1step int, v2 []float64, m ErfMap) {
	v2 = v2[:len(k)]
	if t != nil {
		t = t[:len(k)]
	}
	i := erfBulk(k, t, v1, v1step, v2, &m)
	for ; i < len(k); i++ {
		kp, kd := erfOne(k[i], v1[i*v1step], v2[i], &m)
		k[i] = kp
		if t != nil {
			t[i] *= kd
		}
	}
}

// erfOne returns the map's covariance and derivative factor for one
// entry; the assembly kernel performs the same operations in the same
// order (FMA where this uses math.FMA, every other product rounded).
func erfOne(k, v1, v2 float64, m *ErfMap) (float64, float64) {
	c := &erfConst
	kk := float64(m.B2 * k)
	p1 := float64(2*float64(m.B2*v1)) + 1
	p2 := float64(2*float64(m.B2*v2)) + 1
	pp := float64(p1 * p2)
	x := float64(2*kk) / math.Sqrt(pp)
	x = math.Min(math.Max(x, c[17]), c[15])
	ax := math.Abs(x)
	big := ax > c[13]
	y, z := ax, float64(ax*ax)
	if big {
		z = float64((c[15] - ax) * c[13])
		y = math.Sqrt(z)
	}
	q := c[12]
	for i := 11; i >= 0; i-- {
		q = math.FMA(q, z, c[i])
	}
	r := math.FMA(y, float64(z*q), y)
	if big {
		r = c[14] - (r + r)
	}
	r = math.Copysign(r, x)
	kp := math.FMA(m.A, r, m.C2)
	d := pp - float64(float64(4*kk)*kk)
	d = math.Max(d, c[16])
	return kp, m.D / math.Sqrt(d)
}
