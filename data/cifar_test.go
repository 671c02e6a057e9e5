package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarRecords makes k records whose label is (base+i) mod 10 and whose
// pixel j of record i is (base+i+j) mod 256.
func cifarRecords(base, k int) []byte {
	b := make([]byte, 0, k*cifarRecordBytes)
	for i := range k {
		b = append(b, byte((base+i)%10))
		for j := range cifarImageBytes {
			b = append(b, byte(base+i+j))
		}
	}
	return b
}

// cifarFixture returns the members of a small CIFAR-10 binary archive:
// five training batches of 3 records and a test batch of 4.
func cifarFixture() map[string][]byte {
	m := map[string][]byte{"batches.meta.txt": []byte("airplane\nautomobile\n")}
	for i, n := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"} {
		m[n] = cifarRecords(3*i, 3)
	}
	m["test_batch.bin"] = cifarRecords(100, 4)
	return m
}

// tarBytes returns members under prefix/ as a tar archive, gzipped if
// asked. The CIFAR batches go first in reverse order, to show that readers
// do not rely on the order.
func tarBytes(prefix string, members map[string][]byte, gz bool) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := []string{"test_batch.bin", "data_batch_5.bin", "data_batch_4.bin", "data_batch_3.bin", "data_batch_2.bin", "data_batch_1.bin", "batches.meta.txt"}
	var rest []string
	for n := range members {
		if !contains(names, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	tw.WriteHeader(&tar.Header{Name: prefix + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, n := range append(names, rest...) {
		b, ok := members[n]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: prefix + "/" + n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	if !gz {
		return buf.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	return z.Bytes()
}

// writeTar writes tarBytes to path.
func writeTar(t *testing.T, path, prefix string, members map[string][]byte, gz bool) {
	t.Helper()
	if err := os.WriteFile(path, tarBytes(prefix, members, gz), 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func checkCIFAR(t *testing.T, d *Dataset, split string) {
	t.Helper()
	type rec struct{ base, k int }
	var recs []rec
	if split == "train" {
		for i := range 5 {
			recs = append(recs, rec{3 * i, 3})
		}
	} else {
		recs = []rec{{100, 4}}
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !equalInts(d.Shape, []int{3, 32, 32}) || d.Classes != 10 {
		t.Fatalf("shape %v, %d classes", d.Shape, d.Classes)
	}
	s := 0
	for _, r := range recs {
		for i := range r.k {
			if d.Labels[s] != (r.base+i)%10 {
				t.Fatalf("sample %d: label %d, want %d", s, d.Labels[s], (r.base+i)%10)
			}
			x := d.Input(s)
			// pixel (c, y, x) sits at c*1024 + y*32 + x, the record offset.
			for _, j := range []int{0, 1, 31, 32, 1023, 1024, 2047, 2048, 3071} {
				if want := float32(byte(r.base+i+j)) / 255; x[j] != want {
					t.Fatalf("sample %d pixel %d = %v, want %v", s, j, x[j], want)
				}
			}
			s++
		}
	}
	if d.Len() != s {
		t.Fatalf("%d samples, want %d", d.Len(), s)
	}
}

func TestReadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	members := cifarFixture()
	tgz := filepath.Join(dir, "cifar-10-binary.tar.gz")
	writeTar(t, tgz, "cifar-10-batches-bin", members, true)
	plain := filepath.Join(dir, "cifar.tar")
	writeTar(t, plain, "somewhere/else", members, false)
	extracted := filepath.Join(dir, "x", "cifar-10-batches-bin")
	os.MkdirAll(extracted, 0o755)
	for n, b := range members {
		os.WriteFile(filepath.Join(extracted, n), b, 0o644)
	}
	for _, src := range []string{tgz, plain, filepath.Dir(extracted), extracted} {
		for _, split := range []string{"train", "test"} {
			d, err := ReadCIFAR10(src, split)
			if err != nil {
				t.Fatalf("%s %s: %v", src, split, err)
			}
			if d.Name != "cifar10/"+split {
				t.Errorf("name %q", d.Name)
			}
			checkCIFAR(t, d, split)
		}
	}
	if _, err := ReadCIFAR10(tgz, "val"); err == nil {
		t.Error("split val accepted")
	}
}

func TestReadCIFAR10Errors(t *testing.T) {
	dir := t.TempDir()
	missing := cifarFixture()
	delete(missing, "data_batch_3.bin")
	badSize := cifarFixture()
	badSize["data_batch_2.bin"] = badSize["data_batch_2.bin"][:100]
	badLabel := cifarFixture()
	badLabel["test_batch.bin"][cifarRecordBytes] = 10
	for _, tc := range []struct {
		name    string
		members map[string][]byte
		split   string
		want    string
	}{
		{"missing", missing, "train", "archive lacks data_batch_3.bin; is it the CIFAR-10 binary version"},
		{"size", badSize, "train", "data_batch_2.bin: 100 bytes is not a whole number of 3073-byte records"},
		{"label", badLabel, "test", "test_batch.bin: record 1 has label 10, outside 0..9"},
	} {
		p := filepath.Join(dir, tc.name+".tar.gz")
		writeTar(t, p, "cifar-10-batches-bin", tc.members, true)
		_, err := ReadCIFAR10(p, tc.split)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A truncated gzip archive.
	p := filepath.Join(dir, "ok.tar.gz")
	writeTar(t, p, "cifar-10-batches-bin", cifarFixture(), true)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)/2], 0o644)
	if _, err := ReadCIFAR10(p, "test"); err == nil {
		t.Error("truncated archive accepted")
	}
	os.WriteFile(p, []byte{0x1f, 0x8b, 1}, 0o644)
	if _, err := ReadCIFAR10(p, "test"); err == nil || !strings.Contains(err.Error(), "corrupt gzip") {
		t.Errorf("corrupt gzip: %v", err)
	}
}

// TestCIFAR10Registry goes through the registry: the fixture is found in
// --data-dir but fails the published checksum.
func TestCIFAR10Registry(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cifar10"), 0o755)
	writeTar(t, filepath.Join(dir, "cifar10", "cifar-10-binary.tar.gz"), "cifar-10-batches-bin", cifarFixture(), true)
	_, err := CIFAR10("test", dir)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Algorithm != "size" || !strings.Contains(err.Error(), "eqens data fetch cifar10") {
		t.Errorf("CIFAR10 on a fixture: %v, want a size mismatch", err)
	}
	_, err = CIFAR10("test", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cifar-10-binary.tar.gz not found; looked in --data-dir") {
		t.Errorf("CIFAR10 with nothing there: %v", err)
	}
}

func TestParseCIFARBatch(t *testing.T) {
	x, labels, err := ParseCIFARBatch(cifarRecords(7, 2), "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 2*3072 || !equalInts(labels, []int{7, 8}) || x[3072] != float32(8)/255 {
		t.Errorf("got %d values, labels %v", len(x), labels)
	}
	for _, b := range [][]byte{nil, make([]byte, 3072), append(cifarRecords(0, 1), 1)} {
		if _, _, err := ParseCIFARBatch(b, "b"); err == nil {
			t.Errorf("ParseCIFARBatch accepted %d bytes", len(b))
		}
	}
}

func FuzzParseCIFARBatch(f *testing.F) {
	f.Add(cifarRecords(0, 1))
	f.Add(cifarRecords(9, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, labels, err := ParseCIFARBatch(b, "fuzz")
		if err != nil {
			return
		}
		if len(x) != len(labels)*3072 {
			t.Fatalf("%d values for %d labels", len(x), len(labels))
		}
		for _, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0, 1]", v)
			}
		}
	})
}

func FuzzReadCIFARTar(f *testing.F) {
	for _, gz := range []bool{false, true} {
		f.Add(tarBytes("cifar-10-batches-bin", map[string][]byte{"test_batch.bin": cifarRecords(1, 1)}, gz))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		batches, err := readCIFARTar(bytes.NewReader(b), "fuzz", []string{"test_batch.bin"})
		if err != nil {
			return
		}
		cifarDataset("fuzz", []string{"test_batch.bin"}, batches)
	})
}
