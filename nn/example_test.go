package nn_test

import (
	"context"
	"fmt"

	"github.com/eqens/eqens/nn"
)

// One architecture spec gives a trainable network and its infinite-width
// kernels.
func Example() {
	arch, err := nn.Parse("lift(c4,8,k=3),relu,gconv(8,k=3),relu,gpool,dense(1)", []int{1, 6, 6}, nn.NTK)
	if err != nil {
		panic(err)
	}
	fmt.Println(arch.Spec, "params:", arch.NumParams())

	x := make([]float64, 2*36)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	// The finite network.
	net := nn.New[float64](arch)
	net.Init(1)
	y := net.Forward(x, 2)
	fmt.Println("outputs:", len(y))

	// Its analytic NNGP and NTK on the same inputs.
	k, err := arch.Kernel(context.Background(), x, 2, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		panic(err)
	}
	fmt.Printf("NTK is %dx%d and symmetric: %v\n", k.N1, k.N2, k.Theta[1] == k.Theta[2])
	// Output:
	// lift(c4,8,k=3),relu,gconv(8,k=3),relu,gpool,dense(1) params: 2401
	// outputs: 2
	// NTK is 2x2 and symmetric: true
}
