package sphere_test

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/sphere"
)

// Rotating a band-limited signal on the sphere multiplies its
// coefficients of each degree by the Wigner-D matrix of the rotation.
func Example() {
	const L = 4
	g := sphere.NewS2Grid(L)
	c := make([]float64, sphere.NumCoeffs(L))
	c[sphere.Index(2, 1)] = 1 // f = Y_21
	r := sphere.Euler(0.3, 1.1, -0.7)
	d := make([]float64, sphere.NumWigner(L))
	sphere.WignerD(L, r, d)
	rc := make([]float64, len(c))
	sphere.RotateS2(L, d, c, rc)

	// Sample x ↦ f(r⁻¹x) on the grid and transform it back.
	f := make([]float64, g.Len())
	y := make([]float64, len(c))
	for p := range f {
		f[p] = sphere.EvalS2(L, c, r.Inv().Apply(g.Point(p)), y)
	}
	got := make([]float64, len(c))
	g.Forward(f, got)
	var e float64
	for i := range got {
		e = math.Max(e, math.Abs(got[i]-rc[i]))
	}
	fmt.Println(g.Len(), "grid points, error below 1e-14:", e < 1e-14)
	// Output: 28 grid points, error below 1e-14: true
}
