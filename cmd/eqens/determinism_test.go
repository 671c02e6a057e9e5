package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/train"
)

// The determinism guarantees of docs/determinism.md at the command line:
// the same command with the same inputs and seed writes the same bytes,
// run after run, whatever the number of cores (GOMAXPROCS 1, 2 and 3 on a
// machine of any size; OpenBLAS, in the openblas build, is told the same
// number of threads and ignores it: eqens pins it to one thread per call).

// coreEnvs are the environments the commands are compared under.
var coreEnvs = [][]string{
	{"GOMAXPROCS=1", "OPENBLAS_NUM_THREADS=1"},
	{"GOMAXPROCS=2", "OPENBLAS_NUM_THREADS=2"},
	{"GOMAXPROCS=3", "OPENBLAS_NUM_THREADS=3"},
	{"GOMAXPROCS=2", "OPENBLAS_NUM_THREADS=2"}, // a second run of the same
}

// sameBytesAcrossCores runs eqens with args under every coreEnvs entry,
// each time after deleting the outputs (or the directories holding them), and requires every output
// file to be identical byte for byte. It returns the outputs of the first
// run.
func sameBytesAcrossCores(t *testing.T, dir string, outputs []string, args ...string) map[string][]byte {
	t.Helper()
	var first map[string][]byte
	for i, env := range coreEnvs {
		for _, o := range outputs {
			// A fresh start: the output, or the directory holding it.
			top, _, _ := strings.Cut(filepath.ToSlash(o), "/")
			os.RemoveAll(filepath.Join(dir, top))
		}
		if _, stderr, code := runEqens(t, dir, env, args...); code != 0 {
			t.Fatalf("eqens %s (%s): exit %d\n%s", strings.Join(args, " "), strings.Join(env, " "), code, stderr)
		}
		got := map[string][]byte{}
		for _, o := range outputs {
			b, err := os.ReadFile(filepath.Join(dir, o))
			if err != nil {
				t.Fatal(err)
			}
			got[o] = b
		}
		if i == 0 {
			first = got
			continue
		}
		for _, o := range outputs {
			if !bytes.Equal(first[o], got[o]) {
				t.Errorf("eqens %s: %s differs between %s and %s", strings.Join(args, " "), o, strings.Join(coreEnvs[0], " "), strings.Join(env, " "))
			}
		}
	}
	return first
}

// detInputs writes the inputs of the determinism tests: images x.npy
// (8×1×5×5, float64), the same as float32 in x32.npy, vectors v.npy (7×6),
// w.npy (5×6) and targets y.npy (8×2).
func detInputs(t *testing.T, dir string) {
	t.Helper()
	img := vals(8 * 25)
	writeF64(t, filepath.Join(dir, "x.npy"), []int{8, 1, 5, 5}, img)
	f32 := make([]float32, len(img))
	for i, v := range img {
		f32[i] = float32(v)
	}
	if err := npy.WriteFile(filepath.Join(dir, "x32.npy"), npy.FromFloat32([]int{8, 1, 5, 5}, f32)); err != nil {
		t.Fatal(err)
	}
	v := vals(12 * 6)
	writeF64(t, filepath.Join(dir, "v.npy"), []int{7, 6}, v[:42])
	writeF64(t, filepath.Join(dir, "w.npy"), []int{5, 6}, v[42:])
	writeF64(t, filepath.Join(dir, "y.npy"), []int{8, 2}, vals(16))
}

// TestKernelDeterministicAcrossCores: analytic kernels (a group-averaged
// GCNN NTK, tiled over the workers, and an MLP NNGP between two sets).
func TestKernelDeterministicAcrossCores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detInputs(t, dir)
	sameBytesAcrossCores(t, dir, []string{"k.npy"}, "kernel", "--arch", "lift(c4,3,k=3),relu,gconv(3,k=3),relu,gpool,dense(1)", "--x", "x.npy", "--kind", "ntk", "--average", "c4", "--out", "k.npy")
	sameBytesAcrossCores(t, dir, []string{"k.npy"}, "kernel", "--arch", "dense(8,b_std=0.1),erf,dense(8),relu,dense(1)", "--x", "v.npy", "--x2", "w.npy", "--kind", "nngp", "--out", "k.npy")
}

// TestApplyDeterministicAcrossCores: forward passes of freshly initialised
// networks, float32 and float64; another seed gives other outputs.
func TestApplyDeterministicAcrossCores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detInputs(t, dir)
	gcnn := "lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(3)"
	a := sameBytesAcrossCores(t, dir, []string{"y.npy"}, "apply", "--arch", gcnn, "--x", "x.npy", "--seed", "7", "--out", "y.npy")
	sameBytesAcrossCores(t, dir, []string{"y.npy"}, "apply", "--arch", gcnn, "--x", "x32.npy", "--seed", "7", "--out", "y.npy")
	sameBytesAcrossCores(t, dir, []string{"y.npy"}, "apply", "--arch", "dense(64),tanh,dense(64),gelu,dense(2)", "--param", "standard", "--x", "v.npy", "--out", "y.npy")
	if _, stderr, code := runEqens(t, dir, nil, "apply", "--arch", gcnn, "--x", "x.npy", "--seed", "8", "--out", "y8.npy"); code != 0 {
		t.Fatal(stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "y8.npy")); bytes.Equal(a["y.npy"], b) {
		t.Error("seeds 7 and 8 gave the same outputs")
	}
}

// TestFloat32AgreesWithFloat64 documents what is not guaranteed: the
// float32 and float64 forward passes of one network agree to float32
// precision, not bit for bit.
func TestFloat32AgreesWithFloat64(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detInputs(t, dir)
	arch := "lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(3)"
	for _, in := range []string{"x.npy", "x32.npy"} {
		if _, stderr, code := runEqens(t, dir, nil, "apply", "--arch", arch, "--x", in, "--seed", "7", "--out", "y-"+in); code != 0 {
			t.Fatal(stderr)
		}
	}
	a, err := npy.ReadFile(filepath.Join(dir, "y-x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := npy.ReadFile(filepath.Join(dir, "y-x32.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if a.DType != "float64" || b.DType != "float32" {
		t.Fatalf("dtypes %s and %s, want float64 and float32 (outputs keep the input's type)", a.DType, b.DType)
	}
	av, _ := a.Float64()
	bv, _ := b.Float64()
	var scale, worst float64
	for i := range av {
		scale = max(scale, math.Abs(av[i]))
		worst = max(worst, math.Abs(av[i]-bv[i]))
	}
	if worst > 1e-5*scale {
		t.Errorf("float32 and float64 outputs differ by %g (scale %g)", worst, scale)
	}
	t.Logf("float32 vs float64: max difference %.3g of outputs up to %.3g", worst, scale)
}

// TestPredictDeterministicAcrossCores: NTK regression means and
// covariances, with the group-averaged kernel.
func TestPredictDeterministicAcrossCores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detInputs(t, dir)
	sameBytesAcrossCores(t, dir, []string{"mu.npy", "cov.npy"}, "predict", "--arch", "conv(4,k=3),relu,globalavgpool,dense(1)",
		"--train-x", "x.npy", "--train-y", "y.npy", "--test-x", "x.npy", "--average", "c4", "--time", "1,10,inf", "--reg", "1e-3",
		"--out", "mu.npy", "--cov", "cov.npy")
}

// TestTrainDeterministicAcrossCores: "eqens train" writes bit-identical
// member checkpoints with 1, 2 or 3 cores, with more workers than cores
// and with the batched schedule (the in-process counterpart is train's TestDeterminismAcrossCores;
// across shards, train's TestSlurmArray).
func TestTrainDeterministicAcrossCores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := `data: {name: cross-product, size: 32}
augmentation: {mode: random, group: oct, output: vector}
model: {arch: "dense(32),relu,dense(3)"}
optimizer: {name: adam, lr: 0.01}
steps: 30
batch_size: 8
members: 3
seed: 11
`
	writeBytes(t, filepath.Join(dir, "cfg.yaml"), []byte(cfg))
	var members []string
	for m := 0; m < 3; m++ {
		p, err := filepath.Rel(dir, train.MemberPath(filepath.Join(dir, "run"), m))
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, p)
	}
	first := sameBytesAcrossCores(t, dir, append(members, filepath.Join("run", "preprocess.json")), "train", "--config", "cfg.yaml", "--out", "run", "--log-every", "0")
	for _, flags := range [][]string{{"--workers", "3"}, {"--schedule", "batched"}} {
		os.RemoveAll(filepath.Join(dir, "run"))
		args := append([]string{"train", "--config", "cfg.yaml", "--out", "run", "--log-every", "0"}, flags...)
		if _, stderr, code := runEqens(t, dir, []string{"GOMAXPROCS=2"}, args...); code != 0 {
			t.Fatal(stderr)
		}
		for _, m := range members {
			b, err := os.ReadFile(filepath.Join(dir, m))
			if err != nil || !bytes.Equal(b, first[m]) {
				t.Errorf("%s: %v on 2 cores differs from 1 core (%v)", m, flags, err)
			}
		}
	}
	if bytes.Equal(first[members[0]], first[members[1]]) {
		t.Error("members 0 and 1 are identical")
	}
}

// TestKernelSymmetricVsFull documents another limit: "eqens kernel --x A"
// uses the symmetric shortcut (k(x_i, x_j) computed once and mirrored),
// "--x A --x2 A" computes both triangles; they agree to rounding, not
// necessarily bit for bit.
func TestKernelSymmetricVsFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	detInputs(t, dir)
	arch := "lift(c4,3,k=3),relu,gconv(3,k=3),relu,gpool,dense(1)"
	for _, args := range [][]string{{"--out", "sym.npy"}, {"--x2", "x.npy", "--out", "full.npy"}} {
		if _, stderr, code := runEqens(t, dir, nil, append([]string{"kernel", "--arch", arch, "--x", "x.npy", "--kind", "ntk"}, args...)...); code != 0 {
			t.Fatal(stderr)
		}
	}
	a, err := npy.ReadFile(filepath.Join(dir, "sym.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := npy.ReadFile(filepath.Join(dir, "full.npy"))
	if err != nil {
		t.Fatal(err)
	}
	av, _ := a.Float64()
	bv, _ := b.Float64()
	same := 0
	for i := range av {
		if math.Abs(av[i]-bv[i]) > 1e-12*math.Abs(av[i]) {
			t.Fatalf("entry %d: symmetric %v, full %v", i, av[i], bv[i])
		}
		if av[i] == bv[i] {
			same++
		}
	}
	t.Logf("symmetric vs full kernel: %d of %d entries bit-identical, the rest within 1e-12", same, len(av))
}
