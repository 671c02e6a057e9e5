package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// Canon is a canonicalisation layer (Kaba et al., "Equivariance with
// learned canonicalization functions", ICML 2023): spec
//
//	canon(G, C, k=5[, pool=1][, learn=ste|frozen])
//
// A small G-equivariant network, the canonicaliser,
//
//	x̄             = avgpool(pool)(x)                     (optional: P×P average pooling, H and W divisible by P)
//	h(x)(t, g, c) = relu(lift(G, C, k)(x̄)(t, g, c))      (a lifting convolution, smooth filters: see canonOp)
//	F(x)(g, c)    = mean_t h(x)(t, g, c)                 (over the pixels; the disc of the circular mask for interpolated groups)
//	s(x)_g        = Σ_c w_c F(x)(g, c)                   (one score per group element)
//
// predicts an orientation g*(x) = argmax_g s(x)_g, and the layer outputs the
// input brought to its canonical pose,
//
//	y = rho(g*(x))^{-1} x,
//
// through the group's image representation (group.ImageRep; masked for
// interpolated groups). The scores are equivariant: a lifting convolution
// satisfies lift(rho(h)x)(t, r) = lift(x)(h^{-1}t, h^{-1}r), so
// s(rho(h)x)_r = s(x)_{h^{-1}r}, g*(rho(h)x) = h g*(x) and
// y(rho(h)x) = rho(g*)^{-1} rho(h)^{-1} rho(h) x = y(x). For groups acting
// by pixel permutations (C4, D4) the canonical image is therefore
// bit-identical on the whole orbit, and any network after the layer is
// exactly invariant; for interpolated groups (C8, C16) invariance holds up
// to the interpolation error of the image rotations. Average pooling
// commutes with rotations by 90 degrees and reflections when P divides the
// (even) image size, so pool=2 keeps C4/D4 exact while the canonicaliser
// costs P² times less and sees P times further. Inputs with a
// non-trivial stabiliser (ties in the scores) are handled too: every
// maximiser gives the same canonical image. The canonicaliser computes in
// float64 whatever the network's element type, so that rounding does not
// break near-ties differently along an orbit.
//
// Gradients. The output is piecewise linear in x with g* locally constant,
// so the input gradient is dx = rho(g*)^{-T} dy (exact away from ties). The
// argmax has no useful gradient for the canonicaliser's own parameters; with
// learn=ste (the default) they learn through a straight-through estimator:
// the forward pass uses the hard argmax, the backward pass the gradient of
// the soft canonicalisation Σ_g softmax(s(x))_g rho(g)^{-1} x, i.e.
//
//	dL/ds_g = p_g (a_g − Σ_h p_h a_h),  a_g = <dy, rho(g)^{-1} x>,  p = softmax(s),
//
// back-propagated through the scores, the pooling, the relu and the lift.
// With learn=frozen the canonicaliser keeps its random equivariant
// initialisation (zero gradient), which already gives exact invariance (as
// Kaba et al. note); only the network after it learns. Measured on rotated
// Fashion-MNIST (canon(c16,8,k=5,pool=2) + a small CNN, 2000 images, 400
// Adam steps, 2 models each): learn=ste reached test accuracy 0.74 and
// OSP 14.3 on test images, 13.4 out of distribution (of 16); learn=frozen
// 0.72, 13.7 and 12.3. The learned canonicaliser finds poses that are more
// consistent along the orbit, so ste is the default.
//
// Canon has no infinite-width kernel: its kernel method returns an error.
type Canon struct {
	Group *group.Group
	C, K  int
	Pool  int    // average pooling before the lift (1: none)
	Learn string // "ste" or "frozen"

	lift    *Conv      // the lifting convolution of the canonicaliser
	liftOut Shape      // its output shape
	rep     *group.Rep // image representation on one channel (inner space H*W)
	mask    []bool     // pixels inside the circular mask, nil for exact groups
	pmask   []bool     // the same on the pooled grid of the canonicaliser
	npos    int        // number of pooled pixels averaged over
}

// parseCanon reads canon(group, channels, k=, pool=, learn=).
func parseCanon(a *args) (Layer, error) {
	gname := a.str(0, "group", "", true)
	c := &Canon{C: a.int(1, "channels", 0, true), K: a.int(-1, "k", 5, false), Pool: a.int(-1, "pool", 1, false), Learn: a.str(-1, "learn", "ste", false)}
	a.done(2)
	if a.err != "" {
		return nil, fmt.Errorf("%s", a.err)
	}
	g, err := group.Parse(gname)
	if err != nil {
		return nil, err
	}
	c.Group = g
	return c, nil
}

func (c *Canon) String() string {
	s := fmt.Sprintf("canon(%s,%d,k=%d", c.Group.Name(), c.C, c.K)
	if c.Pool != 1 {
		s += fmt.Sprintf(",pool=%d", c.Pool)
	}
	if c.Learn != "ste" {
		s += ",learn=" + c.Learn
	}
	return s + ")"
}

func (c *Canon) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if c.C < 1 {
		return Shape{}, 0, fmt.Errorf("channels must be at least 1, got %d", c.C)
	}
	if c.K < 1 || c.K%2 == 0 {
		return Shape{}, 0, fmt.Errorf("filter size k must be odd and positive, got %d", c.K)
	}
	switch c.Learn {
	case "ste":
	case "frozen", "none":
		c.Learn = "frozen"
	default:
		return Shape{}, 0, fmt.Errorf("learn must be ste or frozen, got %q", c.Learn)
	}
	if ctx.flat || in.G != 1 || !in.Spatial() {
		return Shape{}, 0, fmt.Errorf("canon expects images (N, C, H, W) and must come before any dense, flatten or group layer, got %v", in)
	}
	if err := planarGroup(c.Group); err != nil {
		return Shape{}, 0, err
	}
	if c.Pool < 1 || in.H%c.Pool != 0 || in.W%c.Pool != 0 {
		return Shape{}, 0, fmt.Errorf("pool=%d must be a positive divisor of the image size %dx%d", c.Pool, in.H, in.W)
	}
	rep, err := group.ImageRep(c.Group, 1, in.H, in.W)
	if err != nil {
		return Shape{}, 0, err
	}
	c.rep = rep
	ph, pw := in.H/c.Pool, in.W/c.Pool
	c.mask, c.pmask, c.npos = nil, nil, ph*pw
	if rep.Masked() {
		c.mask = imageMask(rep, in.H*in.W)
		prep, err := group.ImageRep(c.Group, 1, ph, pw)
		if err != nil {
			return Shape{}, 0, err
		}
		c.pmask = imageMask(prep, ph*pw)
		c.npos = 0
		for _, in := range c.pmask {
			if in {
				c.npos++
			}
		}
	}
	pin := Shape{ph, pw, 1, in.C}
	// The lift is a Conv whose filter expansion (op) is built here from a
	// smooth basis; the canonicaliser's group does not reach ctx, so the
	// layers after canon see plain images.
	c.lift = &Conv{Kind: "lift", Group: c.Group, Out: c.C, K: c.K, Pad: kernel.Same, WStd: 1, BStd: 0}
	c.lift.op = canonOp(c.Group, c.K, pin, canonSigma)
	c.liftOut = Shape{ph, pw, c.Group.Order(), c.C}
	return in, c.C*c.lift.op.Base*in.C + c.C + c.C, nil
}

// imageMask returns the circular mask of an interpolated image
// representation on its n pixels.
func imageMask(rep *group.Rep, n int) []bool {
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	group.MaskInPlace(rep, ones)
	m := make([]bool, n)
	for i, v := range ones {
		m[i] = v != 0
	}
	return m
}

// canonSigma is the width (pixels) of the Gaussian basis functions of the
// canonicaliser's filters.
const canonSigma = 0.8

// canonOp builds the lifting operator of the canonicaliser. Its filters are
// smooth functions on the plane, κ(z) = Σ_j a_j exp(−|z − μ_j|²/(2σ²)),
// with centres μ_j the grid points of the disc of radius (k−1)/2 and
// σ = canonSigma, evaluated exactly at the rotated tap positions:
// κ_r(z) = κ(r^{-1} z) on the k×k window. The lift and gconv layers rotate
// pixel filters by bilinear interpolation instead, which smooths the filters
// of the rotations that are not multiples of 90 degrees and lowers their
// responses systematically: harmless after group pooling, but an argmax
// over group elements would then prefer the exact rotations. Sampling a
// smooth filter keeps the responses of all rotations alike (for 90-degree
// rotations and reflections the taps are permuted exactly, as before).
func canonOp(g *group.Group, k int, in Shape, sigma float64) *kernel.ConvOp {
	c := (k - 1) / 2
	var mu [][2]float64
	for i := -c; i <= c; i++ {
		for j := -c; j <= c; j++ {
			if i*i+j*j <= c*c {
				mu = append(mu, [2]float64{float64(i), float64(j)})
			}
		}
	}
	G := g.Order()
	op := &kernel.ConvOp{K: k, Pad: kernel.Same, InG: 1, OutG: G, InH: in.H, InW: in.W, OutH: in.H, OutW: in.W, Base: len(mu)}
	op.Taps = make([][][]kernel.Tap, G)
	for r := 0; r < G; r++ {
		op.Taps[r] = make([][]kernel.Tap, op.Base)
		rinv := g.Inv(r)
		for zi := -c; zi <= c; zi++ {
			for zj := -c; zj <= c; zj++ {
				qi, qj := g.PlanarOffset(rinv, float64(zi), float64(zj))
				for b, m := range mu {
					d2 := (qi-m[0])*(qi-m[0]) + (qj-m[1])*(qj-m[1])
					w := math.Exp(-d2 / (2 * sigma * sigma))
					if w < 1e-9 {
						continue
					}
					op.Taps[r][b] = append(op.Taps[r][b], kernel.Tap{DI: int32(zi), DJ: int32(zj), W: w})
				}
			}
		}
	}
	return op
}

func (c *Canon) kernel(*kernel.State) error {
	return fmt.Errorf("%s has no infinite-width kernel: the argmax over group elements is not a layer of the NNGP/NTK calculus (use lift, gconv and gpool for an invariant network with a kernel)", c.String())
}

func (*Canon) kernelPositions(p int, _ Shape) int { return p }

func (c *Canon) finite32(in, _ Shape, p Param) finite[float32] {
	return newCanonImpl[float32](c, in, p)
}

func (c *Canon) finite64(in, _ Shape, p Param) finite[float64] {
	return newCanonImpl[float64](c, in, p)
}

// canonImpl is the finite canonicalisation layer for element type T. The
// canonicaliser runs in float64 on chunks of samples.
type canonImpl[T Float] struct {
	cfg    *Canon
	in     Shape
	lift   *convImpl[float64]
	nl     int     // number of lift parameters
	ws     float64 // forward scale of the score weights w
	wInit  float64
	chunk  int
	pd     []float64 // lift parameters in float64
	dpl    []float64 // lift parameter gradient
	xd     []float64 // a chunk of inputs in float64
	hd, dh []float64 // a chunk of lift outputs and their gradient
	feat   []float64 // n×G×C pooled features
	score  []float64 // n×G scores
	gstar  []int     // n argmax elements
	inv    []*group.Map
	// scratch of the backward pass
	dfeat, prob, a, dwd []float64
}

func newCanonImpl[T Float](c *Canon, in Shape, p Param) *canonImpl[T] {
	m := &canonImpl[T]{cfg: c, in: in}
	m.lift = newConvImpl[float64](c.lift, Shape{c.liftOut.H, c.liftOut.W, 1, in.C}, c.liftOut, p)
	m.nl = c.C*c.lift.op.Base*in.C + c.C
	m.ws, m.wInit = weightScale(p, 1, c.C)
	// Chunks keep the lift's float64 activations near 2 MiB.
	m.chunk = max(1, (1<<18)/max(1, c.liftOut.Size()))
	G := c.Group.Order()
	m.inv = make([]*group.Map, G)
	for g := range m.inv {
		m.inv[g] = c.rep.Inner(c.Group.Inv(g))
	}
	return m
}

func (m *canonImpl[T]) init(p []T, rng *rand.Rand) {
	lp := make([]float64, m.nl)
	m.lift.init(lp, rng)
	for i, v := range lp {
		p[i] = T(v)
	}
	fillNormal(p[m.nl:], rng, m.wInit)
}

// liftChunk runs the lift on samples [s0, s0+ns) of x (average pooled)
// into m.hd.
func (m *canonImpl[T]) liftChunk(x []T, s0, ns int) {
	sz := m.in.Size()
	P, C := m.cfg.Pool, m.in.C
	ph, pw := m.cfg.liftOut.H, m.cfg.liftOut.W
	psz := ph * pw * C
	m.xd = ensure(m.xd, ns*psz)
	if P == 1 {
		for i, v := range x[s0*sz : (s0+ns)*sz] {
			m.xd[i] = float64(v)
		}
	} else {
		clear(m.xd)
		inv := 1 / float64(P*P)
		for s := 0; s < ns; s++ {
			xs := x[(s0+s)*sz : (s0+s+1)*sz]
			d := m.xd[s*psz : (s+1)*psz]
			for i := 0; i < m.in.H; i++ {
				for j := 0; j < m.in.W; j++ {
					src := xs[(i*m.in.W+j)*C : (i*m.in.W+j+1)*C]
					dst := d[((i/P)*pw+j/P)*C : ((i/P)*pw+j/P+1)*C]
					for ch, v := range src {
						dst[ch] += float64(v) * inv
					}
				}
			}
		}
	}
	m.hd = ensure(m.hd, ns*m.cfg.liftOut.Size())
	m.lift.forward(m.pd, m.xd, m.hd, ns)
}

func (m *canonImpl[T]) loadParams(p []T) {
	m.pd = ensure(m.pd, m.nl)
	for i, v := range p[:m.nl] {
		m.pd[i] = float64(v)
	}
}

func (m *canonImpl[T]) forward(p []T, x, y []T, n int) {
	c := m.cfg
	G, C := c.Group.Order(), c.C
	hw := c.liftOut.H * c.liftOut.W
	m.loadParams(p)
	m.feat = ensure(m.feat, n*G*C)
	clear(m.feat)
	for s0 := 0; s0 < n; s0 += m.chunk {
		ns := min(m.chunk, n-s0)
		m.liftChunk(x, s0, ns)
		for s := 0; s < ns; s++ {
			f := m.feat[(s0+s)*G*C : (s0+s+1)*G*C]
			h := m.hd[s*hw*G*C : (s+1)*hw*G*C]
			for t := 0; t < hw; t++ {
				if c.pmask != nil && !c.pmask[t] {
					continue
				}
				for i, v := range h[t*G*C : (t+1)*G*C] {
					if v > 0 {
						f[i] += v
					}
				}
			}
		}
	}
	inv := 1 / float64(c.npos)
	for i := range m.feat {
		m.feat[i] *= inv
	}
	w := p[m.nl : m.nl+C]
	m.score = ensure(m.score, n*G)
	if cap(m.gstar) < n {
		m.gstar = make([]int, n)
	}
	m.gstar = m.gstar[:n]
	for s := 0; s < n; s++ {
		best := 0
		for g := 0; g < G; g++ {
			var v float64
			for ch, wc := range w {
				v += float64(wc) * m.feat[(s*G+g)*C+ch]
			}
			v *= m.ws
			m.score[s*G+g] = v
			if v > m.score[s*G+best] {
				best = g
			}
		}
		m.gstar[s] = best
	}
	sz := m.in.Size()
	for s := 0; s < n; s++ {
		m.transform(y[s*sz:(s+1)*sz], x[s*sz:(s+1)*sz], m.gstar[s])
	}
}

// transform writes rho(g)^{-1} x (masked) for one channels-last sample.
func (m *canonImpl[T]) transform(dst, src []T, g int) {
	A := m.inv[g]
	C := m.in.C
	hw := m.in.H * m.in.W
	for p := 0; p < hw; p++ {
		out := dst[p*C : (p+1)*C]
		clear(out)
		if m.cfg.mask != nil && !m.cfg.mask[p] {
			continue
		}
		for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
			q := int(A.Idx[k])
			w := T(A.Val[k])
			for c := 0; c < C; c++ {
				out[c] += w * src[q*C+c]
			}
		}
	}
}

// transposeAdd adds (rho(g)^{-1})^T (mask ⊙ dy) to dx for one sample.
func (m *canonImpl[T]) transposeAdd(dx, dy []T, g int) {
	A := m.inv[g]
	C := m.in.C
	hw := m.in.H * m.in.W
	for p := 0; p < hw; p++ {
		if m.cfg.mask != nil && !m.cfg.mask[p] {
			continue
		}
		for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
			q := int(A.Idx[k])
			w := T(A.Val[k])
			for c := 0; c < C; c++ {
				dx[q*C+c] += w * dy[p*C+c]
			}
		}
	}
}

// project returns <dy, rho(g)^{-1} x> (masked) for one sample, in float64.
func (m *canonImpl[T]) project(dy, x []T, g int) float64 {
	A := m.inv[g]
	C := m.in.C
	hw := m.in.H * m.in.W
	var s float64
	for p := 0; p < hw; p++ {
		if m.cfg.mask != nil && !m.cfg.mask[p] {
			continue
		}
		for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
			q := int(A.Idx[k])
			w := A.Val[k]
			for c := 0; c < C; c++ {
				s += w * float64(x[q*C+c]) * float64(dy[p*C+c])
			}
		}
	}
	return s
}

// softmax writes the softmax of s into p.
func softmaxInto(p, s []float64) {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	var z float64
	for i, v := range s {
		p[i] = math.Exp(v - mx)
		z += p[i]
	}
	for i := range p {
		p[i] /= z
	}
}

func (m *canonImpl[T]) backward(p []T, x, _, dy, dx, dp []T, n int) {
	c := m.cfg
	sz := m.in.Size()
	if dx != nil {
		clear(dx)
		for s := 0; s < n; s++ {
			m.transposeAdd(dx[s*sz:(s+1)*sz], dy[s*sz:(s+1)*sz], m.gstar[s])
		}
	}
	if c.Learn != "ste" {
		return
	}
	G, C := c.Group.Order(), c.C
	w := p[m.nl : m.nl+C]
	dw := dp[m.nl : m.nl+C]
	// dL/ds through the soft canonicalisation, then dL/dF.
	m.dfeat = ensure(m.dfeat, n*G*C)
	m.prob = ensure(m.prob, G)
	m.a = ensure(m.a, G)
	m.dwd = ensure(m.dwd, C)
	dfeat, prob, a, dwd := m.dfeat, m.prob, m.a, m.dwd
	clear(dfeat)
	clear(dwd)
	for s := 0; s < n; s++ {
		softmaxInto(prob, m.score[s*G:(s+1)*G])
		var mean float64
		for g := 0; g < G; g++ {
			a[g] = m.project(dy[s*sz:(s+1)*sz], x[s*sz:(s+1)*sz], g)
			mean += prob[g] * a[g]
		}
		for g := 0; g < G; g++ {
			ds := prob[g] * (a[g] - mean) * m.ws
			if ds == 0 {
				continue
			}
			f := m.feat[(s*G+g)*C : (s*G+g+1)*C]
			df := dfeat[(s*G+g)*C : (s*G+g+1)*C]
			for ch := range C {
				dwd[ch] += ds * f[ch]
				df[ch] = ds * float64(w[ch])
			}
		}
	}
	for ch, v := range dwd {
		dw[ch] += T(v)
	}
	m.backwardLift(p, x, dfeat, dp, n)
}

// backwardLift propagates dfeat, the gradient of the pooled features,
// through the pooling, the relu and the lift (recomputed chunk by chunk)
// into the lift's parameter gradient in dp.
func (m *canonImpl[T]) backwardLift(p, x []T, dfeat []float64, dp []T, n int) {
	c := m.cfg
	G, C := c.Group.Order(), c.C
	hw := c.liftOut.H * c.liftOut.W
	m.loadParams(p)
	m.dpl = ensure(m.dpl, m.nl)
	clear(m.dpl)
	inv := 1 / float64(c.npos)
	for s0 := 0; s0 < n; s0 += m.chunk {
		ns := min(m.chunk, n-s0)
		m.liftChunk(x, s0, ns)
		m.dh = ensure(m.dh, len(m.hd))
		for s := 0; s < ns; s++ {
			df := dfeat[(s0+s)*G*C : (s0+s+1)*G*C]
			h := m.hd[s*hw*G*C : (s+1)*hw*G*C]
			d := m.dh[s*hw*G*C : (s+1)*hw*G*C]
			for t := 0; t < hw; t++ {
				ht, dt := h[t*G*C:(t+1)*G*C], d[t*G*C:(t+1)*G*C]
				if c.pmask != nil && !c.pmask[t] {
					clear(dt)
					continue
				}
				for i, v := range ht {
					if v > 0 {
						dt[i] = df[i] * inv
					} else {
						dt[i] = 0
					}
				}
			}
		}
		m.lift.backward(m.pd, m.xd, m.hd, m.dh, nil, m.dpl, ns)
	}
	for i, v := range m.dpl {
		dp[i] += T(v)
	}
}
