package predict_test

import (
	"context"
	"fmt"
	"math"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// ExampleFit predicts with the infinite ensemble of MLPs trained on three
// points of the plane with full C4 augmentation (here through the averaged
// kernel): the prediction at a test point and at its rotation by 90
// degrees agree, as the theory says.
func ExampleFit() {
	arch, err := nn.Parse("dense(64),relu,dense(64),relu,dense(1)", []int{2}, nn.NTK)
	if err != nil {
		panic(err)
	}
	c4, _ := group.Parse("c4")
	rep, err := group.InputRep(c4, []int{2})
	if err != nil {
		panic(err)
	}
	x := []float64{1, 0, 0.5, 0.5, -0.3, 1.2} // three training points
	y := []float64{1, -1, 0.5}                // invariant targets
	model, err := predict.Fit(context.Background(), arch, x, 3, y, 1, predict.Setup{
		Reg: 1e-6, Symmetry: predict.Average, Input: rep,
	})
	if err != nil {
		panic(err)
	}
	test := []float64{0.8, 0.3, -0.3, 0.8} // a point and its rotation by 90 degrees
	p, err := model.Predict(context.Background(), test, 2, []float64{math.Inf(1)}, false)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f %.4f\n", p.Mean[0], p.Mean[1])
	fmt.Println("same:", math.Abs(p.Mean[0]-p.Mean[1]) < 1e-9)
	// Output:
	// 0.0035 0.0035
	// same: true
}
