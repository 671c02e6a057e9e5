// Package sphere handles band-limited signals on the sphere S² and on the
// rotation group SO(3): real spherical harmonics, real Wigner-D matrices,
// quadrature grids exact for the band limit, transforms between grid
// samples and coefficients, and rotations.
//
// # Band limit
//
// A band limit L means the degrees 0 <= l < L (the convention of s2fft and
// of the reference equivariant-ntk code): a signal on S² has L² real
// spherical-harmonic coefficients, a signal on SO(3) has
// Σ_{l<L} (2l+1)² = L(2L-1)(2L+1)/3 Wigner coefficients.
//
// # Conventions
//
// Rotations are 3×3 orthogonal matrices acting on column vectors. Euler
// angles are ZYZ: Euler(α, β, γ) = Rz(α) Ry(β) Rz(γ).
//
// The real spherical harmonics Y_lm, -l <= m <= l, are orthonormal on the
// unit sphere with its area measure (total 4π):
//
//	Y_l0 = P̄_l^0(cos θ), Y_lm = √2 P̄_l^m(cos θ) cos(mφ), Y_l,-m = √2 P̄_l^m(cos θ) sin(mφ)
//
// for m > 0, where P̄_l^m are the associated Legendre functions normalised
// so that ∫ Y_lm² = 1, without the Condon–Shortley phase. Then
// (Y_1,-1, Y_10, Y_11) = √(3/4π) (y, z, x). Coefficients are stored at
// Index(l, m) = l² + l + m.
//
// The real Wigner-D matrix D^l(R) is the orthogonal (2l+1)×(2l+1) matrix with
//
//	Y_l(R x) = D^l(R) Y_l(x),  equivalently  Y_l(R⁻¹ x) = D^l(R)ᵀ Y_l(x),
//
// where Y_l is the vector (Y_l,-l ... Y_ll). With this convention D is a
// representation, D(R1 R2) = D(R1) D(R2), and rotating a function,
// (R·f)(x) = f(R⁻¹ x), multiplies its coefficients of each degree by D^l(R).
// (The convention Y(R⁻¹x) = D(R) Y(x) would make D an anti-representation,
// D(R1 R2) = D(R2) D(R1).) The matrices are computed by the recursion of
// Ivanic and Ruedenberg (J. Phys. Chem. 100, 6342 (1996), with the 1998
// corrections), which builds D^l from D^1 and D^(l-1); its error grows
// slowly with the degree (tested to 1e-12 up to L = 17; measured
// composition errors |D(R1 R2) - D(R1) D(R2)| of 2e-15 at L = 17, 4e-14 at
// L = 33 and 3e-11 at L = 65).
//
// A function on SO(3) with band limit L is f(R) = Σ_l Σ_mn f̂^l_mn D^l_mn(R).
// With the Haar measure normalised to total mass 1,
// ∫ D^l_mn D^l'_m'n' dR = δ_ll' δ_mm' δ_nn' / (2l+1), so
// f̂^l_mn = (2l+1) ∫ f(R) D^l_mn(R) dR. Rotating from the left,
// (R0·f)(R) = f(R0⁻¹ R), maps f̂^l to D^l(R0) f̂^l. The coefficients of
// degree l are stored row-major (m, then n) from WignerOffset(l).
//
// # Grids
//
// S2Grid has L Gauss–Legendre nodes in cos θ times 2L-1 equispaced
// longitudes φ = 2πj/(2L-1); SO3Grid has 2L-1 equispaced α, L
// Gauss–Legendre nodes in cos β and 2L-1 equispaced γ. Both integrate
// products of two signals of band limit L exactly, so the forward
// transforms (quadrature) invert the inverse transforms (synthesis) to
// round-off. The transforms are separable: O(L³) on S² and O(L⁴) on SO(3).
package sphere
