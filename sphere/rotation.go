package sphere

import (
	"math"
	"math/rand/v2"
)

// Rotation is a 3×3 rotation matrix, row-major, acting on column vectors.
type Rotation [3][3]float64

// Identity returns the identity rotation.
func Identity() Rotation { return Rotation{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} }

// RotZ returns the rotation by angle a about the z axis.
func RotZ(a float64) Rotation {
	s, c := math.Sincos(a)
	return Rotation{{c, -s, 0}, {s, c, 0}, {0, 0, 1}}
}

// RotY returns the rotation by angle b about the y axis.
func RotY(b float64) Rotation {
	s, c := math.Sincos(b)
	return Rotation{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}
}

// Euler returns the rotation with ZYZ Euler angles: Rz(alpha) Ry(beta) Rz(gamma).
func Euler(alpha, beta, gamma float64) Rotation {
	return RotZ(alpha).Mul(RotY(beta)).Mul(RotZ(gamma))
}

// Euler returns ZYZ Euler angles of r, with alpha and gamma in (-π, π] and
// beta in [0, π]. For beta = 0 or π, gamma is 0.
func (r Rotation) Euler() (alpha, beta, gamma float64) {
	sb := math.Hypot(r[0][2], r[1][2])
	beta = math.Atan2(sb, r[2][2])
	if sb < 1e-14 {
		// Gimbal lock: only alpha ± gamma is defined.
		if r[2][2] > 0 {
			return math.Atan2(r[1][0], r[0][0]), beta, 0
		}
		return math.Atan2(-r[1][0], -r[0][0]), beta, 0
	}
	return math.Atan2(r[1][2], r[0][2]), beta, math.Atan2(r[2][1], -r[2][0])
}

// Mul returns the product r s (apply s first, then r).
func (r Rotation) Mul(s Rotation) Rotation {
	var p Rotation
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			p[i][j] = r[i][0]*s[0][j] + r[i][1]*s[1][j] + r[i][2]*s[2][j]
		}
	}
	return p
}

// Inv returns the inverse rotation (the transpose).
func (r Rotation) Inv() Rotation {
	var t Rotation
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			t[i][j] = r[j][i]
		}
	}
	return t
}

// Apply returns r x.
func (r Rotation) Apply(x [3]float64) [3]float64 {
	var y [3]float64
	for i := 0; i < 3; i++ {
		y[i] = r[i][0]*x[0] + r[i][1]*x[1] + r[i][2]*x[2]
	}
	return y
}

// Random returns a rotation drawn from the Haar measure: the rotation of a
// unit quaternion uniform on the 3-sphere (four normal deviates,
// normalised).
func Random(rng *rand.Rand) Rotation {
	var q [4]float64
	var n float64
	for n < 1e-12 {
		n = 0
		for i := range q {
			q[i] = rng.NormFloat64()
			n += q[i] * q[i]
		}
	}
	s := 1 / math.Sqrt(n)
	w, x, y, z := q[0]*s, q[1]*s, q[2]*s, q[3]*s
	return Rotation{
		{1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y)},
		{2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x)},
		{2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y)},
	}
}

// UnitVector returns the point of the unit sphere with polar angle theta
// (from the z axis) and azimuth phi.
func UnitVector(theta, phi float64) [3]float64 {
	st, ct := math.Sincos(theta)
	sp, cp := math.Sincos(phi)
	return [3]float64{st * cp, st * sp, ct}
}
