package nn

import (
	"math/rand/v2"

	"github.com/eqens/eqens/kernel"
)

// Flatten reshapes the features into a vector. Its kernel keeps the
// positions (the following dense layer averages their diagonal), so that
// pointwise activations after it stay exact.
type Flatten struct{}

// parseFlatten reads flatten (no arguments).
func parseFlatten(a *args) Layer {
	a.done(0)
	return &Flatten{}
}

func (Flatten) String() string { return "flatten" }

func (Flatten) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	ctx.flat = true
	return flatShape(in.Size()), 0, nil
}

func (Flatten) finite32(Shape, Shape, Param) finite[float32] { return copyImpl[float32]{} }
func (Flatten) finite64(Shape, Shape, Param) finite[float64] { return copyImpl[float64]{} }

func (Flatten) kernel(*kernel.State) error         { return nil }
func (Flatten) kernelPositions(p int, _ Shape) int { return p }
func (Flatten) flatInput()                         {}

// copyImpl is the finite implementation of layers that only reinterpret
// the shape (flatten).
type copyImpl[T Float] struct{}

func (copyImpl[T]) outputFree() bool               { return true }
func (copyImpl[T]) init([]T, *rand.Rand)           {}
func (copyImpl[T]) forward(_ []T, x, y []T, _ int) { copy(y, x) }
func (copyImpl[T]) backward(_ []T, _, _, dy, dx, _ []T, _ int) {
	if dx != nil {
		copy(dx, dy)
	}
}
