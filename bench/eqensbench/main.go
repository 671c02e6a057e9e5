package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/train"
)

// Specs of the workloads, shared with bench/torch_steps.py.
const (
	mlpSpec  = "dense(512),relu,dense(512),relu,dense(10)"
	cnnSpec  = "conv(16,k=3),relu,conv(32,k=3),relu,globalavgpool,dense(10)"
	gcnnSpec = "lift(c4,4,k=3),relu,gconv(8,k=3),relu,gpool,dense(10)"
	// ntkSpec is the depth-3 ReLU MLP of workload 5 (bench/numpy_ntk.py).
	ntkSpec = "dense(512,w_std=1.4,b_std=0.1),relu,dense(512,w_std=1.4,b_std=0.1),relu,dense(512,w_std=1.4,b_std=0.1),relu,dense(1,w_std=1.4,b_std=0.1)"
)

type result struct {
	Work    string             `json:"work"`
	Seconds float64            `json:"seconds"`
	Rate    float64            `json:"rate,omitempty"`
	PeakMiB float64            `json:"peak_mib"`
	Extra   map[string]float64 `json:"extra,omitempty"`
	Threads int                `json:"threads"`
	Backend string             `json:"backend"`
	Kernel  string             `json:"kernel"`
}

func main() {
	work := flag.String("work", "", "workload")
	threads := flag.Int("threads", 1, "BLAS threads (single-network workloads)")
	reps := flag.Int("reps", 20, "timed repetitions")
	members := flag.Int("members", 8, "ensemble members")
	steps := flag.Int("steps", 200, "steps per member")
	flag.StringVar(schedFlag, "schedule", "", "ensemble workload: members (default) or batched")
	n := flag.Int("n", 4000, "training points for kernel workloads")
	nTest := flag.Int("test", 1000, "test points for the scale workload")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the workload to this file")
	archFlag = flag.String("arch", "", "architecture spec (conv-kernel)")
	hwFlag = flag.Int("hw", 28, "image size (conv-kernel; 28 with 1 channel reads MNIST digits, else random inputs)")
	chanFlag = flag.Int("channels", 1, "input channels (conv-kernel)")
	opFlag = flag.String("op", "dgemm", "operation of the linalg workload: sgemm, dgemm, cholesky or eigsym")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "eqensbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "eqensbench:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	r, err := runWork(*work, *threads, *reps, *members, *steps, *n, *nTest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eqensbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	r.Work, r.Threads, r.Backend, r.Kernel = *work, *threads, linalg.Backend, linalg.Kernel()
	r.PeakMiB = peakMiB()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// peakMiB reads the peak resident set size of this process.
func peakMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func runWork(work string, threads, reps, members, steps, n, nTest int) (*result, error) {
	switch work {
	case "mlp-step":
		return step(mlpSpec, threads, reps)
	case "cnn-step":
		return step(cnnSpec, threads, reps)
	case "gcnn-step":
		return step(gcnnSpec, threads, reps)
	case "ensemble":
		return ensemble(members, steps)
	case "ntk-mlp":
		return ntkMLP(n, threads, reps)
	case "ntk-predict":
		return ntkPredict(n, threads)
	case "scale":
		return scale(n, nTest)
	case "dgemm":
		return dgemm(n)
	case "linalg":
		return linalgOp(*opFlag, n, reps)
	case "conv-kernel":
		return convKernel(*archFlag, n, *hwFlag, *chanFlag, reps)
	}
	return nil, fmt.Errorf("unknown workload %q", work)
}

// step times one SGD step (forward, cross-entropy, backward, update) of a
// network on a batch of 128 random 28×28 images. With threads > 1,
// convolutional networks split the batch over goroutines (single-threaded
// BLAS in each); dense-only networks use multi-threaded BLAS instead.
func step(spec string, threads, reps int) (*result, error) {
	linalg.SetThreads(threads)
	if threads > 1 && (strings.Contains(spec, "conv") || strings.Contains(spec, "lift")) {
		linalg.SetThreads(1)
	}
	a, err := nn.Parse(spec, []int{1, 28, 28}, nn.Standard)
	if err != nil {
		return nil, err
	}
	net := nn.New[float32](a)
	net.Init(1)
	net.SetWorkers(threads)
	const batch = 128
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*784)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	grad := make([]float32, batch*10)
	one := func() {
		net.ZeroGrad()
		out := net.Forward(x, batch)
		train.CrossEntropy(out, labels, grad, batch, 10)
		net.Backward(grad)
		for i, g := range net.Grads {
			net.Params[i] -= 0.01 * g
		}
	}
	for i := 0; i < 5; i++ {
		one()
	}
	times := make([]float64, reps)
	for i := range times {
		t := time.Now()
		one()
		times[i] = time.Since(t).Seconds()
	}
	return &result{Seconds: median(times)}, nil
}

// ensemble trains members CNNs for steps steps each on random data with
// both cores (one member per core, single-threaded BLAS) and reports
// member-steps per second.
func ensemble(members, steps int) (*result, error) {
	const n = 1024
	rng := rand.New(rand.NewPCG(3, 4))
	ds := &data.Dataset{Name: "random", Shape: []int{1, 28, 28}, X: make([]float32, n*784), Labels: make([]int, n), Classes: 10}
	for i := range ds.X {
		ds.X[i] = float32(rng.NormFloat64())
	}
	for i := range ds.Labels {
		ds.Labels[i] = rng.IntN(10)
	}
	cfg := train.DefaultConfig()
	cfg.Data.Name = "random"
	cfg.Data.Standardize = "none"
	cfg.Model.Arch = cnnSpec
	cfg.Model.Param = "standard"
	cfg.Optimizer.Name = "sgd"
	cfg.Optimizer.LR = 0.01
	cfg.Steps = steps
	cfg.BatchSize = 128
	cfg.Members = members
	dir, err := os.MkdirTemp("", "eqensbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t := time.Now()
	sched, err := train.ParseSchedule(*schedFlag)
	if err != nil {
		return nil, err
	}
	if _, err := train.Train(context.Background(), cfg, dir, train.Options{Data: ds, Schedule: sched}); err != nil {
		return nil, err
	}
	sec := time.Since(t).Seconds()
	return &result{Seconds: sec, Rate: float64(members*steps) / sec}, nil
}

// mnistX returns the first n MNIST training images as float64, scaled to
// [0, 1].
func mnistX(n int) ([]float64, *data.Dataset, error) {
	ds, err := data.MNIST("train")
	if err != nil {
		return nil, nil, err
	}
	if n > ds.Len() {
		return nil, nil, fmt.Errorf("MNIST has %d training images, asked for %d", ds.Len(), n)
	}
	x := make([]float64, n*784)
	for i := range x {
		x[i] = float64(ds.X[i])
	}
	return x, ds, nil
}

// ntkMLP times the analytic NTK of the depth-3 ReLU MLP on n MNIST images.
func ntkMLP(n, threads, reps int) (*result, error) {
	x, _, err := mnistX(n)
	if err != nil {
		return nil, err
	}
	a, err := nn.Parse(ntkSpec, []int{784}, nn.NTK)
	if err != nil {
		return nil, err
	}
	var sum float64
	sec, err := timeKernel(reps, func() (*nn.KernelResult, error) {
		return a.Kernel(context.Background(), x, n, nil, 0, nn.KernelOptions{NTK: true})
	}, func(k *nn.KernelResult) { sum = k.Theta[0] + k.Theta[n*n-1] })
	if err != nil {
		return nil, err
	}
	return &result{Seconds: sec, Extra: map[string]float64{"checksum": sum}}, nil
}

// ntkPredict times the NTK prediction with n training points (10 outputs,
// 1000 test points, t in {1, 100, inf}) and, on the same matrix, a bare
// eigendecomposition plus Cholesky factorisation.
func ntkPredict(n, threads int) (*result, error) {
	linalg.SetThreads(threads)
	x, ds, err := mnistX(n + 1000)
	if err != nil {
		return nil, err
	}
	a, err := nn.Parse(ntkSpec, []int{784}, nn.NTK)
	if err != nil {
		return nil, err
	}
	k, err := a.Kernel(context.Background(), x[:n*784], n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kt, err := a.Kernel(context.Background(), x[n*784:], 1000, x[:n*784], n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	y := make([]float64, n*10)
	for i := 0; i < n; i++ {
		y[i*10+ds.Labels[i]] = 1
	}
	t := time.Now()
	p, err := predict.NewRegressor(n, k.Theta, y, 10, predict.Options{Reg: 1e-6})
	if err != nil {
		return nil, err
	}
	if _, err := p.Mean(kt.Theta, 1000, []float64{1, 100, math.Inf(1)}); err != nil {
		return nil, err
	}
	pred := time.Since(t).Seconds()
	m := append([]float64(nil), k.Theta...)
	w := make([]float64, n)
	t = time.Now()
	if err := linalg.EigSym(n, m, w); err != nil {
		return nil, err
	}
	copy(m, k.Theta)
	for i := 0; i < n; i++ {
		m[i*n+i] += 1e-6 * k.Theta[i*n+i]
	}
	if err := linalg.Cholesky(n, m); err != nil {
		return nil, err
	}
	bare := time.Since(t).Seconds()
	return &result{Seconds: pred, Extra: map[string]float64{"lapack_seconds": bare, "ratio": pred / bare}}, nil
}

// scale computes the prediction (t = inf) of the infinite ensemble of the
// MLP trained with full C4 augmentation on n MNIST images through the
// group-averaged kernel, without expanding the training set, and its
// accuracy on test images.
func scale(n, nTest int) (*result, error) {
	// The n×n kernel dominates the heap and few temporaries follow it:
	// collect early so the heap stays near the live size (n = 40,000: the
	// kernel is 12.8 GB; the default GOGC=100 would allow twice that).
	debug.SetGCPercent(20)
	start := time.Now()
	x, ds, err := mnistX(n)
	if err != nil {
		return nil, err
	}
	test, err := data.MNIST("test")
	if err != nil {
		return nil, err
	}
	xt := make([]float64, nTest*784)
	for i := range xt {
		xt[i] = float64(test.X[i])
	}
	g, _ := group.Parse("c4")
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return nil, err
	}
	a, err := nn.Parse(ntkSpec, []int{1, 28, 28}, nn.NTK)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	k, err := a.Kernel(context.Background(), x, n, nil, 0, nn.KernelOptions{NTK: true, Average: rep, ThetaOnly: true})
	if err != nil {
		return nil, err
	}
	kernSec := time.Since(t).Seconds()
	kt, err := a.Kernel(context.Background(), xt, nTest, x, n, nn.KernelOptions{NTK: true, Average: rep, ThetaOnly: true})
	if err != nil {
		return nil, err
	}
	y := make([]float64, n*10)
	for i := 0; i < n; i++ {
		for c := 0; c < 10; c++ {
			y[i*10+c] = -0.1
		}
		y[i*10+ds.Labels[i]] += 1
	}
	linalg.SetThreads(runtime.GOMAXPROCS(0))
	t = time.Now()
	p, err := predict.NewRegressor(n, k.Theta, y, 10, predict.Options{Reg: 1e-4, InPlace: true, InfOnly: true})
	if err != nil {
		return nil, err
	}
	k.Theta = nil
	mu, err := p.Mean(kt.Theta, nTest, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	solveSec := time.Since(t).Seconds()
	correct := 0
	for i := 0; i < nTest; i++ {
		best := 0
		for c := 1; c < 10; c++ {
			if mu[i*10+c] > mu[i*10+best] {
				best = c
			}
		}
		if best == test.Labels[i] {
			correct++
		}
	}
	cholFlops := float64(n) * float64(n) * float64(n) / 3
	return &result{Seconds: time.Since(start).Seconds(), Extra: map[string]float64{
		"kernel_seconds": kernSec, "solve_seconds": solveSec, "accuracy": float64(correct) / float64(nTest),
		"cholesky_gflops": cholFlops / solveSec / 1e9,
	}}, nil
}

// dgemm measures the float64 GEMM rate on n×n matrices with all cores, the
// reference for the scale workload's achieved GFLOP/s.
func dgemm(n int) (*result, error) {
	linalg.SetThreads(runtime.GOMAXPROCS(0))
	a := make([]float64, n*n)
	b := make([]float64, n*n)
	c := make([]float64, n*n)
	for i := range a {
		a[i], b[i] = float64(i%13), float64(i%7)
	}
	linalg.Dgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	times := make([]float64, 3)
	for i := range times {
		t := time.Now()
		linalg.Dgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		times[i] = time.Since(t).Seconds()
	}
	sec := median(times)
	return &result{Seconds: sec, Rate: 2 * float64(n) * float64(n) * float64(n) / sec / 1e9}, nil
}

// opFlag is the operation of the linalg workload.
var opFlag = new(string)

// linalgOp times one linear-algebra operation of order n on all cores
// (median of reps runs after one warm-up): the workloads on which bench/run
// compares the pure-Go build with OpenBLAS.
func linalgOp(op string, n, reps int) (*result, error) {
	linalg.SetThreads(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n*n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	var f func() error
	flops := 2 * float64(n) * float64(n) * float64(n)
	switch op {
	case "sgemm":
		a, c := make([]float32, n*n), make([]float32, n*n)
		for i, v := range x {
			a[i] = float32(v)
		}
		f = func() error { linalg.Sgemm(false, true, n, n, n, 1, a, n, a, n, 0, c, n); return nil }
	case "dgemm":
		c := make([]float64, n*n)
		f = func() error { linalg.Dgemm(false, true, n, n, n, 1, x, n, x, n, 0, c, n); return nil }
	case "cholesky", "eigsym":
		spd := make([]float64, n*n)
		linalg.Dgemm(false, true, n, n, n, 1/float64(n), x, n, x, n, 0, spd, n)
		for i := 0; i < n; i++ {
			spd[i*n+i] += 1
		}
		work, w := make([]float64, n*n), make([]float64, n)
		if op == "cholesky" {
			flops /= 6
			f = func() error { copy(work, spd); return linalg.Cholesky(n, work) }
		} else {
			flops = 0
			f = func() error { copy(work, spd); return linalg.EigSym(n, work, w) }
		}
	default:
		return nil, fmt.Errorf("linalg workload: unknown -op %q (want sgemm, dgemm, cholesky or eigsym)", op)
	}
	if err := f(); err != nil {
		return nil, err
	}
	times := make([]float64, max(reps, 1))
	for i := range times {
		t := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		times[i] = time.Since(t).Seconds()
	}
	sec := median(times)
	r := &result{Seconds: sec, Extra: map[string]float64{"n": float64(n)}}
	if flops > 0 {
		r.Rate = flops / sec / 1e9
	}
	return r, nil
}

// Flags of the conv-kernel workload.
var archFlag, hwFlag, chanFlag = new(string), new(int), new(int)

// schedFlag is the -schedule flag of the ensemble workload.
var schedFlag = new(string)

// convKernel times the analytic NTK K(X, X) of a convolutional network on
// n inputs (the first n MNIST training digits for 28×28×1, standard normal
// images otherwise) with all cores, and counts the float64 operations of
// the pairs it propagates (the roofline workload of bench/run): per
// convolution 2·2k² per entry of K and Theta plus 3 for the affine map,
// per ReLU 42 (the arc-cosine map of vec.ReLUArcCos), per pair i <= j;
// the variance propagations of single inputs are not counted.
func convKernel(spec string, n, hw, channels, reps int) (*result, error) {
	shape := []int{channels, hw, hw}
	var x []float64
	if hw == 28 && channels == 1 {
		var err error
		if x, _, err = mnistX(n); err != nil {
			return nil, err
		}
	} else {
		rng := rand.New(rand.NewPCG(7, 8))
		x = make([]float64, n*channels*hw*hw)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
	}
	a, err := nn.Parse(spec, shape, nn.NTK)
	if err != nil {
		return nil, err
	}
	var sum float64
	sec, err := timeKernel(reps, func() (*nn.KernelResult, error) {
		return a.Kernel(context.Background(), x, n, nil, 0, nn.KernelOptions{NTK: true, ThetaOnly: true})
	}, func(k *nn.KernelResult) {
		sum = 0
		for _, v := range k.Theta {
			sum += v
		}
	})
	if err != nil {
		return nil, err
	}
	pairs := float64(n*(n+1)) / 2
	return &result{Seconds: sec, Extra: map[string]float64{
		"checksum": sum, "entries": float64(n * n), "ms_per_entry": 1000 * sec / float64(n*n),
		"flops": pairs * convFlops(a),
	}}, nil
}

// convFlops counts the float64 operations of one pair through the
// architecture's convolutions and ReLUs (see convKernel); for group
// convolutions it counts k² terms per entry, the reduced operator's.
func convFlops(a *nn.Arch) float64 {
	var f float64
	for i, l := range a.Layers {
		in := a.Shapes[i]
		out := a.Shapes[i+1]
		p := float64(in.G * in.H * in.W)
		q := float64(out.G * out.H * out.W)
		spec := l.String()
		switch {
		case strings.HasPrefix(spec, "conv(") || strings.HasPrefix(spec, "gconv(") || strings.HasPrefix(spec, "lift("):
			k := 3.0
			if j := strings.Index(spec, "k="); j >= 0 {
				fmt.Sscanf(spec[j+2:], "%g", &k)
			}
			cols := float64(out.H * out.W) // slab storage of group features
			f += q * cols * (4*k*k + 3)
		case spec == "relu":
			cols := float64(in.H * in.W)
			f += p * cols * 42
		}
	}
	return f
}

// timeKernel runs a kernel computation reps times (at least once) and
// returns the median seconds; check sees every result.
func timeKernel(reps int, compute func() (*nn.KernelResult, error), check func(*nn.KernelResult)) (float64, error) {
	times := make([]float64, max(1, reps))
	for i := range times {
		t := time.Now()
		k, err := compute()
		if err != nil {
			return 0, err
		}
		times[i] = time.Since(t).Seconds()
		check(k)
	}
	return median(times), nil
}
