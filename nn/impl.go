package nn

import (
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/internal/linalg"
)

// denseImpl: y = ws * x W^T + bs * b with W stored Out×In row-major.
type denseImpl[T Float] struct {
	out, in      int
	ws, bs       float64
	wInit, bInit float64
}

func newDenseImpl[T Float](d *Dense, in, out Shape, p Param) *denseImpl[T] {
	m := &denseImpl[T]{out: d.Out, in: in.Size()}
	m.ws, m.wInit = weightScale(p, d.WStd, m.in)
	m.bs, m.bInit = biasScale(p, d.BStd)
	return m
}

func (m *denseImpl[T]) init(p []T, rng *rand.Rand) {
	fillNormal(p[:m.out*m.in], rng, m.wInit)
	fillNormal(p[m.out*m.in:], rng, m.bInit)
}

func (m *denseImpl[T]) forward(p []T, x, y []T, n int) {
	w := p[:m.out*m.in]
	linalg.Gemm(false, true, n, m.out, m.in, T(m.ws), x, m.in, w, m.in, 0, y, m.out)
	if m.bs != 0 {
		b := p[m.out*m.in:]
		bs := T(m.bs)
		for i := 0; i < n; i++ {
			row := y[i*m.out : (i+1)*m.out]
			for j := range row {
				row[j] += bs * b[j]
			}
		}
	}
}

func (m *denseImpl[T]) backward(p []T, x, _, dy, dx, dp []T, n int) {
	w := p[:m.out*m.in]
	linalg.Gemm(true, false, m.out, m.in, n, T(m.ws), dy, m.out, x, m.in, 1, dp[:m.out*m.in], m.in)
	if m.bs != 0 {
		db := dp[m.out*m.in:]
		bs := T(m.bs)
		for i := 0; i < n; i++ {
			for j, v := range dy[i*m.out : (i+1)*m.out] {
				db[j] += bs * v
			}
		}
	}
	if dx != nil {
		linalg.Gemm(false, false, n, m.in, m.out, T(m.ws), dy, m.out, w, m.in, 0, dx, m.in)
	}
}

// activationImpl applies the nonlinearity pointwise.
type activationImpl[T Float] struct{ cfg *Activation }

func (*activationImpl[T]) init([]T, *rand.Rand) {}

func (m *activationImpl[T]) forward(_ []T, x, y []T, _ int) {
	switch m.cfg.Kind {
	case "relu":
		reluForward(x, y)
	case "erf":
		a, b, c := m.cfg.A, m.cfg.B, m.cfg.C
		for i, v := range x {
			y[i] = T(a*math.Erf(b*float64(v)) + c)
		}
	case "tanh":
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case "gelu":
		for i, v := range x {
			y[i] = T(gelu(float64(v)))
		}
	}
}

func (m *activationImpl[T]) backward(_ []T, x, y, dy, dx, _ []T, _ int) {
	if dx == nil {
		return
	}
	switch m.cfg.Kind {
	case "relu":
		reluBackward(x, dy, dx)
	case "erf":
		a, b := m.cfg.A, m.cfg.B
		k := a * b * 2 / math.Sqrt(math.Pi)
		for i, v := range x {
			u := b * float64(v)
			dx[i] = dy[i] * T(k*math.Exp(-u*u))
		}
	case "tanh":
		for i, t := range y {
			dx[i] = dy[i] * (1 - t*t)
		}
	case "gelu":
		for i, v := range x {
			dx[i] = dy[i] * T(dgelu(float64(v)))
		}
	}
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
