package group

import (
	"slices"
	"testing"
)

func TestOrbitBatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group string
		shape []int
		n     int
	}{
		{"c4 on 1x5x5 images", "c4", []int{1, 5, 5}, 3},
		{"d4 on 2x4x4 images", "d4", []int{2, 4, 4}, 2},
		{"c8 on 1x21x21 images (masked)", "c8", []int{1, 21, 21}, 2},
		{"oct on pairs of 3-vectors", "oct", []int{6}, 4},
		{"c4 on 2-vectors", "c4", []int{2}, 5},
		{"ising:3 on lattices", "ising:3", []int{1, 3, 3}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustParse(t, tc.group)
			r := must2(InputRep(g, tc.shape))
			d, G := r.Dim(), g.Order()
			x := randVec(tc.n*d, uint64(d))
			if r.Masked() { // smooth images, which interpolation keeps
				x = x[:0]
				for i := range tc.n {
					x = append(x, blob(tc.shape[1], float64(i), -1, 4, 3)...)
				}
			}
			MaskInPlace(r, x)
			o := OrbitBatch(r, x)
			if len(o) != G*len(x) {
				t.Fatalf("len = %d, want %d", len(o), G*len(x))
			}
			// Block a holds rho(a) applied to each sample.
			want := make([]float64, d)
			for a := range G {
				for i := range tc.n {
					Apply(r, a, want, x[i*d:(i+1)*d])
					if got := o[(a*tc.n+i)*d : (a*tc.n+i+1)*d]; !slices.Equal(got, want) {
						t.Fatalf("block %d sample %d differs from Apply", a, i)
					}
				}
			}
			// The identity block is x.
			if !slices.Equal(o[:len(x)], x) {
				t.Error("identity block differs from x")
			}
			// Composition: the orbit of block b holds rho(a) rho(b) x in
			// block a, which is rho(ab) x (to the bit for exact
			// representations).
			for b := range G {
				ob := OrbitBatch(r, o[b*len(x):(b+1)*len(x)])
				for a := range G {
					got, ref := ob[a*len(x):(a+1)*len(x)], o[g.Mul(a, b)*len(x):(g.Mul(a, b)+1)*len(x)]
					if r.Exact() {
						if !slices.Equal(got, ref) {
							t.Fatalf("rho(%s) rho(%s) x != rho(%s) x", g.Label(a), g.Label(b), g.Label(g.Mul(a, b)))
						}
						continue
					}
					var num, den float64
					for i := range got {
						num += (got[i] - ref[i]) * (got[i] - ref[i])
						den += ref[i] * ref[i]
					}
					if num > 0.01*den {
						t.Fatalf("rho(%s) rho(%s) x far from rho(%s) x: %g of %g", g.Label(a), g.Label(b), g.Label(g.Mul(a, b)), num, den)
					}
				}
			}
			// The float32 variant into a longer buffer writes the same
			// values and leaves the rest.
			x32 := make([]float32, len(x))
			for i, v := range x {
				x32[i] = float32(v)
			}
			buf := make([]float32, G*len(x)+3)
			buf[len(buf)-1] = 7
			OrbitBatchInto(r, buf, x32)
			for a := range G {
				want32 := make([]float32, len(x))
				ApplyBatch(r, a, want32, x32)
				if !slices.Equal(buf[a*len(x):(a+1)*len(x)], want32) {
					t.Fatalf("OrbitBatchInto block %d differs from ApplyBatch", a)
				}
			}
			if buf[len(buf)-1] != 7 {
				t.Error("OrbitBatchInto wrote past the orbit")
			}
		})
	}
}

func TestOrbitBatchPanics(t *testing.T) {
	r := must2(InputRep(mustParse(t, "c4"), []int{2}))
	for name, f := range map[string]func(){
		"ragged input": func() { OrbitBatch(r, make([]float64, 3)) },
		"short buffer": func() { OrbitBatchInto(r, make([]float64, 7), make([]float64, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
