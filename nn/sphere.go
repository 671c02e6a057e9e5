package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/eqens/eqens/internal/gemm"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/kernel"
	"github.com/eqens/eqens/sphere"
)

// MaxBand is the largest band limit of the spherical layers s2conv and
// so3conv. Their finite implementations hold dense transform matrices; the
// synthesis matrix of the SO(3) grid has L(2L-1)² × L(2L-1)(2L+1)/3 entries
// (1.2 million at L = 8, 14.6 million at L = 12).
const MaxBand = 12

// MaxSphereInput is the largest band limit of the sphere grid of an
// s2conv input (its grid tables grow like the cube of the band limit).
const MaxSphereInput = 128

// SphereConv is a spherical convolution with filters given by their
// coefficients, computed in the Fourier domain (package sphere). Band
// limits L mean the degrees l < L; signals are sampled on the grids of
// package sphere.
//
// s2conv(out, L) lifts signals on the sphere to SO(3):
//
//	z_o(R) = w_std/sqrt(4π C) Σ_c ∫ ψ_co(R⁻¹x) f_c(x) dx + b_std b_o,
//
// with ψ_co = Σ_{l<L} ψ̂_co,lm Y_lm. In the Fourier domain the output's
// Wigner coefficients are ẑ^l_nm = Σ_c f̂_c,ln ψ̂_co,lm (outer products per
// degree, times the scale). Its input is the first layer's input laid out
// as an image [C, L_in, 2L_in-1]: channel c, polar ring i (Gauss–Legendre
// node in cos θ, θ increasing) and longitude j (φ = 2πj/(2L_in-1)), the
// sphere.S2Grid of band limit L_in >= L.
//
// so3conv(out, L) maps SO(3) signals to SO(3) signals:
//
//	z_o(R) = w_std/sqrt(C) Σ_c ∫ ψ_co(R⁻¹S) x_c(S) dS + b_std b_o,
//
// with ψ_co = Σ_{l<L} sqrt(2l+1) ψ̂^l_co,mn D^l_mn (normalised Haar
// measure): ẑ^l_km = Σ_c Σ_n x̂^l_c,kn ψ̂^l_co,mn / sqrt(2l+1).
//
// The filter coefficients ψ̂ are the parameters, N(0, 1) in NTK
// parametrisation: ψ̂ of coefficient i, input channel c and output
// channel o at (i C + c) out + o, i = sphere.Index(l, m) (s2conv) or
// sphere.WignerOffset(l) + (m+l)(2l+1) + n+l (so3conv), then the out
// biases. The normalisations make E[z(R)²] = w_std² times the
// channel mean of the band-limited input's mean square (over the sphere
// of area 4π, or over SO(3)), plus b_std²; they differ from the reference
// code, whose filters are parametrised by their grid values.
//
// Outputs are SO(3) grid features: shape 1×1×N×out with N = B(2B-1)² the
// points of sphere.SO3Grid(B), B = Grid or L (point q = (a B + b)(2B-1) + c,
// ZYZ Euler angles α_a, β_b, γ_c). Both layers are exactly equivariant: rotating a
// band-limited input, f(R0⁻¹·), rotates the output, z(R0⁻¹·), whose
// Wigner coefficients are mapped to D^l(R0) ẑ^l. Pointwise activations on
// the grid values (relu, erf, ...) are not exactly equivariant under
// rotations outside the grid (their output is not band-limited), except
// quadratic, whose output has twice the degree: it is exact where the
// next layer's grid integrates that degree (docs/kernels.md).
//
// The kernel map (kernel.SphereOp, docs/kernels.md) is the exact NNGP/NTK
// map of these grid layers; the kernel state over SO(3) grid points is
// stored as a slab over the γ shifts of the grid (so3StateOrder).
type SphereConv struct {
	Kind   string // "s2conv" or "so3conv"
	Out, L int
	// Grid is the band limit of the output grid (0: L). A finer grid than
	// the band limit (Grid > L) oversamples the band-limited output, so
	// that following pointwise activations alias less.
	Grid       int
	WStd, BStd float64
	lin        int           // input band limit, set up from the input shape
	kern       *sphereKernel // kernel operator, set up with the layer
	// reference (tests) computes the kernel maps pair by pair from the
	// input covariances, as the original implementation did.
	reference bool
}

// SO3Pool is the invariant mean over SO(3): y_c = ∫ x_c(R) dR by the
// quadrature of the grid (exact for band-limited x). Its kernel map is
// K' = Σ_qq' w_q w_q' K[q, q'] (kernel.State.WeightedMean).
type SO3Pool struct {
	w  []float64 // the quadrature weights of the input grid
	ws []float64 // the same in the order of kernel states
}

// parseSphereConv reads s2conv(out, l, grid=, w_std=, b_std=) and
// so3conv(...).
func parseSphereConv(name string, a *args) Layer {
	c := &SphereConv{Kind: name, Out: a.int(0, "out", 0, true), L: a.int(1, "l", 0, true),
		Grid: a.int(-1, "grid", 0, false), WStd: a.float(-1, "w_std", 1), BStd: a.float(-1, "b_std", 0)}
	a.done(2)
	return c
}

// parseSO3Pool reads so3pool.
func parseSO3Pool(a *args) Layer {
	a.done(0)
	return &SO3Pool{}
}

func (c *SphereConv) String() string {
	g := ""
	if c.Grid != 0 && c.Grid != c.L {
		g = fmt.Sprintf(",grid=%d", c.Grid)
	}
	return fmt.Sprintf("%s(%d,%d%s%s)", c.Kind, c.Out, c.L, g, stdSuffix(c.WStd, c.BStd))
}

// so3Features reports whether in is a grid signal on SO(3) of the band
// limit the context records.
func so3Features(in Shape, ctx *buildCtx) bool {
	return ctx.so3 > 0 && !ctx.flat && in.H == 1 && in.W == 1 && in.G == sphere.SO3GridLen(ctx.so3)
}

func (c *SphereConv) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if err := checkWidth("width", c.Out); err != nil {
		return Shape{}, 0, err
	}
	if err := checkStd(c.WStd, c.BStd); err != nil {
		return Shape{}, 0, err
	}
	if c.L < 1 || c.L > MaxBand {
		return Shape{}, 0, fmt.Errorf("band limit must be between 1 and %d, got %d", MaxBand, c.L)
	}
	if g := c.grid(); g < c.L || g > MaxBand {
		return Shape{}, 0, fmt.Errorf("grid band limit must be between the band limit %d and %d, got %d", c.L, MaxBand, g)
	}
	switch c.Kind {
	case "s2conv":
		if ctx.flat || in.G != 1 || in.W != 2*in.H-1 {
			return Shape{}, 0, fmt.Errorf("needs a signal on the sphere grid, input [C, L, 2L-1], got %v", in)
		}
		if in.H > MaxSphereInput {
			return Shape{}, 0, fmt.Errorf("input band limit %d above %d", in.H, MaxSphereInput)
		}
		c.lin = in.H
	default:
		if !so3Features(in, ctx) {
			return Shape{}, 0, fmt.Errorf("needs SO(3) grid features (after s2conv or so3conv), got %v", in)
		}
		c.lin = ctx.so3
	}
	if c.L > c.lin {
		return Shape{}, 0, fmt.Errorf("output band limit %d exceeds the input's %d", c.L, c.lin)
	}
	np := mulCap(c.coeffs(), in.C, c.Out)
	if np >= 0 {
		np += c.Out
	}
	ctx.so3, ctx.group = c.grid(), nil
	c.kern = &sphereKernel{}
	return Shape{1, 1, sphere.SO3GridLen(c.grid()), c.Out}, np, nil
}

// grid is the band limit of the output grid.
func (c *SphereConv) grid() int {
	if c.Grid == 0 {
		return c.L
	}
	return c.Grid
}

// coeffs is the number of filter coefficients per channel pair.
func (c *SphereConv) coeffs() int {
	if c.Kind == "s2conv" {
		return sphere.NumCoeffs(c.L)
	}
	return sphere.NumWigner(c.L)
}

func (c *SphereConv) kernel(s *kernel.State) error {
	apply := s.Sphere
	if c.reference {
		apply = s.SphereReference
	}
	if err := apply(c.kernelOp()); err != nil {
		return err
	}
	s.Affine(c.WStd, c.BStd)
	return nil
}

// inputKernel computes the state after a first s2conv from the inputs'
// spherical-harmonic coefficients X = A xᵀ, computed once per input of the
// tile, instead of their covariances over the input grid
// (kernel.State.SphereInput): the same map, with O(k C) work per pair
// instead of O(P_in² (C + k)).
func (c *SphereConv) inputKernel(st *kernel.State, inShape []int, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool) error {
	if c.Kind != "s2conv" {
		return fmt.Errorf("%s cannot be the first layer", c)
	}
	if c.reference {
		return c.referenceInputKernel(st, inShape, x1, i0, i1, x2, j0, j1, diag)
	}
	op := c.kernelOp()
	chans := inShape[0]
	c1 := inputCoefficients(op, x1, i0, i1, chans)
	c2 := c1
	if !diag {
		c2 = inputCoefficients(op, x2, j0, j1, chans)
	}
	if err := st.SphereInput(op, c1, i1-i0, c2, j1-j0, chans, diag); err != nil {
		return err
	}
	st.Affine(c.WStd, c.BStd)
	return nil
}

// inputCoefficients returns the coefficients X = A xᵀ of the inputs
// [i0, i1) of x (dataset layout, chans×In each): row (i C + c) holds the k
// coefficients of channel c of input i.
func inputCoefficients(op *kernel.SphereOp, x []float64, i0, i1, chans int) []float64 {
	k := len(op.A) / op.In
	rows := (i1 - i0) * chans
	out := make([]float64, rows*k)
	gemm.Gemm(false, true, rows, k, op.In, 1, x[i0*chans*op.In:i1*chans*op.In], op.In, op.A, op.In, 0, out, k, 1)
	return out
}

// referenceInputKernel is inputKernel by the original route: the input
// covariances K[p, p'] = (1/C) Σ_c x_c(p) x'_c(p') of every pair (as the
// kernel engine forms them for other first layers), then the layer's map.
func (c *SphereConv) referenceInputKernel(st *kernel.State, inShape []int, x1 []float64, i0, i1 int, x2 []float64, j0, j1 int, diag bool) error {
	C, hw := inShape[0], inShape[1]*inShape[2]
	d := C * hw
	st.Reshape(1, inShape[1], inShape[2], false)
	a := 0
	for i := i0; i < i1; i++ {
		ja, jb, xb := j0, j1, x2
		if diag {
			ja, jb, xb = i, i+1, x1
		}
		for j := ja; j < jb; j++ {
			inputGram(hw, C, x1[i*d:(i+1)*d], xb[j*d:(j+1)*d], st.K[a*hw*hw:(a+1)*hw*hw])
			a++
		}
	}
	if st.NTK {
		clear(st.Theta)
	}
	return c.kernel(st)
}

// sphereKernel holds a spherical convolution's kernel operator, built on
// first use (the kernel engine calls kernel from several goroutines).
type sphereKernel struct {
	once sync.Once
	op   *kernel.SphereOp
}

// kernelOp returns the layer's operator on kernel states: the transform
// matrices with SO(3) grid points in the state order (so3StateOrder).
func (c *SphereConv) kernelOp() *kernel.SphereOp {
	c.kern.once.Do(func() {
		g := c.grid()
		op := &kernel.SphereOp{L: c.L, Grid: g, SO3: c.Kind == "so3conv", Out: sphere.SO3GridLen(g)}
		op.S = permuteRows(so3Synthesis[float64](g, c.L), so3StateOrder(g))
		if op.SO3 {
			op.In = sphere.SO3GridLen(c.lin)
			op.A = permuteCols(so3Analysis[float64](c.lin, c.L), so3StateOrder(c.lin))
		} else {
			op.In, op.A = sphere.S2GridLen(c.lin), s2Analysis[float64](c.lin, c.L)
		}
		c.kern.op = op
	})
	return c.kern.op
}

// so3StateOrder returns, for each point q = (a L + b) N + c of the SO(3)
// grid of band limit L (N = 2L-1), its position in kernel states,
// c (L N) + a L + b: the γ index first, so that the states can be stored as
// slabs (kernel.SphereOp).
func so3StateOrder(L int) []int {
	n := 2*L - 1
	pos := make([]int, sphere.SO3GridLen(L))
	for q := range pos {
		ab, c := q/n, q%n
		pos[q] = c*L*n + ab
	}
	return pos
}

// permuteRows returns the matrix (len(pos) rows) with row q moved to
// pos[q].
func permuteRows(m []float64, pos []int) []float64 {
	cols := len(m) / len(pos)
	out := make([]float64, len(m))
	for q, p := range pos {
		copy(out[p*cols:(p+1)*cols], m[q*cols:(q+1)*cols])
	}
	return out
}

// permuteCols returns the matrix (len(pos) columns) with column q moved to
// pos[q].
func permuteCols(m []float64, pos []int) []float64 {
	n := len(pos)
	out := make([]float64, len(m))
	for i := 0; i < len(m)/n; i++ {
		for q, p := range pos {
			out[i*n+p] = m[i*n+q]
		}
	}
	return out
}

func (*SphereConv) kernelPositions(_ int, out Shape) int { return out.G }

// kernelColumns: the state is a slab over the 2 Grid - 1 γ shifts.
func (c *SphereConv) kernelColumns(q int) int { return q / (2*c.grid() - 1) }

func (c *SphereConv) finite32(in, out Shape, p Param) finite[float32] {
	return newSphereConvImpl[float32](c, in, out, p)
}

func (c *SphereConv) finite64(in, out Shape, p Param) finite[float64] {
	return newSphereConvImpl[float64](c, in, out, p)
}

func (*SO3Pool) String() string { return "so3pool" }

func (s *SO3Pool) setup(in Shape, ctx *buildCtx) (Shape, int, error) {
	if !so3Features(in, ctx) {
		return Shape{}, 0, fmt.Errorf("needs SO(3) grid features (after s2conv or so3conv), got %v", in)
	}
	g := sphere.NewSO3Grid(ctx.so3)
	ctx.so3 = 0
	s.w = make([]float64, g.Len())
	s.ws = make([]float64, g.Len())
	order := so3StateOrder(g.L)
	for q := range s.w {
		s.w[q] = g.Weight(q)
		s.ws[order[q]] = s.w[q]
	}
	return flatShape(in.C), 0, nil
}

func (s *SO3Pool) kernel(st *kernel.State) error { return st.WeightedMean(s.ws) }

func (*SO3Pool) kernelPositions(int, Shape) int { return 1 }

func (s *SO3Pool) finite32(in, _ Shape, _ Param) finite[float32] {
	return newSO3PoolImpl[float32](s.w, in.C)
}

func (s *SO3Pool) finite64(in, _ Shape, _ Param) finite[float64] {
	return newSO3PoolImpl[float64](s.w, in.C)
}

// sphereConvImpl computes a spherical convolution as three matrix
// products per sample: the analysis X = A x (k coefficients per input
// channel), the per-degree products with the filter coefficients
// (Ẑ, NumWigner(L) coefficients per output channel), and the synthesis
// y = S Ẑ on the output SO(3) grid.
//
// Input coefficients of degree l are stored from inOff(l) as 2l+1 rows of
// J(l) coefficients (J = 1 for s2conv: f̂_ln, row n; J = 2l+1 for so3conv:
// x̂^l_kn, row k). The filter coefficients of (l, m) are the J×C_in×out
// block from (inOff(l) + (m+l) J) C_in out, so that Ẑ^l rows r, column m is
// the product of row r of X^l (J C_in values) with that block.
type sphereConvImpl[T Float] struct {
	so3          bool
	cin, out     int
	pin, gout    int // input positions, output grid points
	L, k, nw     int
	a, s         []T // k×pin analysis, gout×nw synthesis
	ws, bs       float64
	wInit, bInit float64
	xc, zc, dxc  []T // scratch: k×cin, nw×out, k×cin
}

func newSphereConvImpl[T Float](c *SphereConv, in, out Shape, p Param) *sphereConvImpl[T] {
	m := &sphereConvImpl[T]{so3: c.Kind == "so3conv", cin: in.C, out: c.Out, pin: in.H * in.W * in.G,
		gout: out.G, L: c.L, k: c.coeffs(), nw: sphere.NumWigner(c.L)}
	m.ws, m.wInit = weightScale(p, c.WStd, m.cin)
	m.bs, m.bInit = biasScale(p, c.BStd)
	if m.so3 {
		m.a = so3Analysis[T](c.lin, c.L)
	} else {
		m.a = s2Analysis[T](c.lin, c.L)
	}
	m.s = so3Synthesis[T](c.grid(), c.L)
	m.xc = make([]T, m.k*m.cin)
	m.dxc = make([]T, m.k*m.cin)
	m.zc = make([]T, m.nw*m.out)
	return m
}

// s2Analysis returns the L²×P matrix w_p Y_lm(x_p)/sqrt(4π) of the sphere
// grid of band limit lin.
func s2Analysis[T Float](lin, L int) []T {
	g := sphere.NewS2Grid(lin)
	P, k := g.Len(), sphere.NumCoeffs(L)
	a := make([]T, k*P)
	y := make([]float64, k)
	norm := 1 / math.Sqrt(4*math.Pi)
	for p := 0; p < P; p++ {
		sphere.Harmonics(L, g.Point(p), y)
		for i, v := range y {
			a[i*P+p] = T(g.Weight(p) * v * norm)
		}
	}
	return a
}

// so3Analysis returns the NumWigner(L)×G matrix sqrt(2l+1) w_q D^l_mn(R_q)
// of the SO(3) grid of band limit lin: x̂^l/sqrt(2l+1).
func so3Analysis[T Float](lin, L int) []T {
	g := sphere.NewSO3Grid(lin)
	G, k := g.Len(), sphere.NumWigner(L)
	a := make([]T, k*G)
	d := make([]float64, k)
	for q := 0; q < G; q++ {
		sphere.WignerD(L, g.Rotation(q), d)
		w := g.Weight(q)
		for l := 0; l < L; l++ {
			f := w * math.Sqrt(float64(2*l+1))
			for i := sphere.WignerOffset(l); i < sphere.WignerOffset(l+1); i++ {
				a[i*G+q] = T(f * d[i])
			}
		}
	}
	return a
}

// so3Synthesis returns the G×NumWigner(L) matrix D^l_mn(R_q) of the SO(3)
// grid of band limit grid >= L.
func so3Synthesis[T Float](grid, L int) []T {
	g := sphere.NewSO3Grid(grid)
	G, nw := g.Len(), sphere.NumWigner(L)
	s := make([]T, G*nw)
	d := make([]float64, nw)
	for q := 0; q < G; q++ {
		sphere.WignerD(L, g.Rotation(q), d)
		for i, v := range d {
			s[q*nw+i] = T(v)
		}
	}
	return s
}

// degree returns the input coefficient offset inOff(l) and row length
// J(l) of degree l, and its width 2l+1.
func (m *sphereConvImpl[T]) degree(l int) (off, j, w int) {
	if m.so3 {
		return sphere.WignerOffset(l), 2*l + 1, 2*l + 1
	}
	return l * l, 1, 2*l + 1
}

func (*sphereConvImpl[T]) outputFree() bool { return true }

func (m *sphereConvImpl[T]) init(p []T, rng *rand.Rand) {
	nf := m.k * m.cin * m.out
	fillNormal(p[:nf], rng, m.wInit)
	fillNormal(p[nf:], rng, m.bInit)
}

func (m *sphereConvImpl[T]) forward(p []T, x, y []T, n int) {
	psi, b := p[:m.k*m.cin*m.out], p[m.k*m.cin*m.out:]
	for s := 0; s < n; s++ {
		m.analyse(x[s*m.pin*m.cin:], m.xc)
		clear(m.zc)
		for l := 0; l < m.L; l++ {
			off, J, w := m.degree(l)
			for mi := 0; mi < w; mi++ {
				linalg.Gemm(false, false, w, m.out, J*m.cin, T(m.ws), m.xc[off*m.cin:], J*m.cin,
					psi[(off+mi*J)*m.cin*m.out:], m.out, 0, m.zc[(sphere.WignerOffset(l)+mi)*m.out:], w*m.out)
			}
		}
		ys := y[s*m.gout*m.out : (s+1)*m.gout*m.out]
		linalg.Gemm(false, false, m.gout, m.out, m.nw, 1, m.s, m.nw, m.zc, m.out, 0, ys, m.out)
		if m.bs != 0 {
			for q := 0; q < m.gout; q++ {
				row := ys[q*m.out : (q+1)*m.out]
				for o := range row {
					row[o] += T(m.bs) * b[o]
				}
			}
		}
	}
}

// analyse computes the input coefficients X = A x of one sample.
func (m *sphereConvImpl[T]) analyse(xs, xc []T) {
	linalg.Gemm(false, false, m.k, m.cin, m.pin, 1, m.a, m.pin, xs, m.cin, 0, xc, m.cin)
}

func (m *sphereConvImpl[T]) backward(p []T, x, _, dy, dx, dp []T, n int) {
	nf := m.k * m.cin * m.out
	psi, dpsi, db := p[:nf], dp[:nf], dp[nf:]
	for s := 0; s < n; s++ {
		m.analyse(x[s*m.pin*m.cin:], m.xc)
		dys := dy[s*m.gout*m.out : (s+1)*m.gout*m.out]
		linalg.Gemm(true, false, m.nw, m.out, m.gout, 1, m.s, m.nw, dys, m.out, 0, m.zc, m.out)
		clear(m.dxc)
		for l := 0; l < m.L; l++ {
			off, J, w := m.degree(l)
			for mi := 0; mi < w; mi++ {
				dz := m.zc[(sphere.WignerOffset(l)+mi)*m.out:]
				blk := (off + mi*J) * m.cin * m.out
				linalg.Gemm(true, false, J*m.cin, m.out, w, T(m.ws), m.xc[off*m.cin:], J*m.cin, dz, w*m.out, 1, dpsi[blk:], m.out)
				if dx != nil {
					linalg.Gemm(false, true, w, J*m.cin, m.out, T(m.ws), dz, w*m.out, psi[blk:], m.out, 1, m.dxc[off*m.cin:], J*m.cin)
				}
			}
		}
		if m.bs != 0 {
			for q := 0; q < m.gout; q++ {
				for o, v := range dys[q*m.out : (q+1)*m.out] {
					db[o] += T(m.bs) * v
				}
			}
		}
		if dx != nil {
			linalg.Gemm(true, false, m.pin, m.cin, m.k, 1, m.a, m.pin, m.dxc, m.cin, 0, dx[s*m.pin*m.cin:], m.cin)
		}
	}
}

// so3PoolImpl is the quadrature mean over the SO(3) grid.
type so3PoolImpl[T Float] struct {
	w []T
	c int
}

func newSO3PoolImpl[T Float](w []float64, c int) *so3PoolImpl[T] {
	m := &so3PoolImpl[T]{w: make([]T, len(w)), c: c}
	for q, v := range w {
		m.w[q] = T(v)
	}
	return m
}

func (*so3PoolImpl[T]) init([]T, *rand.Rand) {}

func (*so3PoolImpl[T]) outputFree() bool { return true }

func (m *so3PoolImpl[T]) forward(_ []T, x, y []T, n int) {
	G := len(m.w)
	for s := 0; s < n; s++ {
		ys := y[s*m.c : (s+1)*m.c]
		clear(ys)
		for q, w := range m.w {
			for c, v := range x[(s*G+q)*m.c : (s*G+q+1)*m.c] {
				ys[c] += w * v
			}
		}
	}
}

func (m *so3PoolImpl[T]) backward(_ []T, _, _, dy, dx, _ []T, n int) {
	if dx == nil {
		return
	}
	G := len(m.w)
	for s := 0; s < n; s++ {
		dys := dy[s*m.c : (s+1)*m.c]
		for q, w := range m.w {
			row := dx[(s*G+q)*m.c : (s*G+q+1)*m.c]
			for c, v := range dys {
				row[c] = w * v
			}
		}
	}
}
