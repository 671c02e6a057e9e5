package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/kernel"
)

// Pool averages features: globalavgpool over the spatial positions
// (keeping the group axis), gpool over the spatial positions and the group
// (the invariant output of a GCNN, as the reference GroupPool does), avgpool
// and maxpool over k×k windows with stride k. maxpool has no closed-form
// kernel.
type Pool struct {
	Kind string
	K    int
}

// parsePool reads globalavgpool (or gap), gpool, avgpool(k) and maxpool(k).
func parsePool(name string, a *args) Layer {
	switch name {
	case "globalavgpool", "gap":
		a.done(0)
		return &Pool{Kind: "globalavgpool"}
	case "gpool":
		a.done(0)
		return &Pool{Kind: "gpool"}
	}
	p := &Pool{Kind: name, K: a.int(0, "k", 2, false)}
	a.done(1)
	return p
}

func (p *Pool) String() string {
	if p.Kind == "avgpool" || p.Kind == "maxpool" {
		return fmt.Sprintf("%s(%d)", p.Kind, p.K)
	}
	return p.Kind
}

func (p *Pool) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if ctx.first {
		return Shape{}, 0, fmt.Errorf("a network cannot start with pooling: its kernel needs a linear layer first")
	}
	if ctx.flat || (!in.Spatial() && in.G == 1) {
		return Shape{}, 0, fmt.Errorf("needs spatial or group features, got a flat vector of %d", in.Size())
	}
	if ctx.so3 > 0 {
		return Shape{}, 0, fmt.Errorf("cannot pool SO(3) grid features: use so3pool")
	}
	switch p.Kind {
	case "globalavgpool":
		return Shape{1, 1, in.G, in.C}, 0, nil
	case "gpool":
		ctx.group = nil
		return Shape{1, 1, 1, in.C}, 0, nil
	}
	if p.K < 1 {
		return Shape{}, 0, fmt.Errorf("window must be at least 1, got %d", p.K)
	}
	if !in.Spatial() || in.H%p.K != 0 || in.W%p.K != 0 {
		return Shape{}, 0, fmt.Errorf("needs spatial features divisible by %d, got %v", p.K, in)
	}
	return Shape{in.H / p.K, in.W / p.K, in.G, in.C}, 0, nil
}

func (p *Pool) kernel(s *kernel.State) error {
	switch p.Kind {
	case "globalavgpool":
		s.SpatialMean()
	case "gpool":
		s.MeanAll()
	case "avgpool":
		s.AvgPool(p.K)
	default:
		return fmt.Errorf("%s has no infinite-width kernel (use avgpool)", p.Kind)
	}
	return nil
}

func (p *Pool) kernelPositions(_ int, out Shape) int {
	if p.Kind == "gpool" {
		return 1
	}
	return out.G * out.H * out.W
}

// checkKernel rejects maxpool, which has no closed-form kernel.
func (p *Pool) checkKernel() error {
	if p.Kind == "maxpool" {
		return fmt.Errorf("%s has no infinite-width kernel (use avgpool)", p)
	}
	return nil
}

func (p *Pool) finite32(in, out Shape, _ Param) finite[float32] {
	return newPoolImpl[float32](p, in, out)
}

func (p *Pool) finite64(in, out Shape, _ Param) finite[float64] {
	return newPoolImpl[float64](p, in, out)
}

// poolImpl averages (or takes the maximum) over positions. cells maps each
// input position (i, j, g) to its output cell (without the channel); the
// global pools (global set) need no map.
type poolImpl[T Float] struct {
	cfg     *Pool
	in, out Shape
	cells   []int32
	inv     T
	taken   []bool
	// global: every input row of out.Size() values averages into the one
	// output (globalavgpool, gpool): sums of whole rows, vectorised, the
	// samples split among the workers.
	global  bool
	workers int
	ranges  [][2]int
}

func (m *poolImpl[T]) setWorkers(n int) { m.workers = max(1, n) }

// outputFree: only maxpool reads its output in the backward pass.
func (m *poolImpl[T]) outputFree() bool { return m.cfg.Kind != "maxpool" }

func newPoolImpl[T Float](cfg *Pool, in, out Shape) *poolImpl[T] {
	m := &poolImpl[T]{cfg: cfg, in: in, out: out}
	switch cfg.Kind {
	case "globalavgpool":
		m.inv, m.global = T(1/float64(in.H*in.W)), true
		return m
	case "gpool":
		m.inv, m.global = T(1/float64(in.H*in.W*in.G)), true
		return m
	}
	m.inv = T(1 / float64(cfg.K*cfg.K))
	m.cells = make([]int32, in.H*in.W*in.G)
	for i := 0; i < in.H; i++ {
		for j := 0; j < in.W; j++ {
			for g := 0; g < in.G; g++ {
				m.cells[(i*in.W+j)*in.G+g] = int32(((i/cfg.K)*out.W+j/cfg.K)*out.G + g)
			}
		}
	}
	return m
}

func (*poolImpl[T]) init([]T, *rand.Rand) {}

// sampleParts splits a batch of n samples into one contiguous range per
// worker (at most one per 8 samples), reusing *ranges.
func sampleParts(workers, n int, ranges *[][2]int) [][2]int {
	parts := max(1, min(workers, n/8))
	r := (*ranges)[:0]
	for i := 0; i < parts; i++ {
		r = append(r, [2]int{i * n / parts, (i + 1) * n / parts})
	}
	*ranges = r
	return r
}

func (m *poolImpl[T]) forward(_ []T, x, y []T, n int) {
	in, out := m.in, m.out
	C := in.C
	isMax := m.cfg.Kind == "maxpool"
	inv := m.inv
	if m.global {
		// Sums of whole rows (for float32 in vec.SumRows's order), each
		// sample on its own: the result does not depend on the workers.
		runParts(m.workers, sampleParts(m.workers, n, &m.ranges), func(_, a, b int) {
			for s := a; s < b; s++ {
				ys := y[s*out.Size() : (s+1)*out.Size()]
				clear(ys)
				sumRows(ys, x[s*in.Size():(s+1)*in.Size()])
				for i := range ys {
					ys[i] *= inv
				}
			}
		})
		return
	}
	for s := 0; s < n; s++ {
		xs := x[s*in.Size() : (s+1)*in.Size()]
		ys := y[s*out.Size() : (s+1)*out.Size()]
		if isMax {
			for i := range ys {
				ys[i] = T(math.Inf(-1))
			}
		} else {
			clear(ys)
		}
		for p, cell := range m.cells {
			src := xs[p*C : (p+1)*C]
			dst := ys[int(cell)*C : int(cell)*C+C]
			if isMax {
				for c, v := range src {
					if v > dst[c] {
						dst[c] = v
					}
				}
			} else {
				for c, v := range src {
					dst[c] += v
				}
			}
		}
		if !isMax {
			for i := range ys {
				ys[i] *= inv
			}
		}
	}
}

func (m *poolImpl[T]) backward(_ []T, x, y, dy, dx, _ []T, n int) {
	if dx == nil {
		return
	}
	in, out := m.in, m.out
	C := in.C
	isMax := m.cfg.Kind == "maxpool"
	inv := m.inv
	if isMax {
		m.taken = ensureBool(m.taken, out.Size())
	}
	if m.global {
		r := out.Size()
		runParts(m.workers, sampleParts(m.workers, n, &m.ranges), func(_, a, b int) {
			for s := a; s < b; s++ {
				// The first row, then copies of ever longer prefixes (a
				// row can be only 8 values long: one copy per row costs
				// more than the copying).
				dxs := dx[s*in.Size() : (s+1)*in.Size()]
				for i, v := range dy[s*r : (s+1)*r] {
					dxs[i] = v * inv
				}
				for done := r; done < len(dxs); done *= 2 {
					copy(dxs[done:], dxs[:done])
				}
			}
		})
		return
	}
	for s := 0; s < n; s++ {
		xs := x[s*in.Size() : (s+1)*in.Size()]
		ys := y[s*out.Size() : (s+1)*out.Size()]
		dys := dy[s*out.Size() : (s+1)*out.Size()]
		dxs := dx[s*in.Size() : (s+1)*in.Size()]
		if isMax {
			clear(m.taken)
		}
		for p, cell := range m.cells {
			o := int(cell) * C
			src := dys[o : o+C]
			dst := dxs[p*C : (p+1)*C]
			if !isMax {
				for c, v := range src {
					dst[c] = v * inv
				}
				continue
			}
			xv := xs[p*C : (p+1)*C]
			yv := ys[o : o+C]
			tk := m.taken[o : o+C]
			for c := range dst {
				// The gradient goes to the first maximal input.
				if !tk[c] && xv[c] == yv[c] {
					dst[c] = src[c]
					tk[c] = true
				} else {
					dst[c] = 0
				}
			}
		}
	}
}

func ensureBool(b []bool, n int) []bool {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]bool, n)
}
