package kernel

import (
	"math"

	"github.com/eqens/eqens/internal/vec"

	"gonum.org/v1/gonum/integrate/quad"
)

// elementwise applies a pointwise activation to every entry: f returns the
// new covariance E[phi(u) phi(v)] and the derivative covariance
// E[phi'(u) phi'(v)] for (u, v) ~ N(0, [[v1, k], [k, v2]]); Theta is
// multiplied by the latter.
func (s *State) elementwise(f func(k, v1, v2 float64) (kphi, kdot float64)) {
	p, c := s.P(), s.Cols()
	for a := 0; a < s.Pairs; a++ {
		v1 := s.V1[a*p : (a+1)*p]
		v2 := s.V2[a*p : a*p+c]
		base := a * p * c
		for i := 0; i < p; i++ {
			row := s.K[base+i*c : base+(i+1)*c]
			var trow []float64
			if s.NTK {
				trow = s.Theta[base+i*c : base+(i+1)*c]
			}
			vi := v1[i]
			for j, k := range row {
				kp, kd := f(k, vi, v2[j])
				row[j] = kp
				if trow != nil {
					trow[j] *= kd
				}
			}
		}
	}
}

// inv2pi is 1/(2 pi), the normalisation of the arc-cosine maps.
const inv2pi = 1 / (2 * math.Pi)

// ReLU applies the arc-cosine kernel of the rectifier (Cho & Saul):
// with P = v1 v2 and theta = atan2(sqrt(P - k^2), k),
// K' = (sqrt(P - k^2) + (pi - theta) k) / (2 pi), Kdot = (pi - theta)/(2 pi).
// The map runs vectorised over rows of the plane, accurate to a few units
// in the last place: on planes the division-free map (vec.ReLUArcCosRowR,
// with 1/sqrt of each pair's variances computed once, as the fused
// convolution maps do through reluRoots), on states of
// one position per pair (MLPs), whose variances are not shared by rows,
// the map with one division per entry (vec.ReLUArcCos).
func (s *State) ReLU() {
	p := s.P()
	if p == 1 {
		s.rowMap(func(k, t, v1, v2 []float64) { vec.ReLUArcCos(k, t, v1, v2, inv2pi) }, nil)
		return
	}
	c := s.Cols()
	narrow := c < narrowRows
	if narrow {
		// As narrowRowMap: each pair's plane as one flat run, both
		// variances and their 1/sqrt expanded to one per entry.
		s.rowV1, s.rowV2 = grow(s.rowV1, p*c), grow(s.rowV2, p*c)
		s.rowR1, s.rowR2 = grow(s.rowR1, p*c), grow(s.rowR2, p*c)
	}
	var theta []float64
	for a := 0; a < s.Pairs; a++ {
		v1, v2 := s.V1[a*p:(a+1)*p], s.V2[a*p:a*p+c]
		s.reluRoots(a, p, c)
		r1, r2 := s.invV1, s.invV2
		base := a * p * c
		if narrow {
			expandRows(s.rowV1, s.rowV2, v1, v2)
			expandRows(s.rowR1, s.rowR2, r1, r2)
			if s.NTK {
				theta = s.Theta[base : base+p*c]
			}
			vec.ReLUArcCosR(s.K[base:base+p*c], theta, s.rowV1, s.rowR1, s.rowV2, s.rowR2, inv2pi)
			continue
		}
		for i := range p {
			if s.NTK {
				theta = s.Theta[base+i*c : base+(i+1)*c]
			}
			vec.ReLUArcCosRowR(s.K[base+i*c:base+(i+1)*c], theta, v1[i], r1[i], v2, r2, inv2pi)
		}
	}
}

// rowMap applies an entry-wise kernel map that reads both variances: for
// states of one position per pair (MLPs) as one flat run over all pairs
// (flat), otherwise row by row of each pair's plane, a row sharing its
// first variance (row).
func (s *State) rowMap(flat func(k, t, v1, v2 []float64), row func(k, t []float64, v1 float64, v2 []float64)) {
	p := s.P()
	var theta []float64
	if p == 1 {
		if s.NTK {
			theta = s.Theta[:s.Pairs]
		}
		flat(s.K[:s.Pairs], theta, s.V1, s.V2)
		return
	}
	c := s.Cols()
	if c < narrowRows {
		s.narrowRowMap(flat)
		return
	}
	for a := 0; a < s.Pairs; a++ {
		v1 := s.V1[a*p : (a+1)*p]
		v2 := s.V2[a*p : a*p+c]
		base := a * p * c
		for i := 0; i < p; i++ {
			if s.NTK {
				theta = s.Theta[base+i*c : base+(i+1)*c]
			}
			row(s.K[base+i*c:base+(i+1)*c], theta, v1[i], v2)
		}
	}
}

// narrowRows is the row length below which rowMap runs each pair's plane
// as one flat run: short rows (the 15 stored columns of an SO(3) slab at
// band limit 3) would leave most of each row to the scalar tail of the
// vector kernels.
const narrowRows = 32

// narrowRowMap is rowMap over each pair's whole plane, with both
// variances expanded to one per entry (the same bits: the vector kernels
// and their scalar tails compute the same).
func (s *State) narrowRowMap(flat func(k, t, v1, v2 []float64)) {
	p, c := s.P(), s.Cols()
	s.rowV1, s.rowV2 = grow(s.rowV1, p*c), grow(s.rowV2, p*c)
	var theta []float64
	for a := 0; a < s.Pairs; a++ {
		expandRows(s.rowV1, s.rowV2, s.V1[a*p:(a+1)*p], s.V2[a*p:a*p+c])
		base := a * p * c
		if s.NTK {
			theta = s.Theta[base : base+p*c]
		}
		flat(s.K[base:base+p*c], theta, s.rowV1, s.rowV2)
	}
}

// expandRows writes the plane of len(v1) rows of len(v2) entries with
// entry (i, j) holding v1[i] in d1 and v2[j] in d2.
func expandRows(d1, d2, v1, v2 []float64) {
	c := len(v2)
	for i, v := range v1 {
		row := d1[i*c : (i+1)*c]
		for j := range row {
			row[j] = v
		}
		copy(d2[i*c:(i+1)*c], v2)
	}
}

// Erf applies the kernel of phi(x) = a erf(b x) + c (neural-tangents' Erf):
// with the covariance scaled by b^2 and P = (1 + 2 v1)(1 + 2 v2),
// K' = a^2 (2/pi) asin(2k / sqrt(P)) + c^2 and
// Kdot = a^2 b^2 (4/pi) / sqrt(P - 4 k^2). The map runs vectorised over
// rows of the plane (vec.ErfKernel, within 1e-15 of the closed form with
// math.Asin).
func (s *State) Erf(a, b, c float64) {
	m := vec.NewErfMap(a, b, c)
	s.rowMap(
		func(k, t, v1, v2 []float64) { vec.ErfKernel(k, t, v1, v2, m) },
		func(k, t []float64, v1 float64, v2 []float64) { vec.ErfKernelRow(k, t, v1, v2, m) })
}

// Quadrature integrates E[phi(u) phi(v)] and E[phi'(u) phi'(v)] over the
// bivariate normal with a tensor-product Gauss–Hermite rule of n×n nodes.
// It serves smooth activations without a closed form (tanh, GELU); n = 48
// gives about 1e-8 accuracy for them at unit-scale variances.
type Quadrature struct {
	z, w []float64 // standard-normal nodes and weights
}

// NewQuadrature returns a Gauss–Hermite rule with n nodes per dimension.
func NewQuadrature(n int) *Quadrature {
	x := make([]float64, n)
	w := make([]float64, n)
	quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
	q := &Quadrature{z: make([]float64, n), w: make([]float64, n)}
	for i := range x {
		q.z[i] = math.Sqrt2 * x[i]
		q.w[i] = w[i] / math.Sqrt(math.Pi)
	}
	return q
}

// Expect returns E[f(u) g(v)] for (u, v) ~ N(0, [[v1, k], [k, v2]]).
func (q *Quadrature) Expect(f, g func(float64) float64, k, v1, v2 float64) float64 {
	s1 := math.Sqrt(math.Max(v1, 0))
	s2 := math.Sqrt(math.Max(v2, 0))
	rho := 0.0
	if s1 > 0 && s2 > 0 {
		rho = math.Max(-1, math.Min(1, k/(s1*s2)))
	}
	c := math.Sqrt(math.Max(1-rho*rho, 0))
	var sum float64
	for i, zi := range q.z {
		fu := f(s1 * zi)
		if fu == 0 {
			continue
		}
		var inner float64
		for j, zj := range q.z {
			inner += q.w[j] * g(s2*(rho*zi+c*zj))
		}
		sum += q.w[i] * fu * inner
	}
	return sum
}

// Activation applies a pointwise activation phi with derivative dphi by
// quadrature.
func (s *State) Activation(q *Quadrature, phi, dphi func(float64) float64) {
	s.elementwise(func(k, v1, v2 float64) (float64, float64) {
		kp := q.Expect(phi, phi, k, v1, v2)
		var kd float64
		if s.NTK {
			kd = q.Expect(dphi, dphi, k, v1, v2)
		}
		return kp, kd
	})
}

// reluRoots sets s.invV1 and s.invV2 to vec.InvSqrt of pair a's variances
// (p first-side and c second-side positions), for the division-free ReLU
// map (vec.ReLUArcCosRowR) of ReLU and the fused convolution maps.
func (s *State) reluRoots(a, p, c int) {
	s.invV1, s.invV2 = grow(s.invV1, p), grow(s.invV2, c)
	vec.InvSqrt(s.invV1, s.V1[a*p:(a+1)*p])
	vec.InvSqrt(s.invV2, s.V2[a*p:a*p+c])
}
