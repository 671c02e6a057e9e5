package experiment

// This file holds the test-set builders the experiments share.

import (
	"fmt"

	"github.com/eqens/eqens/data"
)

// OODSets builds the out-of-distribution sets for a test split: its
// images with pixels shuffled by one permutation, blurred Gaussian noise
// and, for MNIST, Fashion-MNIST when installed.
func OODSets(env *Env, name string, test *data.Dataset, n int, blur float64, seed uint64) ([]*data.Dataset, []string, []string, error) {
	var sets []*data.Dataset
	var names, notes []string
	if name == "mnist" {
		fm, err := data.FashionMNIST("test", env.DataDir)
		if err == nil {
			fm = fm.Subset(fm.Shuffled(seed + 101)[:min(n, fm.Len())])
			fm.Labels = nil
			sets = append(sets, fm)
			names = append(names, "fashion-mnist")
		} else {
			notes = append(notes, "Fashion-MNIST was not found (apt install dataset-fashion-mnist, or eqens data fetch fashion-mnist), so it is missing from the out-of-distribution sets.")
		}
	}
	sh, err := data.PixelShuffled(test.Subset(test.Shuffled(seed + 102)[:min(n, test.Len())]), seed+103)
	if err != nil {
		return nil, nil, nil, err
	}
	sets = append(sets, sh)
	names = append(names, "shuffled")
	if blur <= 0 {
		blur = 2
	}
	bn, err := data.BlurredNoise(n, test.Shape, blur, seed+104)
	if err != nil {
		return nil, nil, nil, err
	}
	sets = append(sets, bn)
	names = append(names, "blurred-noise")
	return sets, names, notes, nil
}

// AvgPool returns the images of d average-pooled by f×f blocks (f
// must divide H and W), as float64, and their shape.
func AvgPool(d *data.Dataset, f int) ([]float64, []int, error) {
	if len(d.Shape) != 3 {
		return nil, nil, fmt.Errorf("pooling: %s has shape %v, want C×H×W images", d.Name, d.Shape)
	}
	c, h, w := d.Shape[0], d.Shape[1], d.Shape[2]
	if f < 1 || h%f != 0 || w%f != 0 {
		return nil, nil, fmt.Errorf("pooling: factor %d does not divide %dx%d images", f, h, w)
	}
	H, W := h/f, w/f
	n := d.Len()
	out := make([]float64, n*c*H*W)
	inv := 1 / float64(f*f)
	for i := 0; i < n; i++ {
		x := d.Input(i)
		for ch := 0; ch < c; ch++ {
			for a := 0; a < H; a++ {
				for b := 0; b < W; b++ {
					var s float64
					for u := 0; u < f; u++ {
						row := x[ch*h*w+(a*f+u)*w+b*f:]
						for v := 0; v < f; v++ {
							s += float64(row[v])
						}
					}
					out[((i*c+ch)*H+a)*W+b] = s * inv
				}
			}
		}
	}
	return out, []int{c, H, W}, nil
}
