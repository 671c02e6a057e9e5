package train

import (
	"math"
)

// MSE returns the theory's mean squared error over a batch of n samples,
// L = 1/(2n) Σ_i ||out_i − y_i||², and, if grad is not nil, writes its
// gradient dL/dout = (out − y)/n. With full-batch gradient descent at
// learning rate η the outputs of a wide network then follow the NTK flow
// exp(−η t Θ/n). The sum is accumulated in float64.
func MSE(out, y, grad []float32, n int) float64 {
	var s float64
	inv := 1 / float64(n)
	for i, o := range out {
		d := float64(o) - float64(y[i])
		s += d * d
		if grad != nil {
			grad[i] = float32(d * inv)
		}
	}
	return s * inv / 2
}

// CrossEntropy returns the softmax cross-entropy over a batch of n samples
// with k classes, L = −1/n Σ_i log softmax(out_i)[labels_i], computed
// stably (log-sum-exp with the maximum subtracted), and, if grad is not nil,
// writes dL/dout = (softmax(out_i) − onehot(labels_i))/n.
func CrossEntropy(out []float32, labels []int, grad []float32, n, k int) float64 {
	var s float64
	inv := 1 / float64(n)
	for i := 0; i < n; i++ {
		row := out[i*k : (i+1)*k]
		lse := logSumExp(row)
		s += lse - float64(row[labels[i]])
		if grad != nil {
			g := grad[i*k : (i+1)*k]
			for j, v := range row {
				g[j] = float32(math.Exp(float64(v)-lse) * inv)
			}
			g[labels[i]] -= float32(inv)
		}
	}
	return s * inv
}

func logSumExp(row []float32) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return m
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v) - m)
	}
	return m + math.Log(z)
}

// Softmax writes the softmax of every row of k values of x into dst.
func Softmax(dst, x []float32, k int) {
	for i := 0; i+k <= len(x); i += k {
		lse := logSumExp(x[i : i+k])
		for j := i; j < i+k; j++ {
			dst[j] = float32(math.Exp(float64(x[j]) - lse))
		}
	}
}

// LearningRate returns the learning rate of step t (0-based) of a run of
// total steps under the schedule of o: constant; cosine, min_lr + (lr −
// min_lr)(1 + cos(π t/total))/2; or step, lr·gamma^⌊t/step_size⌋.
func LearningRate(o OptimizerConfig, t, total int) float64 {
	switch o.Schedule {
	case "cosine":
		if total <= 0 {
			return o.LR
		}
		return o.MinLR + (o.LR-o.MinLR)*(1+math.Cos(math.Pi*float64(t)/float64(total)))/2
	case "step":
		if o.StepSize <= 0 {
			return o.LR
		}
		return o.LR * math.Pow(o.Gamma, float64(t/o.StepSize))
	}
	return o.LR
}

// optimizer updates parameters from their gradient. Its state is a set of
// named vectors of the parameters' length, saved in checkpoints.
type optimizer interface {
	// step applies update number t (1-based) with learning rate lr.
	step(params, grads []float32, lr float64, t int)
	// state returns the named state vectors (views, restored in place).
	state() map[string][]float32
}

func newOptimizer(o OptimizerConfig, n int) optimizer {
	switch o.Name {
	case "adam":
		return &adam{b1: o.Beta1, b2: o.Beta2, eps: o.Eps, m: make([]float32, n), v: make([]float32, n)}
	case "sgd":
		if o.Momentum != 0 {
			return &momentum{mu: float32(o.Momentum), vel: make([]float32, n)}
		}
	}
	return plainGD{}
}

// plainGD is θ ← θ − lr g (full-batch gradient descent, or SGD without
// momentum).
type plainGD struct{}

func (plainGD) step(p, g []float32, lr float64, _ int) {
	l := float32(lr)
	for i, v := range g {
		p[i] -= l * v
	}
}

func (plainGD) state() map[string][]float32 { return nil }

// momentum is SGD with (heavy-ball) momentum as in PyTorch: v ← μ v + g,
// θ ← θ − lr v.
type momentum struct {
	mu  float32
	vel []float32
}

func (o *momentum) step(p, g []float32, lr float64, _ int) {
	l := float32(lr)
	for i, v := range g {
		o.vel[i] = o.mu*o.vel[i] + v
		p[i] -= l * o.vel[i]
	}
}

func (o *momentum) state() map[string][]float32 {
	return map[string][]float32{"velocity": o.vel}
}

// adam is Adam (Kingma & Ba) with bias correction:
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr m̂/(√v̂ + ε).
type adam struct {
	b1, b2, eps float64
	m, v        []float32
}

func (o *adam) step(p, g []float32, lr float64, t int) {
	b1, b2 := float32(o.b1), float32(o.b2)
	c1 := float32(1 / (1 - math.Pow(o.b1, float64(t))))
	c2 := float32(1 / (1 - math.Pow(o.b2, float64(t))))
	l, eps := float32(lr), float32(o.eps)
	for i, gi := range g {
		m := b1*o.m[i] + (1-b1)*gi
		v := b2*o.v[i] + (1-b2)*gi*gi
		o.m[i], o.v[i] = m, v
		p[i] -= l * (m * c1) / (float32(math.Sqrt(float64(v*c2))) + eps)
	}
}

func (o *adam) state() map[string][]float32 {
	return map[string][]float32{"m": o.m, "v": o.v}
}
