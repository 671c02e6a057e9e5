package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
)

// TestConvDirectSkipsDroppedPositions checks, bit for bit, that the direct
// path's outputs and input gradients, whose products skip the k-1 dropped
// positions of every grid row (linalg.GemmOverlapRows), equal the rows kept
// from the products over the whole padded grid (linalg.GemmOverlap), as
// computed before: odd sizes, same and valid padding, k = 1, 3, 5, lifting
// and group convolutions, a pooled layer; float32 and float64.
func TestConvDirectSkipsDroppedPositions(t *testing.T) {
	specs := []struct {
		spec  string
		shape []int
	}{
		{"conv(5,k=3,b_std=0.1),relu,conv(4,k=3),relu,globalavgpool,dense(3)", []int{3, 9, 7}},
		{"conv(5,k=3,padding=valid),relu,conv(4,k=5),relu,conv(3,k=1),flatten,dense(2)", []int{2, 11, 10}},
		{"conv(4,k=5,padding=valid,b_std=0.2),relu,conv(3,k=3,padding=valid),flatten,dense(2)", []int{1, 12, 9}},
		{"conv(16,k=3),relu,conv(32,k=3),relu,globalavgpool,dense(10)", []int{1, 28, 28}},
		{"lift(c4,3,k=3,b_std=0.1),relu,gconv(2,k=3),relu,gconv(2,k=5,support=e),gpool,dense(3)", []int{2, 8, 8}},
		{"lift(d4,2,k=5),relu,gconv(2,k=3,padding=valid),gpool,dense(2)", []int{1, 9, 9}},
	}
	for _, tc := range specs {
		t.Run("float32/"+tc.spec, func(t *testing.T) { testDirectRows[float32](t, tc.spec, tc.shape) })
		t.Run("float64/"+tc.spec, func(t *testing.T) { testDirectRows[float64](t, tc.spec, tc.shape) })
	}
}

func testDirectRows[T Float](t *testing.T, spec string, shape []int) {
	a, err := Parse(spec, shape, Standard)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	rng := rand.New(rand.NewPCG(21, 22))
	rnd := func(size int) []T {
		v := make([]T, size)
		for i := range v {
			v[i] = T(rng.NormFloat64())
		}
		return v
	}
	net := New[T](a)
	net.Init(4)
	net.SetWorkers(1)
	for _, l := range net.layers { // small images take the direct path too
		if c, ok := l.(*convImpl[T]); ok && !c.direct && c.cfg.op.Pad != kernel.Circular {
			c.direct, c.gradT, c.chunk = true, true, 1
		}
	}
	// A step sets the layers' filters (wperm, wflip) and sign bits.
	net.ZeroGrad()
	net.Forward(rnd(n*a.InputSize()), n)
	net.Backward(rnd(n * a.OutputDim()))
	checked := 0
	same := func(what string, s, i int, got, want T) {
		t.Helper()
		if math.Float64bits(float64(got)) != math.Float64bits(float64(want)) {
			t.Fatalf("%s of sample %d, entry %d: %v, over the whole grid %v", what, s, i, got, want)
		}
	}
	for _, l := range net.layers {
		m, ok := l.(*convImpl[T])
		if !ok || !m.direct {
			continue
		}
		checked++
		op := m.cfg.op
		k, gc, nout := op.K, m.in.G*m.in.C, op.OutG*m.cfg.Out
		wp, _, rows := m.grid()
		npos := op.OutH * op.OutW
		x := rnd(n * m.in.Size())
		m.flipFilter() // a first layer has none
		pt := &convPart[T]{db: make([]T, m.cfg.Out)}
		for s := 0; s < n; s++ {
			y := make([]T, npos*nout)
			m.outputs(pt, x, s, y)
			full := make([]T, rows*nout)
			linalg.GemmOverlap(false, true, rows, nout, m.ncol, T(m.ws), pt.x3, k*gc, m.wperm, m.ncol, 0, full, nout)
			for i := 0; i < op.OutH; i++ {
				for j := 0; j < op.OutW*nout; j++ {
					same("output", s, i*op.OutW*nout+j, y[i*op.OutW*nout+j], full[i*wp*nout+j])
				}
			}
			// The input gradient, from the gradient DY3 that backwardDirect
			// leaves in the part.
			sz := npos * nout
			if m.poolR > 0 {
				sz = m.poolR
			}
			var ys []T
			if m.relu && !m.poolFwd {
				ys = rnd(npos * nout)
			}
			dx := make([]T, n*m.in.Size())
			m.backwardDirect(pt, x, ys, rnd(sz), make([]T, len(m.wexp)), dx, s)
			wp, p, _ := m.grid()
			q0 := p*wp + p
			u0 := min(0, q0-(k-1))
			drows := (op.InH-1)*wp + op.InW
			fullDx := make([]T, drows*gc)
			linalg.GemmOverlap(false, false, drows, gc, k*k*nout, T(m.ws), pt.dy3[(q0-(k-1)-u0)*k*nout:], k*nout, m.wflip, gc, 0, fullDx, gc)
			dxs := dx[s*m.in.Size():]
			for i := 0; i < op.InH; i++ {
				for j := 0; j < op.InW*gc; j++ {
					same("input gradient", s, i*op.InW*gc+j, dxs[i*op.InW*gc+j], fullDx[i*wp*gc+j])
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no layer took the direct path")
	}
}
