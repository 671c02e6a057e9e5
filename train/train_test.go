package train

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/nn"
)

// tinyImages returns n random c×s×s images with labels in 0..classes-1.
func tinyImages(n, c, s, classes int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	ds := &data.Dataset{Name: "tiny", Shape: []int{c, s, s}, X: make([]float32, n*c*s*s), Labels: make([]int, n), Classes: classes}
	for i := range ds.X {
		ds.X[i] = float32(r.NormFloat64())
	}
	for i := range ds.Labels {
		ds.Labels[i] = i % classes
	}
	return ds
}

// tinyRegression returns n random c×s×s images with random 2-d targets.
func tinyRegression(n, c, s int, seed uint64) *data.Dataset {
	ds := tinyImages(n, c, s, 1, seed)
	r := rand.New(rand.NewPCG(seed, 8))
	ds.Labels, ds.Classes = nil, 0
	ds.TargetDim = 2
	ds.Y = make([]float32, 2*n)
	for i := range ds.Y {
		ds.Y[i] = float32(r.NormFloat64())
	}
	return ds
}

// memConfig returns a config for in-memory data.
func memConfig(arch string, steps int) *Config {
	c := DefaultConfig()
	c.Data.Name = "tiny"
	c.Model.Arch = arch
	c.Steps = steps
	c.Optimizer.LR = 0.01
	c.BatchSize = 0
	c.CheckpointEvery = 0
	return c
}

// lossHistory trains cfg on ds into a temporary directory and returns the
// loss of every step of member 0.
func lossHistory(t *testing.T, cfg *Config, ds *data.Dataset) []float64 {
	t.Helper()
	var hist []float64
	_, err := Train(context.Background(), cfg, t.TempDir(), Options{Data: ds, Members: Range{0, 1}, Progress: func(e Event) {
		if !e.Done && e.Member == 0 {
			hist = append(hist, e.Loss)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

func TestOverfit(t *testing.T) {
	for _, tc := range []struct {
		name, arch, loss string
		ds               *data.Dataset
		steps            int
	}{
		{"mlp-mse", "dense(64),relu,dense(2)", LossMSE, tinyRegression(16, 1, 8, 1), 300},
		{"mlp-ce", "dense(64),relu,dense(2)", LossCrossEntropy, tinyImages(16, 1, 8, 2, 2), 300},
		{"cnn-ce", "conv(8,k=3),relu,conv(8,k=3),relu,flatten,dense(2)", LossCrossEntropy, tinyImages(16, 1, 8, 2, 3), 300},
		{"gcnn-c4-ce", "lift(c4,6,k=3),relu,gconv(6,k=3),relu,gpool,dense(2)", LossCrossEntropy, tinyImages(16, 1, 6, 2, 4), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := memConfig(tc.arch, tc.steps)
			cfg.Loss = tc.loss
			cfg.Optimizer.LR = 0.02
			h := lossHistory(t, cfg, tc.ds)
			if len(h) != tc.steps {
				t.Fatalf("%d losses for %d steps", len(h), tc.steps)
			}
			if !(h[len(h)-1] < h[0]/100) {
				t.Errorf("loss went from %g to %g, want a 100-fold decrease", h[0], h[len(h)-1])
			}
		})
	}
}

func TestGDMonotone(t *testing.T) {
	cfg := memConfig("dense(128),relu,dense(2)", 100)
	cfg.Optimizer.Name = "gd"
	cfg.Optimizer.LR = 0.05
	cfg.Loss = LossMSE
	h := lossHistory(t, cfg, tinyRegression(12, 1, 6, 5))
	for i := 1; i < len(h); i++ {
		if !(h[i] < h[i-1]) {
			t.Fatalf("loss rose at step %d: %g -> %g", i, h[i-1], h[i])
		}
	}
	if !(h[len(h)-1] < 0.8*h[0]) {
		t.Errorf("loss only went from %g to %g", h[0], h[len(h)-1])
	}
}

func TestLosses(t *testing.T) {
	// Cross-entropy stays finite for huge logits and its gradient matches
	// finite differences.
	out := []float32{1e4, -1e4, 3, 0.5, -2, 1}
	labels := []int{1, 0}
	grad := make([]float32, len(out))
	l := CrossEntropy(out, labels, grad, 2, 3)
	if math.IsNaN(l) || math.IsInf(l, 0) || math.Abs(l-(2e4+1+math.Log(1+math.Exp(-0.5)+math.Exp(-3))-0.5)/2) > 1e-9*l {
		t.Errorf("cross-entropy %v", l)
	}
	if grad[0] != 0.5 || grad[1] != -0.5 {
		t.Errorf("saturated gradient %v", grad[:3])
	}
	small := []float32{0.3, -0.2, 0.9, 0.1, 0.4, -0.7}
	ys := []float32{1, 0, -1, 0.5, 0.5, 2}
	for _, tc := range []struct {
		name string
		f    func(out, grad []float32) float64
	}{
		{"cross-entropy", func(o, g []float32) float64 { return CrossEntropy(o, []int{2, 0}, g, 2, 3) }},
		{"mse", func(o, g []float32) float64 { return MSE(o, ys, g, 2) }},
	} {
		g := make([]float32, len(small))
		tc.f(small, g)
		for i := range small {
			p := slices.Clone(small)
			const h = 1e-3
			p[i] += h
			up := tc.f(p, nil)
			p[i] -= 2 * h
			down := tc.f(p, nil)
			if fd := (up - down) / (2 * h); math.Abs(fd-float64(g[i])) > 1e-4 {
				t.Errorf("%s: gradient %d = %v, finite difference %v", tc.name, i, g[i], fd)
			}
		}
	}
	// The theory's normalisation: L = 1/(2N) Σ ||f − y||².
	if l := MSE([]float32{1, 2, 3, 4}, []float32{0, 0, 0, 0}, nil, 2); l != 30.0/4 {
		t.Errorf("MSE = %v, want 7.5", l)
	}
}

func TestLearningRate(t *testing.T) {
	o := OptimizerConfig{LR: 0.1, Schedule: "constant"}
	if LearningRate(o, 50, 100) != 0.1 {
		t.Error("constant")
	}
	o.Schedule, o.MinLR = "cosine", 0.01
	if LearningRate(o, 0, 100) != 0.1 || math.Abs(LearningRate(o, 50, 100)-0.055) > 1e-12 || math.Abs(LearningRate(o, 100, 100)-0.01) > 1e-12 {
		t.Error("cosine")
	}
	o = OptimizerConfig{LR: 0.1, Schedule: "step", StepSize: 10, Gamma: 0.5}
	if LearningRate(o, 9, 100) != 0.1 || LearningRate(o, 10, 100) != 0.05 || LearningRate(o, 25, 100) != 0.025 {
		t.Error("step")
	}
}

// TestPartialAugmentation trains with a finite subset of SO(2) acting on
// images by interpolation (so2:6, not closed): inputs are masked so that
// their orbits are well defined, and training runs in both samplings.
func TestPartialAugmentation(t *testing.T) {
	ds := tinyImages(8, 1, 7, 2, 11)
	for _, sampling := range []string{"random", "orbit"} {
		cfg := memConfig("dense(16),relu,dense(2)", 20)
		cfg.Augmentation = AugConfig{Mode: "partial", Group: "so2:6", Sampling: sampling, Input: "auto", Output: "trivial"}
		s, err := Prepare(cfg, ds)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Preprocess.Mask || !s.Aug.Masked() || s.Aug.Group.Closed() {
			t.Fatalf("%s: preprocessing %+v, augmentation masked %v", sampling, s.Preprocess, s.Aug.Masked())
		}
		if want := map[string]int{"random": 8, "orbit": 48}[sampling]; s.N != want {
			t.Errorf("%s: %d training samples, want %d", sampling, s.N, want)
		}
		for i := 0; i < s.Data.Len(); i++ {
			if x := s.Data.Input(i); x[0] != 0 || x[6] != 0 || x[48] != 0 {
				t.Fatalf("%s: corner pixels of sample %d not masked: %v", sampling, i, x[:7])
			}
		}
		if h := lossHistory(t, cfg, ds); len(h) != 20 || !(h[19] < h[0]) {
			t.Errorf("%s: losses %v", sampling, h)
		}
	}
}

// TestSnapshots checks that the snapshot hook sees every requested step of
// every member, the initialisation included, and that snapshots do not
// change the trained parameters.
func TestSnapshots(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Data.Name = "cross-product"
	cfg.Data.Size = 32
	cfg.Model.Arch = "dense(16),relu,dense(3)"
	cfg.Optimizer.Name = "sgd"
	cfg.Optimizer.LR = 0.01
	cfg.Steps = 5
	cfg.BatchSize = 8
	cfg.Members = 2
	var mu sync.Mutex
	seen := map[[2]int]float32{}
	opts := Options{Snapshots: []int{0, 2, 5}, Snapshot: func(m, step int, net *nn.Network[float32]) error {
		mu.Lock()
		defer mu.Unlock()
		seen[[2]int{m, step}] = net.Params[0]
		return nil
	}}
	plain := t.TempDir()
	if _, err := Train(context.Background(), cfg, plain, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, sched := range []Schedule{ScheduleMembers, ScheduleBatched} {
		clear(seen)
		opts.Schedule = sched
		dir := t.TempDir()
		if _, err := Train(context.Background(), cfg, dir, opts); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 6 {
			t.Fatalf("%s: snapshots %v, want members 0,1 at steps 0,2,5", sched, seen)
		}
		a, _ := os.ReadFile(MemberPath(dir, 1))
		b, _ := os.ReadFile(MemberPath(plain, 1))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: snapshots changed the checkpoint", sched)
		}
	}
}
