package sphere

// RotateS2 writes to out the coefficients of the rotated signal
// x ↦ f(r⁻¹ x), given the L² coefficients c of f: out_l = D^l(r) c_l.
// d holds the Wigner-D blocks of r (WignerD). out and c must not overlap.
func RotateS2(L int, d, c, out []float64) {
	for l := 0; l < L; l++ {
		w := 2*l + 1
		blk := d[WignerOffset(l):]
		cl, ol := c[Index(l, -l):], out[Index(l, -l):]
		for m := 0; m < w; m++ {
			ol[m] = dot(blk[m*w:(m+1)*w], cl[:w])
		}
	}
}

// RotateSO3 writes to out the Wigner coefficients of the left-rotated
// signal R ↦ f(r⁻¹ R), given the coefficients c of f:
// out^l = D^l(r) c^l. d holds the Wigner-D blocks of r. out and c must not
// overlap.
func RotateSO3(L int, d, c, out []float64) {
	for l := 0; l < L; l++ {
		w := 2*l + 1
		o := WignerOffset(l)
		blk, cl, ol := d[o:], c[o:], out[o:]
		for m := 0; m < w; m++ {
			for n := 0; n < w; n++ {
				var s float64
				for k := 0; k < w; k++ {
					s += blk[m*w+k] * cl[k*w+n]
				}
				ol[m*w+n] = s
			}
		}
	}
}

// EvalS2 returns Σ c_lm Y_lm(x) for the L² coefficients c, using y (L²
// entries) as scratch space.
func EvalS2(L int, c []float64, x [3]float64, y []float64) float64 {
	Harmonics(L, x, y)
	return dot(c[:L*L], y[:L*L])
}

// EvalSO3 returns Σ_l Σ_mn c^l_mn D^l_mn(r) for the Wigner coefficients c,
// using d (NumWigner(L) entries) as scratch space.
func EvalSO3(L int, c []float64, r Rotation, d []float64) float64 {
	WignerD(L, r, d)
	n := NumWigner(L)
	return dot(c[:n], d[:n])
}
