package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/npy"
)

// medFixture returns MedMNIST-style arrays: per split, n images of
// size×size×3 where channel c of pixel (y, x) of image i is (i+c*7+y*size+x)
// mod 256, and labels i mod 9 as an N×1 uint8 array.
func medFixture(size int, counts map[string]int) map[string]*npy.Array {
	m := map[string]*npy.Array{}
	for split, n := range counts {
		pix := make([]uint8, n*size*size*3)
		for i := range n {
			for y := range size {
				for x := range size {
					for c := range 3 {
						pix[((i*size+y)*size+x)*3+c] = uint8(i + c*7 + y*size + x)
					}
				}
			}
		}
		labels := make([]uint8, n)
		for i := range labels {
			labels[i] = uint8(i % 9)
		}
		m[split+"_images"] = npy.FromUint8([]int{n, size, size, 3}, pix)
		m[split+"_labels"] = npy.FromUint8([]int{n, 1}, labels)
	}
	return m
}

func TestReadPathMNIST(t *testing.T) {
	dir := t.TempDir()
	counts := map[string]int{"train": 5, "val": 2, "test": 3}
	for _, size := range []int{28, 64} {
		p := filepath.Join(dir, "pathmnist.npz")
		if size == 64 {
			p = filepath.Join(dir, "pathmnist_64.npz")
		}
		if err := npy.WriteNPZCompressed(p, medFixture(size, counts)); err != nil {
			t.Fatal(err)
		}
		for split, n := range counts {
			d, err := ReadPathMNIST(p, split)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if d.Len() != n || !equalInts(d.Shape, []int{3, size, size}) || d.Classes != 9 {
				t.Fatalf("%d px %s: %d samples of shape %v, %d classes", size, split, d.Len(), d.Shape, d.Classes)
			}
			for i := range n {
				if d.Labels[i] != i%9 {
					t.Fatalf("label %d = %d", i, d.Labels[i])
				}
				x := d.Input(i)
				for _, c := range []int{0, 1, 2} {
					for _, yx := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {size - 1, size - 1}} {
						want := float32(uint8(i+c*7+yx[0]*size+yx[1])) / 255
						if got := x[(c*size+yx[0])*size+yx[1]]; got != want {
							t.Fatalf("%d px %s sample %d channel %d pixel %v = %v, want %v", size, split, i, c, yx, got, want)
						}
					}
				}
			}
		}
	}
}

func TestReadPathMNISTErrors(t *testing.T) {
	dir := t.TempDir()
	base := medFixture(28, map[string]int{"train": 2})
	with := func(name string, a *npy.Array) map[string]*npy.Array {
		m := map[string]*npy.Array{}
		for k, v := range base {
			m[k] = v
		}
		if a == nil {
			delete(m, name)
		} else {
			m[name] = a
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		arrays map[string]*npy.Array
		want   string
	}{
		{"nolabels", with("train_labels", nil), `no array "train_labels"`},
		{"float", with("train_images", npy.FromFloat32([]int{2, 28, 28, 3}, make([]float32, 2*28*28*3))), "train_images has dtype float32, want uint8"},
		{"shape", with("train_images", npy.FromUint8([]int{2, 28}, make([]uint8, 56))), "train_images has shape [2 28]"},
		{"count", with("train_labels", npy.FromUint8([]int{3, 1}, []uint8{0, 1, 2})), "train_labels has shape [3 1], want (2, 1) for 2 images"},
		{"range", with("train_labels", npy.FromUint8([]int{2, 1}, []uint8{0, 9})), "label 9 of train sample 1 is outside 0..8"},
		{"floatlabels", with("train_labels", npy.FromFloat64([]int{2}, []float64{0, 1})), "without truncating"},
	} {
		p := filepath.Join(dir, tc.name+".npz")
		if err := npy.WriteNPZ(p, tc.arrays); err != nil {
			t.Fatal(err)
		}
		_, err := ReadPathMNIST(p, "train")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadPathMNIST(filepath.Join(dir, "nolabels.npz"), "validation"); err == nil {
		t.Error("split validation accepted")
	}
	// Grey MedMNIST images (N×H×W) give one channel.
	p := filepath.Join(dir, "grey.npz")
	npy.WriteNPZ(p, map[string]*npy.Array{
		"test_images": npy.FromUint8([]int{1, 2, 2}, []uint8{0, 51, 102, 255}),
		"test_labels": npy.FromInt64([]int{1}, []int64{1}),
	})
	d, err := ReadMedMNIST(p, "test", 2)
	if err != nil || !equalInts(d.Shape, []int{1, 2, 2}) || d.X[3] != 1 || d.Name != "grey/test" {
		t.Errorf("grey: %v %+v", err, d)
	}
}

func TestPathMNISTRegistry(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pathmnist64"), 0o755)
	npy.WriteNPZ(filepath.Join(dir, "pathmnist64", "pathmnist_64.npz"), medFixture(64, map[string]int{"test": 1}))
	_, err := PathMNIST("test", dir, 64)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Algorithm != "md5" || ce.Want != "55aa9c1e0525abe5a6b9d8343a507616" {
		t.Errorf("PathMNIST on a fixture: %v, want an md5 mismatch", err)
	}
	if _, err := PathMNIST("test", dir, 32); err == nil {
		t.Error("size 32 accepted")
	}
	if _, err := PathMNIST("test", dir, 28); err == nil || !strings.Contains(err.Error(), "pathmnist.npz not found") {
		t.Errorf("missing pathmnist.npz: %v", err)
	}
}
