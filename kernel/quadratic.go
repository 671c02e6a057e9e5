package kernel

// Quadratic applies the kernel of phi(x) = a x + b x², the polynomial
// activation of Clebsch–Gordan networks. For (u, v) ~ N(0, [[v1, k],
// [k, v2]]) the odd moments vanish and E[u² v²] = v1 v2 + 2k² (Isserlis),
// so K' = a² k + b² (v1 v2 + 2 k²) and Kdot = E[(a + 2bu)(a + 2bv)] =
// a² + 4 b² k: exact polynomials of the state. On spherical and SO(3)
// grids this keeps a band-limited signal band-limited (degree L-1 becomes
// 2L-2), so a grid exact for the next layer's integrand keeps the network
// and its kernels exactly equivariant (docs/kernels.md).
func (s *State) Quadratic(a, b float64) {
	a2, b2 := a*a, b*b
	flat := func(k, t, v1, v2 []float64) {
		for i, c := range k {
			k[i] = a2*c + b2*(v1[i]*v2[i]+2*c*c)
			if t != nil {
				t[i] *= a2 + 4*b2*c
			}
		}
	}
	row := func(k, t []float64, v1 float64, v2 []float64) {
		for i, c := range k {
			k[i] = a2*c + b2*(v1*v2[i]+2*c*c)
			if t != nil {
				t[i] *= a2 + 4*b2*c
			}
		}
	}
	s.rowMap(flat, row)
}
