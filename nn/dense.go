package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
)

// Dense is a fully connected layer on the whole (flattened) input:
// z = w_std/sqrt(fan_in) W x + b_std b in NTK parametrisation.
type Dense struct {
	Out        int
	WStd, BStd float64
}

// parseDense reads dense(out, w_std=, b_std=).
func parseDense(a *args) Layer {
	d := &Dense{Out: a.int(0, "out", 0, true), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
	a.done(1)
	return d
}

func (d *Dense) String() string { return fmt.Sprintf("dense(%d%s)", d.Out, stdSuffix(d.WStd, d.BStd)) }

func (d *Dense) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if err := checkWidth("width", d.Out); err != nil {
		return Shape{}, 0, err
	}
	if err := checkStd(d.WStd, d.BStd); err != nil {
		return Shape{}, 0, err
	}
	np := mulCap(d.Out, in.Size())
	if np >= 0 {
		np += d.Out
	}
	ctx.flat = true
	return flatShape(d.Out), np, nil
}

func (d *Dense) finite32(in, out Shape, p Param) finite[float32] {
	return newDenseImpl[float32](d, in, out, p)
}

func (d *Dense) finite64(in, out Shape, p Param) finite[float64] {
	return newDenseImpl[float64](d, in, out, p)
}

func (d *Dense) kernel(s *kernel.State) error {
	s.DiagMean()
	s.Affine(d.WStd, d.BStd)
	return nil
}

func (*Dense) kernelPositions(int, Shape) int { return 1 }

func (*Dense) flatInput() {}

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

func (*denseImpl[T]) outputFree() bool { return true }

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
