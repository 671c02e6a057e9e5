package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lossOf returns Σ out·r for the network at its current parameters.
func lossOf(net *Network[float64], x []float64, n int, r []float64) float64 {
	y := net.Forward(x, n)
	var s float64
	for i, v := range y {
		s += v * r[i]
	}
	return s
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestGradients checks every layer's backward pass against central finite
// differences in float64, for parameters and inputs.
func TestGradients(t *testing.T) {
	cases := []struct {
		name  string
		spec  string
		shape []int
		param Param
	}{
		{"mlp relu", "dense(7,b_std=0.3),relu,dense(5,w_std=1.4,b_std=0.1),relu,dense(3)", []int{6}, NTK},
		{"mlp standard", "dense(7,b_std=0.3),erf,dense(3,b_std=0.2)", []int{6}, Standard},
		{"mlp erf tanh gelu", "dense(6,b_std=0.5),erf(a=1.5,b=0.7,c=0.1),dense(6),tanh,dense(6),gelu,dense(2)", []int{4}, NTK},
		{"mlp quadratic", "dense(6,b_std=0.2),quadratic(a=0.8,b=0.6),dense(3)", []int{4}, NTK},
		{"cnn gap", "conv(4,k=3,b_std=0.2),relu,conv(3,k=3),gelu,globalavgpool,dense(2)", []int{2, 5, 5}, NTK},
		{"cnn valid flatten", "conv(3,k=3,padding=valid),tanh,flatten,dense(2)", []int{1, 6, 5}, NTK},
		{"cnn circular pools", "conv(3,k=3,padding=circular,b_std=0.1),relu,avgpool(2),conv(2,k=1),maxpool(2),dense(2)", []int{2, 4, 4}, Standard},
		{"c4 gcnn", "lift(c4,3,k=3,b_std=0.1),relu,gconv(2,k=3),tanh,gpool,dense(2)", []int{2, 5, 5}, NTK},
		{"d4 gcnn", "lift(d4,2,k=3),erf,gconv(2,k=3,b_std=0.3),gpool,dense(2)", []int{1, 5, 5}, NTK},
		{"c8 gcnn interpolated", "lift(c8,2,k=3),gelu,gconv(2,k=3),globalavgpool,dense(2)", []int{1, 5, 5}, NTK},
		{"gconv support e", "lift(c4,2,k=3,b_std=0.2),relu,gconv(3,k=1,support=e,b_std=0.1),tanh,gpool,dense(2)", []int{1, 4, 4}, Standard},
		{"liftdense", "liftdense(c4,4,b_std=0.2),tanh,gconv(3,k=1,support=e),relu,gpool,dense(2)", []int{2, 4, 4}, NTK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.spec, tc.shape, tc.param)
			if err != nil {
				t.Fatal(err)
			}
			checkGradients(t, a, 3, 7)
		})
	}
}

// checkGradients compares a network's backward pass with central finite
// differences of Σ out·r, for all parameters and inputs.
func checkGradients(t *testing.T, a *Arch, n int, seed uint64) {
	t.Helper()
	net := New[float64](a)
	net.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	x := randVec(rng, n*a.InputSize())
	r := randVec(rng, n*a.OutputDim())
	net.ZeroGrad()
	net.Forward(x, n)
	dx := net.BackwardInput(r)
	grads := append([]float64(nil), net.Grads...)
	const h = 1e-5
	check := func(what string, i int, analytic float64, v *float64) {
		old := *v
		*v = old + h
		lp := lossOf(net, x, n, r)
		*v = old - h
		lm := lossOf(net, x, n, r)
		*v = old
		num := (lp - lm) / (2 * h)
		if d := math.Abs(num - analytic); d > 1e-6*math.Max(1, math.Abs(num)) {
			t.Errorf("%s %d: analytic %.10g, numeric %.10g", what, i, analytic, num)
		}
	}
	for i := range net.Params {
		check("param", i, grads[i], &net.Params[i])
	}
	for i := range x {
		check("input", i, dx[i], &x[i])
	}
}

// TestReluKernels checks the branch-free rectifier against the definition,
// signed zeros and infinities included.
func TestReluKernels(t *testing.T) {
	in := []float64{-2, -0.5, math.Copysign(0, -1), 0, 1e-300, 0.5, 3, math.Inf(1), math.Inf(-1), -1e-310}
	dy := make([]float64, len(in))
	for i := range dy {
		dy[i] = float64(i + 1)
	}
	check := func(name string, y, dx []float64) {
		for i, v := range in {
			wantY, wantD := 0.0, 0.0
			if v > 0 {
				wantY, wantD = v, dy[i]
			}
			if y[i] != wantY || math.Signbit(y[i]) || dx[i] != wantD {
				t.Errorf("%s relu(%v) = %v, grad %v; want %v, %v", name, v, y[i], dx[i], wantY, wantD)
			}
		}
	}
	y := make([]float64, len(in))
	dx := make([]float64, len(in))
	reluForward(in, y)
	reluBackward(in, dy, dx)
	check("float64", y, dx)
	in32 := make([]float32, len(in))
	dy32 := make([]float32, len(in))
	for i, v := range in {
		in32[i], dy32[i] = float32(v), float32(dy[i])
	}
	y32 := make([]float32, len(in))
	dx32 := make([]float32, len(in))
	reluForward(in32, y32)
	reluBackward(in32, dy32, dx32)
	for i := range in {
		y[i], dx[i] = float64(y32[i]), float64(dx32[i])
		in[i] = float64(in32[i])
	}
	check("float32", y, dx)
}

// TestConvParts checks the split of a batch into parts: the same bits with
// one and two workers, and the same gradients (to round-off) as without
// the split.
func TestConvParts(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"conv(8,k=3,b_std=0.1),relu,conv(6,k=3),relu,globalavgpool,dense(3)", []int{8, 28, 28}},
		{"lift(c4,4,k=3,b_std=0.1),relu,gconv(3,k=3),relu,gpool,dense(3)", []int{2, 28, 28}},
	} {
		t.Run(tc.spec, func(t *testing.T) { testConvParts(t, tc.spec, tc.shape) })
	}
}

func testConvParts(t *testing.T, spec string, shape []int) {
	a, err := Parse(spec, shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	const n = 24
	x := randVec(rand.New(rand.NewPCG(5, 5)), n*a.InputSize())
	r := randVec(rand.New(rand.NewPCG(6, 6)), n*a.OutputDim())
	run := func(workers int, split bool) ([]float64, []float64) {
		net := New[float64](a)
		net.Init(3)
		net.SetWorkers(workers)
		if !split {
			for _, l := range net.layers {
				if c, ok := l.(*convImpl[float64]); ok {
					c.chunk = n
				}
			}
		}
		net.ZeroGrad()
		y := append([]float64(nil), net.Forward(x, n)...)
		net.Backward(r)
		return y, append([]float64(nil), net.Grads...)
	}
	if c := New[float64](a).layers[0].(*convImpl[float64]); len(c.split(n)) < 2 {
		t.Fatalf("batch of %d with chunks of %d is not split", n, c.chunk)
	}
	y1, g1 := run(1, true)
	y2, g2 := run(2, true)
	y0, g0 := run(1, false)
	for i := range y1 {
		if y1[i] != y2[i] {
			t.Fatalf("output %d differs between 1 and 2 workers", i)
		}
		if math.Abs(y1[i]-y0[i]) > 1e-12*(1+math.Abs(y0[i])) {
			t.Fatalf("output %d: split %v, unsplit %v", i, y1[i], y0[i])
		}
	}
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("gradient %d differs between 1 and 2 workers", i)
		}
		if math.Abs(g1[i]-g0[i]) > 1e-10*(1+math.Abs(g0[i])) {
			t.Fatalf("gradient %d: split %v, unsplit %v", i, g1[i], g0[i])
		}
	}
}

// TestConvDirect checks the direct path of convolutions (row-stacked input
// read with overlapping rows, convdirect.go) against the unrolled one: outputs and gradients to
// round-off, for plain, lifting and group convolutions, same and valid
// padding, odd sizes and filters of 1, 3 and 5.
func TestConvDirect(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"conv(5,k=3,b_std=0.1),relu,conv(4,k=3),relu,globalavgpool,dense(3)", []int{3, 9, 7}},
		{"conv(5,k=3,padding=valid),relu,conv(4,k=5),relu,conv(3,k=1),flatten,dense(2)", []int{2, 11, 10}},
		{"conv(4,k=5,padding=valid,b_std=0.2),relu,conv(3,k=3,padding=valid),flatten,dense(2)", []int{1, 12, 9}},
		{"lift(c4,3,k=3,b_std=0.1),relu,gconv(2,k=3),relu,gconv(2,k=5,support=e),gpool,dense(3)", []int{2, 8, 8}},
		{"lift(d4,2,k=5),relu,gconv(2,k=3,padding=valid),gpool,dense(2)", []int{1, 9, 9}},
		{"lift(c8,2,k=3),relu,gconv(2,k=3),gpool,dense(2)", []int{1, 9, 9}},
	} {
		t.Run(tc.spec, func(t *testing.T) { testConvDirect(t, tc.spec, tc.shape) })
	}
}

func testConvDirect(t *testing.T, spec string, shape []int) {
	a, err := Parse(spec, shape, Standard)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	x := randVec(rand.New(rand.NewPCG(7, 7)), n*a.InputSize())
	r := randVec(rand.New(rand.NewPCG(8, 8)), n*a.OutputDim())
	run := func(direct bool) ([]float64, []float64) {
		net := New[float64](a)
		net.Init(4)
		net.SetWorkers(2)
		for _, l := range net.layers {
			if c, ok := l.(*convImpl[float64]); ok {
				c.direct, c.gradT, c.chunk = direct, direct || c.gradT, 1
			}
		}
		net.ZeroGrad()
		y := append([]float64(nil), net.Forward(x, n)...)
		net.Backward(r)
		return y, append([]float64(nil), net.Grads...)
	}
	y0, g0 := run(false)
	y1, g1 := run(true)
	for i := range y0 {
		if math.Abs(y1[i]-y0[i]) > 1e-12*(1+math.Abs(y0[i])) {
			t.Fatalf("output %d: direct %v, unrolled %v", i, y1[i], y0[i])
		}
	}
	for i := range g0 {
		if math.Abs(g1[i]-g0[i]) > 1e-11*(1+math.Abs(g0[i])) {
			t.Fatalf("gradient %d: direct %v, unrolled %v", i, g1[i], g0[i])
		}
	}
}
