package vec_test

import (
	"fmt"

	"github.com/eqens/eqens/internal/vec"
)

func ExampleReLU() {
	x := []float32{-2, -1, 0, 1, 2, 3, -4, 5, 6}
	vec.ReLU(x, x)
	fmt.Println(x)
	// Output: [0 0 0 1 2 3 0 5 6]
}
