package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// LayerNames lists the layer names the spec parser knows.
var layerNames = []string{"dense", "conv", "flatten", "globalavgpool", "avgpool", "maxpool", "relu", "erf", "tanh", "gelu", "lift", "gconv", "gpool", "liftdense", "canon"}

// makeLayer turns a token into a layer description.
func makeLayer(t *token, ctx *buildCtx) (Layer, error) {
	a := &args{t: t}
	var l Layer
	switch t.name {
	case "dense":
		d := &Dense{Out: a.int(0, "out", 0, true), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
		a.done(1)
		l = d
	case "relu", "tanh", "gelu":
		a.done(0)
		l = &Activation{Kind: t.name}
	case "erf":
		l = &Activation{Kind: "erf", A: a.float(-1, "a", 1), B: a.float(-1, "b", 1), C: a.float(-1, "c", 0)}
		a.done(0)
	case "flatten":
		a.done(0)
		l = &Flatten{}
	case "globalavgpool", "gap":
		a.done(0)
		l = &Pool{Kind: "globalavgpool"}
	case "gpool":
		a.done(0)
		l = &Pool{Kind: "gpool"}
	case "avgpool", "maxpool":
		l = &Pool{Kind: t.name, K: a.int(0, "k", 2, false)}
		a.done(1)
	case "conv":
		c := &Conv{Kind: "conv", Out: a.int(0, "out", 0, true), K: a.int(-1, "k", 3, false), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
		c.Pad, _ = parsePad(a)
		a.done(1)
		l = c
	case "lift":
		gname := a.str(0, "group", "", true)
		c := &Conv{Kind: "lift", Out: a.int(1, "out", 0, true), K: a.int(-1, "k", 3, false), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
		c.Pad, _ = parsePad(a)
		a.done(2)
		if a.err == "" {
			g, err := group.Parse(gname)
			if err != nil {
				return nil, err
			}
			c.Group = g
		}
		l = c
	case "gconv":
		c := &Conv{Kind: "gconv", Out: a.int(0, "out", 0, true), K: a.int(-1, "k", 3, false), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0),
			Support: a.str(-1, "support", "all", false)}
		c.Pad, _ = parsePad(a)
		a.done(1)
		c.Group = ctx.group
		l = c
	case "liftdense":
		gname := a.str(0, "group", "", true)
		d := &LiftDense{Out: a.int(1, "out", 0, true), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
		a.done(2)
		if a.err == "" {
			g, err := group.Parse(gname)
			if err != nil {
				return nil, err
			}
			d.Group = g
		}
		l = d
	case "canon":
		return makeCanon(a)
	default:
		return nil, fmt.Errorf("unknown layer %q (known: %s)", t.name, strings.Join(layerNames, ", "))
	}
	if a.err != "" {
		return nil, fmt.Errorf("%s", a.err)
	}
	return l, nil
}

func parsePad(a *args) (kernel.Padding, error) {
	p, err := kernel.ParsePadding(a.str(-1, "padding", "same", false))
	if err != nil {
		a.fail("%v", err)
	}
	return p, err
}

func checkStd(wStd, bStd float64) error {
	if !(wStd > 0) || math.IsInf(wStd, 0) {
		return fmt.Errorf("w_std must be a positive number, got %g", wStd)
	}
	if !(bStd >= 0) || math.IsInf(bStd, 0) {
		return fmt.Errorf("b_std must be a non-negative number, got %g", bStd)
	}
	return nil
}

func stdSuffix(wStd, bStd float64) string {
	s := ""
	if wStd != 1 {
		s += ",w_std=" + fmtFloat(wStd)
	}
	if bStd != 0 {
		s += ",b_std=" + fmtFloat(bStd)
	}
	return s
}

// Dense is a fully connected layer on the whole (flattened) input:
// z = w_std/sqrt(fan_in) W x + b_std b in NTK parametrisation.
type Dense struct {
	Out        int
	WStd, BStd float64
}

func (d *Dense) String() string { return fmt.Sprintf("dense(%d%s)", d.Out, stdSuffix(d.WStd, d.BStd)) }

func (d *Dense) setup(in Shape, _ *buildCtx) (Shape, int, error) {
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
	return flatShape(d.Out), np, nil
}

func (d *Dense) kernel(s *kernel.State) error {
	s.DiagMean()
	s.Affine(d.WStd, d.BStd)
	return nil
}

// Activation is a pointwise nonlinearity: relu, erf (a erf(b x) + c, as in
// neural-tangents), tanh or gelu (the exact x Φ(x)).
type Activation struct {
	Kind    string
	A, B, C float64 // erf parameters
	quad    *kernel.Quadrature
}

func (l *Activation) String() string {
	if l.Kind == "erf" && (l.A != 1 || l.B != 1 || l.C != 0) {
		return fmt.Sprintf("erf(a=%s,b=%s,c=%s)", fmtFloat(l.A), fmtFloat(l.B), fmtFloat(l.C))
	}
	return l.Kind
}

// readsVariances tells the kernel engine that this layer's kernel map needs
// the variances of both inputs at every position.
func (l *Activation) readsVariances() bool { return true }

func (l *Activation) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if ctx.first {
		return Shape{}, 0, fmt.Errorf("a network cannot start with an activation: put a linear layer (dense, conv, lift) first")
	}
	if l.Kind == "tanh" || l.Kind == "gelu" {
		l.quad = kernel.NewQuadrature(48)
	}
	return in, 0, nil
}

func (l *Activation) kernel(s *kernel.State) error {
	switch l.Kind {
	case "relu":
		s.ReLU()
	case "erf":
		s.Erf(l.A, l.B, l.C)
	case "tanh":
		s.Activation(l.quad, math.Tanh, func(x float64) float64 { t := math.Tanh(x); return 1 - t*t })
	case "gelu":
		s.Activation(l.quad, gelu, dgelu)
	default:
		return fmt.Errorf("no kernel for activation %q", l.Kind)
	}
	return nil
}

func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
func dgelu(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

// Flatten reshapes the features into a vector. Its kernel keeps the
// positions (the following dense layer averages their diagonal), so that
// pointwise activations after it stay exact.
type Flatten struct{}

func (Flatten) String() string { return "flatten" }
func (Flatten) setup(in Shape, _ *buildCtx) (Shape, int, error) {
	return flatShape(in.Size()), 0, nil
}
func (Flatten) kernel(*kernel.State) error { return nil }

// Pool averages features: globalavgpool over the spatial positions
// (keeping the group axis), gpool over the spatial positions and the group
// (the invariant output of a GCNN, as the reference GroupPool does), avgpool
// and maxpool over k×k windows with stride k. maxpool has no closed-form
// kernel.
type Pool struct {
	Kind string
	K    int
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
