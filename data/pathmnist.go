package data

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/eqens/eqens/npy"
)

// pathMNISTClasses is the number of tissue classes in PathMNIST.
const pathMNISTClasses = 9

// PathMNIST returns a split ("train", "val" or "test") of MedMNIST's
// PathMNIST at size 28 (pathmnist.npz) or 64 (pathmnist_64.npz), looked up
// like every registry dataset (see Spec.Locations) and verified against its
// published MD5 first: inputs of shape [3 size size] scaled to [0, 1], 9
// classes.
func PathMNIST(split, dataDir string, size int) (*Dataset, error) {
	var name, file string
	switch size {
	case 28:
		name, file = "pathmnist", "pathmnist.npz"
	case 64:
		name, file = "pathmnist64", "pathmnist_64.npz"
	default:
		return nil, fmt.Errorf("pathmnist: no %d px version (want 28 or 64)", size)
	}
	if err := checkMedMNISTSplit(split); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	paths, err := locateVerified(name, dataDir, file)
	if err != nil {
		return nil, err
	}
	d, err := ReadPathMNIST(paths[0], split)
	if err != nil {
		return nil, err
	}
	d.Name = name + "/" + split
	return d, nil
}

func checkMedMNISTSplit(split string) error {
	switch split {
	case "train", "val", "test":
		return nil
	}
	return fmt.Errorf("unknown split %q (want train, val or test)", split)
}

// ReadPathMNIST reads a split ("train", "val" or "test") of a PathMNIST
// .npz file (any resolution) without checking its checksum. The archive
// holds SPLIT_images, N×H×W×3 uint8, and SPLIT_labels, N×1 integers; the
// images are transposed to N×3×H×W and scaled to [0, 1].
func ReadPathMNIST(path, split string) (*Dataset, error) {
	return ReadMedMNIST(path, split, pathMNISTClasses)
}

// ReadMedMNIST reads a split of any 2D MedMNIST .npz file with the given
// number of classes: SPLIT_images is N×H×W (grey) or N×H×W×C uint8 and
// SPLIT_labels N×1 or N integers (single-label tasks only). The Dataset is
// named after the file, e.g. "pathmnist_64/train".
func ReadMedMNIST(path, split string, classes int) (*Dataset, error) {
	if err := checkMedMNISTSplit(split); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	z, err := npy.OpenNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	imgs, err := z.Read(split + "_images")
	if err != nil {
		return nil, err
	}
	labs, err := z.Read(split + "_labels")
	if err != nil {
		return nil, err
	}
	pix, ok := imgs.Data.([]uint8)
	if !ok {
		return nil, fmt.Errorf("%s: %s_images has dtype %s, want uint8", path, split, imgs.DType)
	}
	var n, h, w, c int
	switch s := imgs.Shape; len(s) {
	case 3:
		n, h, w, c = s[0], s[1], s[2], 1
	case 4:
		n, h, w, c = s[0], s[1], s[2], s[3]
	default:
		return nil, fmt.Errorf("%s: %s_images has shape %v, want N×H×W or N×H×W×C", path, split, imgs.Shape)
	}
	if n == 0 || h == 0 || w == 0 || c == 0 {
		return nil, fmt.Errorf("%s: %s_images has empty shape %v", path, split, imgs.Shape)
	}
	if ls := labs.Shape; !(len(ls) == 1 && ls[0] == n) && !(len(ls) == 2 && ls[0] == n && ls[1] == 1) {
		return nil, fmt.Errorf("%s: %s_labels has shape %v, want (%d, 1) for %d images", path, split, labs.Shape, n, n)
	}
	lv, err := labs.Int64()
	if err != nil {
		return nil, fmt.Errorf("%s: %s_labels: %w", path, split, err)
	}
	d := &Dataset{
		Name:    strings.TrimSuffix(filepath.Base(path), ".npz") + "/" + split,
		Shape:   []int{c, h, w},
		X:       make([]float32, len(pix)),
		Labels:  make([]int, n),
		Classes: classes,
	}
	for i, l := range lv {
		if l < 0 || l >= int64(classes) {
			return nil, fmt.Errorf("%s: label %d of %s sample %d is outside 0..%d", path, l, split, i, classes-1)
		}
		d.Labels[i] = int(l)
	}
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	// N×H×W×C to N×C×H×W.
	hw := h * w
	for i := range n {
		src := pix[i*hw*c : (i+1)*hw*c]
		dst := d.X[i*hw*c : (i+1)*hw*c]
		for p := range hw {
			for ch := range c {
				dst[ch*hw+p] = lut[src[p*c+ch]]
			}
		}
	}
	return d, nil
}
