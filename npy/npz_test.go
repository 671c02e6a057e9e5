package npy

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNPZFixtures(t *testing.T) {
	tests := []struct {
		file string
		want map[string]*Array
	}{
		{"stored.npz", map[string]*Array{"images": sample(Uint8, []int{2, 3, 3}), "labels": sample(Int64, []int{2, 1})}},
		{"deflated.npz", map[string]*Array{"x": sample(Float32, []int{4, 2}), "y": sample(Float64, []int{4})}},
	}
	for _, tc := range tests {
		p := filepath.Join("testdata", tc.file)
		got, err := ReadNPZ(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d arrays, want %d", tc.file, len(got), len(tc.want))
		}
		for name, w := range tc.want {
			if g := got[name]; g == nil || !equalArrays(g, w) {
				t.Errorf("%s: array %q = %+v, want %+v", tc.file, name, g, w)
			}
			one, err := ReadNPZMember(p, name)
			if err != nil || !equalArrays(one, w) {
				t.Errorf("%s: ReadNPZMember(%q) = %v, %v", tc.file, name, one, err)
			}
		}
	}
}

func TestNPZRoundTrip(t *testing.T) {
	arrays := map[string]*Array{}
	for _, dt := range allDTypes {
		for i, shape := range allShapes {
			arrays[dt+"_"+string(rune('a'+i))] = sample(dt, shape)
		}
	}
	dir := t.TempDir()
	for _, compress := range []bool{false, true} {
		p := filepath.Join(dir, "a.npz")
		write := WriteNPZ
		if compress {
			write = WriteNPZCompressed
		}
		if err := write(p, arrays); err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(p)
		if err := write(p, arrays); err != nil {
			t.Fatal(err)
		}
		second, _ := os.ReadFile(p)
		if !bytes.Equal(first, second) {
			t.Errorf("compress=%v: two writes of the same arrays differ", compress)
		}
		z, err := OpenNPZ(p)
		if err != nil {
			t.Fatal(err)
		}
		names := z.Names()
		if !slices.IsSorted(names) || len(names) != len(arrays) {
			t.Errorf("Names() = %v", names)
		}
		for name, want := range arrays {
			if !z.Has(name) {
				t.Errorf("Has(%q) = false", name)
			}
			got, err := z.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			if !equalArrays(got, want) {
				t.Errorf("compress=%v: %s changed in the round trip", compress, name)
			}
		}
		z.Close()
	}
}

func TestNPZErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npz")
	if err := WriteNPZ(p, map[string]*Array{"x": sample(Float32, []int{16})}); err != nil {
		t.Fatal(err)
	}
	_, err := ReadNPZMember(p, "y")
	if err == nil || !strings.Contains(err.Error(), `no array "y" (the archive holds x)`) || !strings.HasPrefix(err.Error(), p) {
		t.Errorf("missing member: %v", err)
	}

	// A flipped data byte must be caught by the zip CRC even though the
	// .npy member still parses.
	raw, _ := os.ReadFile(p)
	i := bytes.Index(raw, []byte("\n")) + 1 + 4*5 // inside element 5
	raw[i] ^= 0x40
	os.WriteFile(p, raw, 0o644)
	if _, err := ReadNPZ(p); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted member: %v, want a checksum error", err)
	}

	notZip := filepath.Join(dir, "b.npz")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	if _, err := ReadNPZ(notZip); err == nil || !strings.Contains(err.Error(), "not a readable .npz") {
		t.Errorf("not a zip: %v", err)
	}
	if _, err := ReadNPZ(filepath.Join(dir, "missing.npz")); err == nil || !strings.Contains(err.Error(), "missing.npz") {
		t.Errorf("missing file: %v", err)
	}

	for _, bad := range []map[string]*Array{
		{"": sample(Uint8, []int{1})},
		{"a/b": sample(Uint8, []int{1})},
		{"nil": nil},
		{"bad": FromUint8([]int{3}, nil)},
	} {
		if err := WriteNPZ(filepath.Join(dir, "c.npz"), bad); err == nil {
			t.Errorf("WriteNPZ(%v) succeeded", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c.npz")); !os.IsNotExist(err) {
		t.Error("a failed WriteNPZ left a file behind")
	}
}

// rawZip builds a zip with one member whose recorded sizes may lie.
func rawZip(t *testing.T, name string, method uint16, body []byte, usize uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	comp := body
	if method == zip.Deflate {
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.BestCompression)
		fw.Write(body)
		fw.Close()
		comp = c.Bytes()
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: method, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(len(comp)), UncompressedSize64: usize,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp)
	zw.Close()
	return buf.Bytes()
}

func TestNPZLyingSizes(t *testing.T) {
	var member bytes.Buffer
	Write(&member, sample(Float32, []int{10}))
	body := member.Bytes()
	// A header claiming 2^40 elements inside a deflated member that
	// claims to be enormous.
	huge := rawNPY(1, dictFor("<f4", "False", "(1099511627776,)"), make([]byte, 1000))
	tests := []struct {
		name string
		zip  []byte
		want string
	}{
		{"stored size lie", rawZip(t, "x.npy", zip.Store, body, 1<<40), "stored member claims 1099511627776 bytes but occupies"},
		{"deflate size lie", rawZip(t, "x.npy", zip.Deflate, huge, 1<<42), "more than deflate can produce"},
		{"deflate short", rawZip(t, "x.npy", zip.Deflate, huge, uint64(len(huge))), "needs 4398046511104 bytes of float32 data, member has"},
		{"size too small", rawZip(t, "x.npy", zip.Store, body, uint64(len(body)-8)), "stored member claims"},
		{"unknown method", rawZip(t, "x.npy", 12, body, uint64(len(body))), "unsupported zip compression method 12"},
	}
	for _, tc := range tests {
		z, err := NewNPZReader(bytes.NewReader(tc.zip), int64(len(tc.zip)), "t.npz")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = z.Read("x")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		} else if !strings.HasPrefix(err.Error(), "t.npz: x.npy: ") {
			t.Errorf("%s: error %q does not name the archive and member", tc.name, err)
		}
	}
}

func TestNPZDuplicateMember(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for range 2 {
		w, _ := zw.Create("x.npy")
		Write(w, sample(Uint8, []int{1}))
	}
	zw.Close()
	if _, err := NewNPZReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "d.npz"); err == nil || !strings.Contains(err.Error(), "duplicate member") {
		t.Errorf("duplicate members: %v", err)
	}
}
