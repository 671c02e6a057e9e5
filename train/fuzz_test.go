package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/eqens/eqens/nn"
)

// Fuzz targets for the two inputs of a training run that come from files:
// member checkpoints (safetensors) and YAML configs. Their seeds run with
// every "go test"; fuzz them with
//
//	go test -run '^$' -fuzz '^FuzzReadCheckpoint$' -fuzztime 5m ./train/
//	go test -run '^$' -fuzz '^FuzzParseConfig$' -fuzztime 5m ./train/
//
// Beyond "an error, never a panic", both check that reading allocates in
// proportion to the input, not to sizes the input claims: a file of a few
// hundred bytes that names an architecture of a billion parameters must be
// refused before anything that large is allocated.

// allocLimit is the most a reader may allocate for an input of n bytes:
// a fixed allowance for the architecture's own bookkeeping plus a generous
// multiple of the input (JSON and YAML decoding allocate several times
// their input).
func allocLimit(n int) uint64 { return 16<<20 + 64*uint64(n) }

// allocated runs f and returns the bytes it allocated (the fuzz function
// runs alone in its worker process, so the count is f's).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// checkpointFile assembles a safetensors file: the 8-byte little-endian
// header length (off by lenDelta, to reach the length checks), the JSON
// header and the data.
func checkpointFile(header, data []byte, lenDelta int64) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(int64(len(header))+lenDelta))
	b = append(b, header...)
	return append(b, data...)
}

// splitCheckpoint splits a safetensors file into its header and data.
func splitCheckpoint(tb testing.TB, b []byte) (header, data []byte) {
	tb.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	return b[8 : 8+n], b[8+n:]
}

// seedCheckpoints returns checkpoint files written by WriteCheckpoint:
// running (with optimiser state, sample order and RNG states) and done,
// for an MLP on vectors and a small GCNN on images.
func seedCheckpoints(tb testing.TB) [][]byte {
	tb.Helper()
	dir := tb.TempDir()
	var out [][]byte
	for i, tc := range []struct {
		spec  string
		shape []int
		param nn.Param
	}{
		{"dense(3),relu,dense(2)", []int{4}, nn.NTK},
		{"lift(c4,2,k=3),relu,gconv(2,k=3),relu,gpool,dense(2)", []int{1, 5, 5}, nn.Standard},
	} {
		arch, err := nn.Parse(tc.spec, tc.shape, tc.param)
		if err != nil {
			tb.Fatal(err)
		}
		net := nn.New[float32](arch)
		net.Init(uint64(i + 1))
		for _, done := range []bool{false, true} {
			ck := &Checkpoint{Arch: arch, Member: i, MemberSeed: MemberSeed(5, i), Seed: 5, ConfigHash: "0123abcd", Step: 7, Steps: 20, Done: done, Loss: 0.5, Params: net.Params}
			if !done {
				m := make([]float32, len(net.Params))
				for j := range m {
					m[j] = float32(j) / 10
				}
				ck.Optimizer, ck.OptState = "adam", map[string][]float32{"m": m, "v": m}
				ck.Order, ck.OrderPos = []int{2, 0, 3, 1}, 1
				ck.RNGOrder, ck.RNGAugment = []byte{0x70, 0x63, 0x67, 1, 2, 3}, []byte{4, 5, 6}
			}
			path := filepath.Join(dir, "ck.safetensors")
			if err := WriteCheckpoint(path, ck); err != nil {
				tb.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// FuzzReadCheckpoint feeds ReadCheckpoint files made of a fuzzed JSON
// header and fuzzed data, with a header length that is right or off by
// lenDelta, and with the metadata's architecture (spec, inShape) replaced
// when those are not empty. Any input must give a checkpoint or an error, never a panic,
// and reading must allocate in proportion to the file. A checkpoint read
// must be consistent (as many parameters as its architecture has, full
// optimiser vectors) and survive WriteCheckpoint and ReadCheckpoint again
// unchanged.
func FuzzReadCheckpoint(f *testing.F) {
	for _, b := range seedCheckpoints(f) {
		h, d := splitCheckpoint(f, b)
		f.Add(h, d, int64(0), "", "")
	}
	valid := seedCheckpoints(f)[0]
	h, d := splitCheckpoint(f, valid)
	hs := string(h)
	for _, c := range []struct {
		header, data []byte
		lenDelta     int64
	}{
		{nil, nil, 0},                           // empty header
		{h, d[:len(d)/2], 0},                    // truncated data
		{h, append(slices.Clone(d), 0), 0},      // a byte too many
		{h, d, 1 << 40},                         // header length beyond the file
		{h, d, -int64(len(h)) - 8},              // header length wraps around
		{[]byte("{not json"), d, 0},             // corrupt header
		{[]byte(`{"__metadata__":{}}`), nil, 0}, // no format, no tensors
		{[]byte(strings.Replace(hs, "eqens.member/1", "eqens.member/9", 1)), d, 0},
		{[]byte(strings.Replace(hs, `"F32"`, `"F16"`, 1)), d, 0},
		{[]byte(strings.Replace(hs, `"step":"7"`, `"step":"seven"`, 1)), d, 0},
		{[]byte(strings.Replace(hs, `"status":"running"`, `"status":"paused"`, 1)), d, 0},
		{[]byte(strings.Replace(hs, `"input_shape":"[4]"`, `"input_shape":"[-4]"`, 1)), d, 0},
	} {
		f.Add(c.header, c.data, c.lenDelta, "", "")
	}
	// Architectures and input shapes other than the file's (spliced into
	// its metadata by the fuzz function).
	for _, c := range [][2]string{
		{"dense(3),relu,dense(2)", "[4]"},
		{"dense(3),relu,dense(3)", ""},
		{"dense(3),relu,dense(200000)", ""}, // large, yet within allocLimit today
		{"lift(c4,2,k=51),relu,gpool,dense(2)", "[1,5,5]"},
		{"conv(2,k=3),relu,globalavgpool,dense(2)", "[1,5,5]"},
		{"lift(c4,2,k=5),relu,gconv(2,k=3),relu,gpool,dense(2)", ""},
		{"liftdense(d4,2),relu,gpool,dense(2)", "[1,5,5]"},
		{"", "[2,3]"},
		{"dense(", "[0]"},
	} {
		f.Add(h, d, int64(0), c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, header, data []byte, lenDelta int64, spec, inShape string) {
		if len(header)+len(data)+len(spec)+len(inShape) > 1<<20 {
			return
		}
		header = withMetadata(header, spec, inShape)
		file := checkpointFile(header, data, lenDelta)
		path := filepath.Join(t.TempDir(), "member-0000.safetensors")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		var ck *Checkpoint
		var err error
		if n := allocated(func() { ck, err = ReadCheckpoint(path) }); n > allocLimit(len(file)) {
			t.Fatalf("reading a %d-byte file allocated %d bytes (limit %d); err = %v", len(file), n, allocLimit(len(file)), err)
		}
		if err != nil {
			if ck != nil {
				t.Fatalf("error %v with a non-nil checkpoint", err)
			}
			if !strings.Contains(err.Error(), path) && !os.IsNotExist(err) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		checkCheckpoint(t, ck)
		again := filepath.Join(t.TempDir(), "member-0000.safetensors")
		if err := WriteCheckpoint(again, ck); err != nil {
			t.Fatalf("checkpoint read but not written back: %v", err)
		}
		ck2, err := ReadCheckpoint(again)
		if err != nil {
			t.Fatalf("checkpoint written back does not read: %v", err)
		}
		sameCheckpoint(t, ck, ck2)
	})
}

// withMetadata returns the safetensors JSON header with the metadata's
// spec and input_shape replaced by the given ones (those not empty), or
// the header unchanged if it is not a JSON object with a metadata map.
// Mutating the architecture directly lets the fuzzer try other layers,
// widths and filter sizes without breaking the file's structure.
func withMetadata(header []byte, spec, inShape string) []byte {
	if spec == "" && inShape == "" {
		return header
	}
	var h map[string]json.RawMessage
	var meta map[string]string
	if json.Unmarshal(header, &h) != nil || json.Unmarshal(h["__metadata__"], &meta) != nil || meta == nil {
		return header
	}
	if spec != "" {
		meta["spec"] = spec
	}
	if inShape != "" {
		meta["input_shape"] = inShape
	}
	var err error
	if h["__metadata__"], err = json.Marshal(meta); err != nil {
		return header
	}
	out, err := json.Marshal(h)
	if err != nil {
		return header
	}
	return out
}

// hugeArchHeader is the header of the MLP seed with its last layer's
// width raised from 2 to 20 million: a file of about a kilobyte that names
// an architecture of 60 million parameters.
func hugeArchHeader(tb testing.TB) (header, data []byte) {
	h, d := splitCheckpoint(tb, seedCheckpoints(tb)[0])
	hs := strings.Replace(string(h), `"spec":"dense(3),relu,dense(2)"`, `"spec":"dense(3),relu,dense(20000000)"`, 1)
	if hs == string(h) {
		tb.Fatal("seed header has no spec dense(3),relu,dense(2)")
	}
	return []byte(hs), d
}

// TestReadCheckpointHugeArchitecture is the regression test of what
// FuzzReadCheckpoint found first: ReadCheckpoint used to build the
// architecture the header names and allocate its parameters before checking
// that the file holds them, so a kilobyte file claiming dense(20000000)
// cost 240 MB. It now refuses architectures whose parameters exceed the
// file's tensor data, and nn.Parse bounds widths, filters and inputs.
func TestReadCheckpointHugeArchitecture(t *testing.T) {
	h, d := hugeArchHeader(t)
	file := checkpointFile(h, d, 0)
	path := filepath.Join(t.TempDir(), "member-0000.safetensors")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if n := allocated(func() { _, err = ReadCheckpoint(path) }); n > allocLimit(len(file)) {
		t.Errorf("reading a %d-byte file allocated %d bytes (limit %d)", len(file), n, allocLimit(len(file)))
	}
	if err == nil || !strings.Contains(err.Error(), "not a valid eqens member checkpoint") {
		t.Errorf("error %v, want a refusal", err)
	}
}

// checkCheckpoint checks the invariants of a checkpoint ReadCheckpoint
// returned.
func checkCheckpoint(t *testing.T, ck *Checkpoint) {
	t.Helper()
	if ck.Arch == nil || len(ck.Params) != ck.Arch.NumParams() {
		t.Fatalf("checkpoint with %d parameters for an architecture of %d", len(ck.Params), ck.Arch.NumParams())
	}
	if ck.Done {
		return
	}
	for name, v := range ck.OptState {
		if len(v) != len(ck.Params) {
			t.Fatalf("optimizer state %s has %d values for %d parameters", name, len(v), len(ck.Params))
		}
	}
}

// sameCheckpoint requires two checkpoints to agree bit for bit.
func sameCheckpoint(t *testing.T, a, b *Checkpoint) {
	t.Helper()
	sameBits := func(x, y []float32) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return true
	}
	sameLoss := a.Loss == b.Loss || math.IsNaN(a.Loss) && math.IsNaN(b.Loss)
	if a.Arch.Spec != b.Arch.Spec || !slices.Equal(a.Arch.InShape, b.Arch.InShape) || a.Arch.Param != b.Arch.Param ||
		a.Member != b.Member || a.MemberSeed != b.MemberSeed || a.Seed != b.Seed || a.ConfigHash != b.ConfigHash ||
		a.Step != b.Step || a.Steps != b.Steps || a.Done != b.Done || !sameLoss || !sameBits(a.Params, b.Params) {
		t.Fatalf("round trip changed the checkpoint:\n%+v\n%+v", a, b)
	}
	if a.Done {
		return
	}
	if a.Optimizer != b.Optimizer || a.OrderPos != b.OrderPos || !slices.Equal(a.Order, b.Order) ||
		!bytes.Equal(a.RNGOrder, b.RNGOrder) || !bytes.Equal(a.RNGAugment, b.RNGAugment) || len(a.OptState) != len(b.OptState) {
		t.Fatalf("round trip changed the resume state:\n%+v\n%+v", a, b)
	}
	for k, v := range a.OptState {
		if !sameBits(v, b.OptState[k]) {
			t.Fatalf("round trip changed optimizer state %s", k)
		}
	}
}

// FuzzParseConfig feeds ParseConfig arbitrary YAML. Any input must give a
// valid config or an error naming the file, never a panic, and parsing
// must allocate in proportion to the input (a config naming a huge
// network is refused without building it). A config accepted must
// validate, and its resolved form (Marshal) must parse back to the same
// config (same hash).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		validYAML,
		"data: {name: cross-product, size: 64}\naugmentation: {mode: random, group: oct, output: vector}\nmodel: {arch: \"dense(256),relu,dense(256),relu,dense(3)\"}\noptimizer: {name: sgd, lr: 0.01, momentum: 0.9, schedule: cosine}\nsteps: 1000\nbatch_size: 16\nmembers: 2\nseed: 3\ncheckpoint_every: 50\n",
		"data: {name: mnist, size: 100}\naugmentation: {mode: full, group: c4}\nmodel: {arch: \"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(10)\", param: standard}\noptimizer: {name: sgd, lr: 0.1, momentum: 0.9, schedule: step, step_size: 10, gamma: 0.5}\nepochs: 2\nbatch_size: 32\nmembers: 4\nseed: 7\ncheckpoint_every: 0\n",
		"data: {name: npz, path: train.npz, standardize: per-feature}\nmodel: {arch: \"dense(8),tanh,dense(1)\"}\noptimizer: {name: gd, lr: 0.5, schedule: cosine, min_lr: 0.01}\nsteps: 5\n",
		"data: {name: cross-product, size: 8}\naugmentation: {mode: partial, group: \"so3:24\", sampling: orbit, output: vector}\nmodel: {arch: \"dense(8),relu,dense(3)\"}\noptimizer: {name: adam, lr: 0.01}\nsteps: 3\nloss: mse\n",
		// broken ones
		"",
		"---\n...\n",
		"data: {name: mnist}\nmodel: {arch: dense(10)}\noptimizer: {lr: -0.1}\nsteps: 10\nmembers: 0\n",
		"data: {name: cross-product}\nmodel: {arch: \"dense(0),relu,dense(3)\"}\noptimizer: {lr: 0.1}\nsteps: 10\n",
		"data: {name: cross-product}\nmodel: {arch: dense(3)}\noptimizer: {lr: 0.1}\nsteps: 10\nlernrate: 3\n",
		"data: &d {name: cross-product}\nmodel: *d\nsteps: [1, 2]\n",
		"a: &a [*a, *a]\n",
		"steps: 1\nsteps: 2\n",
		"data: {name: cross-product}\n---\nsteps: 3\n",
		"data:\n  name: imagenet\nmodel:\n  arch: \"dense(\"\noptimizer:\n  name: rmsprop\n  lr: .nan\nsteps: 99999999999999999999\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			return
		}
		var c *Config
		var err error
		if n := allocated(func() { c, err = ParseConfig(strings.NewReader(src), "fuzz.yaml") }); n > allocLimit(len(src)) {
			t.Fatalf("parsing %d bytes allocated %d (limit %d); err = %v", len(src), n, allocLimit(len(src)), err)
		}
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with a non-nil config", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") && !strings.HasPrefix(line, "  ") {
					t.Fatalf("error line %q does not name the file", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		c2, err := ParseConfig(bytes.NewReader(b), "resolved.yaml")
		if err != nil {
			t.Fatalf("resolved config does not parse: %v\n%s", err, b)
		}
		if c.Hash() != c2.Hash() {
			t.Fatalf("resolved config differs: %v", c.Diff(c2))
		}
	})
}
