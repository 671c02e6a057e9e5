package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/internal/splitmix"
	"github.com/eqens/eqens/npy"
)

// Names of the datasets Open reads that have no files in the registry.
const (
	// CrossProductName is the synthetic regression set of CrossProduct:
	// inputs (u, v) with u and v drawn from N(0, I₃), stored as 6-vectors,
	// and targets u×v. It is SO(3)-equivariant with the vector
	// representation on inputs (two copies) and outputs (one copy).
	CrossProductName = "cross-product"
	// NPZName reads a NumPy .npz file named by OpenOptions.Path (see Open).
	NPZName = "npz"
)

// DefaultSyntheticSize is the number of samples Open generates for a
// synthetic set when OpenOptions.Size is not positive.
const DefaultSyntheticSize = 256

// OpenOptions says where Open reads a dataset from, beyond its name.
type OpenOptions struct {
	// Dir is a directory searched first for the files of registry sets
	// (as Dir/NAME).
	Dir string
	// Path is the .npz file of dataset npz.
	Path string
	// Size is the number of samples generated for synthetic sets
	// (DefaultSyntheticSize if not positive).
	Size int
	// Seed draws the samples of synthetic sets.
	Seed uint64
}

// Sets returns the datasets Open reads, the names a training config
// accepts in data.name, in a fixed order: the image sets of the registry
// (mnist, fashion-mnist, cifar10, pathmnist, pathmnist64), cross-product
// and npz. Each call returns fresh values that the caller may modify.
func Sets() []*Spec {
	var r []*Spec
	for _, s := range specs() {
		if s.open != nil {
			r = append(r, s)
		}
	}
	return r
}

// SetNames returns the names of Sets in order.
func SetNames() []string {
	var names []string
	for _, s := range Sets() {
		names = append(names, s.Name)
	}
	return names
}

// LookupSet returns the spec of the named dataset of Sets.
func LookupSet(name string) (*Spec, error) {
	for _, s := range Sets() {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(SetNames(), ", "))
}

// IsClassification reports whether the samples of the set carry class
// labels (Classes of them).
func (s *Spec) IsClassification() bool { return s.Classes > 0 }

// OutputDim is the number of network outputs the set asks for: the number
// of classes or the target dimension (0 when unknown before reading).
func (s *Spec) OutputDim() int {
	if s.IsClassification() {
		return s.Classes
	}
	return s.TargetDim
}

// Open reads one split ("" means "train") of a dataset of Sets, in full,
// and validates it. Registry image sets are read with Load (o.Dir is
// searched first). The synthetic cross-product set has o.Size samples
// (default DefaultSyntheticSize) drawn from o.Seed; split "test" uses an
// independent seed derived from it and split "ood" the off-manifold inputs
// of CrossOffManifold. An npz file (o.Path) holds
// the inputs in array "x" (N×shape, any numeric dtype) and either integer
// class labels in "labels" or float targets in "y" (N×D); split S other
// than "train" reads "S_x", "S_labels" and "S_y" (and "train" also accepts
// "train_x" and so on).
func Open(name, split string, o OpenOptions) (*Dataset, error) {
	if split == "" {
		split = "train"
	}
	s, err := LookupSet(name)
	if err != nil {
		return nil, err
	}
	if s.Splits != nil && !slices.Contains(s.Splits, split) {
		return nil, fmt.Errorf("dataset %s: unknown split %q (want %s)", name, split, strings.Join(s.Splits, ", "))
	}
	ds, err := s.open(split, o)
	if err != nil {
		return nil, err
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	return ds, nil
}

// openCrossProduct reads a split of the cross-product set for Open.
func openCrossProduct(split string, o OpenOptions) (*Dataset, error) {
	n := o.Size
	if n <= 0 {
		n = DefaultSyntheticSize
	}
	ds, err := crossProductSplit(n, o.Seed, split)
	if err != nil {
		return nil, err
	}
	ds.Name = CrossProductName + "/" + split
	return ds, nil
}

// crossProductSplit returns a split of n samples of the cross-product set
// (CrossProduct): "train" draws from seed, "test" from an independent
// seed derived from it, and "ood" is the off-manifold set (inputs on the
// sphere of radius 3) drawn from a third seed. The derived seeds are
// SplitMix64(seed + γ) and SplitMix64(seed + 2γ), γ = 0x9e3779b97f4a7c15.
func crossProductSplit(n int, seed uint64, split string) (*Dataset, error) {
	switch split {
	case "train":
		return CrossProduct(n, seed, CrossOnManifold)
	case "test":
		return CrossProduct(n, splitmix.Mix(seed+splitmix.Golden), CrossOnManifold)
	case "ood":
		return CrossProduct(n, splitmix.Mix(seed+splitmix.Golden+splitmix.Golden), CrossOffManifold)
	}
	return nil, fmt.Errorf("dataset %s: unknown split %q (want train, test or ood)", CrossProductName, split)
}

// loadNPZ reads a split of a dataset stored as an npz file.
func loadNPZ(path, split string) (*Dataset, error) {
	if path == "" {
		return nil, fmt.Errorf("dataset npz: no file given (set data.path)")
	}
	z, err := npy.OpenNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	pick := func(key string) string {
		cands := []string{split + "_" + key}
		if split == "train" {
			cands = append([]string{key}, cands...)
		}
		for _, c := range cands {
			if z.Has(c) {
				return c
			}
		}
		return ""
	}
	xk := pick("x")
	if xk == "" {
		return nil, fmt.Errorf("%s: no input array for split %s (want %q)", path, split, map[bool]string{true: "x", false: split + "_x"}[split == "train"])
	}
	xa, err := z.Read(xk)
	if err != nil {
		return nil, err
	}
	if len(xa.Shape) < 2 {
		return nil, fmt.Errorf("%s: array %s has shape %v; want N×D or N×C×H×W", path, xk, xa.Shape)
	}
	x, err := xa.Float32()
	if err != nil {
		return nil, fmt.Errorf("%s: array %s: %w", path, xk, err)
	}
	n := xa.Shape[0]
	ds := &Dataset{Name: path + "/" + split, Shape: slices.Clone(xa.Shape[1:]), X: x}
	if len(ds.Shape) == 2 {
		ds.Shape = append([]int{1}, ds.Shape...)
	}
	switch lk, yk := pick("labels"), pick("y"); {
	case lk != "" && yk != "":
		return nil, fmt.Errorf("%s: both %s and %s given; want class labels or regression targets", path, lk, yk)
	case lk != "":
		la, err := z.Read(lk)
		if err != nil {
			return nil, err
		}
		l, err := la.Int64()
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, lk, err)
		}
		if len(l) != n {
			return nil, fmt.Errorf("%s: %d labels in %s for %d inputs", path, len(l), lk, n)
		}
		ds.Labels = make([]int, n)
		for i, v := range l {
			if v < 0 {
				return nil, fmt.Errorf("%s: label %d of sample %d is negative", path, v, i)
			}
			ds.Labels[i] = int(v)
			ds.Classes = max(ds.Classes, int(v)+1)
		}
	case yk != "":
		ya, err := z.Read(yk)
		if err != nil {
			return nil, err
		}
		y, err := ya.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, yk, err)
		}
		if len(ya.Shape) == 0 || ya.Shape[0] != n {
			return nil, fmt.Errorf("%s: targets %s of shape %v for %d inputs", path, yk, ya.Shape, n)
		}
		ds.Y, ds.TargetDim = y, max(1, len(y)/max(1, n))
	default:
		return nil, fmt.Errorf("%s: no targets for split %s (want an integer array labels or a float array y)", path, split)
	}
	return ds, nil
}
