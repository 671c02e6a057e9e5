package data

import (
	"crypto/md5"
	"encoding/hex"
	"path"
	"testing"
)

// TestMNISTEmbeddedChecksums checks the embedded files against the MD5s
// torchvision publishes for them.
func TestMNISTEmbeddedChecksums(t *testing.T) {
	torchvision := map[string]string{
		"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
		"train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
		"t10k-images-idx3-ubyte.gz":  "9fb629c4189551a2d022fa330f9573f3",
		"t10k-labels-idx1-ubyte.gz":  "ec29112dd5afa0611ce80d1b7f02629c",
	}
	s, err := Lookup("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != len(torchvision) {
		t.Fatalf("registry lists %d MNIST files", len(s.Files))
	}
	for _, f := range s.Files {
		b, err := mnistFiles.ReadFile(path.Join("mnist", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(b)
		got := hex.EncodeToString(sum[:])
		if got != torchvision[f.Name] || f.MD5 != torchvision[f.Name] {
			t.Errorf("%s: embedded md5 %s, registry %s, torchvision %s", f.Name, got, f.MD5, torchvision[f.Name])
		}
		if int64(len(b)) != f.Size {
			t.Errorf("%s: embedded %d bytes, registry says %d", f.Name, len(b), f.Size)
		}
	}
	if err := s.verifyEmbedded(); err != nil {
		t.Error(err)
	}
}

func TestMNIST(t *testing.T) {
	for _, tc := range []struct {
		split string
		n     int
		// first labels of the official files
		first []int
	}{
		{"train", 60000, []int{5, 0, 4, 1, 9}},
		{"test", 10000, []int{7, 2, 1, 0, 4}},
	} {
		d, err := MNIST(tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != tc.n || d.Name != "mnist/"+tc.split || !equalInts(d.Shape, []int{1, 28, 28}) || d.Classes != 10 {
			t.Fatalf("%s: %d samples, name %q, shape %v, %d classes", tc.split, d.Len(), d.Name, d.Shape, d.Classes)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if !equalInts(d.Labels[:5], tc.first) {
			t.Errorf("%s: first labels %v, want %v", tc.split, d.Labels[:5], tc.first)
		}
		var counts [10]int
		for _, l := range d.Labels {
			counts[l]++
		}
		for c, k := range counts {
			if k < tc.n/20 {
				t.Errorf("%s: class %d has only %d samples", tc.split, c, k)
			}
		}
		lo, hi := d.X[0], d.X[0]
		for _, v := range d.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels span [%v, %v], want [0, 1]", tc.split, lo, hi)
		}
	}
	// No global state: two calls give independent datasets.
	a, _ := MNIST("test")
	b, _ := MNIST("test")
	a.X[0] = 42
	if b.X[0] == 42 {
		t.Error("MNIST returned shared data")
	}
	if _, err := MNIST("validation"); err == nil {
		t.Error("MNIST accepted an unknown split")
	}
}
