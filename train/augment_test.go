package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// TestFullAugmentationCrossProduct checks that full augmentation expands
// every sample into its orbit with the targets transformed by rho_Y: for
// the cross product under the 24 rotations of the cube, sample i under
// element e is (R_e u, R_e v) with target R_e (u×v) = (R_e u)×(R_e v).
func TestFullAugmentationCrossProduct(t *testing.T) {
	ds, err := LoadData(DataConfig{Name: CrossProductName, Size: 5, Seed: 3}, "train")
	if err != nil {
		t.Fatal(err)
	}
	aug, err := NewAugmentation(AugConfig{Mode: "full", Group: "oct", Input: "auto", Output: "vector"}, ds.Shape, ds.OutputDim(), false)
	if err != nil {
		t.Fatal(err)
	}
	g := aug.Group
	if g.Order() != 24 || aug.Factor() != 24 {
		t.Fatalf("oct has order %d, factor %d", g.Order(), aug.Factor())
	}
	ex := ExpandOrbit(ds, aug)
	if ex.Len() != 24*ds.Len() || ex.TargetDim != 3 {
		t.Fatalf("expanded to %d samples of target dimension %d, want %d", ex.Len(), ex.TargetDim, 24*ds.Len())
	}
	for i := 0; i < ds.Len(); i++ {
		u, v := ds.Input(i)[:3], ds.Input(i)[3:]
		for e := 0; e < 24; e++ {
			k := i*24 + e
			R := g.Matrix(e)
			x, y := ex.Input(k), ex.Target(k)
			// Input: both vectors rotated by R_e.
			for r := 0; r < 3; r++ {
				var ru, rv, ry float64
				for c := 0; c < 3; c++ {
					ru += R[3*r+c] * float64(u[c])
					rv += R[3*r+c] * float64(v[c])
					ry += R[3*r+c] * float64(ds.Target(i)[c])
				}
				if math.Abs(float64(x[r])-ru) > 1e-5 || math.Abs(float64(x[3+r])-rv) > 1e-5 {
					t.Fatalf("sample %d element %d: input %v, want R u, R v", i, e, x)
				}
				if math.Abs(float64(y[r])-ry) > 1e-5 {
					t.Fatalf("sample %d element %d: target %v, want R (u×v)", i, e, y)
				}
			}
			// The transformed target is the cross product of the
			// transformed inputs: the augmented set is a cross-product set.
			var c [3]float32
			cross3(c[:], x[:3], x[3:])
			for r := range c {
				if math.Abs(float64(c[r]-y[r])) > 1e-4*(1+math.Abs(float64(y[r]))) {
					t.Fatalf("sample %d element %d: target %v is not (Ru)×(Rv) = %v", i, e, y, c)
				}
			}
		}
		if !slices.Equal(ex.Input(i*24), ds.Input(i)) {
			t.Errorf("element 0 is not the identity")
		}
	}
}

func cross3(dst, u, v []float32) {
	dst[0] = u[1]*v[2] - u[2]*v[1]
	dst[1] = u[2]*v[0] - u[0]*v[2]
	dst[2] = u[0]*v[1] - u[1]*v[0]
}

// TestTrainerUsesTheOrbit checks that full-batch training with full
// augmentation trains on exactly ExpandOrbit's set: the first loss Train
// reports equals the MSE of the initial network on the expanded set, bit
// for bit.
func TestTrainerUsesTheOrbit(t *testing.T) {
	for _, tc := range []struct {
		name, group, output, arch string
		ds                        *data.Dataset
	}{
		{"cross-product-oct", "oct", "vector", "dense(16),relu,dense(3)", nil},
		{"images-d4", "d4", "trivial", "conv(3,k=3),relu,flatten,dense(2)", tinyRegression(4, 1, 5, 9)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := memConfig(tc.arch, 1)
			cfg.Optimizer.Name = "gd"
			cfg.Loss = LossMSE
			cfg.Augmentation = AugConfig{Mode: "full", Group: tc.group, Input: "auto", Output: tc.output}
			ds := tc.ds
			if ds == nil {
				cfg.Data = DataConfig{Name: CrossProductName, Size: 6, Split: "train", Standardize: "none"}
			} else {
				cfg.Data.Standardize = "none"
			}
			var first float64
			_, err := Train(context.Background(), cfg, t.TempDir(), Options{Data: ds, Progress: func(e Event) {
				if !e.Done && e.Step == 1 {
					first = e.Loss
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Prepare(cfg, ds)
			if err != nil {
				t.Fatal(err)
			}
			ex := ExpandOrbit(s.Data, s.Aug)
			if s.N != ex.Len() || s.Batch != ex.Len() {
				t.Fatalf("trainer set of %d samples, batch %d; orbit has %d", s.N, s.Batch, ex.Len())
			}
			net := nn.New[float32](s.Arch)
			net.Init(MemberSeed(cfg.Seed, 0))
			out := net.Forward(ex.X, ex.Len())
			if want := MSE(out, ex.Y, nil, ex.Len()); first != want {
				t.Errorf("first loss %v, MSE on the orbit %v", first, want)
			}
		})
	}
}

// TestRandomAugmentationDraws checks that random augmentation transforms
// each sample by elements spread over the whole group.
func TestRandomAugmentationDraws(t *testing.T) {
	ds := tinyImages(1, 1, 4, 1, 1)
	ds.X = []float32{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	aug, err := NewAugmentation(AugConfig{Mode: "random", Group: "c4", Input: "auto"}, ds.Shape, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := group.ImageRep(aug.Group, 1, 4, 4)
	rng := rand.New(rand.NewPCG(1, streamAugment))
	seen := map[int]int{}
	x := make([]float32, 16)
	for range 400 {
		s, e := aug.pick(0, rng)
		aug.transform(ds, s, e, x, nil)
		want := make([]float32, 16)
		group.Apply(rep, e, want, ds.X)
		if !slices.Equal(x, want) {
			t.Fatalf("element %d: %v, want %v", e, x, want)
		}
		seen[e]++
	}
	for e := 0; e < 4; e++ {
		if seen[e] < 60 {
			t.Errorf("element %d drawn %d times of 400", e, seen[e])
		}
	}
}
