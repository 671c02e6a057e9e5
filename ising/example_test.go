package ising_test

import (
	"context"
	"fmt"
	"log"

	"github.com/eqens/eqens/ising"
)

// Sample draws configurations of a 16×16 lattice below and above the
// critical temperature with the Wolff algorithm, as training data for a
// network that learns the energy.
func ExampleSample() {
	d, err := ising.Sample(context.Background(), ising.Config{
		L:             16,
		Temperatures:  []float64{1.8, 3.0},
		Algorithm:     ising.Wolff,
		BurnIn:        200,
		Thin:          5,
		Samples:       100,
		Seed:          1,
		Magnetization: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name, d.Shape, d.Len(), "samples, targets (E/N, M/N):", d.TargetDim)
	// The first configuration's target is its exact energy per site.
	fmt.Println(d.Target(0)[0] == float32(ising.Energy(d.Input(0), 16)/256))
	// Output:
	// ising/L16/wolff [1 16 16] 200 samples, targets (E/N, M/N): 2
	// true
}

// Energy counts each of the 2L² bonds of the periodic lattice once.
func ExampleEnergy() {
	const L = 4
	spins := make([]float32, L*L)
	for i := range spins {
		spins[i] = 1
	}
	fmt.Println(ising.Energy(spins, L))
	spins[5] = -1 // break four bonds
	fmt.Println(ising.Energy(spins, L))
	// Output:
	// -32
	// -24
}

// OnsagerEnergy gives the exact energy per site of the infinite lattice.
func ExampleOnsagerEnergy() {
	fmt.Printf("u(2) = %.6f, u(Tc) = %.6f, u(3) = %.6f\n",
		ising.OnsagerEnergy(2), ising.OnsagerEnergy(ising.CriticalTemperature), ising.OnsagerEnergy(3))
	// Output:
	// u(2) = -1.745565, u(Tc) = -1.414214, u(3) = -0.817310
}
