package data

import (
	"math"
	"testing"
)

func tiny() *Dataset {
	return &Dataset{
		Name:    "tiny",
		Shape:   []int{1, 2, 2},
		X:       []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		Labels:  []int{0, 1, 2},
		Classes: 3,
	}
}

func TestDatasetBasics(t *testing.T) {
	d := tiny()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.SampleSize() != 4 || d.OutputDim() != 3 {
		t.Fatalf("Len %d SampleSize %d OutputDim %d", d.Len(), d.SampleSize(), d.OutputDim())
	}
	s := d.Subset([]int{2, 0})
	if s.Len() != 2 || s.Labels[0] != 2 || s.Input(0)[0] != 8 || s.Input(1)[3] != 3 {
		t.Fatalf("Subset wrong: %+v", s)
	}
	a, b, err := d.Split(0.34, 1)
	if err != nil || a.Len()+b.Len() != 3 || a.Len() != 1 {
		t.Fatalf("Split: %d %d %v", a.Len(), b.Len(), err)
	}
	if _, _, err := d.Split(1, 1); err == nil {
		t.Fatal("Split(1) accepted")
	}
	oh := d.OneHot(1, 0)
	if oh[0] != 1 || oh[4] != 1 || oh[8] != 1 || oh[1] != 0 {
		t.Fatalf("OneHot %v", oh)
	}
}

func TestValidateCatches(t *testing.T) {
	cases := []struct {
		name string
		mod  func(d *Dataset)
	}{
		{"nan input", func(d *Dataset) { d.X[5] = float32(math.NaN()) }},
		{"label out of range", func(d *Dataset) { d.Labels[1] = 3 }},
		{"label count", func(d *Dataset) { d.Labels = d.Labels[:2] }},
		{"ragged inputs", func(d *Dataset) { d.X = d.X[:11] }},
		{"zero shape", func(d *Dataset) { d.Shape = []int{0, 2} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tiny()
			tc.mod(d)
			if err := d.Validate(); err == nil {
				t.Fatal("Validate accepted a broken dataset")
			}
		})
	}
}

func TestStandardizer(t *testing.T) {
	d := tiny()
	st := FitStandardizer(d, false)
	st.Apply(d)
	var m, v float64
	for _, x := range d.X {
		m += float64(x)
	}
	m /= float64(len(d.X))
	for _, x := range d.X {
		v += (float64(x) - m) * (float64(x) - m)
	}
	v /= float64(len(d.X))
	if math.Abs(m) > 1e-6 || math.Abs(v-1) > 1e-5 {
		t.Fatalf("global standardisation gave mean %v var %v", m, v)
	}
	d = tiny()
	st = FitStandardizer(d, true)
	if len(st.Mean) != 4 || st.Mean[0] != 4 {
		t.Fatalf("per-feature mean %v", st.Mean)
	}
}
