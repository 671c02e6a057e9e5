package nn

import (
	"context"
	"math"
	"testing"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
)

// TestAugmentedEnsembleIsInvariant checks the main theorem of Gerken &
// Kessel numerically: the infinite ensemble of MLPs trained with full C4
// augmentation predicts invariantly on random out-of-distribution inputs at
// every training time, and its prediction equals that of the group-averaged
// kernel trained without augmentation.
func TestAugmentedEnsembleIsInvariant(t *testing.T) {
	const (
		n = 12 // training images (48 after augmentation)
		m = 5  // out-of-distribution test images
		k = 3  // outputs
	)
	shape := []int{1, 6, 6}
	a, err := Parse("dense(32,b_std=0.1),relu,dense(32),erf,dense(1)", shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 1, 6, 6)
	G := g.Order()
	d := a.InputSize()
	x := randInputs(21, n, d)
	y := randInputs(22, n, k)
	// Training set closed under the group: all rotations of x, same targets.
	xa := make([]float64, G*n*d)
	ya := make([]float64, G*n*k)
	for e := 0; e < G; e++ {
		group.ApplyBatch(rep, e, xa[e*n*d:(e+1)*n*d], x)
		copy(ya[e*n*k:(e+1)*n*k], y)
	}
	// Test points: random inputs far from the data, with all their rotations.
	xt := randInputs(23, m, d)
	for i := range xt {
		xt[i] *= 3
	}
	xo := make([]float64, G*m*d)
	for e := 0; e < G; e++ {
		group.ApplyBatch(rep, e, xo[e*m*d:(e+1)*m*d], xt)
	}
	ctx := context.Background()
	times := []float64{1, 10, 100, math.Inf(1)}
	// With a regulariser r on the augmented training kernel, the averaged
	// kernel needs r/|G|: its eigenvalues on invariant functions are those
	// of the augmented kernel divided by |G|.
	const reg = 1e-6
	predict := func(xtr []float64, ntr int, ytr []float64, avg *group.Rep, r float64) []float64 {
		ktr, err := a.Kernel(ctx, xtr, ntr, nil, 0, KernelOptions{NTK: true, Average: avg})
		if err != nil {
			t.Fatal(err)
		}
		kte, err := a.Kernel(ctx, xo, G*m, xtr, ntr, KernelOptions{NTK: true, Average: avg})
		if err != nil {
			t.Fatal(err)
		}
		p, err := kernel.NewPredictor(ntr, ktr.Theta, ytr, k, kernel.PredictOptions{LearningRate: 0.5, Reg: r, RegAbsolute: true})
		if err != nil {
			t.Fatal(err)
		}
		mu, err := p.Mean(kte.Theta, G*m, times)
		if err != nil {
			t.Fatal(err)
		}
		return mu
	}
	aug := predict(xa, G*n, ya, nil, reg)
	avg := predict(x, n, y, rep, reg/float64(G))
	for s, tm := range times {
		var scale, inv, diff float64
		for e := 0; e < G; e++ {
			for i := 0; i < m; i++ {
				for c := 0; c < k; c++ {
					v := aug[(s*G*m+e*m+i)*k+c]
					v0 := aug[(s*G*m+i)*k+c]
					scale = math.Max(scale, math.Abs(v0))
					inv = math.Max(inv, math.Abs(v-v0))
					diff = math.Max(diff, math.Abs(v-avg[(s*G*m+e*m+i)*k+c]))
				}
			}
		}
		t.Logf("t=%v: output scale %.3g, max |mu(gx) - mu(x)| %.3g, max |mu_aug - mu_avg| %.3g", tm, scale, inv, diff)
		if inv > 1e-8*scale {
			t.Errorf("t=%v: augmented prediction not invariant: %g (scale %g)", tm, inv, scale)
		}
		if diff > 1e-8*scale {
			t.Errorf("t=%v: augmented and averaged-kernel predictions differ by %g (scale %g)", tm, diff, scale)
		}
	}
}
