package group_test

import (
	"fmt"

	"github.com/eqens/eqens/group"
)

func ExampleParse() {
	for _, spec := range []string{"c4", "d4", "c4xz2", "so3:1000", "oct", "ising:8:flip"} {
		g, err := group.Parse(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-14s order %-5d dim %d closed %v\n", g.Name(), g.Order(), g.Dim(), g.Closed())
	}
	_, err := group.Parse("c4xq")
	fmt.Println(err != nil)
	// Output:
	// c4             order 4     dim 2 closed true
	// d4             order 8     dim 2 closed true
	// c4xz2          order 8     dim 3 closed true
	// so3:1000:1     order 1000  dim 3 closed false
	// oct            order 24    dim 3 closed true
	// ising:8:flip   order 1024  dim 0 closed true
	// true
}

func ExampleImageRep() {
	c4, _ := group.Parse("c4")
	r, _ := group.ImageRep(c4, 1, 3, 3)
	img := []float64{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	out := make([]float64, 9)
	group.Apply(r, 1, out, img) // rotate by 90 degrees counter-clockwise
	fmt.Println(c4.Label(1), r.Exact(), out)
	// Output: r90 true [3 6 9 2 5 8 1 4 7]
}

func ExampleImageRep_interpolated() {
	c8, _ := group.Parse("c8")
	r, _ := group.ImageRep(c8, 1, 28, 28)
	x := make([]float32, r.Dim())
	for i := range x {
		x[i] = 1
	}
	group.MaskInPlace(r, x) // compare images inside the rotation-invariant disc only
	y := make([]float32, r.Dim())
	group.Apply(r, 1, y, x) // rotate by 45 degrees, bilinearly
	fmt.Println(r.Exact(), r.Masked(), y[14*28+14], y[0])
	// Output: false true 1 0
}

func ExampleIsing() {
	g, _ := group.Ising(4, true)
	r, _ := group.LatticeRep(g, 4)
	spins := make([]float64, 16)
	for i := range spins {
		spins[i] = 1
	}
	spins[0] = -1
	out := make([]float64, 16)
	a := g.Mul(1, g.Order()/2) // translate by one column, then flip every spin
	group.Apply(r, a, out, spins)
	fmt.Println(g.Order(), g.Label(a))
	fmt.Println(out[:4])
	// Output:
	// 256 flip∘t(0,1)
	// [-1 1 -1 -1]
}

func ExampleProduct() {
	c4, _ := group.Cyclic(4)
	g, _ := group.Product(c4, group.Reflection1D())
	a := 3*2 + 1 // (r270, flip)
	fmt.Println(g.Name(), g.Order(), g.Label(a), g.Label(g.Mul(a, a)))
	// Output: c4xz2 8 r270·flip r180·e
}

func ExampleProductRep() {
	c4, _ := group.Cyclic(4)
	rot, _ := group.ImageRep(c4, 1, 2, 2)
	sign, _ := group.DetRep(group.Reflection1D(), 4)
	r, _ := group.ProductRep(rot, sign) // rotations × global sign flip
	out := make([]float64, 4)
	group.Apply(r, 1*2+1, out, []float64{1, 2, 3, 4})
	fmt.Println(r.Group().Name(), out)
	// Output: c4xz2 [-2 -4 -1 -3]
}

func ExampleFromPermutations() {
	// The symmetric group S3 on three sites: identity, two 3-cycles, three swaps.
	perms := [][]int32{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {1, 0, 2}, {0, 2, 1}, {2, 1, 0}}
	g, err := group.FromPermutations("s3", perms, nil, []string{"e", "r", "r2", "s01", "s12", "s02"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// (rho(a) x)[i] = x[perms[a][i]], so s01∘s12 has permutation
	// i -> perms[s12][perms[s01][i]] = {2, 0, 1}.
	fmt.Println(g.Order(), g.Label(g.Mul(3, 4)), g.Label(g.Inv(1)))
	// Output: 6 r2 r2
}

func ExampleSO3Sample() {
	g, _ := group.SO3Sample(100, 7)
	fmt.Println(g.Name(), g.Order(), g.Closed(), g.Label(0))
	// Output: so3:100:7 100 false e
}
