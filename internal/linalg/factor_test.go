package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveCholesky is the textbook algorithm, the reference for goCholesky.
func naiveCholesky(n int, a []float64) []float64 {
	l := make([]float64, n*n)
	for j := 0; j < n; j++ {
		s := a[j*n+j]
		for k := 0; k < j; k++ {
			s -= l[j*n+k] * l[j*n+k]
		}
		l[j*n+j] = math.Sqrt(s)
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= l[i*n+k] * l[j*n+k]
			}
			l[i*n+j] = s / l[j*n+j]
		}
	}
	return l
}

// The recursive factorisation and solves agree with the textbook ones
// around the recursion's leaf size, and do not depend on the worker count.
func TestGoCholesky(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, leaf - 1, leaf, leaf + 1, 2*leaf + 1, 100, 257} {
		a := randSPD(r, n)
		want := naiveCholesky(n, a)
		var first []float64
		for _, w := range []int{1, 3} {
			l := append([]float64(nil), a...)
			for i := 0; i < n; i++ { // only the lower triangle may be read
				for j := i + 1; j < n; j++ {
					l[i*n+j] = math.NaN()
				}
			}
			if err := goCholesky(n, l, w); err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for i := range l {
				if math.Abs(l[i]-want[i]) > 1e-12*math.Sqrt(float64(n)) {
					t.Fatalf("n=%d workers=%d: L[%d] = %v, want %v", n, w, i, l[i], want[i])
				}
			}
			if first == nil {
				first = l
			} else if !equalBits(first, l) {
				t.Fatalf("n=%d: factor differs between 1 and 3 workers", n)
			}
			const nrhs = 5
			x := randSlice(r, n*nrhs)
			b := make([]float64, n*nrhs)
			Dgemm(false, false, n, nrhs, n, 1, a, n, x, nrhs, 0, b, nrhs)
			goCholeskySolve(n, nrhs, l, b, w)
			for i := range x {
				if math.Abs(b[i]-x[i]) > 1e-9 {
					t.Fatalf("n=%d: solve x[%d] = %v, want %v", n, i, b[i], x[i])
				}
			}
		}
	}
}

func TestGoCholeskyNotPD(t *testing.T) {
	n := 70
	a := randSPD(rand.New(rand.NewPCG(9, 9)), n)
	a[50*n+50] = -1e6 // leading minor 51 is indefinite
	err := goCholesky(n, a, 2)
	if !errors.Is(err, ErrNotPositiveDefinite) {
		t.Fatalf("got %v, want ErrNotPositiveDefinite", err)
	}
	if want := "leading minor 51"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

func equalBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}
