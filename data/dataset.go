package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Dataset is a set of samples with float32 inputs of a fixed shape and either
// class labels or real-valued target vectors.
//
// Images are stored as C×H×W per sample (NCHW for the whole set), the layout
// NumPy users bring and that eqens writes back.
type Dataset struct {
	// Name says where the data came from, e.g. "mnist/train".
	Name string
	// Shape is the shape of one input, e.g. [1 28 28] or [6].
	Shape []int
	// X holds Len()*prod(Shape) inputs, sample after sample.
	X []float32
	// Labels holds one class index per sample for classification sets (nil
	// for regression).
	Labels []int
	// Classes is the number of classes (0 for regression).
	Classes int
	// Y holds Len()*TargetDim real targets for regression sets (nil for
	// classification).
	Y []float32
	// TargetDim is the length of one target vector (0 for classification).
	TargetDim int
}

// SampleSize is the number of float32 values in one input.
func (d *Dataset) SampleSize() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Len is the number of samples.
func (d *Dataset) Len() int {
	if s := d.SampleSize(); s > 0 {
		return len(d.X) / s
	}
	return 0
}

// Input returns the input of sample i (a view, not a copy).
func (d *Dataset) Input(i int) []float32 {
	s := d.SampleSize()
	return d.X[i*s : (i+1)*s]
}

// Target returns the target vector of sample i (a view) for regression sets.
func (d *Dataset) Target(i int) []float32 {
	return d.Y[i*d.TargetDim : (i+1)*d.TargetDim]
}

// IsClassification reports whether the set has class labels.
func (d *Dataset) IsClassification() bool { return d.Labels != nil }

// OutputDim is the number of network outputs the set asks for: the number
// of classes or the target dimension.
func (d *Dataset) OutputDim() int {
	if d.IsClassification() {
		return d.Classes
	}
	return d.TargetDim
}

// Validate checks that the fields are consistent and the inputs finite.
func (d *Dataset) Validate() error {
	if len(d.Shape) == 0 {
		return fmt.Errorf("dataset %q: empty input shape", d.Name)
	}
	for _, s := range d.Shape {
		if s <= 0 {
			return fmt.Errorf("dataset %q: input shape %v has a non-positive dimension", d.Name, d.Shape)
		}
	}
	ss := d.SampleSize()
	if len(d.X)%ss != 0 {
		return fmt.Errorf("dataset %q: %d input values is not a multiple of the sample size %d", d.Name, len(d.X), ss)
	}
	n := len(d.X) / ss
	for i, v := range d.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("dataset %q: input of sample %d is not finite (%v at offset %d)", d.Name, i/ss, v, i%ss)
		}
	}
	switch {
	case d.Labels != nil && d.Y != nil:
		return fmt.Errorf("dataset %q: has both labels and regression targets", d.Name)
	case d.Labels != nil:
		if len(d.Labels) != n {
			return fmt.Errorf("dataset %q: %d labels for %d samples", d.Name, len(d.Labels), n)
		}
		if d.Classes <= 0 {
			return fmt.Errorf("dataset %q: labels given but Classes = %d", d.Name, d.Classes)
		}
		for i, l := range d.Labels {
			if l < 0 || l >= d.Classes {
				return fmt.Errorf("dataset %q: label %d of sample %d outside 0..%d", d.Name, l, i, d.Classes-1)
			}
		}
	case d.Y != nil:
		if d.TargetDim <= 0 || len(d.Y) != n*d.TargetDim {
			return fmt.Errorf("dataset %q: %d target values for %d samples of dimension %d", d.Name, len(d.Y), n, d.TargetDim)
		}
		for i, v := range d.Y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("dataset %q: target of sample %d is not finite", d.Name, i/d.TargetDim)
			}
		}
	}
	return nil
}

// Subset returns a new dataset holding copies of the samples at idx, in that
// order.
func (d *Dataset) Subset(idx []int) *Dataset {
	ss := d.SampleSize()
	out := &Dataset{Name: d.Name, Shape: append([]int(nil), d.Shape...), Classes: d.Classes, TargetDim: d.TargetDim}
	out.X = make([]float32, 0, len(idx)*ss)
	if d.Labels != nil {
		out.Labels = make([]int, 0, len(idx))
	}
	if d.Y != nil {
		out.Y = make([]float32, 0, len(idx)*d.TargetDim)
	}
	for _, i := range idx {
		out.X = append(out.X, d.Input(i)...)
		if d.Labels != nil {
			out.Labels = append(out.Labels, d.Labels[i])
		}
		if d.Y != nil {
			out.Y = append(out.Y, d.Target(i)...)
		}
	}
	return out
}

// Head returns the first n samples (all of them if n <= 0 or n >= Len()).
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		n = d.Len()
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx)
}

// Shuffled returns a permutation of 0..Len()-1 drawn from seed.
func (d *Dataset) Shuffled(seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return r.Perm(d.Len())
}

// Split shuffles the samples with seed and returns the first
// round(frac*Len()) of them and the rest.
func (d *Dataset) Split(frac float64, seed uint64) (*Dataset, *Dataset, error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("dataset %q: split fraction %v must lie strictly between 0 and 1", d.Name, frac)
	}
	p := d.Shuffled(seed)
	k := int(math.Round(frac * float64(len(p))))
	return d.Subset(p[:k]), d.Subset(p[k:]), nil
}

// Standardizer maps inputs to zero mean and unit variance with statistics
// taken from a training set, either globally (one mean and deviation for all
// values, which commutes with every pixel permutation and so keeps group
// actions on images exact) or per feature.
type Standardizer struct {
	Mean, Std []float64 // length 1 (global) or SampleSize (per feature)
}

// FitStandardizer computes the statistics of d. perFeature selects
// per-feature statistics; features with zero variance keep std 1.
func FitStandardizer(d *Dataset, perFeature bool) Standardizer {
	ss := d.SampleSize()
	n := d.Len()
	k := 1
	if perFeature {
		k = ss
	}
	sum := make([]float64, k)
	sq := make([]float64, k)
	for i, v := range d.X {
		j := 0
		if perFeature {
			j = i % ss
		}
		sum[j] += float64(v)
		sq[j] += float64(v) * float64(v)
	}
	cnt := float64(n)
	if !perFeature {
		cnt = float64(n * ss)
	}
	st := Standardizer{Mean: make([]float64, k), Std: make([]float64, k)}
	for j := range sum {
		if cnt == 0 {
			st.Std[j] = 1
			continue
		}
		m := sum[j] / cnt
		v := sq[j]/cnt - m*m
		st.Mean[j] = m
		st.Std[j] = 1
		if v > 1e-12 {
			st.Std[j] = math.Sqrt(v)
		}
	}
	return st
}

// Apply standardises d's inputs in place.
func (s Standardizer) Apply(d *Dataset) {
	ss := d.SampleSize()
	for i := range d.X {
		j := 0
		if len(s.Mean) > 1 {
			j = i % ss
		}
		d.X[i] = float32((float64(d.X[i]) - s.Mean[j]) / s.Std[j])
	}
}

// OneHot returns the labels as a Len()×Classes matrix with entries hot for
// the true class and cold elsewhere (1 and 0 for plain one-hot; the NTK
// experiments often use 1 - 1/C and -1/C to centre the targets).
func (d *Dataset) OneHot(hot, cold float32) []float32 {
	y := make([]float32, len(d.Labels)*d.Classes)
	for i, l := range d.Labels {
		for c := 0; c < d.Classes; c++ {
			y[i*d.Classes+c] = cold
		}
		y[i*d.Classes+l] = hot
	}
	return y
}
