package nn

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/eqens/eqens/internal/linalg"
)

func benchStep(b *testing.B, spec string, shape []int, batch int) {
	a, err := Parse(spec, shape, Standard)
	if err != nil {
		b.Fatal(err)
	}
	net := New[float32](a)
	net.Init(1)
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, batch*a.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	dy := make([]float32, batch*a.OutputDim())
	for i := range dy {
		dy[i] = float32(rng.NormFloat64()) * 0.01
	}
	// EQENS_BENCH_THREADS sets the BLAS threads of the single network
	// (OpenBLAS build), e.g. 2 to use both cores for one step.
	if t, err := strconv.Atoi(os.Getenv("EQENS_BENCH_THREADS")); err == nil {
		prev := linalg.Threads()
		linalg.SetThreads(t)
		defer linalg.SetThreads(prev)
	}
	b.ResetTimer()
	for b.Loop() {
		net.ZeroGrad()
		net.Forward(x, batch)
		net.Backward(dy)
	}
}

// BenchmarkMLPStep is a forward and backward pass of the MLP 784-512-512-10
// on a batch of 128 (issue workload 1, without the optimiser update).
func BenchmarkMLPStep(b *testing.B) {
	benchStep(b, "dense(512),relu,dense(512),relu,dense(10)", []int{1, 28, 28}, 128)
}

// BenchmarkCNNStep: conv3x3(16)-relu-conv3x3(32)-relu-globalavgpool-dense(10)
// on 28x28, batch 128 (workload 2).
func BenchmarkCNNStep(b *testing.B) {
	benchStep(b, "conv(16,k=3),relu,conv(32,k=3),relu,globalavgpool,dense(10)", []int{1, 28, 28}, 128)
}

// BenchmarkGCNNStep: the C4 GCNN of the same width (workload 3): 16 and 32
// channels in total, i.e. 4 and 8 per rotation.
func BenchmarkGCNNStep(b *testing.B) {
	benchStep(b, "lift(c4,4,k=3),relu,gconv(8,k=3),relu,gpool,dense(10)", []int{1, 28, 28}, 128)
}

// benchKernel reports analytic NTK entries (pairs) per second.
func benchKernel(b *testing.B, spec string, shape []int, n int) {
	a, err := Parse(spec, shape, NTK)
	if err != nil {
		b.Fatal(err)
	}
	x := randInputs(1, n, a.InputSize())
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Kernel(context.Background(), x, n, nil, 0, KernelOptions{NTK: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkKernelMLP: depth-3 ReLU MLP on 784-dimensional inputs.
func BenchmarkKernelMLP(b *testing.B) {
	benchKernel(b, "dense(512),relu,dense(512),relu,dense(512),relu,dense(1)", []int{784}, 1000)
}

// BenchmarkKernelCNN: two 3x3 convolutions with global average pooling on
// 8x8 images (full pixel-pixel covariances, O((HW)^2) per pair).
func BenchmarkKernelCNN(b *testing.B) {
	benchKernel(b, "conv(16,k=3),relu,conv(16,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, 40)
}

// BenchmarkKernelGCNN: the C4 GCNN on 8x8 images (O((|G|HW)^2) per pair).
func BenchmarkKernelGCNN(b *testing.B) {
	benchKernel(b, "lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(1)", []int{1, 8, 8}, 20)
}
