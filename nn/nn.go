package nn

import (
	"fmt"
	"strings"

	"github.com/eqens/eqens/group"
)

// Float is the set of element types networks compute in: exactly float32
// and float64, for which every layer builds its implementation (see Layer).
type Float interface{ float32 | float64 }

// Shape is the shape of one sample's activation, stored [H][W][G][C].
type Shape struct{ H, W, G, C int }

// Size is the number of values in one sample.
func (s Shape) Size() int { return s.H * s.W * s.G * s.C }

// Spatial reports whether the shape has pixel positions.
func (s Shape) Spatial() bool { return s.H > 1 || s.W > 1 }

func (s Shape) String() string {
	switch {
	case s.G > 1:
		return fmt.Sprintf("%dx%dx%dx%d (HxWxGxC)", s.H, s.W, s.G, s.C)
	case s.Spatial():
		return fmt.Sprintf("%dx%dx%d (HxWxC)", s.H, s.W, s.C)
	default:
		return fmt.Sprintf("%d", s.C)
	}
}

func flatShape(n int) Shape { return Shape{1, 1, 1, n} }

// Param selects the parametrisation of weights and biases.
type Param int

const (
	// NTK parametrisation: W, b ~ N(0, 1); the forward pass computes
	// w_std/sqrt(fan_in) W x + b_std b. This is what the infinite-width
	// kernels describe and the default.
	NTK Param = iota
	// Standard parametrisation: W ~ N(0, w_std^2/fan_in), b ~ N(0, b_std^2);
	// the forward pass computes W x + b.
	Standard
)

// ParseParam parses "ntk" or "standard".
func ParseParam(s string) (Param, error) {
	switch strings.ToLower(s) {
	case "ntk", "":
		return NTK, nil
	case "standard", "std":
		return Standard, nil
	}
	return 0, fmt.Errorf("unknown parametrisation %q (want ntk or standard)", s)
}

func (p Param) String() string {
	if p == Standard {
		return "standard"
	}
	return "ntk"
}

// Arch is a parsed architecture for a given input shape: the one
// description from which networks and kernels are derived.
type Arch struct {
	// Spec is the canonical spec string.
	Spec string
	// InShape is the input shape in dataset layout: [C H W] or [D].
	InShape []int
	// Param is the parametrisation of finite networks.
	Param  Param
	Layers []Layer
	// Shapes[i] is the input shape of layer i; Shapes[len(Layers)] the
	// output shape.
	Shapes  []Shape
	NParams []int
}

// Limits on architectures, so that a spec (from a user, a config file or a
// checkpoint header) can never make eqens allocate without bound: they are
// far above what fits in memory anyway.
const (
	// MaxWidth is the largest number of units or channels of a layer.
	MaxWidth = 1 << 20
	// MaxFilter is the largest filter size k.
	MaxFilter = 255
	// MaxInput is the largest number of input values per sample.
	MaxInput = 1 << 24
	// MaxFeatures is the largest number of values per sample of any layer.
	MaxFeatures = 1 << 28
	// MaxParams is the largest number of parameters of a network.
	MaxParams = 1 << 31
	// maxTaps bounds the expanded filter description of a group layer.
	maxTaps = 1 << 24
)

// mulCap returns the product of non-negative values, or -1 if it exceeds
// MaxParams·MaxWidth (and so could overflow).
func mulCap(vals ...int) int {
	const limit = MaxParams * MaxWidth
	p := 1
	for _, v := range vals {
		if v < 0 {
			return -1
		}
		if v != 0 && p > limit/v {
			return -1
		}
		p *= v
	}
	return p
}

// checkWidth validates a layer width.
func checkWidth(what string, n int) error {
	if n < 1 || n > MaxWidth {
		return fmt.Errorf("%s must be between 1 and %d, got %d", what, MaxWidth, n)
	}
	return nil
}

// Parse builds an architecture from a serial spec for inputs of the given
// shape ([C H W] images or [D] vectors).
func Parse(spec string, inShape []int, param Param) (*Arch, error) {
	toks, err := tokenize(spec)
	if err != nil {
		return nil, err
	}
	in, err := inputShape(inShape)
	if err != nil {
		return nil, err
	}
	a := &Arch{InShape: append([]int(nil), inShape...), Param: param, Shapes: []Shape{in}}
	ctx := &buildCtx{first: true, flat: len(inShape) == 1}
	var canon []string
	for i, t := range toks {
		l, err := makeLayer(t, ctx)
		if err == nil {
			var out Shape
			var np int
			out, np, err = l.setup(a.Shapes[i], ctx)
			if err == nil {
				if sz := mulCap(out.H, out.W, out.G, out.C); sz < 0 || sz > MaxFeatures {
					err = fmt.Errorf("its output of %dx%dx%dx%d values per sample is too large (at most %d)", out.H, out.W, out.G, out.C, MaxFeatures)
				} else if np < 0 || np > MaxParams || a.NumParams()+np > MaxParams {
					err = fmt.Errorf("too many parameters (the network may have at most %d)", MaxParams)
				}
			}
			if err == nil {
				a.Layers = append(a.Layers, l)
				a.Shapes = append(a.Shapes, out)
				a.NParams = append(a.NParams, np)
				canon = append(canon, l.String())
				ctx.first = false
				continue
			}
		}
		return nil, &SpecError{Spec: spec, Start: t.start, End: t.end, Index: i + 1, Msg: err.Error()}
	}
	a.Spec = strings.Join(canon, ",")
	return a, nil
}

func inputShape(s []int) (Shape, error) {
	for _, v := range s {
		if v <= 0 {
			return Shape{}, fmt.Errorf("input shape %v has a non-positive dimension", s)
		}
	}
	if n := mulCap(s...); n < 0 || n > MaxInput {
		return Shape{}, fmt.Errorf("input shape %v has more than %d values per sample", s, MaxInput)
	}
	switch len(s) {
	case 1:
		return flatShape(s[0]), nil
	case 3:
		return Shape{H: s[1], W: s[2], G: 1, C: s[0]}, nil
	case 2:
		return Shape{H: s[0], W: s[1], G: 1, C: 1}, nil
	}
	return Shape{}, fmt.Errorf("input shape %v: want [C H W] for images or [D] for vectors", s)
}

// OutputDim is the number of outputs per sample.
func (a *Arch) OutputDim() int { return a.Shapes[len(a.Shapes)-1].Size() }

// NumParams is the total number of parameters.
func (a *Arch) NumParams() int {
	n := 0
	for _, p := range a.NParams {
		n += p
	}
	return n
}

// InputSize is the number of input values per sample.
func (a *Arch) InputSize() int { return a.Shapes[0].Size() }

// Group returns the group of the first group-equivariant layer, or nil.
func (a *Arch) Group() *group.Group {
	for _, l := range a.Layers {
		if g, ok := l.(groupLayer); ok {
			return g.groupOf()
		}
	}
	return nil
}
