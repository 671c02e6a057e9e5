package nn

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/gemm"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
)

// KernelOptions configures Arch.Kernel.
type KernelOptions struct {
	// NTK requests the neural tangent kernel Theta besides the NNGP K.
	NTK bool
	// Average, when set, returns the group-averaged kernel
	// (1/|G|) Σ_g k(x, rho(g) x') for the representation's action on the
	// (dataset-layout) inputs.
	Average *group.Rep
	// Workers is the number of goroutines (default GOMAXPROCS). Results do
	// not depend on it.
	Workers int
	// MemoryMB bounds the working memory per worker (default 256).
	MemoryMB int
	// Progress, if set, is called with the number of finished and total
	// tiles.
	Progress func(done, total int)
	// ThetaOnly (with NTK) keeps only Theta in the result (K is nil),
	// halving the memory of large kernels.
	ThetaOnly bool
	// Symmetric asserts that the n1 × n2 kernel of x1 against x2 is a
	// symmetric matrix: n1 = n2 and k(x1_i, x2_j) = k(x1_j, x2_i), as for
	// x2 = ρ(g)x1 with an involution g under whose simultaneous action
	// the kernel is invariant. Only the tiles on or above the diagonal
	// are computed and the result is mirrored (exactly symmetric); the
	// caller is responsible for the assertion.
	Symmetric bool

	noChains     bool // tests: no block chains (kernelchain.go)
	noInputConv  bool // tests: a first convolution from the input covariances
	noPoolFusion bool // tests: average poolings on their own
	noZeroTheta  bool // tests: Theta's first plane written with zeros
	noOuter      bool // tests: one-channel input covariances written as planes
	noSelfFusion bool // tests: self pairs' convolutions and rectifiers one after the other
	noInPlace    bool // tests: convolutions write new planes (kernel.State.KeepInput)
	noDiagSelf   bool // tests: self pairs propagate planes, not diagonals
}

// KernelResult holds kernel matrices, n1×n2 row-major.
type KernelResult struct {
	N1, N2   int
	K, Theta []float64
}

// Kernel computes the infinite-width NNGP kernel K (and with opts.NTK the
// NTK Theta) between the n1 inputs x1 and the n2 inputs x2, in dataset
// layout (C×H×W images or D-vectors, float64). If x2 is nil the kernel of
// x1 with itself is computed, using its symmetry. At infinite width the
// kernels are the identity across output units; the scalar per pair is
// returned.
func (a *Arch) Kernel(ctx context.Context, x1 []float64, n1 int, x2 []float64, n2 int, opts KernelOptions) (*KernelResult, error) {
	d := a.InputSize()
	sym := x2 == nil
	if sym {
		x2, n2 = x1, n1
	}
	if opts.Symmetric && n1 != n2 {
		return nil, fmt.Errorf("kernel: a symmetric kernel needs as many inputs on both sides, not %d and %d", n1, n2)
	}
	if len(x1) != n1*d || len(x2) != n2*d {
		return nil, fmt.Errorf("kernel: inputs have %d and %d values for %d and %d samples of size %d", len(x1), len(x2), n1, n2, d)
	}
	x2, G, err := orbit(opts.Average, x2, n2, d)
	if err != nil {
		return nil, err
	}
	for _, l := range a.Layers {
		if c, ok := l.(kernelChecker); ok {
			if err := c.checkKernel(); err != nil {
				return nil, fmt.Errorf("kernel: %v", err)
			}
		}
	}
	e := &kernelEngine{arch: a, ntk: opts.NTK, d: d, noChains: opts.noChains, noInputConv: opts.noInputConv, noPoolFusion: opts.noPoolFusion, noZeroTheta: opts.noZeroTheta, noOuter: opts.noOuter, noSelfFusion: opts.noSelfFusion, noInPlace: opts.noInPlace, noDiagSelf: opts.noDiagSelf}
	e.plan(opts.MemoryMB)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Variances of every input at every layer.
	tape1, err := e.selfTapes(ctx, x1, n1, workers)
	if err != nil {
		return nil, err
	}
	tape2 := tape1
	if !sym || G > 1 {
		if tape2, err = e.selfTapes(ctx, x2, n2*G, workers); err != nil {
			return nil, err
		}
	}
	res := &KernelResult{N1: n1, N2: n2}
	keepK := !(opts.NTK && opts.ThetaOnly)
	if keepK {
		res.K = make([]float64, n1*n2)
	}
	if opts.NTK {
		res.Theta = make([]float64, n1*n2)
	}
	tiles := e.tiles(n1, n2, sym || opts.Symmetric)
	var (
		mu   sync.Mutex
		done int
	)
	err = parallel(ctx, len(tiles), workers, func(w int) func(int) error {
		st := &kernel.State{NTK: e.ntk, KeepInput: e.noInPlace}
		return func(ti int) error {
			t := tiles[ti]
			for g := 0; g < G; g++ {
				off := g * n2
				if err := e.run(st, x1, t.i0, t.i1, x2, off+t.j0, off+t.j1, false, tape1, tape2); err != nil {
					return err
				}
				t.store(res, st, g > 0)
			}
			if opts.Progress != nil {
				mu.Lock()
				done++
				opts.Progress(done, len(tiles))
				mu.Unlock()
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	res.finish(G, sym || opts.Symmetric)
	return res, nil
}

// finish divides the sums over the orbit by its size G and mirrors a
// symmetric kernel.
func (res *KernelResult) finish(G int, sym bool) {
	if G > 1 {
		inv := 1 / float64(G)
		for i := range res.K {
			res.K[i] *= inv
		}
		for i := range res.Theta {
			res.Theta[i] *= inv
		}
	}
	if sym {
		mirror(res.K, res.N1)
		mirror(res.Theta, res.N1)
	}
}

// orbit returns the n inputs x expanded by their orbit under rep (block g
// holds rho(g) x) and the group order, or x and 1 if rep is nil.
func orbit(rep *group.Rep, x []float64, n, d int) ([]float64, int, error) {
	if rep == nil {
		return x, 1, nil
	}
	if rep.Dim() != d {
		return nil, 0, fmt.Errorf("kernel: group action of dimension %d on inputs of size %d", rep.Dim(), d)
	}
	G := rep.Group().Order()
	ex := group.OrbitBatch(rep, x[:n*d])
	return ex, G, nil
}

// kernelTile is a block of the n1 × n2 output: rows [i0, i1), columns
// [j0, j1).
type kernelTile struct{ i0, i1, j0, j1 int }

// tiles splits the output into tiles (for a symmetric kernel, those on or
// above the diagonal).
func (e *kernelEngine) tiles(n1, n2 int, sym bool) []kernelTile {
	var tiles []kernelTile
	for i0 := 0; i0 < n1; i0 += e.tileRows {
		i1 := min(n1, i0+e.tileRows)
		j := 0
		if sym {
			j = i0 - i0%e.tileCols
		}
		for j0 := j; j0 < n2; j0 += e.tileCols {
			tiles = append(tiles, kernelTile{i0, i1, j0, min(n2, j0+e.tileCols)})
		}
	}
	return tiles
}

// store writes (or, with add, adds) the tile's kernels from st into res.
func (t kernelTile) store(res *KernelResult, st *kernel.State, add bool) {
	n2 := res.N2
	nj := t.j1 - t.j0
	for i := t.i0; i < t.i1; i++ {
		for j := t.j0; j < t.j1; j++ {
			a := (i-t.i0)*nj + j - t.j0
			if !add {
				if res.K != nil {
					res.K[i*n2+j] = st.K[a]
				}
				if res.Theta != nil {
					res.Theta[i*n2+j] = st.Theta[a]
				}
			} else {
				if res.K != nil {
					res.K[i*n2+j] += st.K[a]
				}
				if res.Theta != nil {
					res.Theta[i*n2+j] += st.Theta[a]
				}
			}
		}
	}
}

// mirror copies the upper triangle (and the computed lower part of the
// diagonal tiles, which is identical) onto the lower triangle.
func mirror(m []float64, n int) {
	if m == nil {
		return
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			m[i*n+j] = m[j*n+i]
		}
	}
}

// parallel runs f over n items on the given number of workers; mk makes a
// worker's function (with its own scratch state). It stops at the first
// error or when ctx is cancelled.
func parallel(ctx context.Context, n, workers int, mk func(w int) func(int) error) error {
	if workers > n {
		workers = max(1, n)
	}
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		f := mk(w)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var err error
loop:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err = <-errc:
			break loop
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// kernelEngine runs the layer recursion on blocks of pairs.
type kernelEngine struct {
	arch     *Arch
	ntk      bool
	d        int
	spatial  bool  // start from pixel covariances
	pmax     int   // the largest number of positions of any state
	vmax     int64 // the largest number of stored values of any state
	tileRows int
	tileCols int
	// posAt[l] is the number of positions of the state entering layer l.
	posAt []int
	// chainTo[l] > 0 ends the run of layers from l that runs block by
	// block (kernelchain.go), blockOps holds their block operators, and
	// chainBufs the working planes of the blocks.
	chainTo   []int
	blockOps  [][]*kernel.ConvOp
	chainBufs sync.Pool
	noChains  bool // tests: run every layer on the whole state
	// first is a first convolution or lifting of images, whose map the
	// engine computes from the inputs' patches (kernel.State.InputConv),
	// or nil.
	first *Conv
	// poolFused[l] says which average pooling at l+2 runs fused with the
	// convolution at l and the rectifier at l+1 (planPoolFusion).
	poolFused    []int
	noInputConv  bool
	noPoolFusion bool
	noZeroTheta  bool
	noOuter      bool
	noSelfFusion bool
	noInPlace    bool
	noDiagSelf   bool // KernelOptions.noDiagSelf
	// lastReader is the last layer whose input variances the cross pairs
	// read from the tapes (-1 for none): the self pairs need go no further.
	lastReader int
}

func (e *kernelEngine) plan(memMB int) {
	a := e.arch
	in := a.Shapes[0]
	_, flatFirst := a.Layers[0].(flatInput)
	e.spatial = in.Spatial() && !flatFirst
	// Positions entering each layer: simulate the shapes.
	p := 1
	if e.spatial {
		p = in.H * in.W
	}
	e.pmax = p
	e.posAt = make([]int, len(a.Layers)+1)
	cols := p // stored columns of the state (fewer for slabs)
	e.vmax = int64(p * cols)
	for i, l := range a.Layers {
		e.posAt[i] = p
		q := l.kernelPositions(p, a.Shapes[i+1])
		if c, ok := l.(columnLayer); ok {
			cols = c.kernelColumns(q)
		} else {
			cols = max(1, cols*q/p)
		}
		p = q
		e.pmax = max(e.pmax, p)
		e.vmax = max(e.vmax, int64(p)*int64(cols))
	}
	e.posAt[len(a.Layers)] = p
	e.lastReader = -1
	for l, layer := range a.Layers {
		if v, ok := layer.(varianceReader); ok && v.readsVariances() { // activations, rectifiers among them
			e.lastReader = l
		}
	}
	e.planChains()
	e.planPoolFusion()
	if c, ok := a.Layers[0].(*Conv); ok && e.spatial && c.op.InputOp() && !c.op.Separable() && !e.noInputConv {
		e.first = c
		e.chainTo[0] = 0 // a chain may start after it
	}
	if memMB <= 0 {
		memMB = 256
	}
	per := e.pairBytes()
	pairs := max(1, memMB<<20/per)
	if e.pmax == 1 {
		// MLP-like: square tiles, large enough for efficient GEMMs.
		side := 256
		for side*side > pairs && side > 16 {
			side /= 2
		}
		e.tileRows, e.tileCols = side, side
		return
	}
	// Spatial states: as many pairs per block as fit the cache budget, so
	// that the planes a layer map reads and writes stay in the cache
	// between layers (a block of 13 28×28 pairs, 256 MB, ran the
	// convolution maps at memory speed, about 3× slower than blocks of
	// one).
	e.tileRows = 1
	e.tileCols = max(1, min(pairs, blockCacheBytes/per, 64))
}

// pairBytes is the working memory of one pair: K, Theta and two scratch
// planes of the largest state (three planes for the NNGP alone).
func (e *kernelEngine) pairBytes() int {
	if !e.ntk {
		return int(8 * 3 * e.vmax)
	}
	return int(8 * 4 * e.vmax)
}

// columnLayer layers say how many columns the kernel state keeps after
// them, given its q positions (slab operators keep one block's).
type columnLayer interface{ kernelColumns(q int) int }

// blockCacheBytes is the working set of one block of pairs that the
// planner aims for: about what the last-level cache holds per core.
const blockCacheBytes = 16 << 20

// selfTapes records, for each of the n inputs, the variance vector at the
// input of every layer: tape[l][i*P_l + p].
func (e *kernelEngine) selfTapes(ctx context.Context, x []float64, n, workers int) ([][]float64, error) {
	L := len(e.arch.Layers)
	tape := make([][]float64, L+1)
	for l := range tape {
		tape[l] = make([]float64, n*e.posAt[l])
	}
	block := max(1, e.tileRows*e.tileCols)
	nb := (n + block - 1) / block
	err := parallel(ctx, nb, workers, func(int) func(int) error {
		st := &kernel.State{NTK: false, KeepInput: e.noInPlace}
		return func(b int) error {
			i0, i1 := b*block, min(n, (b+1)*block)
			return e.runSelf(st, x, i0, i1, tape)
		}
	})
	return tape, err
}

// gram sets g = x1 x2ᵀ / d for the n1×d and n2×d matrices x1 and x2. It
// runs on internal/gemm in both builds: each entry is then the same sum
// whatever n1 and n2 are, so that a block of a kernel computed on its own
// has the bits of the whole kernel's (OpenBLAS rounds products of other
// shapes differently).
func gram(n1, n2, d int, x1, x2, g []float64) {
	gemm.Gemm(false, true, n1, n2, d, 1/float64(d), x1, d, x2, d, 0, g, n2, linalg.Threads())
}

// inputGram sets k[p, q] = (1/C) Σ_c xa[c, p] xb[c, q], the input
// covariances of one pair of C×hw images: a product over the channels,
// on internal/gemm in one thread in both builds. The kernel's workers
// each compute their own pairs; OpenBLAS's threads, started inside every
// worker, competed with them for the cores (the OpenBLAS build's 28×28
// CNN kernels ran about 30 % slower than the pure-Go build's), and both
// builds now give the same bits.
func inputGram(hw, c int, xa, xb, k []float64) {
	gemm.Gemm(true, false, hw, hw, c, 1/float64(c), xa, hw, xb, hw, 0, k, hw, 1)
}

// initState fills st with the input covariances of the pairs
// (x1[i], x2[j]) for i in [i0, i1) and j in [j0, j1) (row-major), or of the
// pairs (x1[i], x1[i]) when diag is set.
func (e *kernelEngine) initState(st *kernel.State, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool) error {
	a := e.arch
	d := e.d
	n1, n2 := i1-i0, j1-j0
	st.Pairs = n1 * n2
	if diag {
		st.Pairs = n1
	}
	if f, ok := a.Layers[0].(inputKernel); ok {
		return f.inputKernel(st, a.InShape, x1, i0, i1, x2, j0, j1, diag)
	}
	if !e.spatial {
		st.Reshape(1, 1, 1, false)
		if diag {
			for i := 0; i < n1; i++ {
				st.K[i] = dot(x1[(i0+i)*d:(i0+i+1)*d], x1[(i0+i)*d:(i0+i+1)*d]) / float64(d)
			}
		} else {
			gram(n1, n2, d, x1[i0*d:i1*d], x2[j0*d:j1*d], st.K)
		}
	} else {
		in := a.Shapes[0]
		hw := in.H * in.W
		C := in.C
		st.Reshape(1, in.H, in.W, false)
		outer := C == 1 && e.firstConv() && !e.noOuter
		st.OuterA, st.OuterB = st.OuterA[:0], st.OuterB[:0]
		pair := 0
		for i := i0; i < i1; i++ {
			ja, jb := j0, j1
			if diag {
				ja, jb = i, i+1
			}
			for j := ja; j < jb; j++ {
				xa := x1[i*d : (i+1)*d]
				xb := x2[j*d : (j+1)*d]
				if diag {
					xb = xa
				}
				if outer {
					// The first convolution generates the rows it reads.
					st.OuterA, st.OuterB = append(st.OuterA, xa), append(st.OuterB, xb)
				} else {
					inputGram(hw, C, xa, xb, st.K[pair*hw*hw:(pair+1)*hw*hw])
				}
				pair++
			}
		}
	}
	if st.NTK {
		if e.zeroTheta() {
			st.ThetaZero = true // the first convolution reads zero rows
		} else {
			clear(st.Theta)
		}
	}
	return nil
}

// zeroTheta reports whether the first layer is a convolution, which takes
// Theta = 0 without its plane being written (kernel.State.ThetaZero).
func (e *kernelEngine) zeroTheta() bool {
	return e.firstConv() && !e.noZeroTheta
}

// firstConv reports whether the first layer is a convolution, applied to
// the whole state or as the first layer of a block chain (runChain passes
// the marks on to each block): the only map that takes Theta = 0
// unwritten (kernel.State.ThetaZero) and one-channel input covariances as
// outer products (kernel.State.OuterA).
func (e *kernelEngine) firstConv() bool {
	_, ok := e.arch.Layers[0].(*Conv)
	return ok
}

// startState fills st with the state of the pairs (x1[i], x2[j]) for i in
// [i0, i1) and j in [j0, j1), or (x1[i], x1[i]) when diag is set, entering
// the first layer the driver then runs, and returns that layer's index:
// the input covariances (layer 0) or the state after a first layer that
// starts from the inputs themselves — an inputKernel layer, or e.first and,
// on cross pairs, a rectifier after it (its variances from the tapes).
func (e *kernelEngine) startState(st *kernel.State, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool, tape1, tape2 [][]float64) (int, error) {
	layers := e.arch.Layers
	if e.first == nil {
		if err := e.initState(st, x1, i0, i1, x2, j0, j1, diag); err != nil {
			return 0, err
		}
		if _, ok := layers[0].(inputKernel); ok {
			return 1, nil
		}
		return 0, nil
	}
	p1, err := e.patches(x1, i0, i1)
	if err != nil {
		return 0, err
	}
	p2 := p1
	if !diag {
		if p2, err = e.patches(x2, j0, j1); err != nil {
			return 0, err
		}
	}
	relu := !diag && len(layers) > 1 && isRectifier(layers[1])
	if relu {
		loadVariances(st, e.posAt[1], i0, i1, j0, j1, tape1[1], tape2[1])
	}
	c := e.first
	if err := st.InputConv(c.op, p1, p2, diag, c.WStd, c.BStd, relu); err != nil {
		return 0, fmt.Errorf("kernel: layer 1 %s: %w", c, err)
	}
	if relu {
		return 2, nil
	}
	return 1, nil
}

// patches returns the patch matrices of inputs [i0, i1) of x for e.first.
func (e *kernelEngine) patches(x []float64, i0, i1 int) ([]*kernel.Patches, error) {
	d, c := e.d, e.arch.Shapes[0].C
	out := make([]*kernel.Patches, i1-i0)
	for i := range out {
		p, err := e.first.op.Patches(x[(i0+i)*d:(i0+i+1)*d], c)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// runSelf propagates the pairs (x[i], x[i]) for i in [i0, i1) and records
// the variances entering each layer up to the last that reads them
// (e.lastReader; the tapes of later layers stay zero), on the diagonal
// alone where the layers up to it allow (selfDiag).
func (e *kernelEngine) runSelf(st *kernel.State, x []float64, i0, i1 int, tape [][]float64) error {
	start, err := e.startState(st, x, i0, i1, x, i0, i1, true, nil, nil)
	if err != nil {
		return err
	}
	for l := start; l <= len(e.arch.Layers); l++ {
		st.SelfVariances()
		p := st.P()
		if p != e.posAt[l] {
			return fmt.Errorf("kernel: internal position mismatch at layer %d (%d vs %d)", l, p, e.posAt[l])
		}
		copy(tape[l][i0*p:i1*p], st.V1)
		if l >= e.lastReader {
			break
		}
		if done, err := e.selfDiag(st, l, i0, i1, tape); err != nil || done {
			return err
		}
		if fused, err := e.selfConvReLU(st, l, i0, i1, tape); err != nil {
			return err
		} else if fused {
			l++ // the rectifier ran with the convolution
			continue
		}
		if err := e.arch.Layers[l].kernel(st); err != nil {
			return fmt.Errorf("kernel: layer %d %s: %w", l+1, e.arch.Layers[l], err)
		}
	}
	return nil
}

// selfDiag records the tapes of layers l+1 to e.lastReader from the
// diagonal alone (kernel.State.ConvReLUDiag) and reports whether it did:
// where the layers from l up to the last reader are pairs of a
// convolution and a rectifier whose convolutions have the diagonal map.
// The same bits as the planes' diagonals, in O(P) per input and layer
// instead of O(P²).
func (e *kernelEngine) selfDiag(st *kernel.State, l, i0, i1 int, tape [][]float64) (bool, error) {
	layers := e.arch.Layers
	var convs []*Conv
	var ops []*kernel.ConvOp
	for k := l; k < e.lastReader; k += 2 {
		c, ok := layers[k].(*Conv)
		if !ok || !isRectifier(layers[k+1]) {
			return false, nil
		}
		convs, ops = append(convs, c), append(ops, c.op)
	}
	if e.noDiagSelf || e.noSelfFusion || len(convs) == 0 || !st.CanConvReLUDiag(ops) {
		return false, nil
	}
	for n, c := range convs {
		pre, ok := st.ConvReLUDiag(c.op, c.WStd, c.BStd)
		if !ok {
			return false, fmt.Errorf("kernel: internal: layer %d %s has no diagonal map after all", l+2*n+1, c)
		}
		k := l + 2*n
		p := e.posAt[k+1]
		copy(tape[k+1][i0*p:i1*p], pre)
		if k+2 <= e.lastReader {
			copy(tape[k+2][i0*p:i1*p], st.V1)
		}
	}
	return true, nil
}

// selfConvReLU runs a convolution at layer l and the rectifier after it
// in one pass on self pairs where the convolution's output diagonal,
// the rectifier's variances, follows from the state's diagonal
// (kernel.State.ConvDiag): it records them in tape[l+1] and reports
// whether it ran. The same bits as the two layers one after the other.
func (e *kernelEngine) selfConvReLU(st *kernel.State, l, i0, i1 int, tape [][]float64) (bool, error) {
	layers := e.arch.Layers
	c, ok := layers[l].(*Conv)
	if !ok || l+1 >= len(layers) || !isRectifier(layers[l+1]) || e.noSelfFusion {
		return false, nil
	}
	diag, ok := st.ConvDiag(c.op, c.WStd, c.BStd)
	if !ok {
		return false, nil
	}
	p := e.posAt[l+1]
	copy(tape[l+1][i0*p:i1*p], diag)
	st.V1 = append(st.V1[:0], diag...)
	st.V2 = append(st.V2[:0], diag...)
	if err := c.kernelReLU(st); err != nil {
		return false, fmt.Errorf("kernel: layers %d-%d %s,%s: %w", l+1, l+2, c, layers[l+1], err)
	}
	return true, nil
}

// Poolings fused with the convolution and rectifier before them.
const (
	fusedPool2 = 1 // kernel.State.ConvAffineReLUPool
	fusedMean  = 2 // kernel.State.ConvAffineReLUMean
)

// planPoolFusion finds the convolutions that run fused with the rectifier
// and the average pooling after them (once, not for every tile).
func (e *kernelEngine) planPoolFusion() {
	layers := e.arch.Layers
	e.poolFused = make([]int, len(layers))
	for l := 0; l+2 < len(layers) && !e.noPoolFusion; l++ {
		p, ok := layers[l].(poolKernelFuser)
		if !ok || !isRectifier(layers[l+1]) {
			continue
		}
		switch next := layers[l+2]; {
		case isPool2(next) && p.canPoolFused():
			e.poolFused[l] = fusedPool2
		case isGlobalPool(next) && p.canMeanFused():
			e.poolFused[l] = fusedMean
		}
	}
}

// isPool2 reports whether a layer is a 2×2 average pooling.
func isPool2(l Layer) bool {
	p, ok := l.(*Pool)
	return ok && p.Kind == "avgpool" && p.K == 2
}

// isGlobalPool reports whether a layer is the global average pooling.
func isGlobalPool(l Layer) bool {
	p, ok := l.(*Pool)
	return ok && p.Kind == "globalavgpool"
}

// isRectifier reports whether a layer is max(x, 0).
func isRectifier(l Layer) bool {
	r, ok := l.(rectifierLayer)
	return ok && r.rectifier()
}

// loadVariances sets the state's variances for a layer whose input has p
// positions: V1 of pair (i, j) from tape1 (input i), V2 from tape2 (input
// j), for the pairs of rows [i0, i1) and columns [j0, j1).
func loadVariances(st *kernel.State, p, i0, i1, j0, j1 int, t1, t2 []float64) {
	n2 := j1 - j0
	pairs := (i1 - i0) * n2
	if cap(st.V1) < pairs*p {
		st.V1 = make([]float64, pairs*p)
	}
	if cap(st.V2) < pairs*p {
		st.V2 = make([]float64, pairs*p)
	}
	st.V1, st.V2 = st.V1[:pairs*p], st.V2[:pairs*p]
	if p == 1 {
		tr := t2[j0:j1]
		for i := i0; i < i1; i++ {
			row1 := st.V1[(i-i0)*n2 : (i-i0+1)*n2]
			for j := range row1 {
				row1[j] = t1[i]
			}
			copy(st.V2[(i-i0)*n2:(i-i0+1)*n2], tr)
		}
		return
	}
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			a := (i-i0)*n2 + j - j0
			copy(st.V1[a*p:(a+1)*p], t1[i*p:(i+1)*p])
			copy(st.V2[a*p:(a+1)*p], t2[j*p:(j+1)*p])
		}
	}
}

// run propagates the cross pairs of a tile through the network.
func (e *kernelEngine) run(st *kernel.State, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, _ bool, tape1, tape2 [][]float64) error {
	start, err := e.startState(st, x1, i0, i1, x2, j0, j1, false, tape1, tape2)
	if err != nil {
		return err
	}
	n := len(e.arch.Layers)
	for l := start; l < n; l++ {
		layer := e.arch.Layers[l]
		if m := e.chainTo[l]; m > 0 && !e.noChains {
			next, err := e.runChain(st, l, m, i0, i1, j0, j1, tape1, tape2)
			if err != nil {
				return err
			}
			l = next - 1
			continue
		}
		if f, ok := layer.(reluKernelFuser); ok && l+1 < n && isRectifier(e.arch.Layers[l+1]) {
			// The rectifier's map runs on each output row of the layer while
			// it is in cache: the variances of the rectifier's inputs first.
			loadVariances(st, e.posAt[l+1], i0, i1, j0, j1, tape1[l+1], tape2[l+1])
			if p, ok := layer.(poolKernelFuser); ok && e.poolFused[l] != 0 {
				// And an average pooling as the rows are done.
				fused := p.kernelReLUPool
				if e.poolFused[l] == fusedMean {
					fused = p.kernelReLUMean
				}
				if err := fused(st); err != nil {
					return fmt.Errorf("kernel: layers %d-%d %s,%s,%s: %w", l+1, l+3, layer, e.arch.Layers[l+1], e.arch.Layers[l+2], err)
				}
				l += 2
				continue
			}
			if err := f.kernelReLU(st); err != nil {
				return fmt.Errorf("kernel: layers %d-%d %s,%s: %w", l+1, l+2, layer, e.arch.Layers[l+1], err)
			}
			l++
			continue
		}
		if v, ok := layer.(varianceReader); ok && v.readsVariances() {
			// Only activations read the variances of the two inputs.
			loadVariances(st, st.P(), i0, i1, j0, j1, tape1[l], tape2[l])
		}
		if err := layer.kernel(st); err != nil {
			return fmt.Errorf("kernel: layer %d %s: %w", l+1, layer, err)
		}
	}
	if st.P() != 1 {
		// A network ending in spatial features: average the diagonal, as a
		// readout by a final dense layer would.
		st.DiagMean()
	}
	return nil
}
