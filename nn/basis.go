package nn

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// Filter bases of lift and gconv (keyword basis=).
//
// basis=pixel (the default) learns one weight per filter tap; rotations by
// angles other than multiples of 90 degrees interpolate the filter
// bilinearly (see buildConvOp).
//
// basis=fourier learns the coefficients of a band-limited steerable basis,
// as escnn's R2Conv does (Weiler & Cesa, "General E(2)-Equivariant Steerable
// CNNs", 2019): on rings of radius ρ = 0, 1, ..., (k-1)/2,
//
//	B_{ρ,0}(z)     = exp(-(|z|-ρ)²/(2σ_ρ²))
//	B_{ρ,j,cos}(z) = exp(-(|z|-ρ)²/(2σ_ρ²)) cos(jφ)    1 ≤ j ≤ J(ρ)
//	B_{ρ,j,sin}(z) = exp(-(|z|-ρ)²/(2σ_ρ²)) sin(jφ)
//
// with z = |z|(cos φ, sin φ) in pixel units, each scaled to unit norm on the
// k×k grid. The ring widths and band limits follow escnn's defaults:
// σ_0 = 0.005 (the centre tap), σ = 0.6 on inner rings and 0.4 on the
// outermost; J(0) = 0 and J(ρ) = min(2ρ, 2) on the outermost ring and
// min(2ρ, 2ρ − (ρ+1) mod 2) on the others. k=3 has 6 basis functions, k=5
// 11, k=7 18 (k² pixels: 9, 25, 49). The angular parts of frequency j > 0
// are 0 at z = 0.
//
// The filter rotated (or reflected) by group element r is the analytic
// filter evaluated at r⁻¹z for every tap z: the radial part uses |z|
// itself, the angular part the angle of r⁻¹z, so nothing is interpolated.
// When r⁻¹z is a grid point (90-degree rotations, reflections) it is
// snapped to it and the rotated filter is an exact permutation of the taps.
// The basis is a fixed linear map from coefficients to taps; its kernel map
// (NNGP/NTK) is not implemented, and Arch.Kernel refuses it.
const (
	basisPixel   = "pixel"
	basisFourier = "fourier"
)

// ringFn is one basis function: ring radius, width, angular frequency and
// part (cos or sin), and the factor giving it unit norm on the grid.
type ringFn struct {
	rho, sigma float64
	j          int
	sin        bool
	scale      float64
}

// fourierBasis is the band-limited steerable basis of k×k filters.
type fourierBasis struct {
	k   int
	fns []ringFn
}

// ringBandLimit returns the largest angular frequency on ring rho of a
// filter whose outermost ring is last (escnn's default cut-off).
func ringBandLimit(rho, last int) int {
	switch {
	case rho == 0:
		return 0
	case rho == last:
		return min(2*rho, 2)
	default:
		return min(2*rho, 2*rho-(rho+1)%2)
	}
}

// ringWidth returns the width σ of ring rho (escnn's default).
func ringWidth(rho, last int) float64 {
	switch {
	case rho == 0:
		return 0.005
	case rho == last:
		return 0.4
	default:
		return 0.6
	}
}

// newFourierBasis builds the basis of k×k filters, normalised on the grid.
func newFourierBasis(k int) *fourierBasis {
	last := (k - 1) / 2
	b := &fourierBasis{k: k}
	for rho := 0; rho <= last; rho++ {
		sigma := ringWidth(rho, last)
		b.fns = append(b.fns, ringFn{rho: float64(rho), sigma: sigma, scale: 1})
		for j := 1; j <= ringBandLimit(rho, last); j++ {
			b.fns = append(b.fns,
				ringFn{rho: float64(rho), sigma: sigma, j: j, scale: 1},
				ringFn{rho: float64(rho), sigma: sigma, j: j, sin: true, scale: 1})
		}
	}
	for m := range b.fns {
		var s float64
		for _, v := range b.sample(m) {
			s += v * v
		}
		b.fns[m].scale = 1 / math.Sqrt(s)
	}
	return b
}

// FourierSize returns the number of basis functions of k×k basis=fourier
// filters (the B of their weight shape, Conv.WeightShape).
func FourierSize(k int) int { return fourierSize(k) }

// fourierSize returns the number of basis functions of k×k filters.
func fourierSize(k int) int {
	last := (k - 1) / 2
	n := 0
	for rho := 0; rho <= last; rho++ {
		n += 1 + 2*ringBandLimit(rho, last)
	}
	return n
}

// size returns the number of basis functions.
func (b *fourierBasis) size() int { return len(b.fns) }

// sample returns basis function m on the k×k grid (row-major, unrotated).
func (b *fourierBasis) sample(m int) []float64 {
	c := (b.k - 1) / 2
	out := make([]float64, 0, b.k*b.k)
	for zi := -c; zi <= c; zi++ {
		for zj := -c; zj <= c; zj++ {
			out = append(out, b.eval(m, float64(zi), float64(zj), float64(zi), float64(zj)))
		}
	}
	return out
}

// eval returns basis function m at tap (zi, zj) of the filter whose source
// point in the unrotated filter is (qi, qj) (|q| = |z|): the radial part
// from |z|, the angular part from the angle of q.
func (b *fourierBasis) eval(m int, zi, zj, qi, qj float64) float64 {
	f := b.fns[m]
	r := math.Hypot(zi, zj)
	d := r - f.rho
	v := f.scale * math.Exp(-d*d/(2*f.sigma*f.sigma))
	if f.j == 0 {
		return v
	}
	if r < 1e-9 {
		return 0
	}
	phi := float64(f.j) * math.Atan2(qj, qi)
	if f.sin {
		return v * math.Sin(phi)
	}
	return v * math.Cos(phi)
}

// snap rounds a source point to the grid when it lies on it (up to
// round-off), so that exact group actions permute taps exactly.
func snap(q float64) float64 {
	if r := math.Round(q); math.Abs(q-r) < 1e-9 {
		return r
	}
	return q
}

// buildBasisOp expands the basis filter: for output group element r, base
// index (support element s, basis function m) feeds every tap z with
// weight B_m(r⁻¹z) and input group element r·s (gconv).
func buildBasisOp(g *group.Group, kind string, fb *fourierBasis, pad kernel.Padding, in Shape, oh, ow, outG int, support []int) *kernel.ConvOp {
	return buildTapOp(g, kind, fb.k, fb.size(), pad, in, oh, ow, outG, support, func(zi, zj int, qi, qj float64, add func(int, float64)) {
		qi, qj = snap(qi), snap(qj)
		for m := range fb.size() {
			if w := fb.eval(m, float64(zi), float64(zj), qi, qj); math.Abs(w) >= 1e-12 {
				add(m, w)
			}
		}
	})
}

// tapsPerSupport bounds the expanded filter description per output group
// element and support element: k² pixel taps (each feeding at most four
// taps, counted as one as before), or k² taps per basis function.
func (c *Conv) tapsPerSupport() int {
	if c.Basis == basisFourier {
		return mulCap(fourierSize(c.K), c.K, c.K)
	}
	return mulCap(c.K, c.K)
}

// checkKernel refuses the kernel map of a basis filter, which is not
// implemented.
func (c *Conv) checkKernel() error {
	if c.Basis == basisFourier {
		return fmt.Errorf("%s: the infinite-width kernel of basis=fourier filters is not implemented (use basis=pixel for kernels)", c)
	}
	return nil
}
