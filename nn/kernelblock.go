package nn

import (
	"context"
	"fmt"
	"runtime"
)

// Span is a half-open range [Lo, Hi) of row or column indices of a kernel
// matrix.
type Span struct{ Lo, Hi int }

// Len returns the number of indices in the span.
func (s Span) Len() int { return s.Hi - s.Lo }

func (s Span) String() string { return fmt.Sprintf("%d:%d", s.Lo, s.Hi) }

// KernelBlock computes the block rows × cols of the kernel that Kernel
// returns for the same arguments, entry for entry the same bits, so that a
// kernel computed as independent tiles (on many machines) and assembled
// equals the one computed at once.
//
// For the kernel of x1 with itself (x2 nil) Kernel computes every entry
// (i, j) with i <= j from the pair (x_i, x_j) and mirrors it; KernelBlock
// does the same: a block on the diagonal (rows == cols) is a symmetric
// kernel of its own, entries above the diagonal come from the pairs of the
// block and entries below it from the pairs of the transposed block. A
// block straddling the diagonal off its centre therefore computes up to
// twice its entries.
func (a *Arch) KernelBlock(ctx context.Context, x1 []float64, n1 int, x2 []float64, n2 int, rows, cols Span, opts KernelOptions) (*KernelResult, error) {
	d := a.InputSize()
	sym := x2 == nil
	if sym {
		n2 = n1
	}
	if len(x1) != n1*d || (!sym && len(x2) != n2*d) {
		return nil, fmt.Errorf("kernel: inputs have %d and %d values for %d and %d samples of size %d", len(x1), len(x2), n1, n2, d)
	}
	if err := checkSpan("rows", rows, n1); err != nil {
		return nil, err
	}
	if err := checkSpan("columns", cols, n2); err != nil {
		return nil, err
	}
	part := func(x []float64, s Span) []float64 { return x[s.Lo*d : s.Hi*d] }
	switch {
	case !sym:
		return a.Kernel(ctx, part(x1, rows), rows.Len(), part(x2, cols), cols.Len(), opts)
	case rows == cols:
		return a.Kernel(ctx, part(x1, rows), rows.Len(), nil, 0, opts)
	}
	res := &KernelResult{N1: rows.Len(), N2: cols.Len()}
	if !(opts.NTK && opts.ThetaOnly) {
		res.K = make([]float64, res.N1*res.N2)
	}
	if opts.NTK {
		res.Theta = make([]float64, res.N1*res.N2)
	}
	if rows.Lo < cols.Hi { // some entry with i <= j
		up, err := a.Kernel(ctx, part(x1, rows), rows.Len(), part(x1, cols), cols.Len(), opts)
		if err != nil {
			return nil, err
		}
		res.copyBlock(up, rows, cols, false)
	}
	if rows.Hi-1 > cols.Lo { // some entry with i > j
		low, err := a.Kernel(ctx, part(x1, cols), cols.Len(), part(x1, rows), rows.Len(), opts)
		if err != nil {
			return nil, err
		}
		res.copyBlock(low, rows, cols, true)
	}
	return res, nil
}

// copyBlock copies into the block rows × cols of a symmetric kernel the
// entries on or above the diagonal from src (the pairs of the block), or,
// with lower, those below it from src's transpose (the pairs of the
// transposed block).
func (res *KernelResult) copyBlock(src *KernelResult, rows, cols Span, lower bool) {
	for r := 0; r < rows.Len(); r++ {
		for c := 0; c < cols.Len(); c++ {
			i, j := rows.Lo+r, cols.Lo+c
			if (i > j) != lower {
				continue
			}
			s := r*src.N2 + c
			if lower {
				s = c*src.N2 + r
			}
			if res.K != nil {
				res.K[r*res.N2+c] = src.K[s]
			}
			if res.Theta != nil {
				res.Theta[r*res.N2+c] = src.Theta[s]
			}
		}
	}
}

func checkSpan(what string, s Span, n int) error {
	if s.Lo < 0 || s.Hi > n || s.Lo >= s.Hi {
		return fmt.Errorf("kernel: %s %v: want a non-empty range A:B with 0 <= A < B <= %d", what, s, n)
	}
	return nil
}

// KernelPlan is what a kernel computation will hold in memory.
type KernelPlan struct {
	// Entries is the number of kernel entries returned (n1 × n2).
	Entries int64
	// ResultBytes holds the returned matrices (K and/or Theta).
	ResultBytes int64
	// InputBytes holds the inputs expanded by the averaging group's orbit
	// and the variance tapes of every input at every layer.
	InputBytes int64
	// WorkerBytes is the working memory of one worker (its block of pairs
	// with their kernel states), Workers the number of workers that get
	// work. PairBytes is the working memory of one pair, the least a
	// worker needs (--memory-mb sets how many pairs a block holds).
	WorkerBytes int64
	Workers     int
	PairBytes   int64
}

// Total returns the bytes of the whole computation.
func (p KernelPlan) Total() int64 {
	return p.ResultBytes + p.InputBytes + int64(p.Workers)*p.WorkerBytes
}

// PlanKernel returns the memory that Kernel (or KernelBlock, per call)
// needs for an n1 × n2 kernel with these options, without computing it.
func (a *Arch) PlanKernel(n1, n2 int, opts KernelOptions) KernelPlan {
	e := &kernelEngine{arch: a, ntk: opts.NTK, d: a.InputSize()}
	e.plan(opts.MemoryMB)
	G := 1
	if opts.Average != nil {
		G = opts.Average.Group().Order()
	}
	mats := int64(1)
	if opts.NTK && !opts.ThetaOnly {
		mats = 2
	}
	per := int64(e.pairBytes())
	p := KernelPlan{Entries: int64(n1) * int64(n2), Workers: opts.Workers}
	if p.Workers <= 0 {
		p.Workers = runtime.GOMAXPROCS(0)
	}
	p.ResultBytes = 8 * mats * p.Entries
	var tape int64
	for _, q := range e.posAt {
		tape += int64(q)
	}
	p.InputBytes = 8 * (int64(G*n2*e.d) + int64(n1+G*n2)*tape)
	p.PairBytes = per
	rows, cols := min(e.tileRows, n1), min(e.tileCols, n2)
	p.WorkerBytes = int64(rows*cols) * per
	tiles := ((n1 + e.tileRows - 1) / e.tileRows) * ((n2 + e.tileCols - 1) / e.tileCols)
	p.Workers = max(1, min(p.Workers, tiles))
	return p
}
