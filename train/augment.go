package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
)

// Augmentation is the data augmentation of a run: a group acting on the
// inputs (In) and on the regression targets (Out; nil for class labels,
// which are invariant), and how elements are chosen.
//
// With Orbit set, the training set is the orbit of every sample: index
// i·|G| + e of the augmented set is sample i transformed by element e, and
// the set has N·|G| samples (modes full and partial with sampling orbit).
// Otherwise, with Random set, every sample of every batch is transformed by
// an element drawn afresh, uniformly from the element set, identity
// included (modes random and partial with sampling random). The zero value
// (or a nil *Augmentation) is no augmentation.
type Augmentation struct {
	Group   *group.Group
	In, Out *group.Rep
	Orbit   bool
	Random  bool
}

// NewAugmentation returns the augmentation that c describes for data of the
// given input shape and output dimension (classification: out = 0, targets
// are invariant). It returns nil for mode none.
func NewAugmentation(c AugConfig, shape []int, out int, classification bool) (*Augmentation, error) {
	if c.Mode == "none" || c.Mode == "" {
		return nil, nil
	}
	g, err := group.Parse(c.Group)
	if err != nil {
		return nil, fmt.Errorf("augmentation.group: %w", err)
	}
	a := &Augmentation{Group: g}
	switch c.Mode {
	case "full":
		a.Orbit = true
	case "random":
		a.Random = true
	case "partial":
		if c.Sampling == "orbit" {
			a.Orbit = true
		} else {
			a.Random = true
		}
	default:
		return nil, fmt.Errorf("augmentation.mode: unknown mode %q (want none, full, random or partial)", c.Mode)
	}
	if a.In, err = group.InputRepLayout(g, shape, c.Input); err != nil {
		return nil, fmt.Errorf("augmentation.group: %w", err)
	}
	if !classification {
		if a.Out, err = group.OutputRep(g, c.Output, out); err != nil {
			return nil, fmt.Errorf("augmentation.output: %w", err)
		}
	}
	return a, nil
}

// Factor is the number of augmented samples per sample: |G| for orbit
// augmentation, 1 otherwise.
func (a *Augmentation) Factor() int {
	if a == nil || !a.Orbit {
		return 1
	}
	return a.Group.Order()
}

// Masked reports whether inputs must be masked (interpolated image
// representations) so that their orbits are well defined.
func (a *Augmentation) Masked() bool { return a != nil && a.In.Masked() }

// pick returns the sample and the group element of index k of the
// augmented set, drawing the element from rng for random augmentation.
func (a *Augmentation) pick(k int, rng *rand.Rand) (sample, elem int) {
	switch {
	case a == nil:
		return k, 0
	case a.Orbit:
		n := a.Group.Order()
		return k / n, k % n
	case a.Random:
		return k, rng.IntN(a.Group.Order())
	}
	return k, 0
}

// transform writes sample s of ds under element e into x (the input) and,
// for regression sets, y (the target).
func (a *Augmentation) transform(ds *data.Dataset, s, e int, x, y []float32) {
	if a == nil || e == 0 {
		copy(x, ds.Input(s))
		if y != nil {
			copy(y, ds.Target(s))
		}
		return
	}
	group.Apply(a.In, e, x, ds.Input(s))
	if y != nil {
		group.Apply(a.Out, e, y, ds.Target(s))
	}
}

// ExpandOrbit returns the training set that orbit augmentation trains on:
// sample i under element e at index i·|G| + e, targets transformed by
// a.Out (labels unchanged). It uses the same code as training, which
// transforms samples on the fly instead.
func ExpandOrbit(ds *data.Dataset, a *Augmentation) *data.Dataset {
	n := a.Group.Order()
	ss := ds.SampleSize()
	out := &data.Dataset{Name: ds.Name + "+orbit(" + a.Group.Name() + ")", Shape: append([]int(nil), ds.Shape...), Classes: ds.Classes, TargetDim: ds.TargetDim}
	out.X = make([]float32, ds.Len()*n*ss)
	if ds.Labels != nil {
		out.Labels = make([]int, ds.Len()*n)
	}
	if ds.Y != nil {
		out.Y = make([]float32, ds.Len()*n*ds.TargetDim)
	}
	for k := 0; k < ds.Len()*n; k++ {
		s, e := k/n, k%n
		var y []float32
		if ds.Y != nil {
			y = out.Y[k*ds.TargetDim : (k+1)*ds.TargetDim]
		}
		a.transform(ds, s, e, out.X[k*ss:(k+1)*ss], y)
		if ds.Labels != nil {
			out.Labels[k] = ds.Labels[s]
		}
	}
	return out
}

// Preprocess is the input preprocessing of a run, fitted on the training
// set and stored in DIR/preprocess.json so that evaluation applies the same:
// standardisation, then the circular mask of an interpolated group action.
type Preprocess struct {
	// Standardize is "none", "global" or "per-feature".
	Standardize string `json:"standardize"`
	// Mean and Std are the statistics (one value, or one per feature).
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
	// Mask records that inputs are masked with the augmentation group's
	// image representation.
	Mask bool `json:"mask"`
}

// fitPreprocess computes the preprocessing of the training set ds.
func fitPreprocess(mode string, ds *data.Dataset, aug *Augmentation) *Preprocess {
	p := &Preprocess{Standardize: mode, Mask: aug.Masked()}
	if mode == "global" || mode == "per-feature" {
		st := data.FitStandardizer(ds, mode == "per-feature")
		p.Mean, p.Std = st.Mean, st.Std
	}
	return p
}

// Apply preprocesses ds in place: standardisation with the stored
// statistics, then masking with rep when Mask is set (rep may be nil
// otherwise).
func (p *Preprocess) Apply(ds *data.Dataset, rep *group.Rep) error {
	if len(p.Mean) > 0 {
		if len(p.Mean) > 1 && len(p.Mean) != ds.SampleSize() {
			return fmt.Errorf("preprocessing has %d per-feature statistics, but %s has %d features per sample", len(p.Mean), ds.Name, ds.SampleSize())
		}
		data.Standardizer{Mean: p.Mean, Std: p.Std}.Apply(ds)
	}
	if p.Mask && rep != nil {
		group.MaskInPlace(rep, ds.X)
	}
	return nil
}
