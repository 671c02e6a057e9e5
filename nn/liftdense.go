package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
)

// LiftDense is a full-support lifting layer: a dense layer applied to every
// transformed copy of its (image) input,
//
//	f'(g) = w_std/sqrt(fan_in) W rho(g)^{-1} x + b_std b,
//
// giving features on the group (no spatial axes). Followed by group
// convolutions with k=1 and support=e, activations and gpool, it makes the
// GCNN an MLP averaged over the group, whose NTK is the group average of
// the MLP's NTK (Gerken & Kessel; Misof, Kessel & Gerken).
type LiftDense struct {
	Group      *group.Group
	Out        int
	WStd, BStd float64

	rep  *group.Rep // action on the pixel grid (inner space of size H*W)
	in   Shape
	slab bool // the kernel state after the layer is a slab (exact action)
}

// parseLiftDense reads liftdense(group, out, w_std=, b_std=).
func parseLiftDense(a *args) (Layer, error) {
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
	return d, nil
}

func (d *LiftDense) String() string {
	return fmt.Sprintf("liftdense(%s,%d%s)", d.Group.Name(), d.Out, stdSuffix(d.WStd, d.BStd))
}

func (d *LiftDense) groupOf() *group.Group { return d.Group }

func (d *LiftDense) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if err := checkWidth("width", d.Out); err != nil {
		return Shape{}, 0, err
	}
	if t := mulCap(d.Group.Order(), in.H, in.W); t < 0 || t > maxTaps {
		return Shape{}, 0, fmt.Errorf("%d group elements acting on %dx%d images are too many (at most %d pixel maps)", d.Group.Order(), in.H, in.W, maxTaps)
	}
	if err := checkStd(d.WStd, d.BStd); err != nil {
		return Shape{}, 0, err
	}
	if in.G != 1 || ctx.flat {
		return Shape{}, 0, fmt.Errorf("liftdense expects image features, got %v", in)
	}
	if !d.Group.Closed() {
		return Shape{}, 0, fmt.Errorf("group %s is not closed: a lifting layer needs a finite group", d.Group.Name())
	}
	rep, err := group.ImageRep(d.Group, 1, in.H, in.W)
	if err != nil {
		return Shape{}, 0, err
	}
	d.rep, d.in = rep, in
	d.slab = rep.Exact()
	ctx.group = d.Group
	np := mulCap(d.Out, in.Size())
	if np >= 0 {
		np += d.Out
	}
	return Shape{1, 1, d.Group.Order(), d.Out}, np, nil
}

// inverseMap returns the pixel map of rho(g)^{-1}.
func (d *LiftDense) inverseMap(g int) *group.Map { return d.rep.Inner(d.Group.Inv(g)) }

// kernel maps a pixel-covariance state (positions H×W) to the group-indexed
// state: K'[g,g'] = (1/HW) Σ_p (A_g K A_g'^T)[p,p], A_g = rho(g)^{-1}.
func (d *LiftDense) kernel(s *kernel.State) error {
	hw := d.in.H * d.in.W
	if s.G != 1 || s.H*s.W != hw {
		return fmt.Errorf("liftdense: expected a %dx%d pixel state, got %dx%dx%d", d.in.H, d.in.W, s.G, s.H, s.W)
	}
	G := d.Group.Order()
	maps := make([]*group.Map, G)
	for g := range maps {
		maps[g] = d.inverseMap(g)
	}
	cols := G
	if d.slab {
		cols = 1 // only the identity column: K'[g, e]
	}
	apply := func(src []float64) []float64 {
		out := s.Scratch(s.Pairs * G * cols)
		for a := 0; a < s.Pairs; a++ {
			m := src[a*hw*hw : (a+1)*hw*hw]
			for g := 0; g < G; g++ {
				for g2 := 0; g2 < cols; g2++ {
					var t float64
					A, B := maps[g], maps[g2]
					for p := 0; p < hw; p++ {
						for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
							row := m[int(A.Idx[k])*hw:]
							var u float64
							for l := B.Ptr[p]; l < B.Ptr[p+1]; l++ {
								u += B.Val[l] * row[B.Idx[l]]
							}
							t += A.Val[k] * u
						}
					}
					out[a*G*cols+g*cols+g2] = t / float64(hw)
				}
			}
		}
		return out
	}
	k := apply(s.K)
	s.Recycle(s.K)
	s.K = k
	if s.NTK {
		t := apply(s.Theta)
		s.Recycle(s.Theta)
		s.Theta = t
	}
	s.G, s.H, s.W, s.Slab = G, 1, 1, d.slab
	s.V1 = s.V1[:s.Pairs*G]
	s.V2 = s.V2[:s.Pairs*G]
	s.Affine(d.WStd, d.BStd)
	return nil
}

func (d *LiftDense) kernelPositions(int, Shape) int { return d.Group.Order() }

func (d *LiftDense) kernelColumns(q int) int {
	if d.slab {
		return 1
	}
	return q
}

// inputKernel computes the state after a first liftdense layer directly
// from the inputs: K[g,g'] = (1/D) <A_g x, A_g' x'>, then the layer's
// weight and bias variances.
func (ld *LiftDense) inputKernel(st *kernel.State, inShape []int, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool) error {
	d := ld.in.Size()
	G := ld.Group.Order()
	n1, n2 := i1-i0, j1-j0
	rep, err := group.ImageRep(ld.Group, inShape[0], ld.in.H, ld.in.W)
	if err != nil {
		return err
	}
	tr := func(x []float64, a, b int) [][]float64 {
		out := make([][]float64, G)
		for g := 0; g < G; g++ {
			out[g] = make([]float64, (b-a)*d)
			for i := a; i < b; i++ {
				group.Apply(rep, ld.Group.Inv(g), out[g][(i-a)*d:(i-a+1)*d], x[i*d:(i+1)*d])
			}
		}
		return out
	}
	t1 := tr(x1, i0, i1)
	t2 := t1
	if !diag {
		t2 = tr(x2, j0, j1)
	}
	st.Reshape(G, 1, 1, ld.slab)
	cols := st.Cols()
	gr := make([]float64, n1*n2)
	for g := 0; g < G; g++ {
		for g2 := 0; g2 < cols; g2++ {
			if diag {
				for i := 0; i < n1; i++ {
					st.K[(i*G+g)*cols+g2] = dot(t1[g][i*d:(i+1)*d], t1[g2][i*d:(i+1)*d]) / float64(d)
				}
				continue
			}
			gram(n1, n2, d, t1[g], t2[g2], gr)
			for a, v := range gr {
				st.K[(a*G+g)*cols+g2] = v
			}
		}
	}
	if st.NTK {
		clear(st.Theta)
	}
	st.Affine(ld.WStd, ld.BStd)
	return nil
}

func (d *LiftDense) finite32(in, out Shape, p Param) finite[float32] {
	return newLiftDenseImpl[float32](d, in, out, p)
}

func (d *LiftDense) finite64(in, out Shape, p Param) finite[float64] {
	return newLiftDenseImpl[float64](d, in, out, p)
}

// liftDenseImpl: y[g] = ws W (A_g x) + bs b, with A_g the pixel map of
// rho(g)^{-1} applied to every channel of the channels-last input.
type liftDenseImpl[T Float] struct {
	cfg          *LiftDense
	in           int
	ws, bs       float64
	wInit, bInit float64
	xt, dxt, ys  []T
}

func newLiftDenseImpl[T Float](d *LiftDense, in, _ Shape, p Param) *liftDenseImpl[T] {
	m := &liftDenseImpl[T]{cfg: d, in: in.Size()}
	m.ws, m.wInit = weightScale(p, d.WStd, m.in)
	m.bs, m.bInit = biasScale(p, d.BStd)
	return m
}

func (*liftDenseImpl[T]) outputFree() bool { return true }

func (m *liftDenseImpl[T]) init(p []T, rng *rand.Rand) {
	nw := m.cfg.Out * m.in
	fillNormal(p[:nw], rng, m.wInit)
	fillNormal(p[nw:], rng, m.bInit)
}

// transform writes A_g x for every sample (channels-last layout).
func (m *liftDenseImpl[T]) transform(dst, src []T, n, g int, transpose bool) {
	A := m.cfg.inverseMap(g)
	C := m.cfg.in.C
	hw := m.cfg.in.H * m.cfg.in.W
	for s := 0; s < n; s++ {
		x := src[s*m.in : (s+1)*m.in]
		y := dst[s*m.in : (s+1)*m.in]
		if transpose {
			// y += A^T x
			for p := 0; p < hw; p++ {
				for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
					q := int(A.Idx[k])
					w := T(A.Val[k])
					for c := 0; c < C; c++ {
						y[q*C+c] += w * x[p*C+c]
					}
				}
			}
			continue
		}
		for p := 0; p < hw; p++ {
			out := y[p*C : (p+1)*C]
			clear(out)
			for k := A.Ptr[p]; k < A.Ptr[p+1]; k++ {
				q := int(A.Idx[k])
				w := T(A.Val[k])
				for c := 0; c < C; c++ {
					out[c] += w * x[q*C+c]
				}
			}
		}
	}
}

func (m *liftDenseImpl[T]) forward(p []T, x, y []T, n int) {
	G, out := m.cfg.Group.Order(), m.cfg.Out
	nw := out * m.in
	m.xt = ensure(m.xt, n*m.in)
	m.ys = ensure(m.ys, n*out)
	for g := 0; g < G; g++ {
		m.transform(m.xt, x, n, g, false)
		linalg.Gemm(false, true, n, out, m.in, T(m.ws), m.xt, m.in, p[:nw], m.in, 0, m.ys, out)
		for s := 0; s < n; s++ {
			dst := y[(s*G+g)*out : (s*G+g+1)*out]
			copy(dst, m.ys[s*out:(s+1)*out])
			if m.bs != 0 {
				for c := range dst {
					dst[c] += T(m.bs) * p[nw+c]
				}
			}
		}
	}
}

func (m *liftDenseImpl[T]) backward(p []T, x, _, dy, dx, dp []T, n int) {
	G, out := m.cfg.Group.Order(), m.cfg.Out
	nw := out * m.in
	m.xt = ensure(m.xt, n*m.in)
	m.ys = ensure(m.ys, n*out)
	if dx != nil {
		clear(dx)
		m.dxt = ensure(m.dxt, n*m.in)
	}
	for g := 0; g < G; g++ {
		for s := 0; s < n; s++ {
			src := dy[(s*G+g)*out : (s*G+g+1)*out]
			copy(m.ys[s*out:(s+1)*out], src)
			if m.bs != 0 {
				for c, v := range src {
					dp[nw+c] += T(m.bs) * v
				}
			}
		}
		m.transform(m.xt, x, n, g, false)
		linalg.Gemm(true, false, out, m.in, n, T(m.ws), m.ys, out, m.xt, m.in, 1, dp[:nw], m.in)
		if dx != nil {
			linalg.Gemm(false, false, n, m.in, out, T(m.ws), m.ys, out, p[:nw], m.in, 0, m.dxt, m.in)
			m.transform(dx, m.dxt, n, g, true)
		}
	}
}
