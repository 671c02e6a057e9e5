package train

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/eqens/eqens/nn"
)

// parseSafetensors parses a safetensors file without the library that
// wrote it, checking what Python's safetensors checks: the header length,
// the JSON header, the dtypes, and that the tensors' byte ranges tile the
// data exactly.
func parseSafetensors(t *testing.T, b []byte) (map[string]tensorHeader, map[string]string, []byte) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("file of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > 100_000_000 || 8+n > uint64(len(b)) {
		t.Fatalf("header length %d for a file of %d bytes", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	meta := map[string]string{}
	tensors := map[string]tensorHeader{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				t.Fatalf("__metadata__ is not a map of strings: %v", err)
			}
			continue
		}
		var h tensorHeader
		dec := json.NewDecoder(strings.NewReader(string(v)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			t.Fatalf("tensor %s: %v", k, err)
		}
		tensors[k] = h
	}
	data := b[8+n:]
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return tensors[names[i]].Offsets[0] < tensors[names[j]].Offsets[0] })
	off := uint64(0)
	for _, k := range names {
		h := tensors[k]
		size := map[string]uint64{"F32": 4, "I64": 8}[h.DType]
		if size == 0 {
			t.Fatalf("tensor %s: dtype %q", k, h.DType)
		}
		ne := uint64(1)
		for _, s := range h.Shape {
			ne *= s
		}
		if h.Offsets[0] != off || h.Offsets[1]-h.Offsets[0] != ne*size {
			t.Fatalf("tensor %s: offsets %v, shape %v: not contiguous at %d", k, h.Offsets, h.Shape, off)
		}
		off = h.Offsets[1]
	}
	if off != uint64(len(data)) {
		t.Fatalf("tensors cover %d bytes of %d", off, len(data))
	}
	return tensors, meta, data
}

type tensorHeader struct {
	DType   string    `json:"dtype"`
	Shape   []uint64  `json:"shape"`
	Offsets [2]uint64 `json:"data_offsets"`
}

func TestCheckpointFormat(t *testing.T) {
	arch, err := nn.Parse("lift(c4,3,k=3),relu,gconv(2,k=3),relu,gpool,dense(5),relu,dense(2)", []int{2, 6, 6}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	net := nn.New[float32](arch)
	net.Init(7)
	for _, done := range []bool{false, true} {
		ck := &Checkpoint{Arch: arch, Member: 7, MemberSeed: MemberSeed(3, 7), Seed: 3, ConfigHash: "abc", Step: 40, Steps: 100, Done: done, Loss: 0.25, Params: net.Params}
		if !done {
			m := make([]float32, len(net.Params))
			for i := range m {
				m[i] = float32(i)
			}
			ck.Optimizer, ck.OptState = "adam", map[string][]float32{"m": m, "v": m}
			ck.Order, ck.OrderPos = []int{3, 1, 0, 2}, 2
			ck.RNGOrder, ck.RNGAugment = []byte("pcg:0123456789abcdef"), []byte{1, 2, 3}
		}
		dir := t.TempDir()
		path := MemberPath(dir, 7)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteCheckpoint(path, ck); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != "member-0007.safetensors" {
			t.Errorf("path %s", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tensors, meta, data := parseSafetensors(t, b)
		want := map[string][]uint64{
			"layer00.lift.weight":  {3, 3, 3, 2},
			"layer00.lift.bias":    {3},
			"layer02.gconv.weight": {2, 4, 3, 3, 3},
			"layer02.gconv.bias":   {2},
			"layer05.dense.weight": {5, 2},
			"layer05.dense.bias":   {5},
			"layer07.dense.weight": {2, 5},
			"layer07.dense.bias":   {2},
			"optimizer.m":          {uint64(len(net.Params))},
			"optimizer.v":          {uint64(len(net.Params))},
			"train.order":          {4},
		}
		if done {
			for k := range want {
				if strings.HasPrefix(k, "optimizer.") || strings.HasPrefix(k, "train.") {
					delete(want, k)
				}
			}
		}
		if len(tensors) != len(want) {
			t.Errorf("done=%v: %d tensors, want %d: %v", done, len(tensors), len(want), tensors)
		}
		for k, s := range want {
			if h, ok := tensors[k]; !ok || !slices.Equal(h.Shape, s) {
				t.Errorf("tensor %s: %+v, want shape %v", k, h, s)
			}
		}
		// The weight of the last layer holds the network's parameters.
		blocks := ParamBlocks(arch)
		last := blocks[len(blocks)-2]
		h := tensors[last.Name]
		for i := 0; i < last.Len; i++ {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[h.Offsets[0]+4*uint64(i):]))
			if v != net.Params[last.Offset+i] {
				t.Fatalf("%s[%d] = %v, want %v", last.Name, i, v, net.Params[last.Offset+i])
			}
		}
		for k, v := range map[string]string{"format": CheckpointFormat, "spec": arch.Spec, "param": "ntk", "input_shape": "[2,6,6]", "member": "7", "step": "40", "config_hash": "abc", "seed": "3"} {
			if meta[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
			}
		}
		if status := map[bool]string{true: "done", false: "running"}[done]; meta["status"] != status {
			t.Errorf("status %q, want %q", meta["status"], status)
		}
		got, err := ReadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Params, ck.Params) || got.Step != 40 || got.Member != 7 || got.Done != done || got.Loss != 0.25 || got.MemberSeed != ck.MemberSeed {
			t.Errorf("read back %+v", got)
		}
		if !done && (!slices.Equal(got.Order, ck.Order) || got.OrderPos != 2 || string(got.RNGOrder) != string(ck.RNGOrder) || !slices.Equal(got.OptState["v"], ck.OptState["v"])) {
			t.Errorf("resume state read back wrong: %+v", got)
		}
		pythonCheck(t, path, meta, tensors)
	}
}

// pythonCheck loads the file with Python's safetensors package when it is
// installed (it is not a dependency of the test suite).
func pythonCheck(t *testing.T, path string, meta map[string]string, tensors map[string]tensorHeader) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 not found: skipping the check with Python's safetensors")
		return
	}
	if exec.Command(py, "-c", "import safetensors.numpy").Run() != nil {
		t.Log("Python's safetensors (and numpy) not installed: skipping the check with it")
		return
	}
	script := `import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    out = {"metadata": f.metadata(), "shapes": {k: list(f.get_tensor(k).shape) for k in f.keys()}}
print(json.dumps(out))`
	b, err := exec.Command(py, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("Python's safetensors cannot read %s: %v", path, err)
	}
	var got struct {
		Metadata map[string]string
		Shapes   map[string][]uint64
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, h := range tensors {
		if !slices.Equal(got.Shapes[k], h.Shape) {
			t.Errorf("python: tensor %s has shape %v, want %v", k, got.Shapes[k], h.Shape)
		}
	}
	if got.Metadata["spec"] != meta["spec"] {
		t.Errorf("python: metadata %v", got.Metadata)
	}
}

func TestListMembersIgnoresPartialWrites(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, MembersDir)
	if err := os.MkdirAll(md, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"member-0002.safetensors", "member-0010.safetensors", ".member-0003.safetensors.tmp-12345", "member-0004.safetensors.part", "member-5.safetensors", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(md, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := ListMembers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ms, []int{2, 10}) {
		t.Errorf("ListMembers = %v, want [2 10]", ms)
	}
	if _, err := ReadCheckpoint(MemberPath(dir, 2)); err == nil || !strings.Contains(err.Error(), "not a valid eqens member checkpoint") {
		t.Errorf("garbage checkpoint read without a clear error: %v", err)
	}
}

// TestParamBlocks checks the tensor names and shapes of every layer kind
// with parameters, pixel and basis filters, and that the blocks tile the
// parameters.
func TestParamBlocks(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
		want  map[string][]int
	}{
		{"conv(4,k=5),relu,globalavgpool,dense(2)", []int{3, 8, 8}, map[string][]int{
			"layer00.conv.weight": {4, 5, 5, 3}, "layer03.dense.weight": {2, 4}}},
		{"lift(c4,3,k=3),gconv(2,k=3,support=e),gpool,dense(2)", []int{2, 6, 6}, map[string][]int{
			"layer00.lift.weight": {3, 3, 3, 2}, "layer01.gconv.weight": {2, 1, 3, 3, 3}}},
		// 9 group elements times the basis size is a multiple of k² = 9:
		// the shapes must come from the basis, not from that count.
		{"lift(c9,2,k=3,basis=fourier),relu,gconv(3,k=3,basis=fourier),gpool,dense(2)", []int{1, 9, 9}, map[string][]int{
			"layer00.lift.weight": {2, nn.FourierSize(3), 1}, "layer02.gconv.weight": {3, 9, nn.FourierSize(3), 2}}},
		{"liftdense(c4,3),gpool,dense(2)", []int{1, 5, 5}, map[string][]int{
			"layer00.liftdense.weight": {3, 5, 5, 1}}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			a, err := nn.Parse(tc.spec, tc.shape, nn.NTK)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]int{}
			off := 0
			for _, b := range ParamBlocks(a) {
				if b.Offset != off || prod(b.Shape) != b.Len {
					t.Fatalf("block %s at %d (want %d), shape %v for %d values", b.Name, b.Offset, off, b.Shape, b.Len)
				}
				off += b.Len
				got[b.Name] = b.Shape
			}
			if off != len(nn.New[float32](a).Params) {
				t.Errorf("blocks cover %d parameters", off)
			}
			for name, s := range tc.want {
				if !slices.Equal(got[name], s) {
					t.Errorf("%s: shape %v, want %v (all: %v)", name, got[name], s, got)
				}
			}
		})
	}
}
