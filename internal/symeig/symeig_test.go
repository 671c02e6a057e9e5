package symeig

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"

	"github.com/eqens/eqens/internal/gemm"
)

// Test matrices are full symmetric row-major n×n slices; Decompose reads
// only their lower triangles (the tests poison the upper ones).

func randSym(r *rand.Rand, n int) []float64 {
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := r.Float64()*2 - 1
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	return a
}

// gaussGram is the Gram matrix exp(-|x_i-x_j|²/(2ℓ²)) of n random points
// in [0,1]^dim: positive semidefinite with a rapidly decaying spectrum,
// most eigenvalues at rounding level.
func gaussGram(r *rand.Rand, n, dim int, ell float64) []float64 {
	x := make([]float64, n*dim)
	for i := range x {
		x[i] = r.Float64()
	}
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := 0.0
			for k := 0; k < dim; k++ {
				d := x[i*dim+k] - x[j*dim+k]
				s += d * d
			}
			v := math.Exp(-s / (2 * ell * ell))
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	return a
}

// randOrth returns a random n×n orthogonal matrix (a product of n random
// reflectors).
func randOrth(r *rand.Rand, n int) []float64 {
	q := make([]float64, n*n)
	for i := 0; i < n; i++ {
		q[i*n+i] = 1
	}
	v := make([]float64, n)
	for k := 0; k < n; k++ {
		s := 0.0
		for i := range v {
			v[i] = r.NormFloat64()
			s += v[i] * v[i]
		}
		// q := q (I - 2 v vᵀ/s)
		for i := 0; i < n; i++ {
			row := q[i*n : i*n+n]
			d := 0.0
			for j, vj := range v {
				d += row[j] * vj
			}
			d *= 2 / s
			for j, vj := range v {
				row[j] -= d * vj
			}
		}
	}
	return q
}

// withSpectrum returns Q diag(lam) Qᵀ for a random orthogonal Q.
func withSpectrum(r *rand.Rand, lam []float64) []float64 {
	n := len(lam)
	q := randOrth(r, n)
	qd := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			qd[i*n+j] = q[i*n+j] * lam[j]
		}
	}
	a := make([]float64, n*n)
	gemm.Gemm(false, true, n, n, n, 1, qd, n, q, n, 0, a, n, 1)
	symmetrizeLower(n, a)
	return a
}

func symmetrizeLower(n int, a []float64) {
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			a[j*n+i] = a[i*n+j]
		}
	}
}

func diagMatrix(d []float64) []float64 {
	n := len(d)
	a := make([]float64, n*n)
	for i, v := range d {
		a[i*n+i] = v
	}
	return a
}

func tridiagMatrix(d, e []float64) []float64 {
	a := diagMatrix(d)
	n := len(d)
	for i, v := range e {
		a[(i+1)*n+i], a[i*n+i+1] = v, v
	}
	return a
}

type testCase struct {
	name string
	n    int
	a    func(r *rand.Rand) []float64
	// exact, if set, are the eigenvalues in ascending order.
	exact []float64
}

func testCases() []testCase {
	var cs []testCase
	random := func(n int) testCase {
		return testCase{name: fmt.Sprintf("random/n=%d", n), n: n, a: func(r *rand.Rand) []float64 { return randSym(r, n) }}
	}
	// Sizes around the QL/QR cutoff (32), the D&C split points (64, 128),
	// the panel crossover (64) and the symv chunking threshold (256).
	for _, n := range []int{0, 1, 2, 3, 4, 5, 8, 25, 31, 32, 33, 34, 40, 50, 63, 64, 65, 66, 70, 96, 127, 128, 129, 200, 255, 256, 257, 300} {
		cs = append(cs, random(n))
	}
	for _, n := range []int{300, 600} {
		cs = append(cs, testCase{name: fmt.Sprintf("gram-gauss-3d/n=%d", n), n: n,
			a: func(r *rand.Rand) []float64 { return gaussGram(r, n, 3, 0.5) }})
	}
	cs = append(cs,
		testCase{name: "gram-gauss-1d/n=400", n: 400, a: func(r *rand.Rand) []float64 { return gaussGram(r, 400, 1, 0.3) }},
		testCase{name: "gram-gauss-2d-wide/n=500", n: 500, a: func(r *rand.Rand) []float64 { return gaussGram(r, 500, 2, 2) }},
		testCase{name: "gram-gauss-duplicates/n=300", n: 300, a: func(r *rand.Rand) []float64 {
			// Every point twice: exactly rank-deficient, repeated rows.
			g := gaussGram(r, 150, 2, 0.4)
			a := make([]float64, 300*300)
			for i := 0; i < 300; i++ {
				for j := 0; j < 300; j++ {
					a[i*300+j] = g[(i%150)*150+j%150]
				}
			}
			return a
		}},
		testCase{name: "identity/n=100", n: 100, a: func(*rand.Rand) []float64 {
			d := make([]float64, 100)
			for i := range d {
				d[i] = 1
			}
			return diagMatrix(d)
		}},
		testCase{name: "zero/n=70", n: 70, a: func(*rand.Rand) []float64 { return make([]float64, 70*70) }},
		testCase{name: "2I+diag/n=150", n: 150, a: func(r *rand.Rand) []float64 {
			d := make([]float64, 150)
			for i := range d {
				d[i] = 2
				if i >= 75 {
					d[i] = float64(i % 7)
				}
			}
			return diagMatrix(d)
		}},
		testCase{name: "2I+random/n=150", n: 150, a: func(r *rand.Rand) []float64 {
			a := make([]float64, 150*150)
			for i := 0; i < 75; i++ {
				a[i*150+i] = 2
			}
			b := randSym(r, 75)
			for i := 0; i < 75; i++ {
				for j := 0; j < 75; j++ {
					a[(75+i)*150+75+j] = b[i*75+j]
				}
			}
			return a
		}},
		testCase{name: "repeated-blocks/n=200", n: 200, a: func(r *rand.Rand) []float64 {
			// The same 10×10 block 20 times: every eigenvalue 20-fold.
			b := randSym(r, 10)
			a := make([]float64, 200*200)
			for k := 0; k < 20; k++ {
				for i := 0; i < 10; i++ {
					for j := 0; j < 10; j++ {
						a[(10*k+i)*200+10*k+j] = b[i*10+j]
					}
				}
			}
			return a
		}},
		testCase{name: "diagonal-repeats/n=100", n: 100, a: func(r *rand.Rand) []float64 {
			d := make([]float64, 100)
			for i := range d {
				d[i] = float64(r.IntN(10)) - 4
			}
			return diagMatrix(d)
		}},
		testCase{name: "clustered/n=200", n: 200, a: func(r *rand.Rand) []float64 {
			lam := make([]float64, 200)
			for i := range lam {
				lam[i] = 1 + float64(i)*1e-14
				if i%2 == 1 {
					lam[i] = -1 + float64(i)*1e-12
				}
			}
			return withSpectrum(r, lam)
		}},
		testCase{name: "multiple-spectrum/n=160", n: 160, a: func(r *rand.Rand) []float64 {
			lam := make([]float64, 160)
			for i := range lam {
				lam[i] = float64(i % 4)
			}
			return withSpectrum(r, lam)
		}},
		testCase{name: "graded-spectrum/n=300", n: 300, a: func(r *rand.Rand) []float64 {
			lam := make([]float64, 300)
			for i := range lam {
				lam[i] = math.Pow(10, -16*float64(i)/299)
			}
			return withSpectrum(r, lam)
		}},
		testCase{name: "low-rank/n=300", n: 300, a: func(r *rand.Rand) []float64 {
			u := make([]float64, 300*3)
			for i := range u {
				u[i] = r.NormFloat64()
			}
			a := make([]float64, 300*300)
			gemm.Gemm(false, true, 300, 300, 3, 1, u, 3, u, 3, 0, a, 300, 1)
			symmetrizeLower(300, a)
			return a
		}},
		testCase{name: "wilkinson/n=101", n: 101, a: func(*rand.Rand) []float64 {
			d := make([]float64, 101)
			e := make([]float64, 100)
			for i := range d {
				d[i] = math.Abs(float64(i - 50))
			}
			for i := range e {
				e[i] = 1
			}
			return tridiagMatrix(d, e)
		}},
		testCase{name: "glued-wilkinson/n=210", n: 210, a: func(*rand.Rand) []float64 {
			d := make([]float64, 210)
			e := make([]float64, 209)
			for i := range d {
				d[i] = math.Abs(float64(i%21 - 10))
			}
			for i := range e {
				e[i] = 1
				if i%21 == 20 {
					e[i] = 1e-9
				}
			}
			return tridiagMatrix(d, e)
		}},
		testCase{name: "split-tridiagonal/n=90", n: 90, a: func(r *rand.Rand) []float64 {
			d := make([]float64, 90)
			e := make([]float64, 89)
			for i := range d {
				d[i] = r.Float64()
			}
			for i := range e {
				if i%20 != 19 {
					e[i] = r.Float64()
				}
			}
			return tridiagMatrix(d, e)
		}},
	)
	const nt = 200
	lam := make([]float64, nt)
	for k := range lam {
		// Eigenvalues of tridiag(-1, 2, -1), ascending.
		lam[k] = 2 - 2*math.Cos(float64(k+1)*math.Pi/(nt+1))
	}
	cs = append(cs, testCase{name: "laplacian-1d/n=200", n: nt, exact: lam, a: func(*rand.Rand) []float64 {
		d := make([]float64, nt)
		e := make([]float64, nt-1)
		for i := range d {
			d[i] = 2
		}
		for i := range e {
			e[i] = -1
		}
		return tridiagMatrix(d, e)
	}})
	const np = 150
	plam := make([]float64, np)
	for k := range plam {
		// Adjacency matrix of a path: zero diagonal, eigenvalues
		// 2cos(kπ/(n+1)), ascending.
		plam[k] = 2 * math.Cos(float64(np-k)*math.Pi/(np+1))
	}
	cs = append(cs, testCase{name: "path-adjacency/n=150", n: np, exact: plam, a: func(*rand.Rand) []float64 {
		e := make([]float64, np-1)
		for i := range e {
			e[i] = 1
		}
		return tridiagMatrix(make([]float64, np), e)
	}})
	for _, s := range []float64{1e-300, 1e-160, 1e160, 1e300} {
		cs = append(cs, testCase{name: fmt.Sprintf("scaled-%g/n=80", s), n: 80, a: func(r *rand.Rand) []float64 {
			a := randSym(r, 80)
			for i := range a {
				a[i] *= s
			}
			return a
		}})
	}
	return cs
}

// gonumEigenvalues returns the eigenvalues of the full symmetric a by
// gonum's Dsyev (eigenvalues only).
func gonumEigenvalues(n int, a []float64) []float64 {
	w := make([]float64, n)
	if n == 0 {
		return w
	}
	// Work on a/max|a|: gonum's own scaling of tiny or huge matrices
	// (Dsterf) panics.
	amax := 0.0
	for _, x := range a {
		amax = math.Max(amax, math.Abs(x))
	}
	if amax == 0 {
		return w
	}
	b := make([]float64, n*n)
	for i, x := range a {
		b[i] = x / amax
	}
	defer func() {
		for i := range w {
			w[i] *= amax
		}
	}()
	work := make([]float64, 1)
	impl.Dsyev(lapack.EVNone, blas.Lower, n, b, n, w, work, -1)
	work = make([]float64, int(work[0]))
	if !impl.Dsyev(lapack.EVNone, blas.Lower, n, b, n, w, work, len(work)) {
		panic("gonum Dsyev failed")
	}
	return w
}

// quality returns the residual ‖A V - V diag(w)‖_F / (n ‖A‖_2) and the
// largest element of |VᵀV - I|, ‖A‖_2 being max|w| (1 for a zero matrix).
func quality(n int, a, v, w []float64) (res, orth float64) {
	if n == 0 {
		return 0, 0
	}
	anorm := 0.0
	for _, x := range w[:n] {
		anorm = math.Max(anorm, math.Abs(x))
	}
	if anorm == 0 {
		anorm = 1
	}
	// Scale to avoid overflow/underflow for the extreme test matrices.
	s := 1 / anorm
	as := make([]float64, n*n)
	vw := make([]float64, n*n)
	for i := range as {
		as[i] = a[i] * s
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			vw[i*n+j] = v[i*n+j] * (w[j] * s)
		}
	}
	r := make([]float64, n*n)
	gemm.Gemm(false, false, n, n, n, 1, as, n, v, n, 0, r, n, 2)
	ss := 0.0
	for i := range r {
		d := r[i] - vw[i]
		ss += d * d
	}
	res = math.Sqrt(ss) / float64(n)
	g := make([]float64, n*n)
	gemm.Gemm(true, false, n, n, n, 1, v, n, v, n, 0, g, n, 2)
	for i := 0; i < n; i++ {
		g[i*n+i]--
	}
	for _, x := range g {
		orth = math.Max(orth, math.Abs(x))
	}
	return res, orth
}

func TestDecompose(t *testing.T) {
	const (
		// The largest values seen are about a tenth of these (residual
		// 2e-16, orthogonality 4e-15, difference 6e-15).
		maxRes  = 2e-15 // ‖A V - V diag(w)‖_F / (n ‖A‖_2)
		maxOrth = 5e-14 // largest element of |VᵀV - I|
		maxDiff = 1e-13 // eigenvalue difference to gonum's Dsyev per unit ‖A‖_2
	)
	for ci, tc := range testCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci)+1, 99))
			n := tc.n
			a := tc.a(r)
			if len(a) != n*n {
				t.Fatalf("matrix has %d elements", len(a))
			}
			var want []float64
			if tc.exact != nil {
				want = tc.exact
			} else {
				want = gonumEigenvalues(n, a)
			}

			results := make([][2][]float64, 0, 2)
			for _, workers := range []int{1, 3} {
				v := append([]float64(nil), a...)
				// Poison the upper triangle: it must not be read.
				for i := 0; i < n; i++ {
					for j := i + 1; j < n; j++ {
						v[i*n+j] = math.NaN()
					}
				}
				w := make([]float64, n)
				if err := Decompose(n, v, w, workers); err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				results = append(results, [2][]float64{v, w})
			}
			v, w := results[0][0], results[0][1]
			for k := 0; k < 2; k++ {
				for i := range results[0][k] {
					x, y := results[0][k][i], results[1][k][i]
					if math.Float64bits(x) != math.Float64bits(y) {
						t.Fatalf("workers=1 and workers=3 differ (%s element %d: %v != %v)", []string{"vector", "value"}[k], i, x, y)
					}
				}
			}
			for i := 1; i < n; i++ {
				if !(w[i-1] <= w[i]) {
					t.Fatalf("eigenvalues not ascending at %d: %v, %v", i, w[i-1], w[i])
				}
			}
			anorm := 0.0
			for _, x := range want {
				anorm = math.Max(anorm, math.Abs(x))
			}
			if anorm == 0 {
				anorm = 1
			}
			diff := 0.0
			for i := range w {
				diff = math.Max(diff, math.Abs(w[i]-want[i])/anorm)
			}
			res, orth := quality(n, a, v, w)
			t.Logf("residual %.2e orthogonality %.2e eigenvalue difference %.2e", res, orth, diff)
			if !(res <= maxRes) || !(orth <= maxOrth) || !(diff <= maxDiff) {
				t.Errorf("residual %.2e (max %.0e), orthogonality %.2e (max %.0e), eigenvalue difference %.2e (max %.0e)",
					res, maxRes, orth, maxOrth, diff, maxDiff)
			}
		})
	}
}

func TestDecomposeErrors(t *testing.T) {
	nan := make([]float64, 9)
	nan[4] = math.NaN()
	inf := make([]float64, 9)
	inf[3] = math.Inf(-1)
	upperNaN := make([]float64, 4)
	upperNaN[1] = math.NaN() // not read
	for _, tc := range []struct {
		name string
		n    int
		a, w []float64
		want string // error substring, "" for success
	}{
		{"negative order", -1, nil, nil, "negative order"},
		{"short matrix", 3, make([]float64, 8), make([]float64, 3), "need 9"},
		{"short eigenvalues", 3, make([]float64, 9), make([]float64, 2), "need 3"},
		{"NaN", 3, nan, make([]float64, 3), "NaN"},
		{"Inf", 3, inf, make([]float64, 3), "NaN or infinite"},
		{"empty", 0, nil, nil, ""},
		{"NaN in upper triangle", 2, upperNaN, make([]float64, 2), ""},
		{"workers 0", 2, []float64{1, 0, 0, 2}, make([]float64, 2), ""},
	} {
		err := Decompose(tc.n, tc.a, tc.w, 0)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestKnown2x2(t *testing.T) {
	// [[2,1],[1,2]]: eigenvalues 1 and 3, vectors (1,-1)/√2 and (1,1)/√2.
	a := []float64{2, 1, 1, 2}
	w := make([]float64, 2)
	if err := Decompose(2, a, w, 1); err != nil {
		t.Fatal(err)
	}
	if math.Abs(w[0]-1) > 1e-15 || math.Abs(w[1]-3) > 1e-15 {
		t.Fatalf("eigenvalues %v, want [1 3]", w)
	}
	if math.Abs(math.Abs(a[1])-1/math.Sqrt2) > 1e-15 || a[1] != a[3] || a[0] != -a[2] {
		t.Fatalf("eigenvectors %v", a)
	}
}

// TestOneProc checks that more workers than processors neither deadlock
// nor change the result.
func TestOneProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 400
	a := gaussGram(rand.New(rand.NewPCG(11, 12)), n, 2, 0.5)
	var ref []float64
	for _, workers := range []int{1, 4} {
		v := append([]float64(nil), a...)
		w := make([]float64, n)
		if err := Decompose(n, v, w, workers); err != nil {
			t.Fatal(err)
		}
		v = append(v, w...)
		if ref == nil {
			ref = v
			continue
		}
		for i := range v {
			if math.Float64bits(v[i]) != math.Float64bits(ref[i]) {
				t.Fatalf("workers=%d differs from workers=1 at %d", workers, i)
			}
		}
	}
}
