package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// sample returns an array whose element i is i/4 (floats), i-3 (signed
// integers) or i mod 256 (uint8), the values the NumPy fixtures hold.
func sample(dtype string, shape []int) *Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	a := &Array{Shape: slices.Clone(shape), DType: dtype}
	switch dtype {
	case Float32:
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i) / 4
		}
		a.Data = d
	case Float64:
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(i) / 4
		}
		a.Data = d
	case Int32:
		d := make([]int32, n)
		for i := range d {
			d[i] = int32(i - 3)
		}
		a.Data = d
	case Int64:
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(i - 3)
		}
		a.Data = d
	case Uint8:
		d := make([]uint8, n)
		for i := range d {
			d[i] = uint8(i)
		}
		a.Data = d
	}
	return a
}

func equalArrays(a, b *Array) bool {
	if a.DType != b.DType || len(a.Shape) != len(b.Shape) || !slices.Equal(a.Shape, b.Shape) {
		return false
	}
	la, _ := a.dataLen()
	lb, _ := b.dataLen()
	if la == 0 && lb == 0 {
		return true
	}
	return reflect.DeepEqual(a.Data, b.Data)
}

var (
	allDTypes = []string{Float32, Float64, Int32, Int64, Uint8}
	allShapes = [][]int{{}, {0}, {1}, {7}, {3, 0}, {0, 5}, {2, 3}, {2, 3, 4}, {1, 1, 1, 1, 2}, {300, 301}}
)

func TestRoundTrip(t *testing.T) {
	for _, dt := range allDTypes {
		for _, shape := range allShapes {
			t.Run(fmt.Sprintf("%s%v", dt, shape), func(t *testing.T) {
				a := sample(dt, shape)
				var buf bytes.Buffer
				if err := Write(&buf, a); err != nil {
					t.Fatal(err)
				}
				hl := int(binary.LittleEndian.Uint16(buf.Bytes()[8:10]))
				if (10+hl)%64 != 0 {
					t.Errorf("data starts at byte %d, not a multiple of 64", 10+hl)
				}
				for _, size := range []int64{int64(buf.Len()), -1} {
					b, err := Read(bytes.NewReader(buf.Bytes()), size)
					if err != nil {
						t.Fatalf("Read(size %d): %v", size, err)
					}
					if !equalArrays(a, b) {
						t.Fatalf("Read(size %d) = %v %v %v, want %v %v %v", size, b.DType, b.Shape, b.Data, a.DType, a.Shape, a.Data)
					}
				}
				p := filepath.Join(t.TempDir(), "a.npy")
				if err := WriteFile(p, a); err != nil {
					t.Fatal(err)
				}
				b, err := ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !equalArrays(a, b) {
					t.Fatal("WriteFile/ReadFile round trip changed the array")
				}
			})
		}
	}
}

func TestNilDataEmptyArray(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, &Array{Shape: []int{0, 4}, DType: Float64}); err != nil {
		t.Fatal(err)
	}
	a, err := Read(&buf, -1)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 || !slices.Equal(a.Shape, []int{0, 4}) {
		t.Fatalf("got shape %v", a.Shape)
	}
}

// TestSequentialArrays reads two arrays written one after the other to a
// stream of unknown size, as numpy.load does for repeated numpy.save.
func TestSequentialArrays(t *testing.T) {
	var buf bytes.Buffer
	a, b := sample(Float32, []int{2, 2}), sample(Uint8, []int{5})
	Write(&buf, a)
	Write(&buf, b)
	for _, want := range []*Array{a, b} {
		got, err := Read(&buf, -1)
		if err != nil {
			t.Fatal(err)
		}
		if !equalArrays(got, want) {
			t.Fatalf("got %v, want %v", got.Data, want.Data)
		}
	}
}

// TestFixtures reads the files NumPy wrote into testdata (see
// testdata/make_fixtures.py) and, where the format allows, checks that Write
// reproduces them byte for byte.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file    string
		dtype   string
		shape   []int
		rewrite bool // Write reproduces the file exactly
	}{
		{"f4_2x3.npy", Float32, []int{2, 3}, true},
		{"f8_scalar.npy", Float64, []int{}, true},
		{"i4_empty.npy", Int32, []int{0, 3}, true},
		{"i8_big_endian.npy", Int64, []int{5}, false},
		{"u1_2x2x2.npy", Uint8, []int{2, 2, 2}, true},
		{"f4_big_endian.npy", Float32, []int{4}, false},
		{"f8_v2.npy", Float64, []int{3, 1}, false},
		{"i4_v3.npy", Int32, []int{2, 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join("testdata", tc.file)
			a, err := ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want := sample(tc.dtype, tc.shape)
			if !equalArrays(a, want) {
				t.Fatalf("read %v %v %v, want %v %v %v", a.DType, a.Shape, a.Data, want.DType, want.Shape, want.Data)
			}
			if tc.rewrite {
				var buf bytes.Buffer
				Write(&buf, a)
				orig, _ := os.ReadFile(p)
				if !bytes.Equal(buf.Bytes(), orig) {
					t.Errorf("Write output differs from NumPy's:\n got %q\nwant %q", buf.Bytes(), orig)
				}
			}
		})
	}
}

func TestFixtureErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"fortran.npy", "fortran_order arrays are not supported; use np.ascontiguousarray"},
		{"bool.npy", `unsupported dtype "|b1"`},
	}
	for _, tc := range tests {
		p := filepath.Join("testdata", tc.file)
		_, err := ReadFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("ReadFile(%s) = %v, want an error starting with the path and saying %q", tc.file, err, tc.want)
		}
	}
}

// rawNPY builds a .npy file by hand from a header dictionary and data.
func rawNPY(major byte, dict string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	b = append(b, dict...)
	return append(b, data...)
}

func dictFor(descr, fortran, shape string) string {
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr, fortran, shape)
}

func TestCorrupt(t *testing.T) {
	good := rawNPY(1, dictFor("<f4", "False", "(3, 4)"), make([]byte, 48))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short for the magic string"},
		{"not npy", []byte("PK\x03\x04 this is a zip file"), "not a .npy file"},
		{"version 4", append([]byte(magic+"\x04\x00"), good[8:]...), "unsupported .npy format version 4.0"},
		{"version 1.1", append([]byte(magic+"\x01\x01"), good[8:]...), "unsupported .npy format version 1.1"},
		{"truncated length", good[:9], "truncated header"},
		{"truncated header", good[:40], "header claims"},
		{"header too long", rawNPY(2, strings.Repeat(" ", MaxHeaderLen+1), nil), "more than the 65536 allowed"},
		{"truncated data", good[:len(good)-28], "shape (3, 4) needs 48 bytes of float32 data, file has 20"},
		{"trailing data", append(slices.Clone(good), 1, 2, 3), "3 unexpected bytes after the data"},
		{"not a dict", rawNPY(1, "('descr', '<f4')", nil), "not a dictionary"},
		{"unterminated dict", rawNPY(1, "{'descr': '<f4'", nil), "unterminated dictionary"},
		{"unterminated string", rawNPY(1, "{'descr: '<f4'}", nil), "corrupt header"},
		{"garbage after dict", rawNPY(1, dictFor("<f4", "False", "(1,)")+"x", make([]byte, 4)), "after the dictionary"},
		{"missing descr", rawNPY(1, "{'fortran_order': False, 'shape': (1,)}", nil), "no 'descr' key"},
		{"missing shape", rawNPY(1, "{'descr': '<f4', 'fortran_order': False}", nil), "no 'shape' key"},
		{"missing fortran_order", rawNPY(1, "{'descr': '<f4', 'shape': (1,)}", nil), "no 'fortran_order' key"},
		{"extra key", rawNPY(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", nil), `unexpected key "x"`},
		{"duplicate key", rawNPY(1, "{'descr': '<f4', 'descr': '<f4'}", nil), "duplicate key"},
		{"fortran", rawNPY(1, dictFor("<f4", "True", "(2, 2)"), make([]byte, 16)), "fortran_order arrays are not supported; use np.ascontiguousarray"},
		{"fortran not bool", rawNPY(1, dictFor("<f4", "0", "(2, 2)"), make([]byte, 16)), "not True or False"},
		{"shape not tuple", rawNPY(1, dictFor("<f4", "False", "[2, 2]"), make([]byte, 16)), "'shape' is a list"},
		{"shape float", rawNPY(1, dictFor("<f4", "False", "(2.5,)"), nil), "not an integer"},
		{"shape string", rawNPY(1, dictFor("<f4", "False", "('2',)"), nil), "shape entry 0 is a string"},
		{"negative dim", rawNPY(1, dictFor("<f4", "False", "(-2, 3)"), nil), "negative dimension"},
		{"overflow", rawNPY(1, dictFor("<f8", "False", "(4294967296, 4294967296)"), nil), "more elements than an int can count"},
		{"huge integer", rawNPY(1, dictFor("<f8", "False", "(99999999999999999999999,)"), nil), "integer too large"},
		{"byte overflow", rawNPY(1, dictFor("<f8", "False", "(2305843009213693952,)"), nil), "more bytes than an int64 can count"},
		{"2^40 elements", rawNPY(1, dictFor("<f4", "False", "(1099511627776,)"), make([]byte, 64)), "needs 4398046511104 bytes of float32 data, file has 64"},
		{"too many dims", rawNPY(1, dictFor("<f4", "False", "("+strings.Repeat("1, ", 70)+")"), nil), "more than 64 items"},
		{"deep nesting", rawNPY(1, strings.Repeat("(", 100), nil), "nested more than"},
		{"structured", rawNPY(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", nil), "structured dtypes"},
		{"complex", rawNPY(1, dictFor("<c8", "False", "(1,)"), make([]byte, 8)), `unsupported dtype "<c8"`},
		{"int8", rawNPY(1, dictFor("|i1", "False", "(1,)"), make([]byte, 1)), `unsupported dtype "|i1"`},
		{"native order", rawNPY(1, dictFor("=f4", "False", "(1,)"), make([]byte, 4)), "byte order '=' is not explicit"},
		{"object", rawNPY(1, dictFor("|O", "False", "(1,)"), make([]byte, 8)), `unsupported dtype "|O"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int64{int64(len(tc.data)), -1} {
				_, err := Read(bytes.NewReader(tc.data), size)
				if err == nil {
					if size < 0 && tc.name == "trailing data" {
						continue // unknown size: reading stops after the array
					}
					t.Fatalf("Read(size %d) succeeded", size)
				}
				if size >= 0 && !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Read(size %d) error %q, want it to contain %q", size, err, tc.want)
				}
				if !strings.HasPrefix(err.Error(), "npy: ") {
					t.Errorf("error %q does not start with \"npy: \"", err)
				}
			}
		})
	}
}

func TestTruncatedFileNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "X.npy")
	good := rawNPY(1, dictFor("<f4", "False", "(3, 4)"), make([]byte, 20))
	os.WriteFile(p, good, 0o644)
	_, err := ReadFile(p)
	want := p + ": shape (3, 4) needs 48 bytes of float32 data, file has 20"
	if err == nil || err.Error() != want {
		t.Fatalf("ReadFile = %v, want %q", err, want)
	}
	// An unknown-size stream learns about the truncation while reading.
	_, err = Read(bytes.NewReader(good), -1)
	want = "npy: truncated: shape (3, 4) needs 48 bytes of float32 data, got 20"
	if err == nil || err.Error() != want {
		t.Fatalf("Read = %v, want %q", err, want)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

// TestNoAllocationForHugeClaims checks that a header promising 2^40
// elements is refused without allocating the claimed memory, whether or not
// the stream size is known.
func TestNoAllocationForHugeClaims(t *testing.T) {
	data := rawNPY(1, dictFor("<f4", "False", "(1099511627776,)"), make([]byte, 4096))
	for _, size := range []int64{int64(len(data)), -1} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Read(bytes.NewReader(data), size)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("size %d: Read succeeded", size)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("size %d: Read allocated %d bytes before refusing", size, d)
		}
	}
}

func TestConversions(t *testing.T) {
	for _, dt := range allDTypes {
		a := sample(dt, []int{2, 3})
		f32, err := a.Float32()
		if err != nil {
			t.Fatal(err)
		}
		f64, err := a.Float64()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			want := float64(i) / 4
			switch dt {
			case Int32, Int64:
				want = float64(i - 3)
			case Uint8:
				want = float64(i)
			}
			if float64(f32[i]) != want || f64[i] != want {
				t.Errorf("%s element %d: Float32 %v, Float64 %v, want %v", dt, i, f32[i], f64[i], want)
			}
		}
		i64, err := a.Int64()
		if (dt == Float32 || dt == Float64) != (err != nil) {
			t.Errorf("%s: Int64 error %v", dt, err)
		}
		if err == nil && i64[5] != int64(f64[5]) {
			t.Errorf("%s: Int64 = %v", dt, i64)
		}
	}
	// Conversions copy.
	a := FromFloat32([]int{1}, []float32{1})
	c, _ := a.Float32()
	c[0] = 2
	if a.Data.([]float32)[0] != 1 {
		t.Error("Float32 returned the backing slice, not a copy")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		a    *Array
		want string
	}{
		{"ok", FromInt32([]int{2}, []int32{1, 2}), ""},
		{"ok empty nil", &Array{Shape: []int{0}, DType: Uint8}, ""},
		{"bad dtype", &Array{Shape: []int{1}, DType: "complex64", Data: []float32{1}}, "unsupported dtype"},
		{"mismatched type", &Array{Shape: []int{1}, DType: Float64, Data: []float32{1}}, "does not match data of type []float32"},
		{"wrong length", FromUint8([]int{2, 2}, []uint8{1, 2, 3}), "shape (2, 2) has 4 elements but data has 3"},
		{"negative", FromUint8([]int{-1}, nil), "negative dimension"},
		{"nil data nonempty", &Array{Shape: []int{3}, DType: Float32}, "has 3 elements but data has 0"},
	}
	for _, tc := range tests {
		err := tc.a.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
		if tc.want != "" {
			if err := Write(&bytes.Buffer{}, tc.a); err == nil {
				t.Errorf("%s: Write accepted an invalid array", tc.name)
			}
			if err := WriteFile(filepath.Join(t.TempDir(), "x.npy"), tc.a); err == nil {
				t.Errorf("%s: WriteFile accepted an invalid array", tc.name)
			}
		}
	}
}

func TestFormatShape(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		want  string
	}{{nil, "()"}, {[]int{3}, "(3,)"}, {[]int{3, 4}, "(3, 4)"}} {
		if got := formatShape(tc.shape); got != tc.want {
			t.Errorf("formatShape(%v) = %q, want %q", tc.shape, got, tc.want)
		}
	}
}

func TestHeaderParserAccepts(t *testing.T) {
	// Variants other writers produce: double quotes, Python 2 longs, no
	// trailing comma, extra spaces, keys in another order.
	for _, dict := range []string{
		`{"descr": "<f4", "fortran_order": False, "shape": (2L, 3L)}`,
		"{'shape':(2,3),'fortran_order':False,'descr':'<f4'}",
		"  {  'descr' : '<f4' ,\t'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }  \n",
	} {
		a, err := Read(bytes.NewReader(rawNPY(1, dict, make([]byte, 24))), -1)
		if err != nil {
			t.Errorf("%s: %v", dict, err)
		} else if !slices.Equal(a.Shape, []int{2, 3}) {
			t.Errorf("%s: shape %v", dict, a.Shape)
		}
	}
}

// findNumPy returns a Python interpreter that can import numpy, or skips.
func findNumPy(t *testing.T) string {
	t.Helper()
	cands := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append([]string{p}, cands...)
	}
	for _, p := range cands {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	t.Skip("python3 with numpy not found; the committed fixtures in testdata cover the NumPy format")
	return ""
}

// TestNumPyInterop has NumPy write every dtype, shape and format version,
// checks that Read recovers the values, then has NumPy load what Write and
// WriteNPZ produce.
func TestNumPyInterop(t *testing.T) {
	py := findNumPy(t)
	dir := t.TempDir()
	type fixture struct {
		dtype, descr string
		shape        []int
		version      string
	}
	var fixtures []fixture
	descrs := map[string][]string{Float32: {"<f4", ">f4"}, Float64: {"<f8", ">f8"}, Int32: {"<i4", ">i4"}, Int64: {"<i8", ">i8"}, Uint8: {"|u1"}}
	for _, dt := range allDTypes {
		for _, d := range descrs[dt] {
			for _, shape := range allShapes {
				for _, v := range []string{"(1, 0)", "(2, 0)", "(3, 0)"} {
					fixtures = append(fixtures, fixture{dt, d, shape, v})
				}
			}
		}
	}
	var script strings.Builder
	script.WriteString(`import numpy as np, sys
from numpy.lib import format as fmt
def arr(shape, dtype):
    n = int(np.prod(shape))
    kind = np.dtype(dtype).kind
    v = np.arange(n) / 4 if kind == 'f' else (np.arange(n) - 3 if kind == 'i' else np.arange(n) % 256)
    return v.astype(dtype).reshape(shape)
d = sys.argv[1]
`)
	pyShape := func(s []int) string {
		if len(s) == 1 {
			return fmt.Sprintf("(%d,)", s[0])
		}
		return "(" + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(s)), ", "), "[]") + ")"
	}
	for i, f := range fixtures {
		fmt.Fprintf(&script, "with open(d + '/%d.npy', 'wb') as f: fmt.write_array(f, arr(%s, '%s'), version=%s)\n", i, pyShape(f.shape), f.descr, f.version)
	}
	if out, err := exec.Command(py, "-c", script.String(), dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy failed: %v\n%s", err, out)
	}
	for i, f := range fixtures {
		a, err := ReadFile(filepath.Join(dir, fmt.Sprintf("%d.npy", i)))
		if err != nil {
			t.Errorf("%s %v version %s: %v", f.descr, f.shape, f.version, err)
			continue
		}
		if want := sample(f.dtype, f.shape); !equalArrays(a, want) {
			t.Errorf("%s %v version %s: read %v, want %v", f.descr, f.shape, f.version, a.Data, want.Data)
		}
	}

	// The other direction: NumPy loads what Go writes.
	arrays := map[string]*Array{}
	var check strings.Builder
	check.WriteString(script.String())
	for _, dt := range allDTypes {
		for j, shape := range allShapes {
			name := fmt.Sprintf("%s_%d", dt, j)
			a := sample(dt, shape)
			arrays[name] = a
			if err := WriteFile(filepath.Join(dir, name+".npy"), a); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&check, "want = arr(%s, '%s')\n", pyShape(shape), descr(dt))
			fmt.Fprintf(&check, "got = np.load(d + '/%s.npy')\nassert got.dtype == want.dtype and got.shape == want.shape and (got == want).all(), '%s'\n", name, name)
			fmt.Fprintf(&check, "for z in (zs, zc):\n    got = z['%s']\n    assert got.dtype == want.dtype and got.shape == want.shape and (got == want).all(), 'npz %s'\n", name, name)
		}
	}
	if err := WriteNPZ(filepath.Join(dir, "go.npz"), arrays); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPZCompressed(filepath.Join(dir, "goc.npz"), arrays); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(check.String(), "d = sys.argv[1]\n", "d = sys.argv[1]\nzs = np.load(d + '/go.npz')\nzc = np.load(d + '/goc.npz')\nassert sorted(zs.files) == sorted(zc.files) and len(zs.files) == "+fmt.Sprint(len(arrays))+"\n", 1)
	if out, err := exec.Command(py, "-c", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy could not load what Go wrote: %v\n%s", err, out)
	}
}
