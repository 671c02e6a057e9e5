package nn

import (
	"math"

	"github.com/eqens/eqens/kernel"
)

// activations lists the pointwise nonlinearities the spec parser knows, in
// the order of its messages. Adding an activation is adding an entry here
// (see activationDef): its name, keyword parameters, φ and φ', and where
// there is one a closed-form kernel map (otherwise the kernel integrates φ
// and φ' by quadrature) or faster finite passes.
var activations = []*activationDef{
	{
		// relu: max(x, 0), closed-form arc-cosine kernel, branch-free
		// vectorised passes (relu.go).
		name: "relu",
		fn: func(*Activation) (f, df func(float64) float64) {
			return func(x float64) float64 { return max(x, 0) }, step
		},
		kernel:    func(_ *Activation, s *kernel.State) { s.ReLU() },
		rectifier: true,
		f32:       activationPasses[float32]{reluForward[float32], reluGrad[float32]},
		f64:       activationPasses[float64]{reluForward[float64], reluGrad[float64]},
	},
	{
		// erf: a erf(b x) + c, as in neural-tangents, closed-form kernel.
		name:     "erf",
		params:   []string{"a", "b", "c"},
		defaults: []float64{1, 1, 0},
		fn: func(l *Activation) (f, df func(float64) float64) {
			a, b, c := l.A, l.B, l.C
			k := a * b * 2 / math.Sqrt(math.Pi)
			f = func(x float64) float64 { return a*math.Erf(b*x) + c }
			df = func(x float64) float64 {
				u := b * x
				return k * math.Exp(-u*u)
			}
			return f, df
		},
		kernel: func(l *Activation, s *kernel.State) { s.Erf(l.A, l.B, l.C) },
	},
	{
		// quadratic: a x + b x², closed-form kernel; keeps band-limited
		// signals band-limited (exactly equivariant spherical networks).
		name:     "quadratic",
		params:   []string{"a", "b"},
		defaults: []float64{1, 1},
		fn: func(l *Activation) (f, df func(float64) float64) {
			a, b := l.A, l.B
			return func(x float64) float64 { return a*x + b*x*x },
				func(x float64) float64 { return a + 2*b*x }
		},
		kernel: func(l *Activation, s *kernel.State) { s.Quadratic(l.A, l.B) },
	},
	{
		// tanh: the gradient from the output, 1 - y², in the element type.
		name: "tanh",
		fn: func(*Activation) (f, df func(float64) float64) {
			return math.Tanh, func(x float64) float64 { t := math.Tanh(x); return 1 - t*t }
		},
		f32: activationPasses[float32]{backward: tanhGrad[float32]},
		f64: activationPasses[float64]{backward: tanhGrad[float64]},
	},
	{
		// gelu: the exact x Φ(x).
		name: "gelu",
		fn:   func(*Activation) (f, df func(float64) float64) { return gelu, dgelu },
	},
}

func step(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

func reluGrad[T Float](x, _, dy, dx []T) { reluBackward(x, dy, dx) }

func tanhGrad[T Float](_, y, dy, dx []T) {
	for i, t := range y {
		dx[i] = dy[i] * (1 - t*t)
	}
}

func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
func dgelu(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}
