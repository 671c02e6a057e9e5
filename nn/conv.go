package nn

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// Conv is a convolution (Kind "conv"), a lifting convolution ("lift":
// image -> functions on the roto-translation group) or a group convolution
// ("gconv": functions on the group -> functions on the group), with stride
// 1 and an odd k×k filter.
//
// Following Cohen & Welling (2016), with g = (t, r) a translation t and a
// point-group element r:
//
//	lift:  f'(t, r) = Σ_z κ(z) f(t + r z)
//	gconv: f'(t, r) = Σ_{s ∈ S} Σ_z κ(z, s) f(t + r z, r s)
//
// implemented by expanding the base filter κ into one rotated (and, for
// the group axis, permuted) filter per r and running an ordinary
// convolution. Rotations by multiples of 90 degrees and reflections permute
// filter taps exactly; other angles (C_n, n > 4) interpolate the rotated
// filter bilinearly, as regular-field E2CNN layers do up to the choice of
// interpolation. The group support S of gconv is the whole group
// (support=all, default) or the identity alone (support=e: each group
// channel only sees itself, which makes the GCNN a CNN applied to every
// rotated copy). Basis (lift and gconv) is "pixel" (one weight per tap, the
// default) or "fourier" (coefficients of a band-limited steerable basis,
// evaluated analytically at the rotated taps; see basis.go).
type Conv struct {
	Kind       string
	Group      *group.Group
	Out, K     int
	Pad        kernel.Padding
	Support    string
	Basis      string
	WStd, BStd float64

	op *kernel.ConvOp
}

// parseConv reads conv(out, k=, padding=, w_std=, b_std=), lift(group,
// out, ..., basis=) and gconv(out, ..., support=, basis=); gconv takes the
// group of the features before it.
func parseConv(kind string, a *args, ctx *buildCtx) (Layer, error) {
	var gname string
	outPos, npos := 0, 1
	if kind == "lift" {
		gname = a.str(0, "group", "", true)
		outPos, npos = 1, 2
	}
	c := &Conv{Kind: kind, Out: a.int(outPos, "out", 0, true), K: a.int(-1, "k", 3, false), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
	if kind == "gconv" {
		c.Support = a.str(-1, "support", "all", false)
	}
	if kind != "conv" {
		c.Basis = a.str(-1, "basis", basisPixel, false)
		if c.Basis != basisPixel && c.Basis != basisFourier {
			a.fail("basis: expected pixel or fourier, got %q", c.Basis)
		}
	}
	c.Pad, _ = parsePad(a)
	a.done(npos)
	switch kind {
	case "lift":
		if a.err == "" {
			g, err := group.Parse(gname)
			if err != nil {
				return nil, err
			}
			c.Group = g
		}
	case "gconv":
		c.Group = ctx.group
	}
	return c, nil
}

func parsePad(a *args) (kernel.Padding, error) {
	p, err := kernel.ParsePadding(a.str(-1, "padding", "same", false))
	if err != nil {
		a.fail("%v", err)
	}
	return p, err
}

func (c *Conv) String() string {
	s := ""
	switch c.Kind {
	case "lift":
		s = fmt.Sprintf("lift(%s,%d,k=%d", c.Group.Name(), c.Out, c.K)
	default:
		s = fmt.Sprintf("%s(%d,k=%d", c.Kind, c.Out, c.K)
	}
	if c.Basis == basisFourier {
		s += ",basis=" + c.Basis
	}
	if c.Pad != kernel.Same {
		s += ",padding=" + c.Pad.String()
	}
	if c.Kind == "gconv" && c.Support != "all" {
		s += ",support=" + c.Support
	}
	return s + stdSuffix(c.WStd, c.BStd) + ")"
}

func (c *Conv) groupOf() *group.Group { return c.Group }

// Op returns the expanded filter description (after setup).
func (c *Conv) Op() *kernel.ConvOp { return c.op }

// WeightShape returns the shape of the layer's filter parameters (stored
// before its Out biases) for inputs with inC channels, once the layer is
// set up: [Out, K, K, inC] for conv and pixel lifts, [Out, S, K, K, inC]
// for pixel gconv with S support elements, and with basis=fourier the
// basis coefficients, [Out, B, inC] and [Out, S, B, inC] for B basis
// functions. Nil before setup.
func (c *Conv) WeightShape(inC int) []int {
	if c.op == nil {
		return nil
	}
	per := c.K * c.K
	if c.Basis == basisFourier {
		per = fourierSize(c.K)
	}
	inner := []int{c.K, c.K}
	if c.Basis == basisFourier {
		inner = []int{per}
	}
	shape := []int{c.Out}
	if c.Kind == "gconv" {
		shape = append(shape, c.op.Base/per)
	}
	return append(append(shape, inner...), inC)
}

func (c *Conv) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if err := c.checkFilter(in, ctx); err != nil {
		return Shape{}, 0, err
	}
	outG, support, err := c.groupAxis(in, ctx)
	if err != nil {
		return Shape{}, 0, err
	}
	oh, ow := in.H, in.W
	if c.Pad == kernel.Valid {
		oh, ow = in.H-c.K+1, in.W-c.K+1
		if oh < 1 || ow < 1 {
			return Shape{}, 0, fmt.Errorf("valid padding with k=%d leaves no output on %dx%d features", c.K, in.H, in.W)
		}
	}
	ns := 1
	if c.Kind == "gconv" {
		ns = len(support)
	}
	if t := mulCap(outG, ns, c.tapsPerSupport()); t < 0 || t > maxTaps {
		return Shape{}, 0, fmt.Errorf("the expanded filters of %d group elements × %d support elements × %d taps are too large (at most %d)", outG, ns, c.tapsPerSupport(), maxTaps)
	}
	c.setOp(in, oh, ow, outG, support)
	np := mulCap(c.Out, c.op.Base, in.C)
	if np >= 0 {
		np += c.Out
	}
	return Shape{oh, ow, outG, c.Out}, np, nil
}

// checkFilter validates the width, filter and scales against the input.
func (c *Conv) checkFilter(in Shape, ctx *buildCtx) error {
	if err := checkWidth("channels", c.Out); err != nil {
		return err
	}
	if c.K < 1 || c.K%2 == 0 {
		return fmt.Errorf("filter size k must be odd and positive, got %d", c.K)
	}
	if err := checkStd(c.WStd, c.BStd); err != nil {
		return err
	}
	if ctx.flat {
		return fmt.Errorf("needs image features, got a flat vector of %d (inputs must be (N, C, H, W), and no dense or flatten may come before)", in.Size())
	}
	if lim := min(MaxFilter, 2*max(in.H, in.W)-1); c.K > lim {
		return fmt.Errorf("filter size k=%d is larger than %d (twice the %dx%d features, at most %d)", c.K, lim, in.H, in.W, MaxFilter)
	}
	return nil
}

// groupAxis checks the group axis of the input and returns the number of
// output group elements and (gconv) the group support of the filters.
func (c *Conv) groupAxis(in Shape, ctx *buildCtx) (outG int, support []int, err error) {
	outG = 1
	switch c.Kind {
	case "conv":
		if in.G != 1 {
			return 0, nil, fmt.Errorf("conv on group features would break equivariance; use gconv")
		}
	case "lift":
		if in.G != 1 {
			return 0, nil, fmt.Errorf("lift expects image features, got group features %v", in)
		}
		if err := planarGroup(c.Group); err != nil {
			return 0, nil, err
		}
		outG = c.Group.Order()
		ctx.group = c.Group
	case "gconv":
		if c.Group == nil || in.G != c.Group.Order() {
			return 0, nil, fmt.Errorf("gconv needs group features from a preceding lift (input is %v)", in)
		}
		outG = c.Group.Order()
		switch c.Support {
		case "all":
			for s := 0; s < outG; s++ {
				support = append(support, s)
			}
		case "e", "id", "identity":
			c.Support = "e"
			support = []int{0}
		default:
			return 0, nil, fmt.Errorf("support must be all or e, got %q", c.Support)
		}
	}
	return outG, support, nil
}

// setOp builds the expanded filter description c.op.
func (c *Conv) setOp(in Shape, oh, ow, outG int, support []int) {
	if c.Basis == basisFourier {
		c.op = buildBasisOp(c.Group, c.Kind, newFourierBasis(c.K), c.Pad, in, oh, ow, outG, support)
		return
	}
	c.op = buildConvOp(c.Group, c.Kind, c.K, c.Pad, in, oh, ow, outG, support)
	if c.Kind == "gconv" && len(support) > 1 && exactTaps(c.op) {
		c.op.Reduced = buildConvOp(c.Group, c.Kind, c.K, c.Pad, in, oh, ow, outG, []int{0})
	}
	if c.Kind != "conv" && exactTaps(c.op) {
		// Exact group actions keep the kernel state invariant under right
		// translation of the group indices: store it as a slab.
		c.op.Slab = true
		G := c.Group.Order()
		c.op.Rel = make([][]int32, G)
		for a := range c.op.Rel {
			c.op.Rel[a] = make([]int32, G)
			for b := range c.op.Rel[a] {
				c.op.Rel[a][b] = int32(c.Group.Mul(a, c.Group.Inv(b)))
			}
		}
	}
}

func planarGroup(g *group.Group) error {
	if g.Dim() != 2 || !g.Closed() {
		return fmt.Errorf("group %s does not act on the pixel grid as a finite group (need c<n> or d<n>)", g.Name())
	}
	return nil
}

// buildConvOp expands the base filter: for output group element r, base
// index b = (support element, tap z) feeds output tap z' with r^{-1} z' ≈ z
// (bilinear weights) and input group element r·s.
func buildConvOp(g *group.Group, kind string, k int, pad kernel.Padding, in Shape, oh, ow, outG int, support []int) *kernel.ConvOp {
	c := (k - 1) / 2
	return buildTapOp(g, kind, k, k*k, pad, in, oh, ow, outG, support, func(_, _ int, qi, qj float64, add func(int, float64)) {
		for _, nb := range bilinear(qi, qj, c) {
			add((nb.i+c)*k+nb.j+c, nb.w)
		}
	})
}

// buildTapOp builds the expanded filter description of a filter with per
// base entries per support element: for output group element r and output
// tap z, feed calls add(m, w) for every base entry m that feeds z with
// weight w, given the source point q = r⁻¹z in the base filter (q = z for
// conv); base index (support element s, m) then reads input group element
// r·s (gconv).
func buildTapOp(g *group.Group, kind string, k, per int, pad kernel.Padding, in Shape, oh, ow, outG int, support []int,
	feed func(zi, zj int, qi, qj float64, add func(m int, w float64))) *kernel.ConvOp {
	c := (k - 1) / 2
	ns := 1
	if kind == "gconv" {
		ns = len(support)
	}
	op := &kernel.ConvOp{K: k, Pad: pad, InG: in.G, OutG: outG, InH: in.H, InW: in.W, OutH: oh, OutW: ow, Base: ns * per}
	op.Taps = make([][][]kernel.Tap, outG)
	for r := 0; r < outG; r++ {
		op.Taps[r] = make([][]kernel.Tap, op.Base)
		rinv := 0
		if g != nil && kind != "conv" {
			rinv = g.Inv(r)
		}
		for zi := -c; zi <= c; zi++ {
			for zj := -c; zj <= c; zj++ {
				qi, qj := float64(zi), float64(zj)
				if kind != "conv" {
					qi, qj = g.PlanarOffset(rinv, qi, qj)
				}
				feed(zi, zj, qi, qj, func(m int, w float64) {
					for si := 0; si < ns; si++ {
						sIn := 0
						if kind == "gconv" {
							sIn = g.Mul(r, support[si])
						}
						op.Taps[r][si*per+m] = append(op.Taps[r][si*per+m], kernel.Tap{DI: int32(zi), DJ: int32(zj), S: int32(sIn), W: w})
					}
				})
			}
		}
	}
	return op
}

// exactTaps reports whether every base index maps to exactly one tap of
// weight 1 for every output group element (a pixel-permutation group).
func exactTaps(op *kernel.ConvOp) bool {
	for _, r := range op.Taps {
		for _, taps := range r {
			if len(taps) != 1 || taps[0].W != 1 {
				return false
			}
		}
	}
	return true
}

type nbr struct {
	i, j int
	w    float64
}

// bilinear returns the grid points within [-c, c]^2 around (qi, qj) with
// their bilinear weights (one point with weight 1 when (qi, qj) is on the
// grid).
func bilinear(qi, qj float64, c int) []nbr {
	ri, rj := math.Round(qi), math.Round(qj)
	if math.Abs(qi-ri) < 1e-9 && math.Abs(qj-rj) < 1e-9 {
		if int(math.Abs(ri)) <= c && int(math.Abs(rj)) <= c {
			return []nbr{{int(ri), int(rj), 1}}
		}
		return nil
	}
	i0, j0 := math.Floor(qi), math.Floor(qj)
	fi, fj := qi-i0, qj-j0
	var out []nbr
	for _, t := range [4]nbr{{0, 0, (1 - fi) * (1 - fj)}, {0, 1, (1 - fi) * fj}, {1, 0, fi * (1 - fj)}, {1, 1, fi * fj}} {
		ii, jj := int(i0)+t.i, int(j0)+t.j
		if t.w < 1e-12 || ii < -c || ii > c || jj < -c || jj > c {
			continue
		}
		out = append(out, nbr{ii, jj, t.w})
	}
	return out
}

func (c *Conv) kernel(s *kernel.State) error {
	if err := c.checkKernel(); err != nil {
		return err
	}
	return s.ConvAffine(c.op, c.WStd, c.BStd)
}

func (c *Conv) kernelReLU(s *kernel.State) error {
	if err := c.checkKernel(); err != nil {
		return err
	}
	return s.ConvAffineReLU(c.op, c.WStd, c.BStd)
}

func (c *Conv) canPoolFused() bool { return c.op.CanPoolFused() }

func (c *Conv) kernelReLUPool(s *kernel.State) error {
	if err := c.checkKernel(); err != nil {
		return err
	}
	return s.ConvAffineReLUPool(c.op, c.WStd, c.BStd)
}

func (c *Conv) canMeanFused() bool { return c.op.CanMeanFused() }

func (c *Conv) kernelReLUMean(s *kernel.State) error {
	if err := c.checkKernel(); err != nil {
		return err
	}
	return s.ConvAffineReLUMean(c.op, c.WStd, c.BStd)
}

func (c *Conv) kernelPositions(int, Shape) int { return c.op.OutG * c.op.OutH * c.op.OutW }

func (c *Conv) kernelColumns(q int) int {
	if c.op.Slab {
		return c.op.OutH * c.op.OutW
	}
	return q
}

func (c *Conv) finite32(in, out Shape, p Param) finite[float32] {
	return newConvImpl[float32](c, in, out, p)
}

func (c *Conv) finite64(in, out Shape, p Param) finite[float64] {
	return newConvImpl[float64](c, in, out, p)
}
