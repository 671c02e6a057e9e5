//go:build mpi

package scalapack

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/internal/mpi"
)

// The tests run on any number of ranks: go test -tags 'openblas mpi' runs
// them on one (an MPI singleton); make mpi-test also runs the compiled test
// binary under mpirun -np 3. Every rank builds the same matrices from the
// same seed and checks its results against internal/linalg.

func TestMain(m *testing.M) {
	if err := mpi.Init(); err != nil {
		panic(err)
	}
	code := m.Run()
	Finish()
	mpi.Finalize()
	os.Exit(code)
}

func grid(t *testing.T) *Grid {
	p, q := GridShape(mpi.Size())
	g, err := NewGrid(p, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Exit)
	return g
}

func randSPD(r *rand.Rand, n int) []float64 {
	b := make([]float64, n*n)
	for i := range b {
		b[i] = r.NormFloat64()
	}
	a := make([]float64, n*n)
	linalg.Dgemm(false, true, n, n, n, 1/float64(n), b, n, b, n, 0, a, n)
	for i := 0; i < n; i++ {
		a[i*n+i] += 0.5
	}
	return a
}

func randMat(r *rand.Rand, m, n int) []float64 {
	a := make([]float64, m*n)
	for i := range a {
		a[i] = r.NormFloat64()
	}
	return a
}

func maxRel(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale, diff := 0.0, 0.0
	for i := range want {
		scale = max(scale, math.Abs(want[i]))
		diff = max(diff, math.Abs(got[i]-want[i]))
	}
	if diff > tol*scale {
		t.Fatalf("%s: max difference %.3g, %.3g relative (tolerance %g)", what, diff, diff/scale, tol)
	}
}

func TestNumroc(t *testing.T) {
	for _, c := range [][3]int{{1, 1, 1}, {10, 3, 4}, {1500, 64, 3}, {7, 8, 2}, {100, 7, 5}} {
		n, nb, np := c[0], c[1], c[2]
		sum := 0
		for p := 0; p < np; p++ {
			cn, cnb, cp, zero, cnp := C_int(n), C_int(nb), C_int(p), C_int(0), C_int(np)
			want := numrocC(cn, cnb, cp, zero, cnp)
			got := Numroc(n, nb, p, np)
			if got != want {
				t.Fatalf("Numroc(%d, %d, %d, %d) = %d, numroc_ says %d", n, nb, p, np, got, want)
			}
			sum += got
			for l := 0; l < got; l++ {
				i := LocalToGlobal(l, nb, p, np)
				pp, ll := GlobalToLocal(i, nb, np)
				if pp != p || ll != l || i >= n {
					t.Fatalf("n %d nb %d: local %d on %d is global %d, which maps back to %d on %d", n, nb, l, p, i, ll, pp)
				}
			}
		}
		if sum != n {
			t.Fatalf("Numroc over %d processes sums to %d, want %d", np, sum, n)
		}
	}
}

func TestFillGather(t *testing.T) {
	g := grid(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][4]int{{37, 23, 8, 8}, {5, 64, 4, 16}, {100, 3, 16, 16}} {
		full := randMat(r, s[0], s[1])
		a, err := NewMatrix(g, s[0], s[1], s[2], s[3])
		if err != nil {
			t.Fatal(err)
		}
		a.Fill(full)
		got := a.Gather(0)
		if mpi.Rank() == 0 {
			maxRel(t, "gather", got, full, 0)
		} else if got != nil {
			t.Fatal("Gather returned values off the root")
		}
		// SetBlock, block by block, gives the same matrix.
		b := a.Like()
		for _, blk := range b.Blocks() {
			v := make([]float64, (blk.I1-blk.I0)*(blk.J1-blk.J0))
			for i := blk.I0; i < blk.I1; i++ {
				for j := blk.J0; j < blk.J1; j++ {
					v[(i-blk.I0)*(blk.J1-blk.J0)+j-blk.J0] = full[i*s[1]+j]
				}
			}
			b.SetBlock(blk, v, false)
		}
		maxRel(t, "SetBlock", b.Data, a.Data, 0)
	}
}

func TestCholeskyEigenProducts(t *testing.T) {
	// 157 in blocks of 16 spreads over every process; 100 in blocks of 64
	// leaves processes without blocks on grids with more than 2 columns.
	for _, c := range [][2]int{{157, 16}, {100, 64}, {37, 8}} {
		t.Run(fmt.Sprintf("n=%d,nb=%d", c[0], c[1]), func(t *testing.T) { testCholeskyEigenProducts(t, c[0], c[1]) })
	}
}

func testCholeskyEigenProducts(t *testing.T, n, nb int) {
	g := grid(t)
	r := rand.New(rand.NewPCG(3, 4))
	const k = 3
	full := randSPD(r, n)
	y := randMat(r, n, k)

	// Cholesky solve against internal/linalg.
	want := append([]float64(nil), y...)
	l := append([]float64(nil), full...)
	if err := linalg.Cholesky(n, l); err != nil {
		t.Fatal(err)
	}
	if err := linalg.CholeskySolve(n, k, l, want); err != nil {
		t.Fatal(err)
	}
	a, _ := NewMatrix(g, n, n, nb, nb)
	a.Fill(upper(full, n))
	b, _ := NewMatrix(g, n, k, nb, nb)
	b.Fill(y)
	if info := Potrf('U', a); info != 0 {
		t.Fatalf("pdpotrf: info %d", info)
	}
	if info := Potrs('U', a, b); info != 0 {
		t.Fatalf("pdpotrs: info %d", info)
	}
	if got := b.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "pdpotrs", got, want, 1e-12)
	}

	// Not positive definite: info > 0.
	a.Fill(upper(full, n))
	for _, blk := range a.Blocks() {
		if blk.I0 <= 5 && 5 < blk.I1 && blk.J0 <= 5 && 5 < blk.J1 {
			a.Data[(blk.LJ+5-blk.J0)*a.LLD+blk.LI+5-blk.I0] = -1
		}
	}
	if info := Potrf('U', a); info != 6 {
		t.Fatalf("pdpotrf of an indefinite matrix: info %d, want 6", info)
	}

	// Eigenvalues against internal/linalg; V diag(w) Vᵀ = A.
	a.Fill(upper(full, n))
	z := a.Like()
	w, info, _ := Syevd('U', a, z)
	if info != 0 {
		t.Fatalf("pdsyevd: info %d", info)
	}
	ev := append([]float64(nil), full...)
	wl := make([]float64, n)
	if err := linalg.EigSym(n, ev, wl); err != nil {
		t.Fatal(err)
	}
	maxRel(t, "pdsyevd eigenvalues", w, wl, 1e-12)
	zw := z.Copy()
	zw.ScaleCols(func(j int) float64 { return w[j] })
	rec := a.Like()
	Gemm(false, true, 1, zw, z, 0, rec)
	if got := rec.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "V diag(w) Vᵀ", got, full, 1e-12)
	}

	// pdgemm, pdsymm and pdtran against linalg.Dgemm.
	c0 := randMat(r, n, k)
	wantC := append([]float64(nil), c0...)
	linalg.Dgemm(false, false, n, k, n, 2, full, n, y, k, -1, wantC, k)
	a.Fill(full)
	b.Fill(y)
	c, _ := NewMatrix(g, n, k, nb, nb)
	c.Fill(c0)
	Gemm(false, false, 2, a, b, -1, c)
	if got := c.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "pdgemm", got, wantC, 1e-13)
	}
	a.Fill(upper(full, n))
	c.Fill(c0)
	Symm('U', 2, a, b, -1, c)
	if got := c.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "pdsymm", got, wantC, 1e-13)
	}
	bt, _ := NewMatrix(g, k, n, nb, nb)
	Tran(1, b, 0, bt)
	wantT := make([]float64, k*n)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			wantT[j*n+i] = y[i*k+j]
		}
	}
	if got := bt.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "pdtran", got, wantT, 0)
	}
	// Gemm with transposes: Bᵀ·C (k×k).
	c.Fill(c0)
	btc, _ := NewMatrix(g, k, k, nb, nb)
	Gemm(true, false, 1, b, c, 0, btc)
	wantBTC := make([]float64, k*k)
	linalg.Dgemm(true, false, k, k, n, 1, y, k, c0, k, 0, wantBTC, k)
	if got := btc.Gather(0); mpi.Rank() == 0 {
		maxRel(t, "pdgemm T,N", got, wantBTC, 1e-13)
	}
}

// upper returns a copy of the n×n matrix a with its strict lower triangle
// zeroed (in row-major terms: entries (i, j) with i > j), so that only the
// upper triangle carries information.
func upper(a []float64, n int) []float64 {
	u := append([]float64(nil), a...)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			u[i*n+j] = 0
		}
	}
	return u
}
