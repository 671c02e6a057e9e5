package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eqens/eqens/group"
)

// maxOrbitDiff returns the largest difference between the network's outputs
// on an image and on each of its transforms.
func maxOrbitDiff(t *testing.T, spec, gname string, shape []int, seed uint64) (float64, float64) {
	return orbitDiff(t, spec, gname, shape, seed, 0)
}

// smooth blurs each channel of a C×H×W image with a Gaussian of width
// sigma pixels (sigma = 0: unchanged).
func smooth(x []float32, shape []int, sigma float64) {
	if sigma == 0 {
		return
	}
	c, h, w := shape[0], shape[1], shape[2]
	r := int(3 * sigma)
	out := make([]float32, len(x))
	for ch := 0; ch < c; ch++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				var s, ws float64
				for di := -r; di <= r; di++ {
					for dj := -r; dj <= r; dj++ {
						ii, jj := i+di, j+dj
						if ii < 0 || ii >= h || jj < 0 || jj >= w {
							continue
						}
						wt := math.Exp(-float64(di*di+dj*dj) / (2 * sigma * sigma))
						s += wt * float64(x[(ch*h+ii)*w+jj])
						ws += wt
					}
				}
				out[(ch*h+i)*w+j] = float32(s / ws * sigma * 2)
			}
		}
	}
	copy(x, out)
}

func orbitDiff(t *testing.T, spec, gname string, shape []int, seed uint64, sigma float64) (float64, float64) {
	t.Helper()
	a, err := Parse(spec, shape, NTK)
	if err != nil {
		t.Fatal(err)
	}
	g, err := group.Parse(gname)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := group.ImageRep(g, shape[0], shape[1], shape[2])
	if err != nil {
		t.Fatal(err)
	}
	net := New[float32](a)
	net.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, a.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	smooth(x, shape, sigma)
	group.MaskInPlace(rep, x)
	orbit := group.Orbit(rep, x)
	batch := make([]float32, 0, len(orbit)*len(x))
	for _, o := range orbit {
		batch = append(batch, o...)
	}
	y := net.Forward(batch, len(orbit))
	k := a.OutputDim()
	var worst, scale float64
	for gi := 1; gi < len(orbit); gi++ {
		for j := 0; j < k; j++ {
			worst = math.Max(worst, math.Abs(float64(y[gi*k+j]-y[j])))
		}
	}
	for j := 0; j < k; j++ {
		scale = math.Max(scale, math.Abs(float64(y[j])))
	}
	return worst, scale
}

func TestGCNNInvariance(t *testing.T) {
	cases := []struct {
		name, spec, group string
		shape             []int
		tol               float64
	}{
		{"c4 same padding", "lift(c4,8,k=3,b_std=0.1),relu,gconv(8,k=3),relu,gconv(8,k=5),relu,gpool,dense(10)", "c4", []int{1, 28, 28}, 1e-5},
		{"c4 odd size", "lift(c4,6,k=3),relu,gconv(6,k=3),relu,gpool,dense(5)", "c4", []int{3, 9, 9}, 1e-5},
		{"c4 circular", "lift(c4,6,k=3,padding=circular),tanh,gconv(6,k=3,padding=circular),gpool,dense(3)", "c4", []int{1, 8, 8}, 1e-5},
		{"c4 pooled", "lift(c4,6,k=3),relu,avgpool(2),gconv(6,k=3),relu,maxpool(2),gconv(6,k=3),relu,gpool,dense(3)", "c4", []int{1, 12, 12}, 1e-5},
		{"d4 flips", "lift(d4,6,k=3),relu,gconv(6,k=3),relu,gpool,dense(4)", "d4", []int{2, 10, 10}, 1e-5},
		{"c4 liftdense", "liftdense(c4,16),relu,gconv(16,k=1,support=e),relu,gpool,dense(4)", "c4", []int{1, 8, 8}, 1e-5},
		{"d4 liftdense full support", "liftdense(d4,16),relu,gconv(16,k=1),relu,gpool,dense(4)", "d4", []int{1, 8, 8}, 1e-5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, scale := maxOrbitDiff(t, tc.spec, tc.group, tc.shape, 11)
			if d > tc.tol*math.Max(1, scale) {
				t.Fatalf("max |f(gx) - f(x)| = %g (output scale %g), want < %g", d, scale, tc.tol)
			}
		})
	}
}

// TestGCNNInterpolatedInvariance measures the invariance error of a C8 GCNN
// (interpolated filters and image rotations) on smooth images: small but
// not zero, since bilinear image rotations by 45 degrees do not compose
// exactly. Measured (mean over 5 seeds, relative to the output scale, blur
// sigma 2 px): C8 GCNN about 0.05, a CNN with global pooling about 0.09, an
// MLP about 3. The test checks that order with margins.
func TestGCNNInterpolatedInvariance(t *testing.T) {
	mean := func(spec string) float64 {
		var s float64
		for seed := uint64(1); seed <= 5; seed++ {
			d, sc := orbitDiff(t, spec, "c8", []int{1, 28, 28}, seed, 2)
			s += d / sc
		}
		return s / 5
	}
	gcnn := mean("lift(c8,8,k=3),relu,gconv(8,k=3),relu,gpool,dense(4)")
	cnn := mean("conv(8,k=3),relu,conv(8,k=3),relu,globalavgpool,dense(4)")
	mlp := mean("dense(16),relu,dense(16),relu,dense(4)")
	t.Logf("relative C8 invariance error: GCNN %.3g, CNN %.3g, MLP %.3g", gcnn, cnn, mlp)
	if gcnn > 0.1 || gcnn > cnn || gcnn > mlp/10 {
		t.Fatalf("C8 GCNN invariance error %.3g too large (CNN %.3g, MLP %.3g)", gcnn, cnn, mlp)
	}
}
