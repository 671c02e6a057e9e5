package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedFiles adds the committed fixtures and a few hand-made files to a fuzz
// corpus.
func seedFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzRead(f *testing.F) {
	seedFiles(f, "*.npy")
	for _, dt := range allDTypes {
		var buf bytes.Buffer
		Write(&buf, sample(dt, []int{2, 3}))
		f.Add(buf.Bytes())
	}
	f.Add(rawNPY(1, dictFor("<f4", "False", "(1099511627776,)"), make([]byte, 16)))
	f.Add(rawNPY(2, dictFor(">i8", "False", "()"), make([]byte, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []int64{int64(len(data)), -1} {
			a, err := Read(bytes.NewReader(data), size)
			if err != nil {
				continue
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("Read returned an invalid array: %v", err)
			}
			if a.Len() > len(data) {
				t.Fatalf("Read returned %d elements from %d bytes", a.Len(), len(data))
			}
			var buf bytes.Buffer
			if err := Write(&buf, a); err != nil {
				t.Fatalf("Write of a read array: %v", err)
			}
			b, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatalf("re-reading a written array: %v", err)
			}
			if !equalArraysBits(a, b) {
				t.Fatal("round trip changed the array")
			}
		}
	})
}

// equalArraysBits compares like equalArrays but treats NaNs with equal bits
// as equal.
func equalArraysBits(a, b *Array) bool {
	var x, y bytes.Buffer
	Write(&x, a)
	Write(&y, b)
	return bytes.Equal(x.Bytes(), y.Bytes())
}

func FuzzReadNPZ(f *testing.F) {
	seedFiles(f, "*.npz")
	var buf bytes.Buffer
	WriteNPZTo(&buf, map[string]*Array{"a": sample(Float64, []int{3}), "b": sample(Uint8, []int{2, 2})}, true)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		z, err := NewNPZReader(bytes.NewReader(data), int64(len(data)), "fuzz.npz")
		if err != nil {
			return
		}
		for _, name := range z.Names() {
			a, err := z.Read(name)
			if err != nil {
				continue
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("Read returned an invalid array: %v", err)
			}
		}
	})
}
