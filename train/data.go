package train

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/npy"
)

// Names of the datasets a config can name besides those of the data
// registry.
const (
	// CrossProductName is the synthetic regression set of
	// data.CrossProduct: inputs (u, v) with u and v drawn from N(0, I₃),
	// stored as 6-vectors, and targets u×v. It is SO(3)-equivariant with the
	// vector representation on inputs (two copies) and outputs (one copy).
	CrossProductName = "cross-product"
	// NPZName reads a NumPy .npz file named by data.path (see LoadData).
	NPZName = "npz"
)

// source describes a dataset a config can name: what is known about it
// before loading (for validation without reading the data).
type source struct {
	name           string
	shape          []int // nil when only known after loading
	outputs        int   // classes or target dimension; 0 if unknown
	classification bool
	known          bool // shape, outputs and classification are known
	splits         []string
}

// sources lists the datasets by name: the image sets of the data registry
// that data.Load reads, and the names of this package.
func sources() []source {
	img := func(name string, shape []int, classes int, splits ...string) source {
		return source{name: name, shape: shape, outputs: classes, classification: true, known: true, splits: splits}
	}
	return []source{
		img("mnist", []int{1, 28, 28}, 10, "train", "test"),
		img("fashion-mnist", []int{1, 28, 28}, 10, "train", "test"),
		img("cifar10", []int{3, 32, 32}, 10, "train", "test"),
		img("pathmnist", []int{3, 28, 28}, 9, "train", "val", "test"),
		img("pathmnist64", []int{3, 64, 64}, 9, "train", "val", "test"),
		{name: CrossProductName, shape: []int{6}, outputs: 3, known: true, splits: []string{"train", "test", "ood"}},
		{name: NPZName},
	}
}

// DataNames lists the dataset names a config accepts in data.name.
func DataNames() []string {
	var n []string
	for _, s := range sources() {
		n = append(n, s.name)
	}
	return n
}

func lookupSource(name string) (source, bool) {
	for _, s := range sources() {
		if s.name == name {
			return s, true
		}
	}
	return source{}, false
}

// LoadData reads one split of the dataset that c names, in full: no
// subset, standardisation or masking (Train applies those). Registry image
// sets are read with data.Load (c.Dir is searched first). The synthetic
// cross-product set has c.Size samples (default 256) drawn from c.Seed;
// split "test" uses an independent seed derived from it and split "ood"
// the off-manifold inputs of data.CrossOffManifold. An npz file (c.Path) holds the
// inputs in array "x" (N×shape, any numeric dtype) and either integer
// class labels in "labels" or float targets in "y" (N×D); split S other
// than "train" reads "S_x", "S_labels" and "S_y" (and "train" also accepts
// "train_x" and so on).
func LoadData(c DataConfig, split string) (*data.Dataset, error) {
	if split == "" {
		split = "train"
	}
	src, ok := lookupSource(c.Name)
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (known: %s)", c.Name, strings.Join(DataNames(), ", "))
	}
	if src.splits != nil && !slices.Contains(src.splits, split) {
		return nil, fmt.Errorf("dataset %s: unknown split %q (want %s)", c.Name, split, strings.Join(src.splits, ", "))
	}
	var ds *data.Dataset
	var err error
	switch c.Name {
	case CrossProductName:
		n := c.Size
		if n <= 0 {
			n = defaultSyntheticSize
		}
		if ds, err = crossProduct(n, c.Seed, split); err == nil {
			ds.Name = CrossProductName + "/" + split
		}
	case NPZName:
		ds, err = loadNPZ(c.Path, split)
	default:
		ds, err = data.Load(c.Name, split, c.Dir)
	}
	if err != nil {
		return nil, err
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	return ds, nil
}

// defaultSyntheticSize is the number of samples of a synthetic set when
// data.size is not given.
const defaultSyntheticSize = 256

// crossProduct returns a split of the cross-product set (data.CrossProduct):
// "train" draws from seed, "test" from an independent seed derived from
// it, and "ood" is the off-manifold set (inputs on the sphere of radius 3)
// drawn from a third seed.
func crossProduct(n int, seed uint64, split string) (*data.Dataset, error) {
	switch split {
	case "train":
		return data.CrossProduct(n, seed, data.CrossOnManifold)
	case "test":
		return data.CrossProduct(n, SplitMix64(seed+golden), data.CrossOnManifold)
	case "ood":
		return data.CrossProduct(n, SplitMix64(seed+golden+golden), data.CrossOffManifold)
	}
	return nil, fmt.Errorf("dataset %s: unknown split %q (want train, test or ood)", CrossProductName, split)
}

// loadNPZ reads a split of a dataset stored as an npz file.
func loadNPZ(path, split string) (*data.Dataset, error) {
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
	ds := &data.Dataset{Name: path + "/" + split, Shape: slices.Clone(xa.Shape[1:]), X: x}
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
