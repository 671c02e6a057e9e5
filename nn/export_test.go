package nn

import (
	"fmt"

	"github.com/eqens/eqens/kernel"
)

type kernelState = kernel.State

func newQuad(n int) *kernel.Quadrature { return kernel.NewQuadrature(n) }

func fmtSpec(f string, v ...any) string { return fmt.Sprintf(f, v...) }
