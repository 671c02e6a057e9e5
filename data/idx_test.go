package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// makeIDX encodes bytes as an IDX file with the given dimensions.
func makeIDX(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestReadIDX(t *testing.T) {
	images := makeIDX([]int{3, 2, 4}, seq(24))
	labels := makeIDX([]int{3}, []byte{0, 9, 4})
	for _, tc := range []struct {
		name string
		data []byte
		dims []int
		want []byte
	}{
		{"images", images, []int{3, 2, 4}, seq(24)},
		{"images.gz", gzipBytes(images), []int{3, 2, 4}, seq(24)},
		{"labels", labels, []int{3}, []byte{0, 9, 4}},
		{"labels.gz", gzipBytes(labels), []int{3}, []byte{0, 9, 4}},
		{"empty", makeIDX([]int{0, 28, 28}, nil), []int{0, 28, 28}, []byte{}},
	} {
		x, err := ReadIDX(bytes.NewReader(tc.data), tc.name, 1<<20)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !equalInts(x.Dims, tc.dims) || !bytes.Equal(x.Data, tc.want) {
			t.Errorf("%s: got dims %v data %v", tc.name, x.Dims, x.Data)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadIDXErrors(t *testing.T) {
	images := makeIDX([]int{60000, 28, 28}, seq(1234))
	good := gzipBytes(makeIDX([]int{4, 2, 2}, seq(16)))
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-6] ^= 0xff // inside the CRC-32 trailer
	badDeflate := bytes.Clone(good)
	badDeflate[12] ^= 0xff
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int64
		want  string
	}{
		{"train-images-idx3-ubyte.gz", gzipBytes(images), 1 << 30,
			"train-images-idx3-ubyte.gz: truncated: header promises 60000 images of 28x28 (47040000 bytes), got 1234"},
		{"labels", makeIDX([]int{10}, seq(3)), 1 << 30, "labels: truncated: header promises 10 labels (10 bytes), got 3"},
		{"odd", makeIDX([]int{2, 2, 2, 2}, seq(3)), 1 << 30, "odd: truncated: header promises an array of 2x2x2x2 (16 bytes), got 3"},
		{"wrong magic", append([]byte{0, 0, 0x0d, 3}, images[4:]...), 1 << 30, "wrong magic: not an IDX file of unsigned bytes: magic number 0x00000d03 (want 0x00000803 for images or 0x00000801 for labels)"},
		{"png", []byte("\x89PNG\r\n\x1a\n...."), 1 << 30, "not an IDX file of unsigned bytes"},
		{"zero dims", []byte{0, 0, 8, 0}, 1 << 30, "not an IDX file of unsigned bytes"},
		{"short", []byte{0, 0}, 1 << 30, "short: not an IDX file: too short for the magic number"},
		{"short header", []byte{0, 0, 8, 3, 0, 0, 0, 1}, 1 << 30, "truncated header: 3 dimensions promised"},
		{"huge", makeIDX([]int{0xffffffff, 0xffffffff, 0xffffffff}, nil), 1 << 30, "more than the limit of 1073741824 bytes"},
		{"over limit", makeIDX([]int{100, 28, 28}, nil), 1000, "header promises 100 images of 28x28 (78400 bytes), more than the limit of 1000 bytes"},
		{"trailing", makeIDX([]int{2}, seq(5)), 1 << 30, "unexpected data after the 2 labels"},
		{"bad crc.gz", corrupt, 1 << 30, "bad crc.gz: corrupt gzip data: gzip: invalid checksum"},
		{"bad deflate.gz", badDeflate, 1 << 30, "bad deflate.gz: corrupt gzip data"},
		{"bad header.gz", []byte{0x1f, 0x8b, 0, 0, 0, 0}, 1 << 30, "bad header.gz: corrupt gzip data"},
		{"cut.gz", good[:len(good)-10], 1 << 30, "cut.gz: truncated"},
	} {
		_, err := ReadIDX(bytes.NewReader(tc.data), tc.name, tc.limit)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestIDXDataset(t *testing.T) {
	images := &IDX{Dims: []int{2, 1, 2}, Data: []byte{0, 255, 51, 102}}
	d, err := IDXDataset("t", images, &IDX{Dims: []int{2}, Data: []byte{3, 1}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 1, 0.2, 0.4}
	for i, v := range want {
		if d.X[i] != v {
			t.Errorf("X[%d] = %v, want %v", i, d.X[i], v)
		}
	}
	if !equalInts(d.Shape, []int{1, 1, 2}) || !equalInts(d.Labels, []int{3, 1}) || d.Classes != 10 {
		t.Errorf("got shape %v labels %v classes %d", d.Shape, d.Labels, d.Classes)
	}
	for _, tc := range []struct {
		images, labels *IDX
		want           string
	}{
		{&IDX{Dims: []int{2, 2}}, &IDX{Dims: []int{2}}, "images have 2 dimensions"},
		{images, &IDX{Dims: []int{2, 1}}, "labels have 2 dimensions"},
		{images, &IDX{Dims: []int{3}, Data: []byte{1, 2, 3}}, "2 images but 3 labels"},
		{images, &IDX{Dims: []int{2}, Data: []byte{1, 10}}, "label 10 of sample 1 is outside 0..9"},
		{&IDX{Dims: []int{0, 28, 28}}, &IDX{Dims: []int{0}}, "empty image array"},
	} {
		if _, err := IDXDataset("t", tc.images, tc.labels, 10); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("IDXDataset: %v, want %q", err, tc.want)
		}
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(makeIDX([]int{2, 2, 2}, seq(8)))
	f.Add(gzipBytes(makeIDX([]int{3}, []byte{1, 2, 3})))
	f.Add(makeIDX([]int{1 << 20, 1 << 20}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadIDX(bytes.NewReader(data), "fuzz", 1<<16)
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}
