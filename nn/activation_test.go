package nn

import (
	"math"
	"testing"
)

// TestActivationTable checks every entry of the activations table: its
// description is complete, its spec round-trips, and its φ' is the
// derivative of φ.
func TestActivationTable(t *testing.T) {
	for _, d := range activations {
		if d.fn == nil || len(d.params) != len(d.defaults) || len(d.params) > 3 {
			t.Fatalf("%s: incomplete description", d.name)
		}
		a, err := Parse("dense(3),"+d.name+",dense(1)", []int{2}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		if a.Spec != "dense(3),"+d.name+",dense(1)" {
			t.Errorf("%s: canonical spec %q", d.name, a.Spec)
		}
		l := a.Layers[1].(*Activation)
		f, df := d.fn(l)
		for _, x := range []float64{-1.7, -0.3, 0.4, 2.2} {
			const h = 1e-6
			if num := (f(x+h) - f(x-h)) / (2 * h); math.Abs(num-df(x)) > 1e-6 {
				t.Errorf("%s: φ'(%g) = %g, numerically %g", d.name, x, df(x), num)
			}
		}
	}
}
