//go:build openblas

package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/internal/gemm"
)

// The pure-Go build's products and factorisations agree with OpenBLAS and
// LAPACK on the same inputs.
func TestPureGoAgainstLAPACK(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 37, 300, 517} {
		a := randSPD(r, n)
		want := append([]float64(nil), a...)
		if err := Cholesky(n, want); err != nil {
			t.Fatal(err)
		}
		got := append([]float64(nil), a...)
		if err := goCholesky(n, got, 2); err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, want); d > 1e-12*math.Sqrt(float64(n)) {
			t.Errorf("n=%d: Cholesky factors differ by %g", n, d)
		}
		x, y := randSlice(r, n*n), randSlice(r, n*n)
		c1, c2 := make([]float64, n*n), make([]float64, n*n)
		Dgemm(true, false, n, n, n, 1.5, x, n, y, n, 0, c1, n)
		gemm.Gemm(true, false, n, n, n, 1.5, x, n, y, n, 0, c2, n, 2)
		if d := maxAbsDiff(c1, c2); d > 1e-13*float64(n) {
			t.Errorf("n=%d: dgemm differs from OpenBLAS by %g", n, d)
		}
	}
}

func maxAbsDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
