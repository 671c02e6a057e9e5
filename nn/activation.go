package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/eqens/eqens/kernel"
)

// Activation is a pointwise nonlinearity, one of the activations table
// (activations.go): relu, erf (a erf(b x) + c, as in neural-tangents),
// quadratic (a x + b x²), tanh or gelu (the exact x Φ(x)).
type Activation struct {
	Kind    string
	A, B, C float64 // parameters (erf: a, b, c; quadratic: a, b)
	quad    *kernel.Quadrature
}

// activationDef describes one activation: everything the spec parser, the
// finite layers and the kernel need.
type activationDef struct {
	name string
	// params names the keyword parameters, held in Activation.A, B and C
	// (at most three), and defaults gives their default values.
	params   []string
	defaults []float64
	// fn returns φ and its derivative φ' for the layer's parameters. By
	// default the finite layer computes y = φ(x) and dx = dy φ'(x) in
	// float64, element by element, and the kernel map integrates φ and φ'
	// by Gauss–Hermite quadrature (kernel.State.Activation).
	fn func(l *Activation) (f, df func(float64) float64)
	// kernel, if set, is the (closed-form) kernel map instead.
	kernel func(l *Activation, s *kernel.State)
	// rectifier marks max(x, 0) (see rectifierLayer).
	rectifier bool
	// f32 and f64, where set, replace the default finite passes for one
	// element type (e.g. with vectorised code).
	f32 activationPasses[float32]
	f64 activationPasses[float64]
}

// activationPasses are an activation's finite passes on whole slices: y
// from x, and the input gradient dx from x, y and the output gradient dy.
type activationPasses[T Float] struct {
	forward  func(x, y []T)
	backward func(x, y, dy, dx []T)
}

// activationNamed returns the activation called name, or nil.
func activationNamed(name string) *activationDef {
	for _, d := range activations {
		if d.name == name {
			return d
		}
	}
	return nil
}

// parseActivation reads an activation token: keyword parameters only.
func parseActivation(d *activationDef, a *args) Layer {
	l := &Activation{Kind: d.name}
	for i, name := range d.params {
		*l.param(i) = a.float(-1, name, d.defaults[i])
	}
	a.done(0)
	return l
}

func (l *Activation) def() *activationDef { return activationNamed(l.Kind) }

// param returns the i-th parameter field.
func (l *Activation) param(i int) *float64 { return [...]*float64{&l.A, &l.B, &l.C}[i] }

func (l *Activation) String() string {
	d := l.def()
	if d == nil {
		return l.Kind
	}
	var kv []string
	changed := false
	for i, name := range d.params {
		v := *l.param(i)
		changed = changed || v != d.defaults[i]
		kv = append(kv, name+"="+fmtFloat(v))
	}
	if !changed {
		return l.Kind
	}
	return l.Kind + "(" + strings.Join(kv, ",") + ")"
}

func (l *Activation) rectifier() bool {
	d := l.def()
	return d != nil && d.rectifier
}

// readsVariances tells the kernel engine that this layer's kernel map needs
// the variances of both inputs at every position.
func (l *Activation) readsVariances() bool { return true }

func (l *Activation) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if ctx.first {
		return Shape{}, 0, fmt.Errorf("a network cannot start with an activation: put a linear layer (dense, conv, lift) first")
	}
	if d := l.def(); d != nil && d.kernel == nil {
		l.quad = kernel.NewQuadrature(48)
	}
	return in, 0, nil
}

func (l *Activation) kernel(s *kernel.State) error {
	d := l.def()
	switch {
	case d == nil:
		return fmt.Errorf("no kernel for activation %q", l.Kind)
	case d.kernel != nil:
		d.kernel(l, s)
	default:
		f, df := d.fn(l)
		s.Activation(l.quad, f, df)
	}
	return nil
}

func (*Activation) kernelPositions(p int, _ Shape) int { return p }

func (l *Activation) finite32(Shape, Shape, Param) finite[float32] {
	var over activationPasses[float32]
	if d := l.def(); d != nil {
		over = d.f32
	}
	return newActivationImpl(l, over)
}

func (l *Activation) finite64(Shape, Shape, Param) finite[float64] {
	var over activationPasses[float64]
	if d := l.def(); d != nil {
		over = d.f64
	}
	return newActivationImpl(l, over)
}

// activationImpl applies the nonlinearity pointwise.
type activationImpl[T Float] struct{ passes activationPasses[T] }

// newActivationImpl completes the passes over with the defaults from φ
// and φ'.
func newActivationImpl[T Float](l *Activation, over activationPasses[T]) *activationImpl[T] {
	m := &activationImpl[T]{passes: over}
	p := &m.passes
	d := l.def()
	if d == nil {
		// An unknown activation (not from the parser) does nothing.
		p.forward = func(_, _ []T) {}
		p.backward = func(_, _, _, _ []T) {}
		return m
	}
	if p.forward != nil && p.backward != nil {
		return m
	}
	f, df := d.fn(l)
	if p.forward == nil {
		p.forward = func(x, y []T) {
			for i, v := range x {
				y[i] = T(f(float64(v)))
			}
		}
	}
	if p.backward == nil {
		p.backward = func(x, _, dy, dx []T) {
			for i, v := range x {
				dx[i] = dy[i] * T(df(float64(v)))
			}
		}
	}
	return m
}

func (*activationImpl[T]) init([]T, *rand.Rand) {}

func (m *activationImpl[T]) forward(_ []T, x, y []T, _ int) { m.passes.forward(x, y) }

func (m *activationImpl[T]) backward(_ []T, x, y, dy, dx, _ []T, _ int) {
	if dx == nil {
		return
	}
	m.passes.backward(x, y, dy, dx)
}
