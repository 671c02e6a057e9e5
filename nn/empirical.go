package nn

import (
	"context"
	"fmt"
	"math"

	"github.com/eqens/eqens/internal/linalg"
)

// Jacobian returns the n·k × P matrix of per-example gradients
// d out_c(x_i) / d theta (row i*k + c) of the network at its current
// parameters, for the n inputs x (dataset layout).
func Jacobian(net *Network[float64], x []float64, n int) []float64 {
	d := net.Arch.InputSize()
	k := net.Arch.OutputDim()
	p := len(net.Params)
	jac := make([]float64, n*k*p)
	dy := make([]float64, k)
	for i := 0; i < n; i++ {
		net.Forward(x[i*d:(i+1)*d], 1)
		for c := 0; c < k; c++ {
			clear(dy)
			dy[c] = 1
			net.ZeroGrad()
			net.Backward(dy)
			copy(jac[(i*k+c)*p:(i*k+c+1)*p], net.Grads)
		}
	}
	return jac
}

// DefaultJacobianBytes bounds the memory EmpiricalNTK spends on stored
// per-example gradients (4 GiB). Networks whose whole Jacobian fits are
// differentiated once per example; wider ones are streamed (see
// EmpiricalNTKBlocked).
const DefaultJacobianBytes = 4 << 30

// EmpiricalNTK returns the empirical neural tangent kernel of the network
// at its current parameters, Theta(x_i, x'_j) = Σ_θ ∂f(x_i)/∂θ ∂f(x'_j)/∂θ,
// averaged over the diagonal of the output units (at infinite width the
// kernel is the identity across outputs, and this average is the scalar the
// analytic kernel gives). If x2 is nil the kernel of x1 with itself is
// returned. The result is n1×n2. It stores at most DefaultJacobianBytes of
// gradients.
func EmpiricalNTK(net *Network[float64], x1 []float64, n1 int, x2 []float64, n2 int) []float64 {
	return EmpiricalNTKBlocked(net, x1, n1, x2, n2, DefaultJacobianBytes)
}

// EmpiricalNTKBlocked is EmpiricalNTK storing at most maxBytes of
// per-example gradients (but always at least one). The gradients of x1 are
// taken in blocks that fit; for each block the gradients it is paired with
// are recomputed one at a time and never stored, so a network with P
// parameters needs memory for about max(1, maxBytes/8P) gradients instead
// of the whole n·k × P Jacobian, at the price of recomputing gradients
// (r²/2b backward passes for r rows in blocks of b instead of r). The result
// does not depend on maxBytes beyond float64 round-off.
func EmpiricalNTKBlocked(net *Network[float64], x1 []float64, n1 int, x2 []float64, n2 int, maxBytes int) []float64 {
	k := net.Arch.OutputDim()
	d := net.Arch.InputSize()
	p := len(net.Params)
	sym := x2 == nil
	if sym {
		x2, n2 = x1, n1
	}
	r1, r2 := n1*k, n2*k
	b := min(r1, max(1, maxBytes/(8*max(1, p))))
	block := make([]float64, b*p)
	dy := make([]float64, k)
	// grad leaves the gradient of output c of example i in net.Grads.
	grad := func(x []float64, row int) []float64 {
		i, c := row/k, row%k
		net.Forward(x[i*d:(i+1)*d], 1)
		clear(dy)
		dy[c] = 1
		net.ZeroGrad()
		net.Backward(dy)
		return net.Grads
	}
	full := make([]float64, r1*r2)
	dots := make([]float64, b)
	for a := 0; a < r1; a += b {
		nb := min(b, r1-a)
		for t := 0; t < nb; t++ {
			copy(block[t*p:(t+1)*p], grad(x1, a+t))
		}
		from := 0
		if sym {
			// The block with itself, then only the columns after it: the
			// earlier ones are the transposes of earlier blocks.
			linalg.Dgemm(false, true, nb, nb, p, 1, block, p, block, p, 0, full[a*r2+a:], r2)
			from = a + nb
		}
		for col := from; col < r2; col++ {
			linalg.Dgemv(false, nb, p, 1, block, p, grad(x2, col), 0, dots)
			for t := 0; t < nb; t++ {
				full[(a+t)*r2+col] = dots[t]
			}
		}
	}
	if sym {
		for i := 0; i < r1; i++ {
			for j := 0; j < (i/b)*b; j++ {
				full[i*r2+j] = full[j*r2+i]
			}
		}
	}
	out := make([]float64, n1*n2)
	for i := 0; i < n1; i++ {
		for j := 0; j < n2; j++ {
			var s float64
			for c := 0; c < k; c++ {
				s += full[(i*k+c)*r2+j*k+c]
			}
			out[i*n2+j] = s / float64(k)
		}
	}
	return out
}

// MonteCarloNNGP estimates the NNGP kernel E[f(x) f(x')] by averaging
// f(x_i)·f(x'_j)/k over `samples` random initialisations (seeds derived
// from seed) and all k outputs. It returns the n1×n2 estimate and the
// standard error of each entry.
func MonteCarloNNGP(ctx context.Context, a *Arch, x1 []float64, n1 int, x2 []float64, n2 int, samples int, seed uint64) (mean, stderr []float64, err error) {
	if samples < 2 {
		return nil, nil, fmt.Errorf("monte carlo NNGP needs at least 2 samples, got %d", samples)
	}
	if x2 == nil {
		x2, n2 = x1, n1
	}
	k := a.OutputDim()
	net := New[float64](a)
	sum := make([]float64, n1*n2)
	sq := make([]float64, n1*n2)
	y2 := make([]float64, n2*k)
	for s := 0; s < samples; s++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		net.Init(seed + uint64(s)*0x9e3779b97f4a7c15)
		copy(y2, net.Forward(x2, n2))
		y1 := net.Forward(x1, n1)
		for i := 0; i < n1; i++ {
			for j := 0; j < n2; j++ {
				var v float64
				for c := 0; c < k; c++ {
					v += y1[i*k+c] * y2[j*k+c]
				}
				v /= float64(k)
				sum[i*n2+j] += v
				sq[i*n2+j] += v * v
			}
		}
	}
	mean = make([]float64, n1*n2)
	stderr = make([]float64, n1*n2)
	ns := float64(samples)
	for i := range sum {
		m := sum[i] / ns
		mean[i] = m
		v := (sq[i]/ns - m*m) * ns / (ns - 1)
		if v < 0 {
			v = 0
		}
		stderr[i] = math.Sqrt(v / ns)
	}
	return mean, stderr, nil
}

// Features returns the inputs of the network's last layer (the penultimate
// features) for the n inputs x, n × fan_in, and that layer. The last layer
// must be dense.
func Features(net *Network[float64], x []float64, n int) ([]float64, *Dense, error) {
	L := len(net.layers)
	d, ok := net.Arch.Layers[L-1].(*Dense)
	if !ok {
		return nil, nil, fmt.Errorf("nn: the last layer is %s, not a dense readout", net.Arch.Layers[L-1])
	}
	net.Forward(x, n)
	return append([]float64(nil), net.acts[L-1]...), d, nil
}

// EmpiricalNNGP returns the empirical NNGP kernel of the network at its
// current parameters (neural-tangents' empirical_nngp_fn): the covariance of
// the dense readout given the penultimate features h,
// K(x, x') = w_std^2 <h(x), h(x')> / fan_in + b_std^2. It converges to the
// analytic NNGP as the width grows. x2 nil means x1. The result is n1×n2.
func EmpiricalNNGP(net *Network[float64], x1 []float64, n1 int, x2 []float64, n2 int) ([]float64, error) {
	h1, d, err := Features(net, x1, n1)
	if err != nil {
		return nil, err
	}
	h2 := h1
	if x2 != nil {
		if h2, _, err = Features(net, x2, n2); err != nil {
			return nil, err
		}
	} else {
		n2 = n1
	}
	fan := len(h1) / n1
	k := make([]float64, n1*n2)
	linalg.Dgemm(false, true, n1, n2, fan, d.WStd*d.WStd/float64(fan), h1, fan, h2, fan, 0, k, n2)
	for i := range k {
		k[i] += d.BStd * d.BStd
	}
	return k, nil
}
