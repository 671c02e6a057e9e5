package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// isolate points $EQENS_DATA and the user cache at empty temporary
// directories, so that only the Debian package (if installed) is found.
func isolate(t *testing.T) (envDir, cacheDir string) {
	t.Helper()
	envDir, cacheDir = t.TempDir(), t.TempDir()
	t.Setenv(EnvDataDir, envDir)
	t.Setenv("XDG_CACHE_HOME", cacheDir)
	t.Setenv("HOME", cacheDir)
	return envDir, filepath.Join(cacheDir, "eqens")
}

const debianFashion = "/usr/share/datasets/fashion-mnist"

// TestFashionMNISTDebian reads all 70000 images from Debian's
// dataset-fashion-mnist package, which FashionMNIST checks against the
// SHA-256 of the decompressed official files as it reads.
func TestFashionMNISTDebian(t *testing.T) {
	if _, err := os.Stat(filepath.Join(debianFashion, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Debian package dataset-fashion-mnist is not installed (%v); CI installs it with apt install dataset-fashion-mnist", err)
	}
	isolate(t)
	total := 0
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 60000}, {"test", 10000}} {
		d, err := FashionMNIST(tc.split, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != tc.n || !equalInts(d.Shape, []int{1, 28, 28}) || d.Classes != 10 || d.Name != "fashion-mnist/"+tc.split {
			t.Fatalf("%s: %d samples of shape %v, %d classes, name %q", tc.split, d.Len(), d.Shape, d.Classes, d.Name)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		var counts [10]int
		for _, l := range d.Labels {
			counts[l]++
		}
		for c, k := range counts {
			if k != tc.n/10 { // Fashion-MNIST is exactly balanced
				t.Errorf("%s: class %d has %d samples, want %d", tc.split, c, k, tc.n/10)
			}
		}
		total += d.Len()
	}
	if total != 70000 {
		t.Errorf("read %d images, want 70000", total)
	}
	s, _ := Lookup("fashion-mnist")
	for _, st := range s.Check("") {
		if st.Dir == debianFashion && st.State != Present {
			t.Errorf("Check: Debian copy is %v: %s", st.State, st.Detail)
		}
	}
}

func TestFashionMNISTCorruptAndMissing(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	fm := filepath.Join(dir, "fashion-mnist")
	os.MkdirAll(fm, 0o755)
	// A well-formed IDX pair that is not Fashion-MNIST.
	os.WriteFile(filepath.Join(fm, "t10k-images-idx3-ubyte.gz"), gzipBytes(makeIDX([]int{2, 28, 28}, seq(2*784))), 0o644)
	os.WriteFile(filepath.Join(fm, "t10k-labels-idx1-ubyte.gz"), gzipBytes(makeIDX([]int{2}, []byte{1, 2})), 0o644)
	_, err := FashionMNIST("test", dir)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("FashionMNIST on foreign files: %v, want a checksum error", err)
	}
	for _, want := range []string{"t10k-images-idx3-ubyte.gz: checksum mismatch: expected sha256 of the decompressed data 5b4141f0", "apt install dataset-fashion-mnist or eqens data fetch fashion-mnist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// Nothing anywhere (with the package directory replaced by an empty
	// one): the error says where it looked and how to get the data.
	s, _ := Lookup("fashion-mnist")
	s.SystemDirs[0].Dir = t.TempDir()
	_, err = s.find(t.TempDir(), "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
	if err == nil {
		t.Fatal("find succeeded in empty directories")
	}
	for _, want := range []string{"--data-dir (", "$EQENS_DATA (", "user cache (", "package dataset-fashion-mnist (", "get it with: apt install dataset-fashion-mnist or eqens data fetch fashion-mnist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := FashionMNIST("val", ""); err == nil {
		t.Error("FashionMNIST accepted split val")
	}
}
