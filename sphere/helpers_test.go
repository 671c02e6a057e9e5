package sphere

import (
	"math"
	"math/rand/v2"
)

// randomUnit returns a uniformly random unit vector.
func randomUnit(rng *rand.Rand) [3]float64 {
	for {
		x := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		n := math.Sqrt(x[0]*x[0] + x[1]*x[1] + x[2]*x[2])
		if n > 1e-6 {
			return [3]float64{x[0] / n, x[1] / n, x[2] / n}
		}
	}
}
