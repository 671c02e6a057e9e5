package sphere

import "math"

// WignerOffset returns the position of the first coefficient of degree l
// in a vector of Wigner coefficients (or of Wigner-D matrix blocks):
// Σ_{k<l} (2k+1)² = l(2l-1)(2l+1)/3. WignerOffset(L) is the number of
// coefficients of band limit L.
func WignerOffset(l int) int { return l * (2*l - 1) * (2*l + 1) / 3 }

// NumWigner returns the number of Wigner coefficients of band limit L.
func NumWigner(L int) int { return WignerOffset(L) }

// WignerD fills d with the real Wigner-D matrices D^l(r), l < L, one block
// of (2l+1)² entries per degree from WignerOffset(l), row-major:
// D^l_mn at WignerOffset(l) + (m+l)(2l+1) + (n+l). They satisfy
// Y_l(r x) = D^l(r) Y_l(x) (see the package documentation). d must have at
// least NumWigner(L) entries.
func WignerD(L int, r Rotation, d []float64) {
	if L == 0 {
		return
	}
	d[0] = 1
	if L == 1 {
		return
	}
	// D^1 in the order (y, z, x) of (Y_1,-1, Y_10, Y_11).
	perm := [3]int{1, 2, 0}
	d1 := d[WignerOffset(1):WignerOffset(2)]
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			d1[i*3+j] = r[perm[i]][perm[j]]
		}
	}
	for l := 2; l < L; l++ {
		wignerStep(l, d1, d[WignerOffset(l-1):WignerOffset(l)], d[WignerOffset(l):WignerOffset(l+1)])
	}
}

// wignerStep computes D^l from D^1 (d1) and D^(l-1) (prev) by the
// Ivanic–Ruedenberg recursion: D^l_mn = u U + v V + w W.
func wignerStep(l int, d1, prev, out []float64) {
	w1 := 2*l - 1 // width of prev
	r1 := func(i, j int) float64 { return d1[(i+1)*3+j+1] }
	pr := func(a, b int) float64 { return prev[(a+l-1)*w1+b+l-1] }
	// p is the P function of Ivanic and Ruedenberg.
	p := func(i, a, b int) float64 {
		switch b {
		case l:
			return r1(i, 1)*pr(a, l-1) - r1(i, -1)*pr(a, 1-l)
		case -l:
			return r1(i, 1)*pr(a, 1-l) + r1(i, -1)*pr(a, l-1)
		}
		return r1(i, 0) * pr(a, b)
	}
	fl := float64(l)
	for m := -l; m <= l; m++ {
		am := abs(m)
		fm, fam := float64(m), float64(am)
		d0 := 0.0
		if m == 0 {
			d0 = 1
		}
		for n := -l; n <= l; n++ {
			denom := 2 * fl * (2*fl - 1)
			if abs(n) < l {
				denom = (fl + float64(n)) * (fl - float64(n))
			}
			u := math.Sqrt((fl + fm) * (fl - fm) / denom)
			v := 0.5 * math.Sqrt((1+d0)*(fl+fam-1)*(fl+fam)/denom) * (1 - 2*d0)
			w := -0.5 * math.Sqrt(math.Max(0, (fl-fam-1)*(fl-fam))/denom) * (1 - d0)
			var s float64
			if u != 0 {
				s += u * p(0, m, n)
			}
			if v != 0 {
				s += v * irV(p, m, n)
			}
			if w != 0 {
				s += w * irW(p, m, n)
			}
			out[(m+l)*(2*l+1)+n+l] = s
		}
	}
}

// irV is the V term of the Ivanic–Ruedenberg recursion (corrected form).
func irV(p func(i, a, b int) float64, m, n int) float64 {
	switch {
	case m == 0:
		return p(1, 1, n) + p(-1, -1, n)
	case m == 1:
		return math.Sqrt2 * p(1, 0, n)
	case m > 1:
		return p(1, m-1, n) - p(-1, 1-m, n)
	case m == -1:
		return math.Sqrt2 * p(-1, 0, n)
	}
	return p(1, m+1, n) + p(-1, -m-1, n)
}

// irW is the W term of the Ivanic–Ruedenberg recursion (m != 0).
func irW(p func(i, a, b int) float64, m, n int) float64 {
	if m > 0 {
		return p(1, m+1, n) + p(-1, -m-1, n)
	}
	return p(1, m-1, n) - p(-1, 1-m, n)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
