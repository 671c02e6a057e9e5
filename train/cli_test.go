//go:build unix

package train

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/eqens/eqens/internal/linalg"
)

// The tests in this file run the eqens command as a subprocess, built once
// per test binary into a temporary directory.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// eqensBinary builds cmd/eqens and returns its path.
func eqensBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the eqens binary; skipped in -short mode")
	}
	binOnce.Do(func() {
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			if goTool, err = exec.LookPath("go"); err != nil {
				binErr = fmt.Errorf("no go tool to build the binary: %w", err)
				return
			}
		}
		if binDir, binErr = os.MkdirTemp("", "eqens-train-test-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "eqens")
		args := []string{"build", "-o", binPath}
		if linalg.Backend == "openblas" {
			// The binary uses the backend this test binary was built with.
			args = append(args, "-tags", "openblas")
		}
		cmd := exec.Command(goTool, append(args, "github.com/eqens/eqens/cmd/eqens")...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/eqens: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// writeFile writes a test file.
func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runEqens runs the binary to completion and returns its output.
func runEqens(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(eqensBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// killConfig trains long enough (about a second) to be killed mid-run.
const killConfig = `data:
  name: cross-product
  size: 64
augmentation:
  mode: random
  group: oct
  output: vector
model:
  arch: dense(256),relu,dense(256),relu,dense(3)
optimizer:
  name: sgd
  lr: 0.01
  momentum: 0.9
  schedule: cosine
steps: 1000
batch_size: 16
members: 2
seed: 3
checkpoint_every: 50
`

// TestKillResume kills "eqens train" mid-run (SIGKILL: no chance to
// checkpoint; SIGINT: members checkpoint and stop cleanly), plants stray
// temporary files as an interrupted write would leave, restarts it, and
// requires final checkpoints bit-identical to an uninterrupted run's.
func TestKillResume(t *testing.T) {
	root := t.TempDir()
	cfg := filepath.Join(root, "train.yaml")
	writeFile(t, cfg, killConfig)
	ref := filepath.Join(root, "ref")
	if _, stderr, code := runEqens(t, nil, "train", "--config", cfg, "--out", ref); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}
	want := readMembers(t, ref)
	for _, tc := range []struct {
		sig   syscall.Signal
		after int // signal once a checkpoint at this step or later exists
	}{{syscall.SIGKILL, 50}, {syscall.SIGKILL, 400}, {syscall.SIGINT, 200}} {
		sig := tc.sig
		t.Run(fmt.Sprintf("%s-after-%d", strings.ReplaceAll(sig.String(), " ", "-"), tc.after), func(t *testing.T) {
			dir := filepath.Join(root, fmt.Sprintf("%d-%d", sig, tc.after))
			cmd := exec.Command(eqensBinary(t), "train", "--config", cfg, "--out", dir, "--log-every", "0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for a checkpoint of a member still training.
			deadline := time.Now().Add(60 * time.Second)
			step := 0
			for step < tc.after {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("no intermediate checkpoint within 60 s\n%s", stderr.String())
				}
				for m := 0; m < 2; m++ {
					if ck, err := ReadCheckpoint(MemberPath(dir, m)); err == nil && !ck.Done {
						step = ck.Step
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("killed run ended with %v; it finished before the signal (make killConfig longer)", err)
			}
			if sig == syscall.SIGINT && ee.ExitCode() != 130 {
				t.Errorf("interrupted run: exit %d, want 130\n%s", ee.ExitCode(), stderr.String())
			}
			unfinished := 0
			for m := 0; m < 2; m++ {
				if ck, err := ReadCheckpoint(MemberPath(dir, m)); err == nil && !ck.Done {
					unfinished++
				}
			}
			if unfinished == 0 {
				t.Fatal("no unfinished member after the signal")
			}
			// What a write interrupted at the wrong moment leaves behind:
			// a temporary file next to the checkpoint, possibly holding a
			// truncated copy. It must never be read.
			good, err := os.ReadFile(MemberPath(dir, 0))
			if err != nil {
				good, err = os.ReadFile(MemberPath(dir, 1))
			}
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, MembersDir, ".member-0000.safetensors.tmp-123456"), string(good[:len(good)/2]))
			writeFile(t, filepath.Join(dir, MembersDir, ".member-0001.safetensors.tmp-654321"), "garbage")
			stdout, errOut, code := runEqens(t, nil, "train", "--config", cfg, "--out", dir)
			if code != 0 {
				t.Fatalf("resumed run: exit %d\n%s", code, errOut)
			}
			if !strings.Contains(stdout, "trained") {
				t.Errorf("resumed run printed %q", stdout)
			}
			sameMembers(t, "resumed vs uninterrupted", want, readMembers(t, dir))
		})
	}
}

// TestCLIDivergence runs a config whose members diverge: the command
// exits with status 1 and lists the failed members with their steps.
func TestCLIDivergence(t *testing.T) {
	root := t.TempDir()
	cfg := filepath.Join(root, "bad.yaml")
	writeFile(t, cfg, `data: {name: cross-product, size: 16}
model: {arch: "dense(16),relu,dense(3)"}
optimizer: {name: sgd, lr: 1.0e+6}
steps: 50
batch_size: 0
members: 2
`)
	_, stderr, code := runEqens(t, nil, "train", "--config", cfg, "--out", filepath.Join(root, "run"))
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	for _, w := range []string{"2 member(s) failed: 0, 1", "member 0 failed at step ", "member 1 failed at step ", "diverged: loss is"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr)
		}
	}
	// Bad flags and configs are usage errors (status 2) with clear messages.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--out", root}, "--config is required"},
		{[]string{"train", "--config", cfg, "--out", root, "--members", "1:9"}, "--members: members \"1:9\": want 0 <= A < B <= 2"},
		{[]string{"train", "--config", cfg, "--out", root, "--shard-index", "2", "--shard-count", "2"}, "shard index 2: want 0 <= index < 2"},
		{[]string{"train", "--config", cfg, "--out", root, "--members", "0:1", "--shard-index", "0", "--shard-count", "2"}, "exclude each other"},
		{[]string{"train", "--config", filepath.Join(root, "missing.yaml"), "--out", root}, "missing.yaml"},
	} {
		_, stderr, code := runEqens(t, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// shardConfig is a small run for the deployment simulations.
const shardConfig = `data:
  name: cross-product
  size: 24
augmentation:
  mode: random
  group: oct
  output: vector
model:
  arch: dense(16),relu,dense(3)
optimizer:
  name: adam
  lr: 0.01
steps: 20
batch_size: 8
members: 7
seed: 9
`

// TestSlurmArray runs deploy/slurm.sbatch itself once per array task (with
// the environment Slurm gives each task and an srun that just runs its
// arguments), into one shared run directory and into one directory per
// task merged afterwards, and requires both to equal a single run bit for
// bit, predictions included.
func TestSlurmArray(t *testing.T) {
	bin := eqensBinary(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	script, err := filepath.Abs("../deploy/slurm.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#SBATCH --array=(\d+)-(\d+)\s*$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("slurm.sbatch has no #SBATCH --array=A-B line")
	}
	lo, _ := strconv.Atoi(string(m[1]))
	hi, _ := strconv.Atoi(string(m[2]))
	root := t.TempDir()
	cfg := filepath.Join(root, "train.yaml")
	writeFile(t, cfg, shardConfig)
	ref := filepath.Join(root, "ref")
	if _, stderr, code := runEqens(t, nil, "train", "--config", cfg, "--out", ref); code != 0 {
		t.Fatalf("single run: exit %d\n%s", code, stderr)
	}
	fakeBin := filepath.Join(root, "bin")
	if err := os.Mkdir(fakeBin, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(fakeBin, "srun"), "#!/bin/sh\nexec \"$@\"\n")
	if err := os.Chmod(filepath.Join(fakeBin, "srun"), 0o755); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(root, "shared")
	var separate []string
	for id := lo; id <= hi; id++ {
		env := []string{
			"PATH=" + fakeBin + string(os.PathListSeparator) + os.Getenv("PATH"),
			"EQENS=" + bin,
			"SLURM_ARRAY_TASK_ID=" + strconv.Itoa(id),
			"SLURM_ARRAY_TASK_MIN=" + strconv.Itoa(lo),
			"SLURM_ARRAY_TASK_MAX=" + strconv.Itoa(hi),
			"SLURM_ARRAY_TASK_COUNT=" + strconv.Itoa(hi-lo+1),
			"SLURM_CPUS_PER_TASK=2",
		}
		own := filepath.Join(root, "task-"+strconv.Itoa(id))
		separate = append(separate, own)
		for _, out := range []string{shared, own} {
			cmd := exec.Command(bash, script, cfg, out)
			cmd.Env = append(os.Environ(), env...)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("array task %d: %v\n%s", id, err, b)
			}
		}
	}
	want := readMembers(t, ref)
	sameMembers(t, "shared directory vs single run", want, readMembers(t, shared))
	merged := filepath.Join(root, "merged")
	if _, stderr, code := runEqens(t, nil, append(append([]string{"ensemble", "merge"}, separate...), "--out", merged)...); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	sameMembers(t, "merged vs single run", want, readMembers(t, merged))
	// Every task trained its own block of members.
	for i, d := range separate {
		r, _ := ShardRange(i, hi-lo+1, 7)
		ms, _ := ListMembers(d)
		if len(ms) != r.Len() || (len(ms) > 0 && ms[0] != r.Lo) {
			t.Errorf("task %d trained %v, want %v", lo+i, ms, r)
		}
	}
	// eval over the merged run and over the shards gives the same numbers.
	evalOut := func(runs ...string) string {
		args := []string{"eval", "--data", "cross-product:test", "--group", "oct"}
		for _, r := range runs {
			args = append(args, "--run", r)
		}
		stdout, stderr, code := runEqens(t, nil, args...)
		if code != 0 {
			t.Fatalf("eval: exit %d\n%s", code, stderr)
		}
		return stdout
	}
	a, b, c := evalOut(ref), evalOut(merged), evalOut(separate...)
	if a != b || a != c || !strings.Contains(a, "member 6") {
		t.Errorf("eval differs:\n%s\n%s\n%s", a, b, c)
	}
}

// TestK8sIndexedJob takes the command of deploy/k8s-indexed-job.yaml,
// expands $(JOB_COMPLETION_INDEX) as Kubernetes does for every completion
// index, points --config and --out at local paths, runs it, and requires
// the shared run directory to equal a single run bit for bit.
func TestK8sIndexedJob(t *testing.T) {
	bin := eqensBinary(t)
	src, err := os.ReadFile("../deploy/k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string
						Args    []string
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(src, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions < 2 || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job with several completions: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) < 2 || argv[0] != "eqens" || argv[1] != "train" {
		t.Fatalf("container command %v is not eqens train", argv)
	}
	root := t.TempDir()
	cfg := filepath.Join(root, "train.yaml")
	writeFile(t, cfg, shardConfig)
	ref := filepath.Join(root, "ref")
	if _, stderr, code := runEqens(t, nil, "train", "--config", cfg, "--out", ref); code != 0 {
		t.Fatalf("single run: exit %d\n%s", code, stderr)
	}
	shared := filepath.Join(root, "shared")
	expand := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	for idx := 0; idx < job.Spec.Completions; idx++ {
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(idx)}
		args := make([]string, 0, len(argv))
		for i := 1; i < len(argv); i++ {
			a := expand.ReplaceAllStringFunc(argv[i], func(s string) string {
				if v, ok := env[s[2:len(s)-1]]; ok {
					return v
				}
				return s
			})
			switch argv[i-1] {
			case "--config":
				a = cfg
			case "--out":
				a = shared
			case "--shard-count":
				if a != strconv.Itoa(job.Spec.Completions) {
					t.Fatalf("--shard-count %s but completions %d", a, job.Spec.Completions)
				}
			}
			args = append(args, a)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX="+strconv.Itoa(idx))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("completion index %d (%v): %v\n%s", idx, args, err, b)
		}
	}
	sameMembers(t, "indexed job vs single run", readMembers(t, ref), readMembers(t, shared))
}

// TestEvalOutputs checks the files eqens eval writes.
func TestEvalOutputs(t *testing.T) {
	root := t.TempDir()
	cfg := filepath.Join(root, "train.yaml")
	writeFile(t, cfg, strings.Replace(shardConfig, "members: 7", "members: 3", 1))
	run := filepath.Join(root, "run")
	if _, stderr, code := runEqens(t, nil, "train", "--config", cfg, "--out", run); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(root, "eval.json")
	stdout, stderr, code := runEqens(t, nil, "eval", "--run", run, "--data", "cross-product:test", "--size", "10", "--group", "oct", "--out", out)
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "ensemble mean output") || !strings.Contains(stdout, "relative equivariance error") {
		t.Errorf("eval printed %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"task": "regression"`, `"n": 10`, `"mse"`, `"equivariance_error_mean_output"`} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("eval.json lacks %s", w)
		}
	}
	for name, shape := range map[string]string{"eval.predictions.npy": "(24, 3, 10, 3)", "eval.mean_output.npy": "(24, 10, 3)"} {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if !strings.Contains(line, "'shape': "+shape) {
			t.Errorf("%s header %q, want shape %s", name, line, shape)
		}
	}
}
