package data

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eqens/eqens/internal/splitmix"
	"github.com/eqens/eqens/npy"
)

func TestSets(t *testing.T) {
	want := []string{"mnist", "fashion-mnist", "cifar10", "pathmnist", "pathmnist64", CrossProductName, NPZName}
	if got := SetNames(); !slices.Equal(got, want) {
		t.Fatalf("SetNames() = %v, want %v", got, want)
	}
	// The generated sets are not in the registry of files.
	for _, n := range []string{CrossProductName, NPZName} {
		if slices.Contains(Names(), n) {
			t.Errorf("Names() holds %s", n)
		}
		if _, err := Lookup(n); err == nil {
			t.Errorf("Lookup(%s) found a registry dataset", n)
		}
	}
	for _, s := range Sets() {
		if s.Title == "" || s.open == nil {
			t.Errorf("%s: incomplete spec", s.Name)
		}
		if s.Shape != nil && s.OutputDim() == 0 {
			t.Errorf("%s: shape %v but no outputs", s.Name, s.Shape)
		}
	}
	Sets()[0].Shape[0] = 99
	if s, _ := LookupSet("mnist"); s.Shape[0] != 1 {
		t.Error("Sets shares state between calls")
	}
}

// TestSetFacts checks the facts of the specs against the data read.
func TestSetFacts(t *testing.T) {
	for _, tc := range []struct{ name, split string }{
		{"mnist", "test"},
		{CrossProductName, "train"},
		{CrossProductName, "test"},
		{CrossProductName, "ood"},
	} {
		s, err := LookupSet(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Open(tc.name, tc.split, OpenOptions{Size: 7, Seed: 5})
		if err != nil {
			t.Fatalf("Open(%s, %s): %v", tc.name, tc.split, err)
		}
		if !slices.Equal(d.Shape, s.Shape) || d.IsClassification() != s.IsClassification() || d.OutputDim() != s.OutputDim() {
			t.Errorf("%s/%s: read shape %v, classification %v, %d outputs; spec says %v, %v, %d",
				tc.name, tc.split, d.Shape, d.IsClassification(), d.OutputDim(), s.Shape, s.IsClassification(), s.OutputDim())
		}
	}
}

func TestOpenCrossProduct(t *testing.T) {
	seed := uint64(11)
	for _, tc := range []struct {
		split string
		seed  uint64
		dist  CrossDist
	}{
		{"", seed, CrossOnManifold},
		{"train", seed, CrossOnManifold},
		{"test", splitmix.Mix(seed + splitmix.Golden), CrossOnManifold},
		{"ood", splitmix.Mix(seed + splitmix.Golden + splitmix.Golden), CrossOffManifold},
	} {
		d, err := Open(CrossProductName, tc.split, OpenOptions{Size: 5, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := CrossProduct(5, tc.seed, tc.dist)
		split := tc.split
		if split == "" {
			split = "train"
		}
		if d.Name != "cross-product/"+split || !slices.Equal(d.X, want.X) || !slices.Equal(d.Y, want.Y) {
			t.Errorf("split %q: %s differs from CrossProduct", tc.split, d.Name)
		}
	}
	d, err := Open(CrossProductName, "train", OpenOptions{})
	if err != nil || d.Len() != DefaultSyntheticSize {
		t.Errorf("default size: %v, %v", d, err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ name, split, want string }{
		{"imagenet", "train", `unknown dataset "imagenet" (known: mnist, fashion-mnist, cifar10, pathmnist, pathmnist64, cross-product, npz)`},
		{"qm9", "train", `unknown dataset "qm9" (known: mnist, fashion-mnist, cifar10, pathmnist, pathmnist64, cross-product, npz)`},
		{"mnist", "val", `dataset mnist: unknown split "val" (want train, test)`},
		{CrossProductName, "val", `dataset cross-product: unknown split "val" (want train, test, ood)`},
		{NPZName, "train", "dataset npz: no file given (set data.path)"},
	} {
		if _, err := Open(tc.name, tc.split, OpenOptions{}); err == nil || err.Error() != tc.want {
			t.Errorf("Open(%s, %s) = %v, want %q", tc.name, tc.split, err, tc.want)
		}
	}
}

func TestOpenNPZ(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays map[string]*npy.Array) string {
		p := filepath.Join(dir, name)
		if err := npy.WriteNPZ(p, arrays); err != nil {
			t.Fatal(err)
		}
		return p
	}
	x := npy.FromFloat64([]int{3, 2, 2}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	cls := write("cls.npz", map[string]*npy.Array{
		"x": x, "labels": npy.FromInt64([]int{3}, []int64{0, 2, 1}),
		"test_x": npy.FromFloat32([]int{1, 4}, []float32{1, 2, 3, 4}), "test_labels": npy.FromInt32([]int{1}, []int32{4}),
	})
	d, err := Open(NPZName, "", OpenOptions{Path: cls})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != cls+"/train" || !slices.Equal(d.Shape, []int{1, 2, 2}) || d.Classes != 3 || !slices.Equal(d.Labels, []int{0, 2, 1}) || d.X[11] != 12 {
		t.Errorf("train split: %+v", d)
	}
	d, err = Open(NPZName, "test", OpenOptions{Path: cls})
	if err != nil || !slices.Equal(d.Shape, []int{4}) || d.Classes != 5 {
		t.Errorf("test split: %+v, %v", d, err)
	}
	reg := write("reg.npz", map[string]*npy.Array{
		"train_x": npy.FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), "train_y": npy.FromFloat32([]int{2, 2}, []float32{1, 2, 3, 4}),
	})
	d, err = Open(NPZName, "train", OpenOptions{Path: reg})
	if err != nil || d.TargetDim != 2 || d.IsClassification() || !slices.Equal(d.Y, []float32{1, 2, 3, 4}) {
		t.Errorf("regression: %+v, %v", d, err)
	}
	both := write("both.npz", map[string]*npy.Array{"x": x, "labels": npy.FromInt64([]int{3}, []int64{0, 1, 0}), "y": npy.FromFloat32([]int{3}, []float32{1, 2, 3})})
	neg := write("neg.npz", map[string]*npy.Array{"x": x, "labels": npy.FromInt64([]int{3}, []int64{0, -1, 0})})
	short := write("short.npz", map[string]*npy.Array{"x": x, "labels": npy.FromInt64([]int{2}, []int64{0, 1})})
	for _, tc := range []struct{ path, split, want string }{
		{cls, "val", "no input array for split val (want \"val_x\")"},
		{reg, "test", "no input array for split test"},
		{write("nox.npz", map[string]*npy.Array{"labels": npy.FromInt64([]int{1}, []int64{0})}), "train", "no input array for split train (want \"x\")"},
		{write("noy.npz", map[string]*npy.Array{"x": x}), "train", "no targets for split train"},
		{write("flat.npz", map[string]*npy.Array{"x": npy.FromFloat32([]int{3}, []float32{1, 2, 3}), "y": npy.FromFloat32([]int{3}, []float32{1, 2, 3})}), "train", "want N×D or N×C×H×W"},
		{both, "train", "both labels and y given"},
		{neg, "train", "label -1 of sample 1 is negative"},
		{short, "train", "2 labels in labels for 3 inputs"},
		{filepath.Join(dir, "missing.npz"), "train", "missing.npz"},
	} {
		if _, err := Open(NPZName, tc.split, OpenOptions{Path: tc.path}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%s: %v, want %q", filepath.Base(tc.path), tc.split, err, tc.want)
		}
	}
}
