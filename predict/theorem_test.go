package predict_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

func randInputs(seed uint64, n, d int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	v := make([]float64, n*d)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestAugmentedEnsembleIsInvariant checks the main theorem of Gerken &
// Kessel numerically through Fit: the infinite ensemble of MLPs trained with
// full C4 augmentation predicts invariantly on random out-of-distribution
// inputs at every training time, and its prediction equals that of the
// group-averaged kernel trained without augmentation (with the regulariser
// rule of AveragedReg, for an absolute and a relative regulariser).
func TestAugmentedEnsembleIsInvariant(t *testing.T) {
	const (
		n = 12 // training images (48 after augmentation)
		m = 5  // out-of-distribution test images
		k = 3  // outputs
	)
	shape := []int{1, 6, 6}
	a, err := nn.Parse("dense(32,b_std=0.1),relu,dense(32),erf,dense(1)", shape, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 1, 6, 6)
	G := g.Order()
	d := a.InputSize()
	x := randInputs(21, n, d)
	y := randInputs(22, n, k)
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
	for _, tc := range []struct {
		name   string
		reg    float64
		regAbs bool
	}{{"absolute reg", 1e-6, true}, {"relative reg", 1e-4, false}} {
		t.Run(tc.name, func(t *testing.T) {
			mean := func(sym predict.Symmetry) []float64 {
				s := predict.Setup{LearningRate: 0.5, Reg: tc.reg, RegAbsolute: tc.regAbs, Symmetry: sym, Input: rep}
				model, err := predict.Fit(ctx, a, x, n, y, k, s)
				if err != nil {
					t.Fatal(err)
				}
				p, err := model.Predict(ctx, xo, G*m, times, false)
				if err != nil {
					t.Fatal(err)
				}
				return p.Mean
			}
			aug, avg, plain := mean(predict.Augment), mean(predict.Average), mean(predict.NoSymmetry)
			for s, tm := range times {
				var scale, inv, diff, plainInv float64
				for e := 0; e < G; e++ {
					for i := 0; i < m; i++ {
						for c := 0; c < k; c++ {
							j, j0 := (s*G*m+e*m+i)*k+c, (s*G*m+i)*k+c
							scale = math.Max(scale, math.Abs(aug[j0]))
							inv = math.Max(inv, math.Abs(aug[j]-aug[j0]))
							diff = math.Max(diff, math.Abs(aug[j]-avg[j]))
							plainInv = math.Max(plainInv, math.Abs(plain[j]-plain[j0]))
						}
					}
				}
				t.Logf("t=%v: output scale %.3g, max |mu(gx) - mu(x)| %.3g, max |mu_aug - mu_avg| %.3g, without symmetry %.3g", tm, scale, inv, diff, plainInv)
				if inv > 1e-8*scale {
					t.Errorf("t=%v: augmented prediction not invariant: %g (scale %g)", tm, inv, scale)
				}
				if diff > 1e-8*scale {
					t.Errorf("t=%v: augmented and averaged-kernel predictions differ by %g (scale %g)", tm, diff, scale)
				}
				// The control: without a symmetry the prediction is not
				// invariant, so the checks above can fail.
				if plainInv < 1e-3*scale {
					t.Errorf("t=%v: the prediction without symmetry is invariant too (%g): the test cannot tell", tm, plainInv)
				}
			}
		})
	}
}

// TestFitRejects checks Fit's errors for inconsistent setups.
func TestFitRejects(t *testing.T) {
	a, err := nn.Parse("dense(8),relu,dense(1)", []int{1, 4, 4}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 1, 4, 4)
	x, y := randInputs(1, 3, 16), randInputs(2, 3, 1)
	for _, s := range []predict.Setup{
		{Symmetry: predict.Augment},
		{Symmetry: predict.Average, Input: rep, Target: group.TrivialRep(g, 1)},
	} {
		if _, err := predict.Fit(context.Background(), a, x, 3, y, 1, s); err == nil {
			t.Errorf("Fit(%v) accepted an inconsistent setup", s.Symmetry)
		}
	}
}

// TestFitMeanOnly checks that a model fitted for means only (Setup.MeanOnly,
// with and without InfOnly) predicts bit for bit the means of a full fit,
// in both regimes, and refuses covariances.
func TestFitMeanOnly(t *testing.T) {
	a, err := nn.Parse("conv(4,k=3),relu,globalavgpool,dense(2)", []int{1, 5, 5}, nn.NTK)
	if err != nil {
		t.Fatal(err)
	}
	const n, m, k = 7, 4, 2
	x, y, xt := randInputs(3, n, 25), randInputs(4, n, k), randInputs(5, m, 25)
	ctx := context.Background()
	for _, regime := range []predict.Regime{predict.RegimeNTK, predict.RegimeNNGP} {
		for _, times := range [][]float64{{math.Inf(1)}, {3, math.Inf(1)}} {
			var means [][]float64
			for _, s := range []predict.Setup{{}, {MeanOnly: true}, {MeanOnly: true, InfOnly: len(times) == 1}} {
				s.Regime, s.Reg = regime, 1e-3
				model, err := predict.Fit(ctx, a, x, n, y, k, s)
				if err != nil {
					t.Fatal(err)
				}
				p, err := model.Predict(ctx, xt, m, times, false)
				if err != nil {
					t.Fatal(err)
				}
				means = append(means, p.Mean)
				if _, err := model.Predict(ctx, xt, m, times, true); s.MeanOnly && err == nil {
					t.Errorf("%v: a mean-only model gave a covariance", regime)
				}
			}
			for i := 1; i < len(means); i++ {
				for j, v := range means[i] {
					if v != means[0][j] {
						t.Fatalf("%v, times %v, setup %d: mean %d is %v, the full fit's %v", regime, times, i, j, v, means[0][j])
					}
				}
			}
		}
	}
}
