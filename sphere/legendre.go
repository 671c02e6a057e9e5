package sphere

import "math"

// GaussLegendre returns the n nodes t (in decreasing order, so that
// θ = arccos t increases) and weights w of the Gauss–Legendre rule on
// [-1, 1], exact for polynomials of degree up to 2n-1. The nodes are the
// roots of P_n found by Newton's method from Tricomi's initial guesses.
func GaussLegendre(n int) (t, w []float64) {
	t = make([]float64, n)
	w = make([]float64, n)
	for i := 0; i < (n+1)/2; i++ {
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for iter := 0; iter < 100; iter++ {
			var p float64
			p, dp = legendreAndDerivative(n, x)
			dx := p / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		_, dp = legendreAndDerivative(n, x)
		wi := 2 / ((1 - x*x) * dp * dp)
		t[i], w[i] = x, wi
		t[n-1-i], w[n-1-i] = -x, wi
	}
	if n%2 == 1 {
		t[n/2] = 0
	}
	return t, w
}

// legendreAndDerivative returns P_n(x) and P_n'(x) by Bonnet's recursion.
func legendreAndDerivative(n int, x float64) (p, dp float64) {
	p0, p1 := 1.0, x
	if n == 0 {
		return 1, 0
	}
	for k := 2; k <= n; k++ {
		p0, p1 = p1, (float64(2*k-1)*x*p1-float64(k-1)*p0)/float64(k)
	}
	return p1, float64(n) * (x*p1 - p0) / (x*x - 1)
}

// assocLegendre fills p[Index(l, m)] for 0 <= m <= l < L with the
// normalised associated Legendre functions P̄_l^m(t), s = sqrt(1 - t²),
// such that P̄_l^m(cos θ) cos(mφ)·(√2 if m > 0) is orthonormal on the
// sphere. It uses the standard stable recursions in l at fixed m:
//
//	P̄_m^m = sqrt((2m+1)/(2m)) s P̄_(m-1)^(m-1),   P̄_(m+1)^m = sqrt(2m+3) t P̄_m^m,
//	P̄_l^m = a_lm (t P̄_(l-1)^m - b_lm P̄_(l-2)^m),
//
// with a_lm = sqrt((4l²-1)/(l²-m²)) and b_lm = sqrt(((l-1)²-m²)/(4(l-1)²-1)).
// Entries with m < 0 are left untouched.
func assocLegendre(L int, t, s float64, p []float64) {
	if L == 0 {
		return
	}
	pmm := 1 / math.Sqrt(4*math.Pi)
	for m := 0; m < L; m++ {
		if m > 0 {
			pmm *= math.Sqrt(float64(2*m+1)/float64(2*m)) * s
		}
		p[Index(m, m)] = pmm
		if m+1 >= L {
			break
		}
		p1 := math.Sqrt(float64(2*m+3)) * t * pmm
		p[Index(m+1, m)] = p1
		p0 := pmm
		for l := m + 2; l < L; l++ {
			fl, fm := float64(l), float64(m)
			a := math.Sqrt((4*fl*fl - 1) / (fl*fl - fm*fm))
			b := math.Sqrt(((fl-1)*(fl-1) - fm*fm) / (4*(fl-1)*(fl-1) - 1))
			p0, p1 = p1, a*(t*p1-b*p0)
			p[Index(l, m)] = p1
		}
	}
}
