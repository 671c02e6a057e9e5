package sphere

import "math"

// NumCoeffs returns the number of real spherical-harmonic coefficients of
// band limit L: L².
func NumCoeffs(L int) int { return L * L }

// Index returns the position of the coefficient (l, m) in a coefficient
// vector: l² + l + m.
func Index(l, m int) int { return l*l + l + m }

// Harmonics fills y[Index(l, m)] with the real spherical harmonics Y_lm of
// degree l < L at the direction of x (normalised internally; x must not be
// zero). y must have at least L² entries.
func Harmonics(L int, x [3]float64, y []float64) {
	r := math.Sqrt(x[0]*x[0] + x[1]*x[1] + x[2]*x[2])
	rxy := math.Hypot(x[0], x[1])
	harmonics(L, x[2]/r, rxy/r, math.Atan2(x[1], x[0]), y)
}

// HarmonicsAngles is Harmonics at polar angle theta and azimuth phi.
func HarmonicsAngles(L int, theta, phi float64, y []float64) {
	s, t := math.Sincos(theta)
	harmonics(L, t, math.Abs(s), phi, y)
}

func harmonics(L int, t, s, phi float64, y []float64) {
	assocLegendre(L, t, s, y)
	for m := 1; m < L; m++ {
		sm, cm := math.Sincos(float64(m) * phi)
		for l := m; l < L; l++ {
			p := math.Sqrt2 * y[Index(l, m)]
			y[Index(l, m)] = p * cm
			y[Index(l, -m)] = p * sm
		}
	}
}
