package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

var (
	kernels32 = sync.OnceValue(func() [2]kernel[float32] { return best[float32]() })
	kernels64 = sync.OnceValue(func() [2]kernel[float64] { return best[float64]() })
)

// best returns the fastest kernels this CPU runs for T: the wide one and the
// narrow one for products with few columns.
func best[T Float]() [2]kernel[T] {
	wide, ok1 := asmKernel[T](isa(), false)
	narrow, ok2 := asmKernel[T](isa(), true)
	if ok1 && ok2 {
		return [2]kernel[T]{wide, narrow}
	}
	return [2]kernel[T]{goKernel[T](4, 4), goKernel[T](4, 4)}
}

// pick returns the wide kernel unless the narrow one saves more than an
// eighth of the columns' padding.
func pick[T Float](ks [2]kernel[T], n int) kernel[T] {
	if roundUp(n, ks[0].nr)-roundUp(n, ks[1].nr) > n/8 {
		return ks[1]
	}
	return ks[0]
}

// Kernel names the micro-kernel family the products use on this CPU:
// "avx512", "avx2", "neon" or "go".
func Kernel() string { return kernels64()[0].name }

// Gemm computes c = alpha*op(a)*op(b) + beta*c, where op(a) is m×k, op(b)
// is k×n and all matrices are row-major with the given leading dimensions;
// transA and transB select the transposes. With beta == 0, c is not read.
// The work is spread over up to workers goroutines (at least one); the
// result does not depend on their number. a and b may be the same slice; c
// must not overlap either.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	Check("gemm.Gemm", transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers)
}

// GemmOverlap is Gemm for an a whose stored rows may overlap: lda may be
// smaller than the length of a stored row (k, or m with transA), as when a
// convolution reads its taps from a copy stacked along the filter rows
// instead of a fully unrolled one (nn/convdirect.go). c must not overlap a
// or b.
func GemmOverlap[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	check("gemm.GemmOverlap", true, transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers)
}

// GemmOverlapRows is GemmOverlap (op(a) not transposed) for the rows of a
// kept in groups: row i of op(a) is stored row (i/width)*stride + i%width
// of a, as when a convolution keeps width of the stride positions of each
// row of its padded grid (nn/convdirect.go). Each element of c is the same
// sum, in the same order, as that row's element of the product with every
// stored row.
func GemmOverlapRows[T Float](transB bool, m, n, k int, alpha T, a []T, lda, width, stride int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	if width < 1 || stride < width {
		panic(fmt.Sprintf("gemm.GemmOverlapRows: bad row groups width=%d stride=%d", width, stride))
	}
	check("gemm.GemmOverlapRows", true, false, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	if m > 0 && k > 0 {
		if last := (m-1)/width*stride + (m-1)%width; len(a) < last*lda+k {
			panic(fmt.Sprintf("gemm.GemmOverlapRows: a has %d elements, need %d", len(a), last*lda+k))
		}
	}
	if width == stride {
		width = 0
	}
	gemmRows(false, transB, m, n, k, alpha, a, lda, width, stride, b, ldb, beta, c, ldc, workers)
}

// gemm is Gemm after the checks.
func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	gemmRows(transA, transB, m, n, k, alpha, a, lda, 0, 0, b, ldb, beta, c, ldc, workers)
}

// gemmRows is gemm with A's rows in groups of width (0: one group).
func gemmRows[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda, width, stride int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	var kn kernel[T]
	switch p := any(&kn).(type) {
	case *kernel[float32]:
		*p = pick(kernels32(), n)
	case *kernel[float64]:
		*p = pick(kernels64(), n)
	}
	runRows(kn, transA, transB, m, n, k, alpha, a, lda, width, stride, b, ldb, beta, c, ldc, workers)
}

// Check panics with a message starting with name when the dimensions are
// negative or the slices (of lengths la, lb, lc) too short for the product;
// callers validate user input before reaching this package.
func Check(name string, transA, transB bool, m, n, k, lda, ldb, ldc, la, lb, lc int) {
	check(name, false, transA, transB, m, n, k, lda, ldb, ldc, la, lb, lc)
}

// check is Check; overlapA allows lda below the length of a's rows.
func check(name string, overlapA, transA, transB bool, m, n, k, lda, ldb, ldc, la, lb, lc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("%s: negative dimension m=%d n=%d k=%d", name, m, n, k))
	case lda < 1 || (!overlapA && lda < ac) || ldb < max(1, bc) || ldc < max(1, n):
		panic(fmt.Sprintf("%s: bad leading dimension lda=%d ldb=%d ldc=%d for m=%d n=%d k=%d", name, lda, ldb, ldc, m, n, k))
	case ar > 0 && ac > 0 && la < (ar-1)*lda+ac:
		panic(fmt.Sprintf("%s: a has %d elements, need %d", name, la, (ar-1)*lda+ac))
	case br > 0 && bc > 0 && lb < (br-1)*ldb+bc:
		panic(fmt.Sprintf("%s: b has %d elements, need %d", name, lb, (br-1)*ldb+bc))
	case m > 0 && n > 0 && lc < (m-1)*ldc+n:
		panic(fmt.Sprintf("%s: c has %d elements, need %d", name, lc, (m-1)*ldc+n))
	}
}

// product is one call's operands and blocking state.
type product[T Float] struct {
	kn             kernel[T]
	transA, transB bool
	m, n, k        int
	a, b, c        []T
	lda, ldb, ldc  int
	alpha, beta    T
	// directA and directB make the kernel read full micro-panels of A or B
	// in place instead of packed: worth it when a panel is used only a few
	// times, so that packing would cost as much as the products, and for a
	// B whose rows are one panel wide (ldb == nr), laid out as packed.
	directA, directB bool
	// With width > 0, row i of op(A) (not transposed) is stored row
	// (i/width)*stride + i%width.
	width, stride int
}

// run is Gemm with an explicit kernel (tests compare kernels with it).
func run[T Float](kn kernel[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	runRows(kn, transA, transB, m, n, k, alpha, a, lda, 0, 0, b, ldb, beta, c, ldc, workers)
}

// runRows is run with A's rows in groups of width (0: one group).
func runRows[T Float](kn kernel[T], transA, transB bool, m, n, k int, alpha T, a []T, lda, width, stride int, b []T, ldb int, beta T, c []T, ldc int, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	// Small products are not worth a goroutine.
	if float64(m)*float64(n)*float64(k) < 1<<17 {
		workers = 1
	}
	workers = max(1, min(workers, runtime.GOMAXPROCS(0)))
	p := &product[T]{kn: kn, transA: transA, transB: transB, m: m, n: n, k: k,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta,
		directA: n <= 2*kn.nr, directB: !transB && (m <= 4*kn.mr || ldb == kn.nr), width: width, stride: stride}
	p.compute(workers)
}

// scale sets c = beta*c (c = 0 when beta is 0).
func scale[T Float](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] = T(beta * row[j])
		}
	}
}

// compute splits C into blocks of rows or of columns, along the larger
// dimension in whole micro-tiles, and computes the blocks in parallel
// without further synchronisation: each block packs the panels it needs
// (the operand shared by all blocks is packed once per block, which costs
// little next to its products).
func (p *product[T]) compute(workers int) {
	kn := p.kn
	rowTiles, colTiles := ceilDiv(p.m, kn.mr), ceilDiv(p.n, kn.nr)
	byRows := rowTiles*kn.mr > colTiles*kn.nr
	units := colTiles
	if byRows {
		units = rowTiles
	}
	// Twice as many parts as workers, handed out as workers become free,
	// so that a core slowed by other work does not hold the others up.
	parts := max(1, min(2*workers, units))
	if workers == 1 {
		parts = 1
	}
	parallel(workers, parts, func(q int) {
		lo, hi := q*units/parts, (q+1)*units/parts
		if byRows {
			p.part(lo*kn.mr, min(hi*kn.mr, p.m), 0, p.n)
		} else {
			p.part(0, p.m, lo*kn.nr, min(hi*kn.nr, p.n))
		}
	})
}

// part computes rows [i0, i1) and columns [j0, j1) of C.
func (p *product[T]) part(i0, i1, j0, j1 int) {
	kn := p.kn
	nc := min(kn.nc, roundUp(j1-j0, kn.nr))
	// tile holds an edge tile and, after it, the coefficients of the
	// full tiles and of the edge ones (kept off the heap).
	bp, ap, tile := getBuf[T](KC*nc), getBuf[T](KC*kn.mc), getBuf[T](kn.mr*kn.nr+4)
	coef, edge := (*[2]T)(tile[kn.mr*kn.nr:]), (*[2]T)(tile[kn.mr*kn.nr+2:])
	*edge = [2]T{p.alpha, 0} // edge tiles: alpha*acc into tile, then addTile
	defer putBuf(bp)
	defer putBuf(ap)
	defer putBuf(tile)
	useBeta := true
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		panels := ceilDiv(nb, kn.nr)
		for pc := 0; pc < p.k; pc += KC {
			kb := min(KC, p.k-pc)
			first := 0
			if p.directB { // only a partial last panel is packed
				first = nb / kn.nr
			}
			p.packB(bp, pc, kb, jc, nb, first, panels)
			*coef, useBeta = [2]T{p.alpha, 1}, true
			if pc == 0 {
				coef[1], useBeta = p.beta, p.beta != 0
			}
			for ic := i0; ic < i1; ic += kn.mc {
				mb := min(kn.mc, i1-ic)
				if p.directA { // only the panels not read in place are packed
					for q := 0; q*kn.mr < mb; q++ {
						switch i := ic + q*kn.mr; {
						case p.inPlace(i, mb-q*kn.mr, pc, kb):
						case mb-q*kn.mr >= kn.mr: // whole, across row groups
							p.copyRows(ap, i, pc, kb, q)
						default:
							p.packPanel(ap, ic, mb, pc, kb, q)
						}
					}
				} else {
					p.packA(ap, ic, mb, pc, kb)
				}
				p.block(ap, tile, ic, mb, bp, pc, kb, jc, nb, coef, edge, useBeta)
			}
		}
	}
}

// block computes the C tiles of rows [ic, ic+mb) and columns [jc, jc+nb)
// for the k block at pc from the packed panels ap and bp.
func (p *product[T]) block(ap, tile []T, ic, mb int, bp []T, pc, kb, jc, nb int, coef, edge *[2]T, useBeta bool) {
	kn := p.kn
	// The A micro-panel stays in L1 while the B micro-panels stream from L2.
	for i := 0; i < mb; i += kn.mr {
		rows := min(kn.mr, mb-i)
		a, aRow, aK := ap[i*kb:(i+kn.mr)*kb], 1, kn.mr
		switch {
		case p.directA && p.inPlace(ic+i, rows, pc, kb):
			a, aRow, aK = p.aAt(ic+i, pc)
		case p.directA && rows == kn.mr: // copied by copyRows
			aRow, aK = kb, 1
		}
		for j := 0; j < nb; j += kn.nr {
			cols := min(kn.nr, nb-j)
			b, bK := bp[j*kb:(j+kn.nr)*kb], kn.nr
			if p.directB && cols == kn.nr {
				b, bK = p.b[pc*p.ldb+jc+j:], p.ldb
			}
			off := (ic+i)*p.ldc + jc + j
			if rows == kn.mr && cols == kn.nr {
				kn.run(kb, a, aRow, aK, b, bK, p.c[off:], p.ldc, coef, useBeta)
				continue
			}
			kn.run(kb, a, aRow, aK, b, bK, tile, kn.nr, edge, false)
			addTile(rows, cols, tile, kn.nr, p.c[off:], p.ldc, coef[1], useBeta)
		}
	}
}

// aAt returns op(A) from element (i, p) on with its row and k strides
// (with row groups, for rows in one group).
func (p *product[T]) aAt(i, pc int) ([]T, int, int) {
	if p.transA {
		return p.a[pc*p.lda+i:], 1, p.lda
	}
	return p.a[p.row(i)*p.lda+pc:], p.lda, 1
}

// row returns the stored row of op(A)'s row i (not transposed).
func (p *product[T]) row(i int) int {
	if p.width == 0 {
		return i
	}
	return i/p.width*p.stride + i%p.width
}

// inPlace reports whether the kernel reads the micro-panel of op(A) at row
// i (rows of them before the block's end), columns [pc, pc+kb), in place:
// its rows in one row group, and, for a partial panel, the mr rows that
// the kernel reads (the ones past the end into the edge tile, which drops
// them) within a.
func (p *product[T]) inPlace(i, rows, pc, kb int) bool {
	mr := p.kn.mr
	switch {
	case p.width > 0 && i%p.width+min(rows, mr) > p.width:
		return false
	case rows >= mr:
		return true
	case p.transA:
		return (pc+kb-1)*p.lda+i+mr <= len(p.a)
	}
	return (p.row(i)+mr-1)*p.lda+pc+kb <= len(p.a)
}

// addTile stores c = t + beta*c (or c = t) for a rows×cols tile.
func addTile[T Float](rows, cols int, t []T, ldt int, c []T, ldc int, beta T, useBeta bool) {
	for i := 0; i < rows; i++ {
		src, dst := t[i*ldt:i*ldt+cols], c[i*ldc:i*ldc+cols]
		if !useBeta {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + T(beta*dst[j])
		}
	}
}

// parallel calls f(i) for i = 0..n-1 on up to workers goroutines and
// returns when all calls have.
func parallel(workers, n int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }
