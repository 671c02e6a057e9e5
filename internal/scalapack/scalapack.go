//go:build mpi

// Package scalapack is the cgo binding to ScaLAPACK (with its BLACS and
// PBLAS) that eqens-mpi needs: a process grid, block-cyclically distributed
// matrices, the Cholesky factorisation and solve (pdpotrf, pdpotrs), the
// symmetric eigendecomposition (pdsyevd), the distributed products pdgemm,
// pdsymm and pdtran, and gathering a distributed matrix onto one rank. It
// is built only with the mpi build tag, against the library that
// pkg-config names scalapack-openmpi (Debian: libscalapack-openmpi-dev).
//
// Matrices follow ScaLAPACK's 2-D block-cyclic layout: an M×N matrix is cut
// into MB×NB blocks, and block (I, J) lives on the process at grid position
// (I mod P, J mod Q) of a P×Q grid, which stores its blocks column-major in
// one local array with leading dimension LLD. Global indices here are
// 0-based; the Fortran routines get 1-based ones.
//
// Like package mpi, every call must come from the goroutine that called
// mpi.Init.
package scalapack

/*
#cgo pkg-config: scalapack-openmpi ompi-c
#include <stddef.h>

extern void Cblacs_get(int context, int what, int *val);
extern void Cblacs_gridinit(int *context, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int context, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int context);
extern void Cblacs_exit(int cont);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
	const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);
extern void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
	const int *desca, int *info, size_t uplo_len);
extern void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia,
	const int *ja, const int *desca, double *b, const int *ib, const int *jb, const int *descb,
	int *info, size_t uplo_len);
extern void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia,
	const int *ja, const int *desca, double *w, double *z, const int *iz, const int *jz,
	const int *descz, double *work, const int *lwork, int *iwork, const int *liwork, int *info,
	size_t jobz_len, size_t uplo_len);
extern void pdgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
	const double *alpha, const double *a, const int *ia, const int *ja, const int *desca,
	const double *b, const int *ib, const int *jb, const int *descb, const double *beta,
	double *c, const int *ic, const int *jc, const int *descc, size_t ta_len, size_t tb_len);
extern void pdsymm_(const char *side, const char *uplo, const int *m, const int *n,
	const double *alpha, const double *a, const int *ia, const int *ja, const int *desca,
	const double *b, const int *ib, const int *jb, const int *descb, const double *beta,
	double *c, const int *ic, const int *jc, const int *descc, size_t side_len, size_t uplo_len);
extern void pdtran_(const int *m, const int *n, const double *alpha, const double *a, const int *ia,
	const int *ja, const int *desca, const double *beta, double *c, const int *ic, const int *jc,
	const int *descc);

static void eq_gridinit(int *ctxt, int nprow, int npcol) {
	Cblacs_get(-1, 0, ctxt);
	Cblacs_gridinit(ctxt, "Row-major", nprow, npcol);
}
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/eqens/eqens/internal/mpi"
)

// Grid is a P×Q BLACS process grid over MPI_COMM_WORLD (row-major: rank r
// sits at (r / Q, r mod Q)).
type Grid struct {
	ctxt         C.int
	NProw, NPcol int
	MyRow, MyCol int
	// coords[2r], coords[2r+1] are the grid row and column of rank r.
	coords []int64
}

// NewGrid makes a nprow×npcol grid of the first nprow·npcol ranks; it must
// be called on every rank. Ranks outside the grid get MyRow = -1.
func NewGrid(nprow, npcol int) (*Grid, error) {
	if nprow < 1 || npcol < 1 {
		return nil, fmt.Errorf("scalapack: a %d×%d process grid", nprow, npcol)
	}
	g := &Grid{}
	C.eq_gridinit(&g.ctxt, C.int(nprow), C.int(npcol))
	var p, q, r, c C.int
	C.Cblacs_gridinfo(g.ctxt, &p, &q, &r, &c)
	g.NProw, g.NPcol, g.MyRow, g.MyCol = int(p), int(q), int(r), int(c)
	if g.MyRow >= 0 && (g.NProw != nprow || g.NPcol != npcol) {
		return nil, fmt.Errorf("scalapack: asked for a %d×%d grid, BLACS made %d×%d", nprow, npcol, g.NProw, g.NPcol)
	}
	if mpi.Size() != nprow*npcol {
		return nil, fmt.Errorf("scalapack: a %d×%d grid needs %d ranks, not %d", nprow, npcol, nprow*npcol, mpi.Size())
	}
	g.coords = make([]int64, 2*mpi.Size())
	me := mpi.Rank()
	g.coords[2*me], g.coords[2*me+1] = int64(g.MyRow), int64(g.MyCol)
	mpi.AllreduceInt(g.coords, mpi.Sum)
	return g, nil
}

// Exit releases the grid.
func (g *Grid) Exit() {
	if g.MyRow >= 0 {
		C.Cblacs_gridexit(g.ctxt)
	}
}

// Finish releases BLACS, leaving MPI running (mpi.Finalize ends it).
func Finish() { C.Cblacs_exit(1) }

// GridShape returns the most nearly square P×Q grid with P·Q = n and
// P <= Q.
func GridShape(n int) (p, q int) {
	p = 1
	for d := 1; d*d <= n; d++ {
		if n%d == 0 {
			p = d
		}
	}
	return p, n / p
}

// Numroc returns how many of n indices, cut into blocks of nb and dealt
// cyclically to nprocs processes starting at process 0, process iproc holds
// (ScaLAPACK's NUMROC).
func Numroc(n, nb, iproc, nprocs int) int {
	nblocks := n / nb
	num := (nblocks / nprocs) * nb
	extra := nblocks % nprocs
	switch {
	case iproc < extra:
		num += nb
	case iproc == extra:
		num += n % nb
	}
	return num
}

// LocalToGlobal returns the global index of local index l on process
// iproc (block size nb, nprocs processes, first block on process 0).
func LocalToGlobal(l, nb, iproc, nprocs int) int {
	return ((l/nb)*nprocs+iproc)*nb + l%nb
}

// GlobalToLocal returns the process that holds global index i and its
// local index there.
func GlobalToLocal(i, nb, nprocs int) (iproc, l int) {
	b := i / nb
	return b % nprocs, (b/nprocs)*nb + i%nb
}

// Matrix is an M×N matrix distributed block-cyclically over a grid in
// MB×NB blocks; this process holds LocR×LocC entries, column-major with
// leading dimension LLD, in Data.
type Matrix struct {
	G            *Grid
	M, N, MB, NB int
	LocR, LocC   int
	LLD          int
	desc         [9]C.int
	Data         []float64
}

// NewMatrix allocates this process's part of an m×n matrix in mb×nb blocks,
// filled with zeros.
func NewMatrix(g *Grid, m, n, mb, nb int) (*Matrix, error) {
	a := &Matrix{G: g, M: m, N: n, MB: mb, NB: nb}
	a.LocR = Numroc(m, mb, g.MyRow, g.NProw)
	a.LocC = Numroc(n, nb, g.MyCol, g.NPcol)
	a.LLD = max(1, a.LocR)
	if int64(a.LLD)*int64(a.LocC) > math.MaxInt32 && C.sizeof_int == 4 {
		// ScaLAPACK indexes local arrays with 32-bit integers.
		return nil, fmt.Errorf("scalapack: the local part of a %d×%d matrix is %d×%d, over 2³¹ entries: use more ranks", m, n, a.LocR, a.LocC)
	}
	cm, cn, cmb, cnb, zero, lld := C.int(m), C.int(n), C.int(mb), C.int(nb), C.int(0), C.int(a.LLD)
	var info C.int
	C.descinit_(&a.desc[0], &cm, &cn, &cmb, &cnb, &zero, &zero, &g.ctxt, &lld, &info)
	if info != 0 {
		return nil, fmt.Errorf("scalapack: descinit for a %d×%d matrix in %d×%d blocks: info %d", m, n, mb, nb, int(info))
	}
	a.Data = make([]float64, a.LLD*a.LocC)
	return a, nil
}

// Like returns a new zero matrix with a's shape and layout.
func (a *Matrix) Like() *Matrix {
	b := *a
	b.Data = make([]float64, len(a.Data))
	return &b
}

// Copy returns a copy of a.
func (a *Matrix) Copy() *Matrix {
	b := *a
	b.Data = append([]float64(nil), a.Data...)
	return &b
}

// Free drops the local storage.
func (a *Matrix) Free() { a.Data = nil }

// GlobalRow returns the global row of local row il.
func (a *Matrix) GlobalRow(il int) int { return LocalToGlobal(il, a.MB, a.G.MyRow, a.G.NProw) }

// GlobalCol returns the global column of local column jl.
func (a *Matrix) GlobalCol(jl int) int { return LocalToGlobal(jl, a.NB, a.G.MyCol, a.G.NPcol) }

// Block is a block of a distributed matrix that one process holds: global
// rows [I0, I1) and columns [J0, J1), stored from local row LI and local
// column LJ.
type Block struct {
	I0, I1, J0, J1 int
	LI, LJ         int
}

// Blocks lists the blocks this process holds.
func (a *Matrix) Blocks() []Block {
	var out []Block
	for lj := 0; lj < a.LocC; lj += a.NB {
		j0 := a.GlobalCol(lj)
		j1 := min(a.N, j0+a.NB)
		for li := 0; li < a.LocR; li += a.MB {
			i0 := a.GlobalRow(li)
			out = append(out, Block{I0: i0, I1: min(a.M, i0+a.MB), J0: j0, J1: j1, LI: li, LJ: lj})
		}
	}
	return out
}

// SetBlock stores the row-major (I1-I0)×(J1-J0) values v (transposed: v is
// (J1-J0)×(I1-I0) row-major) into the block b.
func (a *Matrix) SetBlock(b Block, v []float64, transposed bool) {
	nr, nc := b.I1-b.I0, b.J1-b.J0
	for c := 0; c < nc; c++ {
		col := a.Data[(b.LJ+c)*a.LLD+b.LI : (b.LJ+c)*a.LLD+b.LI+nr]
		if transposed {
			copy(col, v[c*nr:(c+1)*nr])
			continue
		}
		for r := range col {
			col[r] = v[r*nc+c]
		}
	}
}

// Fill sets every local entry from the row-major M×N matrix full, which
// every process holds.
func (a *Matrix) Fill(full []float64) {
	for jl := 0; jl < a.LocC; jl++ {
		j := a.GlobalCol(jl)
		col := a.Data[jl*a.LLD : jl*a.LLD+a.LocR]
		for il := range col {
			col[il] = full[a.GlobalRow(il)*a.N+j]
		}
	}
}

// ScaleRows multiplies every local entry in global row i by f(i).
func (a *Matrix) ScaleRows(f func(i int) float64) {
	s := make([]float64, a.LocR)
	for il := range s {
		s[il] = f(a.GlobalRow(il))
	}
	for jl := 0; jl < a.LocC; jl++ {
		col := a.Data[jl*a.LLD : jl*a.LLD+a.LocR]
		for il := range col {
			col[il] *= s[il]
		}
	}
}

// Diagonal returns the local diagonal entries: their global indices and
// values.
func (a *Matrix) Diagonal() (idx []int, val []float64) {
	for jl := 0; jl < a.LocC; jl++ {
		j := a.GlobalCol(jl)
		p, il := GlobalToLocal(j, a.MB, a.G.NProw)
		if j < a.M && p == a.G.MyRow {
			idx = append(idx, j)
			val = append(val, a.Data[jl*a.LLD+il])
		}
	}
	return idx, val
}

func ptr(v []float64) *C.double {
	if len(v) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&v[0]))
}

func char(b byte) *C.char {
	c := (*C.char)(C.CBytes([]byte{b}))
	return c
}

var one = C.int(1)

// fchar holds single-character Fortran arguments in C memory.
var fchar = map[byte]*C.char{}

func fc(b byte) *C.char {
	if c, ok := fchar[b]; ok {
		return c
	}
	c := char(b)
	fchar[b] = c
	return c
}

// Potrf overwrites the uplo ('U' or 'L') triangle of the symmetric
// positive definite matrix a with its Cholesky factor (pdpotrf). info > 0
// means the leading minor of that order is not positive definite.
func Potrf(uplo byte, a *Matrix) (info int) {
	n := C.int(a.N)
	var ci C.int
	C.pdpotrf_(fc(uplo), &n, ptr(a.Data), &one, &one, &a.desc[0], &ci, 1)
	return int(ci)
}

// Potrs overwrites b with a⁻¹ b, a factored by Potrf (pdpotrs).
func Potrs(uplo byte, a, b *Matrix) (info int) {
	n, nrhs := C.int(a.N), C.int(b.N)
	var ci C.int
	C.pdpotrs_(fc(uplo), &n, &nrhs, ptr(a.Data), &one, &one, &a.desc[0], ptr(b.Data), &one, &one, &b.desc[0], &ci, 1)
	return int(ci)
}

// Syevd computes all eigenvalues (ascending, on every process) and
// eigenvectors (the columns of z, laid out like a) of the symmetric matrix
// whose uplo triangle a holds (pdsyevd); a is destroyed. It returns
// ScaLAPACK's info and the workspace it used in bytes.
func Syevd(uplo byte, a, z *Matrix) (w []float64, info int, workBytes int64) {
	n := C.int(a.N)
	w = make([]float64, a.N)
	var ci C.int
	// Workspace query.
	lwork, liwork := C.int(-1), C.int(-1)
	var wq [1]float64
	var iq [1]C.int
	C.pdsyevd_(fc('V'), fc(uplo), &n, ptr(a.Data), &one, &one, &a.desc[0], ptr(w), ptr(z.Data), &one, &one, &z.desc[0],
		ptr(wq[:]), &lwork, &iq[0], &liwork, &ci, 1, 1)
	if ci != 0 {
		return nil, int(ci), 0
	}
	// The query can come out short (ScaLAPACK 2.2.1), and pdsyevd ignores
	// the error of its back-transformation pdormtr, returning wrong
	// eigenvectors with info 0. So the workspace is computed here from the
	// requirements of the routines pdsyevd hands it to, after its own 5n
	// entries: pdsytrd, pdstedc (and its pdlasrt) and pdormtr.
	nw := max(int(wq[0]), syevdWork(a.N, z.NB, max(z.G.MyRow, 0), max(z.G.MyCol, 0), z.G.NProw, z.G.NPcol))
	ni := max(int(iq[0]), 7*a.N+8*a.G.NPcol+2)
	work := make([]float64, nw)
	iwork := make([]C.int, ni)
	lwork, liwork = C.int(nw), C.int(ni)
	C.pdsyevd_(fc('V'), fc(uplo), &n, ptr(a.Data), &one, &one, &a.desc[0], ptr(w), ptr(z.Data), &one, &one, &z.desc[0],
		ptr(work), &lwork, &iwork[0], &liwork, &ci, 1, 1)
	return w, int(ci), 8*int64(nw) + 4*int64(ni)
}

// syevdWork returns the doubles of workspace pdsyevd needs on the process
// at (myrow, mycol) for an n×n matrix in nb×nb blocks: 5n of its own, then
// the most that pdsytrd (max(nb·(NP+1), 3nb)), pdstedc (6n + 2·NP·NQ), its
// pdlasrt (max(n, NP·(nb + NQ))) and pdormtr
// (max(nb(nb−1)/2, (NP + NQ)·nb) + nb²) need, NP×NQ being the process's
// part of the matrix; plus a margin of 2n + 1.
func syevdWork(n, nb, myrow, mycol, nprow, npcol int) int {
	np := Numroc(n, nb, myrow, nprow)
	nq := Numroc(n, nb, mycol, npcol)
	need := max(nb*(np+1), 3*nb, 6*n+2*np*nq, n, np*(nb+nq), max(nb*(nb-1)/2, (np+nq)*nb)+nb*nb)
	return 5*n + need + 2*n + 1
}

// WorkSyevd returns the workspace bytes Syevd allocates for an n×n matrix
// in nb×nb blocks on the process at grid position (0, 0), which holds the
// largest part: about 2·NP·NQ + 13n doubles (see syevdWork) plus
// 7n + 8Q + 2 integers.
func WorkSyevd(n, nb int, g *Grid) int64 {
	return 8*int64(syevdWork(n, nb, 0, 0, g.NProw, g.NPcol)) + 4*int64(7*n+8*g.NPcol+2)
}

func tr(t bool) byte {
	if t {
		return 'T'
	}
	return 'N'
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c for whole matrices
// (pdgemm).
func Gemm(transA, transB bool, alpha float64, a, b *Matrix, beta float64, c *Matrix) {
	m, n := C.int(c.M), C.int(c.N)
	k := C.int(a.N)
	if transA {
		k = C.int(a.M)
	}
	al, be := C.double(alpha), C.double(beta)
	C.pdgemm_(fc(tr(transA)), fc(tr(transB)), &m, &n, &k, &al, ptr(a.Data), &one, &one, &a.desc[0],
		ptr(b.Data), &one, &one, &b.desc[0], &be, ptr(c.Data), &one, &one, &c.desc[0], 1, 1)
}

// Symm computes c = alpha·a·b + beta·c with a symmetric, of which the uplo
// triangle is referenced (pdsymm, side 'L').
func Symm(uplo byte, alpha float64, a, b *Matrix, beta float64, c *Matrix) {
	m, n := C.int(c.M), C.int(c.N)
	al, be := C.double(alpha), C.double(beta)
	C.pdsymm_(fc('L'), fc(uplo), &m, &n, &al, ptr(a.Data), &one, &one, &a.desc[0],
		ptr(b.Data), &one, &one, &b.desc[0], &be, ptr(c.Data), &one, &one, &c.desc[0], 1, 1)
}

// Tran computes c = beta·c + alpha·aᵀ (pdtran); c is a.N×a.M.
func Tran(alpha float64, a *Matrix, beta float64, c *Matrix) {
	m, n := C.int(c.M), C.int(c.N)
	al, be := C.double(alpha), C.double(beta)
	C.pdtran_(&m, &n, &al, ptr(a.Data), &one, &one, &a.desc[0], &be, ptr(c.Data), &one, &one, &c.desc[0])
}

// Gather returns on rank root the whole matrix, row-major M×N, and nil on
// the other ranks. Every rank must call it.
func (a *Matrix) Gather(root int) []float64 {
	send := make([]float64, a.LocR*a.LocC)
	for jl := 0; jl < a.LocC; jl++ {
		copy(send[jl*a.LocR:(jl+1)*a.LocR], a.Data[jl*a.LLD:jl*a.LLD+a.LocR])
	}
	if mpi.Rank() != root {
		mpi.GathervFloat64(send, nil, nil, nil, root)
		return nil
	}
	R := mpi.Size()
	counts, displs := make([]int, R), make([]int, R)
	locr, locc := make([]int, R), make([]int, R)
	total := 0
	for r := 0; r < R; r++ {
		pr, pc := int(a.G.coords[2*r]), int(a.G.coords[2*r+1])
		locr[r] = Numroc(a.M, a.MB, pr, a.G.NProw)
		locc[r] = Numroc(a.N, a.NB, pc, a.G.NPcol)
		counts[r], displs[r] = locr[r]*locc[r], total
		total += counts[r]
	}
	recv := make([]float64, total)
	mpi.GathervFloat64(send, recv, counts, displs, root)
	full := make([]float64, a.M*a.N)
	for r := 0; r < R; r++ {
		pr, pc := int(a.G.coords[2*r]), int(a.G.coords[2*r+1])
		part := recv[displs[r] : displs[r]+counts[r]]
		for jl := 0; jl < locc[r]; jl++ {
			j := LocalToGlobal(jl, a.NB, pc, a.G.NPcol)
			for il := 0; il < locr[r]; il++ {
				full[LocalToGlobal(il, a.MB, pr, a.G.NProw)*a.N+j] = part[jl*locr[r]+il]
			}
		}
	}
	return full
}

// ScaleCols multiplies every local entry in global column j by f(j).
func (a *Matrix) ScaleCols(f func(j int) float64) {
	for jl := 0; jl < a.LocC; jl++ {
		s := f(a.GlobalCol(jl))
		col := a.Data[jl*a.LLD : jl*a.LLD+a.LocR]
		for il := range col {
			col[il] *= s
		}
	}
}

// C_int and numrocC expose numroc_ to the tests (cgo is not allowed in
// test files).
type C_int = C.int

func numrocC(n, nb, iproc, isrc, nprocs C.int) int {
	return int(C.numroc_(&n, &nb, &iproc, &isrc, &nprocs))
}
