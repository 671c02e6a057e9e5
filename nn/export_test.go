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
