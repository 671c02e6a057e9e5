package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/train"
)

// The tests in errors_test.go, determinism_test.go and fetchkill_test.go
// run the eqens command line as a subprocess: the test binary itself,
// started with childEnv=1, runs run(os.Args[1:]) from main.go and exits
// with its status, exactly as the eqens binary does (same code, same build
// tags, no separate build step).

// childEnv makes the test binary act as the eqens command.
const childEnv = "EQENS_TEST_MAIN"

// fileSizeLimitEnv, set in the child's environment to a number of bytes,
// limits the size of the files it writes (RLIMIT_FSIZE: writes beyond it
// fail with EFBIG, "file too large"), which simulates a full disk where
// the platform supports it (canLimitFileSize, set by fetchkill_test.go).
const fileSizeLimitEnv = "EQENS_TEST_FSIZE"

var canLimitFileSize bool

// mkfifo makes a named pipe (nil where the platform has none; set by
// fetchkill_test.go).
var mkfifo func(path string) error

// childSetups run in the child before the command (set by files with
// platform-specific hooks, such as fetchkill_test.go's file-size limit).
var childSetups []func() error

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		for _, f := range childSetups {
			if err := f(); err != nil {
				fmt.Fprintln(os.Stderr, "eqens test child:", err)
				os.Exit(125)
			}
		}
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// eqensCommand returns the command that runs eqens with args in dir (""
// for the current directory) and the extra environment env.
func eqensCommand(ctx context.Context, t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), childEnv+"=1", "EQENS_TRACEBACK="), env...)
	return cmd
}

// runEqens runs eqens to completion (at most a minute) and returns its
// standard output, standard error and exit status.
func runEqens(t testing.TB, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := eqensCommand(ctx, t, dir, env, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("eqens %s: no result within a minute\n%s", strings.Join(args, " "), e.String())
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// panicMarks are what a Go panic, a runtime fatal error or eqens's own
// recovered panic print; none may appear for bad input.
var panicMarks = []string{"goroutine ", "panic:", "fatal error:", "[signal ", "internal error", "runtime error"}

// errCase is one bad input of the catalogue: what is wrong, an example
// command line (for docs/errors.md), the exit status and the substrings
// the message must contain.
type errCase struct {
	Group   string
	Name    string
	Command string // as shown in docs/errors.md
	Code    int
	Want    []string
	// args writes the input files into dir and returns the arguments.
	args func(t *testing.T, dir string) []string
	// env is added to the child's environment.
	env []string
	// check, if set, inspects the outcome further.
	check func(t *testing.T, dir, stdout, stderr string)
	// gap, if set, names a known bug: the case is listed in the docs but
	// skipped until the fix lands (the command would crash today).
	gap string
	// needs, if set, returns why the case cannot run here ("" if it can).
	needs func() string
}

// Example inputs of the catalogue.
const (
	mlp2   = "dense(4),relu,dense(2)"
	trainX = "x.npy"
)

// vals returns n deterministic values (a fixed pseudo-random pattern).
func vals(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Sin(float64(3*i+1)) * 1.5
	}
	return v
}

// writeF64 writes a float64 .npy file.
func writeF64(t *testing.T, path string, shape []int, v []float64) {
	t.Helper()
	if err := npy.WriteFile(path, npy.FromFloat64(shape, v)); err != nil {
		t.Fatal(err)
	}
}

// rawNpy writes an .npy file from its parts, so that the header can say
// anything (dtype, order, shape) whatever the data.
func rawNpy(t *testing.T, path, descr string, fortran bool, shape []int, data []byte) {
	t.Helper()
	var sh []string
	for _, s := range shape {
		sh = append(sh, strconv.Itoa(s))
	}
	tuple := "(" + strings.Join(sh, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + sh[0] + ",)"
	}
	order := "False"
	if fortran {
		order = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, tuple)
	pad := 64 - (10+len(dict)+1)%64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	writeBytes(t, path, b.Bytes())
}

func writeBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// f64Bytes encodes values as little-endian float64.
func f64Bytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// withBad returns vals(n) with entry i replaced by v.
func withBad(n, i int, v float64) []float64 {
	x := vals(n)
	x[i] = v
	return x
}

// gz compresses b.
func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// idxImages returns the start of an IDX image file claiming n 28x28 images.
func idxImages(n, have int) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x803)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, 28)
	b = binary.BigEndian.AppendUint32(b, 28)
	return append(b, make([]byte, have*784)...)
}

func idxLabels(n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x801)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return append(b, make([]byte, n)...)
}

// fashionDir writes Fashion-MNIST test files into dir/fashion-mnist (the
// layout --data-dir expects) and returns the args of "eqens data show" on
// them.
func fashionDir(t *testing.T, dir string, images, labels []byte) []string {
	t.Helper()
	writeBytes(t, filepath.Join(dir, "data", "fashion-mnist", "t10k-images-idx3-ubyte.gz"), images)
	writeBytes(t, filepath.Join(dir, "data", "fashion-mnist", "t10k-labels-idx1-ubyte.gz"), labels)
	return []string{"data", "show", "fashion-mnist", "--split", "test", "--index", "0", "--group", "c4", "--out", "a.png", "--data-dir", "data"}
}

// trainYAML is a small valid training config; the cases below change one
// line of it.
const trainYAML = `data: {name: cross-product, size: 16}
model:
  arch: "dense(16),relu,dense(3)"
optimizer:
  name: sgd
  lr: 0.1
steps: 10
members: 2
`

// yamlWith writes trainYAML with old replaced by new into dir/cfg.yaml.
func yamlWith(t *testing.T, dir, old, new string) string {
	t.Helper()
	s := strings.Replace(trainYAML, old, new, 1)
	if s == trainYAML && old != "" {
		t.Fatalf("trainYAML has no %q", old)
	}
	writeBytes(t, filepath.Join(dir, "cfg.yaml"), []byte(s))
	return "cfg.yaml"
}

// smallRun trains a one-member run into dir/run and returns "run".
func smallRun(t *testing.T, dir string) string {
	t.Helper()
	cfg := yamlWith(t, dir, "members: 2", "members: 1")
	if _, stderr, code := runEqens(t, dir, nil, "train", "--config", cfg, "--out", "run", "--log-every", "0"); code != 0 {
		t.Fatalf("training a run: exit %d\n%s", code, stderr)
	}
	return "run"
}

// aFile creates dir/afile, a regular file, so that afile/sub/... cannot be
// created: unwritable for every user, root included.
func aFile(t *testing.T, dir string) string {
	writeBytes(t, filepath.Join(dir, "afile"), []byte("not a directory\n"))
	return "afile"
}

// applyArgs writes a valid x.npy and returns "eqens apply" args with
// extra ones.
func applyArgs(t *testing.T, dir string, extra ...string) []string {
	writeF64(t, filepath.Join(dir, trainX), []int{6, 4}, vals(24))
	return append([]string{"apply", "--arch", mlp2, "--x", trainX, "--out", "y.npy"}, extra...)
}

// divergeLRs are tried in order until a run has both diverged and finished
// members (which members diverge depends on the floating-point backend).
var divergeLRs = []string{"10", "5", "30", "3", "100"}

// catalogue lists the bad inputs and what each must produce.
func catalogue() []errCase {
	x := func(name string, shape []int, v []float64) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { writeF64(t, filepath.Join(dir, name), shape, v) }
	}
	apply := func(file string, write func(t *testing.T, dir string)) func(t *testing.T, dir string) []string {
		return func(t *testing.T, dir string) []string {
			write(t, dir)
			return []string{"apply", "--arch", mlp2, "--x", file, "--out", "y.npy"}
		}
	}
	const nonFinite = "has a non-finite value"
	return []errCase{
		// Missing, truncated or corrupt data files.
		{Group: "data files", Name: "input file missing", Command: "eqens apply --arch A --x missing.npy --out y.npy", Code: 1,
			Want: []string{"--x: open missing.npy"},
			args: func(t *testing.T, dir string) []string {
				return []string{"apply", "--arch", mlp2, "--x", "missing.npy", "--out", "y.npy"}
			}},
		{Group: "data files", Name: "npy with a wrong magic string", Command: "eqens apply --arch A --x bad.npy --out y.npy", Code: 1,
			Want: []string{"--x: bad.npy: not a .npy file: starts with"},
			args: apply("bad.npy", func(t *testing.T, dir string) {
				writeBytes(t, filepath.Join(dir, "bad.npy"), []byte("\x93NUMPX\x01\x00 this is not an array"))
			})},
		{Group: "data files", Name: "npy header longer than the file", Command: "eqens apply --arch A --x hdr.npy --out y.npy", Code: 1,
			Want: []string{"--x: hdr.npy: header claims 60000 bytes but the file has only"},
			args: apply("hdr.npy", func(t *testing.T, dir string) {
				writeBytes(t, filepath.Join(dir, "hdr.npy"), []byte("\x93NUMPY\x01\x00\x60\xea{'descr'"))
			})},
		{Group: "data files", Name: "npy truncated (data shorter than the shape)", Command: "eqens apply --arch A --x short.npy --out y.npy", Code: 1,
			Want: []string{"--x: short.npy: shape (6, 4) needs 192 bytes of float64 data, file has 160"},
			args: apply("short.npy", func(t *testing.T, dir string) {
				rawNpy(t, filepath.Join(dir, "short.npy"), "<f8", false, []int{6, 4}, f64Bytes(vals(20)))
			})},
		{Group: "data files", Name: "a group for qm9's spherical signals", Command: "eqens data show qm9 --index 0 --atom 0 --group c4 --out a.png", Code: 1,
			Want: []string{"--group c4: does not apply to qm9"},
			args: func(t *testing.T, dir string) []string {
				return []string{"data", "show", "qm9", "--index", "0", "--atom", "0", "--group", "c4", "--out", filepath.Join(dir, "a.png")}
			}},
		{Group: "data files", Name: "a negative atom index for qm9", Command: "eqens data show qm9 --index 0 --atom -1 --out a.png", Code: 1,
			Want: []string{"--atom -1", "must not be negative"},
			args: func(t *testing.T, dir string) []string {
				return []string{"data", "show", "qm9", "--index", "0", "--atom", "-1", "--out", filepath.Join(dir, "a.png")}
			}},
		{Group: "data files", Name: "IDX file (via --data-dir) with a truncated gzip stream", Command: "eqens data show fashion-mnist --split test --index 0 --group c4 --out a.png --data-dir D", Code: 1,
			Want: []string{"t10k-images-idx3-ubyte.gz", "delete the file and get it again"},
			args: func(t *testing.T, dir string) []string {
				img := gz(idxImages(10000, 50))
				return fashionDir(t, dir, img[:len(img)/2], gz(idxLabels(10000)))
			}},
		{Group: "data files", Name: "IDX file (via --data-dir) with a corrupt gzip stream", Command: "eqens data show fashion-mnist --split test --index 0 --group c4 --out a.png --data-dir D", Code: 1,
			Want: []string{"t10k-images-idx3-ubyte.gz", "delete the file and get it again"},
			args: func(t *testing.T, dir string) []string {
				img := gz(idxImages(10000, 50))
				for i := 20; i < len(img)-8; i += 7 {
					img[i] ^= 0x5a
				}
				return fashionDir(t, dir, img, gz(idxLabels(10000)))
			}},
		{Group: "data files", Name: "dataset file with a checksum mismatch (MNIST where Fashion-MNIST belongs)", Command: "eqens data show fashion-mnist --split test --index 0 --group c4 --out a.png --data-dir D", Code: 1,
			Want: []string{"checksum mismatch: expected sha256 of the decompressed data", "delete the file and get it again"},
			args: func(t *testing.T, dir string) []string {
				img, err := os.ReadFile(filepath.Join("..", "..", "data", "mnist", "t10k-images-idx3-ubyte.gz"))
				if err != nil {
					t.Fatal(err)
				}
				lab, err := os.ReadFile(filepath.Join("..", "..", "data", "mnist", "t10k-labels-idx1-ubyte.gz"))
				if err != nil {
					t.Fatal(err)
				}
				return fashionDir(t, dir, img, lab)
			}},
		{Group: "data files", Name: "member checkpoint truncated", Command: "eqens eval --run RUN --data cross-product", Code: 1,
			Want: []string{"member-0000.safetensors: not a valid eqens member checkpoint"},
			args: func(t *testing.T, dir string) []string {
				p := train.MemberPath(filepath.Join(dir, smallRun(t, dir)), 0)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				writeBytes(t, p, b[:len(b)/2])
				return []string{"eval", "--run", "run", "--data", "cross-product"}
			}},

		// Wrong shapes or dtypes.
		{Group: "shapes and dtypes", Name: "npy of complex numbers", Command: "eqens apply --arch A --x c.npy --out y.npy", Code: 1,
			Want: []string{`--x: c.npy: unsupported dtype "<c16"`},
			args: apply("c.npy", func(t *testing.T, dir string) {
				rawNpy(t, filepath.Join(dir, "c.npy"), "<c16", false, []int{6, 2}, f64Bytes(vals(24)))
			})},
		{Group: "shapes and dtypes", Name: "npy in Fortran order", Command: "eqens apply --arch A --x f.npy --out y.npy", Code: 1,
			Want: []string{"--x: f.npy: fortran_order arrays are not supported; use np.ascontiguousarray"},
			args: apply("f.npy", func(t *testing.T, dir string) {
				rawNpy(t, filepath.Join(dir, "f.npy"), "<f8", true, []int{6, 4}, f64Bytes(vals(24)))
			})},
		{Group: "shapes and dtypes", Name: "inputs without a sample axis", Command: "eqens apply --arch A --x v.npy --out y.npy", Code: 1,
			Want: []string{"--x v.npy: shape [6]: want (samples, ...) with at least 2 axes"},
			args: apply("v.npy", x("v.npy", []int{6}, vals(6)))},
		{Group: "shapes and dtypes", Name: "inputs with no samples", Command: "eqens apply --arch A --x e.npy --out y.npy", Code: 1,
			Want: []string{"--x e.npy: no samples (shape [0 4])"},
			args: apply("e.npy", x("e.npy", []int{0, 4}, nil))},
		{Group: "shapes and dtypes", Name: "predict: train-y has fewer rows than train-x", Command: "eqens predict --arch A --train-x x.npy (6×4) --train-y y.npy (5×1) --test-x t.npy --out mu.npy", Code: 1,
			Want: []string{"--train-y y.npy: shape [5 1], want (6,) or (6, outputs) to match --train-x"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "x.npy"), []int{6, 4}, vals(24))
				writeF64(t, filepath.Join(dir, "y.npy"), []int{5, 1}, vals(5))
				writeF64(t, filepath.Join(dir, "t.npy"), []int{3, 4}, vals(12))
				return []string{"predict", "--arch", "dense(4),relu,dense(1)", "--train-x", "x.npy", "--train-y", "y.npy", "--test-x", "t.npy", "--out", "mu.npy"}
			}},
		{Group: "shapes and dtypes", Name: "kernel: --x2 samples of another shape", Command: "eqens kernel --arch A --x a.npy (6×4) --x2 b.npy (3×5) --out k.npy", Code: 1,
			Want: []string{"--x2 b.npy: samples have shape [5], want [4]"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "a.npy"), []int{6, 4}, vals(24))
				writeF64(t, filepath.Join(dir, "b.npy"), []int{3, 5}, vals(15))
				return []string{"kernel", "--arch", "dense(4),relu,dense(1)", "--x", "a.npy", "--x2", "b.npy", "--out", "k.npy"}
			}},
		{Group: "shapes and dtypes", Name: "kernel: --rows outside the samples", Command: "eqens kernel --arch A --x a.npy (6×4) --rows 4:9 --out k.npy", Code: 1,
			Want: []string{`--rows: "4:9" is not a range A:B with 0 <= A < B <= 6 (the number of samples)`},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "a.npy"), []int{6, 4}, vals(24))
				return []string{"kernel", "--arch", "dense(4),relu,dense(1)", "--x", "a.npy", "--rows", "4:9", "--out", "k.npy"}
			}},
		{Group: "shapes and dtypes", Name: "kernel merge: overlapping tiles", Command: "eqens kernel merge --out K.npy t1.npy t2.npy (rows 0:4 and 2:6 of a 6×6 kernel)", Code: 1,
			Want: []string{"t1.npy and t2.npy overlap at entry (2, 0)"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "a.npy"), []int{6, 4}, vals(24))
				for i, rows := range []string{"0:4", "2:6"} {
					if out, code := runCLI("kernel", "--arch", "dense(4),relu,dense(1)", "--x", filepath.Join(dir, "a.npy"), "--rows", rows, "--out", filepath.Join(dir, fmt.Sprintf("t%d.npy", i+1))); code != 0 {
						t.Fatal(out)
					}
				}
				return []string{"kernel", "merge", "--out", "K.npy", "t1.npy", "t2.npy"}
			}},
		{Group: "shapes and dtypes", Name: "kernel merge: tiles leave a gap", Command: "eqens kernel merge --out K.npy t1.npy (rows 0:4 of a 6×6 kernel)", Code: 1,
			Want: []string{"the tiles do not cover the 6×6 kernel: nothing covers entry (4, 0)"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "a.npy"), []int{6, 4}, vals(24))
				if out, code := runCLI("kernel", "--arch", "dense(4),relu,dense(1)", "--x", filepath.Join(dir, "a.npy"), "--rows", "0:4", "--out", filepath.Join(dir, "t1.npy")); code != 0 {
					t.Fatal(out)
				}
				return []string{"kernel", "merge", "--out", "K.npy", "t1.npy"}
			}},
		{Group: "shapes and dtypes", Name: "convolution on vector inputs", Command: "eqens apply --arch conv(4),relu,dense(2) --x x.npy (6×4) --out y.npy", Code: 1,
			Want: []string{`--arch: arch: layer 1 "conv(4)": needs image features, got a flat vector of 4`},
			args: func(t *testing.T, dir string) []string {
				args := applyArgs(t, dir)
				args[2] = "conv(4),relu,dense(2)"
				return args
			}},

		// Unknown names.
		{Group: "names", Name: "unknown group", Command: "eqens kernel --arch A --x x.npy --average q7 --out k.npy", Code: 1,
			Want: []string{`--average: group "q7": unknown group "q7" (valid: c<n>`},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "x.npy"), []int{2, 1, 4, 4}, vals(32))
				return []string{"kernel", "--arch", "conv(4),relu,globalavgpool,dense(1)", "--x", "x.npy", "--average", "q7", "--out", "k.npy"}
			}},
		{Group: "names", Name: "unknown layer", Command: "eqens apply --arch dense(4),frobnicate,dense(2) --x x.npy --out y.npy", Code: 1,
			Want: []string{`--arch: arch: layer 2 "frobnicate": unknown layer "frobnicate" (known: dense,`},
			args: func(t *testing.T, dir string) []string {
				args := applyArgs(t, dir)
				args[2] = "dense(4),frobnicate,dense(2)"
				return args
			}},
		{Group: "names", Name: "unknown dataset (fetch)", Command: "eqens data fetch imagenet --dir D", Code: 1,
			Want: []string{`unknown dataset "imagenet" (known: mnist, fashion-mnist`},
			args: func(t *testing.T, dir string) []string {
				return []string{"data", "fetch", "imagenet", "--dir", "d"}
			}},
		{Group: "names", Name: "unknown dataset (eval)", Command: "eqens eval --run RUN --data imagenet", Code: 2,
			Want: []string{`--data imagenet: unknown dataset "imagenet"`},
			args: func(t *testing.T, dir string) []string {
				return []string{"eval", "--run", smallRun(t, dir), "--data", "imagenet"}
			}},
		{Group: "names", Name: "unknown schedule", Command: "eqens train --config cfg.yaml --out RUN --schedule lockstep", Code: 2,
			Want: []string{`--schedule: schedule "lockstep": want members or batched`},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "", ""), "--out", "run", "--schedule", "lockstep"}
			}},
		{Group: "names", Name: "unknown experiment", Command: "eqens reproduce imagenet --out D", Code: 1,
			Want: []string{`unknown experiment "imagenet" (known: `},
			args: func(t *testing.T, dir string) []string {
				return []string{"reproduce", "imagenet", "--out", "out"}
			}},

		// Invalid training configs: usage errors (status 2) naming file,
		// line and key.
		{Group: "training config", Name: "negative learning rate", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{"cfg.yaml:6: optimizer.lr: must be a positive number, got -0.1"},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "lr: 0.1", "lr: -0.1"), "--out", "run"}
			}},
		{Group: "training config", Name: "learning rate NaN", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{"cfg.yaml:6: optimizer.lr: must be a positive number, got NaN"},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "lr: 0.1", "lr: .nan"), "--out", "run"}
			}},
		{Group: "training config", Name: "zero members", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{"cfg.yaml:8: members: must be at least 1, got 0"},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "members: 2", "members: 0"), "--out", "run"}
			}},
		{Group: "training config", Name: "width 0 in the architecture", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{`cfg.yaml:3: model.arch: arch: layer 1 "dense(0)": width must be between 1 and 1048576, got 0`},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "dense(16)", "dense(0)"), "--out", "run"}
			}},
		{Group: "training config", Name: "unknown key, with its line", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{`cfg.yaml:9: unknown key "learning_rate" at the top level (known: data,`},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "members: 2\n", "members: 2\nlearning_rate: 0.1\n"), "--out", "run"}
			}},
		{Group: "training config", Name: "misspelt key, with a suggestion", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{`cfg.yaml:8: unknown key "member" at the top level`, `did you mean "members"?`},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "members: 2", "member: 2"), "--out", "run"}
			}},
		{Group: "training config", Name: "not YAML", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{"cfg.yaml: yaml: line 1: did not find expected node content"},
			args: func(t *testing.T, dir string) []string {
				writeBytes(t, filepath.Join(dir, "cfg.yaml"), []byte("data: [\n"))
				return []string{"train", "--config", "cfg.yaml", "--out", "run"}
			}},
		{Group: "training config", Name: "unknown dataset", Command: "eqens train --config cfg.yaml --out RUN", Code: 2,
			Want: []string{`cfg.yaml:1: data.name: unknown dataset "imagenet"`},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "cross-product", "imagenet"), "--out", "run"}
			}},

		// NaN and infinity in inputs.
		{Group: "NaN and Inf", Name: "apply: NaN in x.npy", Command: "eqens apply --arch A --x nan.npy --out y.npy", Code: 1,
			Want: []string{"--x nan.npy: sample 1 " + nonFinite + " (NaN at offset 1)"},
			args: apply("nan.npy", x("nan.npy", []int{6, 4}, withBad(24, 5, math.NaN())))},
		{Group: "NaN and Inf", Name: "kernel: NaN in x.npy", Command: "eqens kernel --arch A --x nan.npy --out k.npy", Code: 1,
			Want: []string{"--x nan.npy: sample 2 " + nonFinite + " (NaN at offset 3)"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "nan.npy"), []int{6, 4}, withBad(24, 11, math.NaN()))
				return []string{"kernel", "--arch", "dense(4),relu,dense(1)", "--x", "nan.npy", "--out", "k.npy"}
			}},
		{Group: "NaN and Inf", Name: "kernel: +Inf in --x2", Command: "eqens kernel --arch A --x a.npy --x2 inf.npy --out k.npy", Code: 1,
			Want: []string{"--x2 inf.npy: sample 0 " + nonFinite + " (+Inf at offset 2)"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "a.npy"), []int{6, 4}, vals(24))
				writeF64(t, filepath.Join(dir, "inf.npy"), []int{2, 4}, withBad(8, 2, math.Inf(1)))
				return []string{"kernel", "--arch", "dense(4),relu,dense(1)", "--x", "a.npy", "--x2", "inf.npy", "--out", "k.npy"}
			}},
		{Group: "NaN and Inf", Name: "predict: NaN target", Command: "eqens predict --arch A --train-x x.npy --train-y y.npy --test-x t.npy --out mu.npy", Code: 1,
			Want: []string{"--train-y y.npy: target 2 is not finite"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "x.npy"), []int{6, 4}, vals(24))
				writeF64(t, filepath.Join(dir, "y.npy"), []int{6, 1}, withBad(6, 2, math.NaN()))
				writeF64(t, filepath.Join(dir, "t.npy"), []int{3, 4}, vals(12))
				return []string{"predict", "--arch", "dense(4),relu,dense(1)", "--train-x", "x.npy", "--train-y", "y.npy", "--test-x", "t.npy", "--out", "mu.npy"}
			}},
		{Group: "NaN and Inf", Name: "training diverges: the NaN/Inf members stop with index and step, the others finish", Command: "eqens train --config cfg.yaml --out RUN  (sgd, lr 10)", Code: 1,
			Want: []string{"member(s) failed: ", " failed at step ", ": diverged: loss is ", "(lower optimizer.lr)"},
			args: func(t *testing.T, dir string) []string {
				// Pick the first learning rate at which some but not all
				// members diverge in this build.
				for _, lr := range divergeLRs {
					cfg := yamlWith(t, dir, "steps: 10\nmembers: 2", "steps: 60\nbatch_size: 0\nmembers: 8\ncheckpoint_every: 0")
					s, _ := os.ReadFile(filepath.Join(dir, cfg))
					writeBytes(t, filepath.Join(dir, cfg), bytes.Replace(s, []byte("lr: 0.1"), []byte("lr: "+lr), 1))
					os.RemoveAll(filepath.Join(dir, "probe"))
					stdout, _, _ := runEqens(t, dir, nil, "train", "--config", cfg, "--out", "probe", "--log-every", "0")
					if !strings.Contains(stdout, " 0 failed") && !strings.Contains(stdout, " 0 trained") {
						return []string{"train", "--config", cfg, "--out", "run", "--log-every", "0"}
					}
				}
				t.Skipf("no learning rate in %v makes some but not all members diverge in this build", divergeLRs)
				return nil
			},
			check: checkDivergence},

		// Unwritable outputs.
		{Group: "outputs", Name: "apply: --out below a regular file", Command: "eqens apply --arch A --x x.npy --out afile/sub/y.npy", Code: 1,
			Want: []string{"--out: afile/sub/y.npy: cannot create a temporary file in afile/sub/: not a directory"},
			args: func(t *testing.T, dir string) []string {
				args := applyArgs(t, dir)
				args[len(args)-1] = aFile(t, dir) + "/sub/y.npy"
				return args
			}},
		{Group: "outputs", Name: "kernel: --out below a regular file", Command: "eqens kernel --arch A --x x.npy --out afile/k.npy", Code: 1,
			Want: []string{"--out: afile/k.npy: cannot create a temporary file in afile/: not a directory"},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "x.npy"), []int{6, 4}, vals(24))
				return []string{"kernel", "--arch", "dense(4),relu,dense(1)", "--x", "x.npy", "--out", aFile(t, dir) + "/k.npy"}
			}},
		{Group: "outputs", Name: "train: --out below a regular file", Command: "eqens train --config cfg.yaml --out afile/run", Code: 1,
			Want: []string{"afile: not a directory"},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "", ""), "--out", aFile(t, dir) + "/run"}
			}},
		{Group: "outputs", Name: "reproduce: --out below a regular file", Command: "eqens reproduce kernel-convergence --out afile/sub", Code: 1,
			Want: []string{"--out afile/sub: mkdir afile: not a directory"},
			args: func(t *testing.T, dir string) []string {
				return []string{"reproduce", "kernel-convergence", "--out", aFile(t, dir) + "/sub"}
			}},
		{Group: "outputs", Name: "data fetch: --dir below a regular file", Command: "eqens data fetch pathmnist --dir afile/sub", Code: 1,
			Want: []string{"fetch pathmnist: mkdir afile: not a directory", "could not fetch pathmnist"},
			args: func(t *testing.T, dir string) []string {
				return []string{"data", "fetch", "pathmnist", "--dir", aFile(t, dir) + "/sub", "--mirror", "http://127.0.0.1:1"}
			}},
		{Group: "outputs", Name: "full disk while writing an output (simulated with a 4 KiB file-size limit, RLIMIT_FSIZE; unix only)", Command: "eqens apply --arch dense(4),relu,dense(64) --x x.npy (200×4) --out y.npy", Code: 1,
			Want: []string{"--out: y.npy: ", "file too large"},
			env:  []string{fileSizeLimitEnv + "=4096"},
			needs: func() string {
				if !canLimitFileSize {
					return "no file-size limit on this platform"
				}
				return ""
			},
			args: func(t *testing.T, dir string) []string {
				writeF64(t, filepath.Join(dir, "x.npy"), []int{200, 4}, vals(800))
				return []string{"apply", "--arch", "dense(4),relu,dense(64)", "--x", "x.npy", "--out", "y.npy"}
			},
			check: func(t *testing.T, dir, _, _ string) {
				noLeftovers(t, dir, "y.npy")
			}},
		{Group: "outputs", Name: "full disk while training (simulated as above): every member fails with the write error, no partial checkpoint", Command: "eqens train --config cfg.yaml --out RUN", Code: 1,
			Want: []string{"2 member(s) failed: 0, 1", "member 0 failed at step 10: ", "member-0000.safetensors: file too large"},
			env:  []string{fileSizeLimitEnv + "=4096"},
			needs: func() string {
				if !canLimitFileSize {
					return "no file-size limit on this platform"
				}
				return ""
			},
			args: func(t *testing.T, dir string) []string {
				return []string{"train", "--config", yamlWith(t, dir, "dense(16)", "dense(256)"), "--out", "run", "--log-every", "0"}
			},
			check: func(t *testing.T, dir, _, _ string) {
				noLeftovers(t, filepath.Join(dir, "run", train.MembersDir), "")
			}},

		{Group: "invalid hyperparameters", Name: "architecture too large to allocate", Command: "eqens apply --arch dense(100000000000),relu,dense(2) --x x.npy --out y.npy", Code: 1,
			Want: []string{"--arch: ", "width must be between 1 and 1048576"},
			args: func(t *testing.T, dir string) []string {
				args := applyArgs(t, dir)
				args[2] = "dense(100000000000),relu,dense(2)"
				return args
			}},
		{Group: "invalid hyperparameters", Name: "predict: more memory than the machine has (checked before any kernel is computed)", Command: "eqens predict --arch A --train-x x.npy (300000×2) --train-y y.npy --test-x t.npy --out mu.npy", Code: 1,
			Want: []string{"predict: memory about ", "predict: needs about ", "use --average instead of --augment", "eqens-mpi predict"},
			args: func(t *testing.T, dir string) []string {
				const n = 300000 // a 720 GB training kernel
				writeF64(t, filepath.Join(dir, "x.npy"), []int{n, 2}, vals(2*n))
				writeF64(t, filepath.Join(dir, "y.npy"), []int{n, 1}, vals(n))
				writeF64(t, filepath.Join(dir, "t.npy"), []int{3, 2}, vals(6))
				return []string{"predict", "--arch", "dense(4),relu,dense(1)", "--train-x", "x.npy", "--train-y", "y.npy", "--test-x", "t.npy", "--out", "mu.npy"}
			}},
		{Group: "unwritable output", Name: "--out names a device, FIFO or other non-regular file", Command: "eqens apply --arch A --x x.npy --out /dev/null (tested with a FIFO)", Code: 1,
			Want: []string{"not a regular file"},
			args: func(t *testing.T, dir string) []string {
				if mkfifo == nil {
					t.Skip("no named pipes on this platform")
				}
				if err := mkfifo(filepath.Join(dir, "fifo")); err != nil {
					t.Fatal(err)
				}
				args := applyArgs(t, dir)
				args[len(args)-1] = "fifo"
				return args
			}},
	}
}

// checkDivergence checks a diverged run: the failed members are listed
// with their steps, and every other member finished.
func checkDivergence(t *testing.T, dir, stdout, stderr string) {
	m := regexp.MustCompile(`(\d+) member\(s\) failed: ([0-9, ]+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no list of failed members in\n%s", stderr)
	}
	failed := map[int]bool{}
	for _, s := range strings.Split(m[2], ", ") {
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("failed member %q", s)
		}
		failed[i] = true
		if !regexp.MustCompile(`member ` + strconv.Itoa(i) + ` failed at step [1-9][0-9]*: diverged: loss is (NaN|[+-]Inf)`).MatchString(stderr) {
			t.Errorf("member %d: no line naming its step and the non-finite loss", i)
		}
	}
	if n, _ := strconv.Atoi(m[1]); n != len(failed) || n == 0 || n == 8 {
		t.Fatalf("%s members failed of 8; want some but not all", m[1])
	}
	for i := 0; i < 8; i++ {
		ck, err := train.ReadCheckpoint(train.MemberPath(filepath.Join(dir, "run"), i))
		switch {
		case failed[i] && err == nil && ck.Done:
			t.Errorf("diverged member %d has a finished checkpoint", i)
		case !failed[i] && (err != nil || !ck.Done || ck.Step != 60 || math.IsNaN(ck.Loss)):
			t.Errorf("member %d did not finish: %v", i, err)
		}
	}
	if want := fmt.Sprintf("%d trained, 0 already finished, %d failed", 8-len(failed), len(failed)); !strings.Contains(stdout, want) {
		t.Errorf("summary %q does not say %q", stdout, want)
	}
}

// noLeftovers fails if dir holds anything but keep (temporary files of an
// interrupted write, partial outputs).
func noLeftovers(t *testing.T, dir, absent string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") || (absent != "" && e.Name() == absent) || strings.HasSuffix(e.Name(), ".safetensors") {
			t.Errorf("left behind after the failed write: %s", e.Name())
		}
	}
}

// TestErrorCatalogue runs every bad input of the catalogue against the
// command line and requires its exit status, its message and no panic.
func TestErrorCatalogue(t *testing.T) {
	for _, tc := range catalogue() {
		t.Run(tc.Group+"/"+tc.Name, func(t *testing.T) {
			if tc.gap != "" {
				t.Skip("known gap: " + tc.gap)
			}
			if tc.needs != nil {
				if why := tc.needs(); why != "" {
					t.Skip(why)
				}
			}
			t.Parallel()
			dir := t.TempDir()
			args := tc.args(t, dir)
			stdout, stderr, code := runEqens(t, dir, tc.env, args...)
			if code != tc.Code {
				t.Errorf("exit status %d, want %d", code, tc.Code)
			}
			for _, w := range tc.Want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message does not contain %q", w)
				}
			}
			for _, p := range panicMarks {
				if strings.Contains(stderr, p) {
					t.Errorf("output contains %q", p)
				}
			}
			if !strings.HasPrefix(stderr, "eqens: ") && !strings.Contains(stderr, "\neqens: ") {
				t.Error(`no "eqens: " error line`)
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, dir, stdout, stderr)
			}
			if t.Failed() {
				t.Logf("eqens %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout, stderr)
			}
		})
	}
}

var updateErrorsDoc = flag.Bool("update-errors-doc", false, "rewrite the catalogue in docs/errors.md from the test table")

// Markers around the generated part of docs/errors.md.
const (
	docBegin = "<!-- BEGIN CATALOGUE: generated from cmd/eqens/errors_test.go; go test ./cmd/eqens -run TestErrorsDoc -update-errors-doc -->"
	docEnd   = "<!-- END CATALOGUE -->"
)

// catalogueMarkdown renders the catalogue as docs/errors.md shows it.
func catalogueMarkdown() string {
	var b strings.Builder
	group := ""
	for _, tc := range catalogue() {
		if tc.Group != group {
			group = tc.Group
			fmt.Fprintf(&b, "\n### %s\n\n", group)
			if tc.gap != "" {
				b.WriteString("| case | example | what it does today | wanted: exit | wanted: message contains |\n|---|---|---|---|---|\n")
			} else {
				b.WriteString("| case | example | exit | message contains |\n|---|---|---|---|\n")
			}
		}
		var want []string
		for _, w := range tc.Want {
			want = append(want, "`"+strings.ReplaceAll(w, "|", `\|`)+"`")
		}
		cmd := "`" + strings.ReplaceAll(tc.Command, "|", `\|`) + "`"
		if tc.gap != "" {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", tc.Name, cmd, tc.gap, tc.Code, strings.Join(want, " … "))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", tc.Name, cmd, tc.Code, strings.Join(want, " … "))
	}
	return b.String()
}

// TestErrorsDoc requires docs/errors.md to list exactly the catalogue
// (run with -update-errors-doc to regenerate its table part).
func TestErrorsDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "errors.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q ... %q section", path, docBegin, docEnd)
	}
	want := s[:i+len(docBegin)] + "\n" + catalogueMarkdown() + "\n" + s[j:]
	if want == s {
		return
	}
	if *updateErrorsDoc {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s and the catalogue in errors_test.go disagree; run go test ./cmd/eqens -run TestErrorsDoc -update-errors-doc", path)
}
