package nn

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/kernel"
)

type kernelState = kernel.State

func newQuad(n int) *kernel.Quadrature { return kernel.NewQuadrature(n) }

func fmtSpec(f string, v ...any) string { return fmt.Sprintf(f, v...) }

func sqrt(v float64) float64 { return math.Sqrt(v) }

// setSlab switches the slab storage of exact group layers on or off.
func (a *Arch) setSlab(on bool) (changed bool) {
	for _, l := range a.Layers {
		switch l := l.(type) {
		case *Conv:
			if l.Kind != "conv" && exactTaps(l.op) && l.op.Slab != on {
				l.op.Slab = on
				changed = true
			}
		case *LiftDense:
			if l.rep.Exact() && l.slab != on {
				l.slab = on
				changed = true
			}
		}
	}
	return changed
}
