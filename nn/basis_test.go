package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/eqens/eqens/internal/linalg"
)

// TestFourierBasisShape checks the number of basis functions, their unit
// norm and that the sampled basis is well conditioned: nearly orthonormal
// (small overlaps, Gram eigenvalues away from 0), hence of full rank.
func TestFourierBasisShape(t *testing.T) {
	cases := []struct {
		k, n               int
		maxOverlap, minEig float64
	}{
		{3, 6, 0.6, 0.3},
		{5, 11, 0.6, 0.2},
		{7, 18, 0.65, 0.2},
		{9, 31, 0.65, 0.15},
	}
	for _, tc := range cases {
		fb := newFourierBasis(tc.k)
		if fb.size() != tc.n || fourierSize(tc.k) != tc.n {
			t.Fatalf("k=%d: %d basis functions (fourierSize %d), want %d", tc.k, fb.size(), fourierSize(tc.k), tc.n)
		}
		gram := fourierGram(fb)
		n := fb.size()
		var overlap float64
		for a := 0; a < n; a++ {
			if d := gram[a*n+a]; math.Abs(d-1) > 1e-12 {
				t.Errorf("k=%d: basis function %d has squared norm %g, want 1", tc.k, a, d)
			}
			for b := 0; b < a; b++ {
				overlap = math.Max(overlap, math.Abs(gram[a*n+b]))
			}
		}
		eig := minEigenvalue(t, gram, n)
		t.Logf("k=%d: %d functions, largest overlap %.3f, smallest Gram eigenvalue %.3f", tc.k, n, overlap, eig)
		if overlap > tc.maxOverlap || eig < tc.minEig {
			t.Errorf("k=%d: largest overlap %.3f (want ≤ %g), smallest Gram eigenvalue %.3f (want ≥ %g)", tc.k, overlap, tc.maxOverlap, eig, tc.minEig)
		}
	}
}

// fourierGram returns the Gram matrix of the sampled basis.
func fourierGram(fb *fourierBasis) []float64 {
	n := fb.size()
	s := make([][]float64, n)
	for m := range s {
		s[m] = fb.sample(m)
	}
	g := make([]float64, n*n)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			for i := range s[a] {
				g[a*n+b] += s[a][i] * s[b][i]
			}
		}
	}
	return g
}

// minEigenvalue returns the smallest eigenvalue of a symmetric matrix.
func minEigenvalue(t *testing.T, a []float64, n int) float64 {
	t.Helper()
	w := make([]float64, n)
	if err := linalg.EigSym(n, append([]float64(nil), a...), w); err != nil {
		t.Fatal(err)
	}
	m := math.Inf(1)
	for _, v := range w {
		m = math.Min(m, v)
	}
	return m
}

// TestFourierGradients checks the backward pass of basis=fourier layers
// against central finite differences.
func TestFourierGradients(t *testing.T) {
	cases := []struct {
		name, spec string
		shape      []int
		param      Param
	}{
		{"c4 lift gconv", "lift(c4,2,k=5,basis=fourier,b_std=0.1),relu,gconv(2,k=3,basis=fourier),tanh,gpool,dense(2)", []int{1, 6, 6}, NTK},
		{"c8 standard", "lift(c8,2,k=3,basis=fourier),gelu,gconv(2,k=5,basis=fourier,b_std=0.2),globalavgpool,dense(2)", []int{2, 5, 5}, Standard},
		{"d4 mixed bases", "lift(d4,2,k=5,basis=fourier),erf,gconv(2,k=3),gpool,dense(2)", []int{1, 5, 5}, NTK},
		{"c16 support e", "lift(c16,1,k=7,basis=fourier),relu,gconv(2,k=3,support=e,basis=fourier),gpool,dense(2)", []int{1, 7, 7}, Standard},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.spec, tc.shape, tc.param)
			if err != nil {
				t.Fatal(err)
			}
			checkGradients(t, a, 3, 5)
		})
	}
}

// TestFourierInvariance checks exact invariance of basis=fourier GCNNs
// under their pixel-permutation groups (90-degree rotations, flips).
func TestFourierInvariance(t *testing.T) {
	cases := []struct {
		name, spec, group string
		shape             []int
	}{
		{"c4 k=5", "lift(c4,6,k=5,basis=fourier,b_std=0.1),relu,avgpool(2),gconv(6,k=5,basis=fourier),relu,gconv(6,k=7,basis=fourier),relu,gpool,dense(10)", "c4", []int{1, 28, 28}},
		{"c4 odd size", "lift(c4,4,k=3,basis=fourier),relu,gconv(4,k=5,basis=fourier),relu,gpool,dense(5)", "c4", []int{3, 9, 9}},
		{"d4 flips", "lift(d4,4,k=5,basis=fourier),relu,gconv(4,k=3,basis=fourier),relu,gpool,dense(4)", "d4", []int{2, 10, 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, scale := maxOrbitDiff(t, tc.spec, tc.group, tc.shape, 11)
			if d > 1e-5*math.Max(1, scale) {
				t.Fatalf("max |f(gx) - f(x)| = %g (output scale %g), want < 1e-5", d, scale)
			}
		})
	}
}

// TestFourierC4Permutation checks that the expanded filters of a C4 (and
// D4) basis=fourier layer are exact permutations of the identity's taps:
// κ_r(z) = κ(r⁻¹z) bit for bit.
func TestFourierC4Permutation(t *testing.T) {
	for _, spec := range []string{"lift(c4,3,k=5,basis=fourier),gpool,dense(2)", "lift(d4,3,k=7,basis=fourier),gpool,dense(2)"} {
		a, err := Parse(spec, []int{2, 9, 9}, Standard)
		if err != nil {
			t.Fatal(err)
		}
		c := a.Layers[0].(*Conv)
		m := newConvImpl[float64](c, a.Shapes[0], a.Shapes[1], Standard)
		p := randVec(rand.New(rand.NewPCG(3, 4)), a.NParams[0])
		m.expand(p)
		k := c.K
		h := (k - 1) / 2
		for r := 0; r < c.Group.Order(); r++ {
			rinv := c.Group.Inv(r)
			for zi := -h; zi <= h; zi++ {
				for zj := -h; zj <= h; zj++ {
					qi, qj := c.Group.PlanarOffset(rinv, float64(zi), float64(zj))
					for ch := 0; ch < c.Out; ch++ {
						got := m.wexp[(r*c.Out+ch)*m.ncol+m.tapCol(zi, zj, 0) : (r*c.Out+ch)*m.ncol+m.tapCol(zi, zj, 0)+m.in.C]
						want := m.wexp[ch*m.ncol+m.tapCol(int(math.Round(qi)), int(math.Round(qj)), 0) : ch*m.ncol+m.tapCol(int(math.Round(qi)), int(math.Round(qj)), 0)+m.in.C]
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("%s: element %d tap (%d,%d) channel %d: %v, want the identity's tap (%g,%g) %v", spec, r, zi, zj, ch, got, qi, qj, want)
						}
					}
				}
			}
		}
	}
}

// TestFourierInitVariance checks that the expanded basis=fourier filters
// have the per-tap variance of pixel filters at initialisation (averaged
// over the taps), in both parametrisations.
func TestFourierInitVariance(t *testing.T) {
	for _, p := range []Param{Standard, NTK} {
		var v [2]float64
		for i, spec := range []string{"lift(c8,64,k=5,w_std=1.3),gpool,dense(1)", "lift(c8,64,k=5,w_std=1.3,basis=fourier),gpool,dense(1)"} {
			a, err := Parse(spec, []int{4, 8, 8}, p)
			if err != nil {
				t.Fatal(err)
			}
			c := a.Layers[0].(*Conv)
			m := newConvImpl[float64](c, a.Shapes[0], a.Shapes[1], p)
			params := make([]float64, a.NParams[0])
			m.init(params, rand.New(rand.NewPCG(9, 9)))
			m.expand(params)
			row := m.wexp[:c.Out*m.ncol] // the identity element's filters
			var s float64
			for _, w := range row {
				s += w * w
			}
			v[i] = s / float64(len(row)) * m.ws * m.ws
		}
		if math.Abs(v[1]/v[0]-1) > 0.1 {
			t.Errorf("param %v: tap variance %.4g with basis=fourier, %.4g with pixels", p, v[1], v[0])
		}
	}
}

// TestFourierSpec checks the spec syntax: round trips, the unchanged
// pixel default, errors, and the refusal of the kernel map.
func TestFourierSpec(t *testing.T) {
	for _, spec := range []string{
		"lift(c16,8,k=5,basis=fourier),relu,gconv(8,k=5,basis=fourier),relu,gpool,dense(10)",
		"lift(d4,2,k=3,basis=fourier,padding=circular,w_std=1.4),relu,gconv(4,k=7,support=e,basis=fourier,b_std=0.1),gpool,dense(3)",
	} {
		a, err := Parse(spec, []int{1, 12, 12}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(a.Spec, []int{1, 12, 12}, NTK)
		if err != nil || b.Spec != a.Spec || b.NumParams() != a.NumParams() {
			t.Errorf("%q does not round-trip: %q, %v", spec, a.Spec, err)
		}
		if !strings.Contains(a.Spec, "basis=fourier") {
			t.Errorf("%q lost its basis: %q", spec, a.Spec)
		}
		_, err = a.Kernel(context.Background(), make([]float64, 2*144), 2, nil, 0, KernelOptions{NTK: true})
		if err == nil || !strings.Contains(err.Error(), "basis=fourier") {
			t.Errorf("%q: kernel error %v, want a refusal naming basis=fourier", spec, err)
		}
	}
	pix, err := Parse("lift(c8,4,k=5,basis=pixel),relu,gconv(4,k=3,basis=PIXEL),gpool,dense(2)", []int{1, 8, 8}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	def, err := Parse("lift(c8,4,k=5),relu,gconv(4,k=3),gpool,dense(2)", []int{1, 8, 8}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	if pix.Spec != def.Spec || !reflect.DeepEqual(pix.Layers[0].(*Conv).Op(), def.Layers[0].(*Conv).Op()) || !reflect.DeepEqual(pix.Layers[2].(*Conv).Op(), def.Layers[2].(*Conv).Op()) {
		t.Errorf("basis=pixel differs from the default: %q vs %q", pix.Spec, def.Spec)
	}
	if want := 4*fourierSize(5)*1 + 4; mustParse(t, "lift(c8,4,k=5,basis=fourier),gpool,dense(2)").NParams[0] != want {
		t.Errorf("lift basis=fourier parameters %d, want %d", mustParse(t, "lift(c8,4,k=5,basis=fourier),gpool,dense(2)").NParams[0], want)
	}
	for _, tc := range []struct{ spec, msg string }{
		{"lift(c4,2,basis=bessel),gpool,dense(2)", "basis: expected pixel or fourier"},
		{"conv(2,basis=fourier),flatten,dense(2)", "unknown keyword basis"},
		{"lift(c4,2),gconv(2,basis=1),gpool,dense(2)", "basis: expected pixel or fourier"},
	} {
		_, err := Parse(tc.spec, []int{1, 8, 8}, NTK)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.spec, err, tc.msg)
		}
	}
}

func mustParse(t *testing.T, spec string) *Arch {
	t.Helper()
	a, err := Parse(spec, []int{1, 8, 8}, NTK)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFourierInterpolatedInvariance measures the invariance error of C8
// and C16 GCNNs with 5×5 filters on smooth images (interpolated image
// rotations), with steerable and with bilinearly rotated pixel filters, at
// initialisation. Measured (mean over 5 seeds, relative to the output
// scale, blur sigma 2 px): C8 0.046 (fourier) vs 0.057 (pixel), C16 0.072
// vs 0.062: the image interpolation dominates both. The test checks the
// bound of TestGCNNInterpolatedInvariance.
func TestFourierInterpolatedInvariance(t *testing.T) {
	mean := func(spec, g string) float64 {
		var s float64
		for seed := uint64(1); seed <= 5; seed++ {
			d, sc := orbitDiff(t, spec, g, []int{1, 28, 28}, seed, 2)
			s += d / sc
		}
		return s / 5
	}
	for _, g := range []string{"c8", "c16"} {
		four := mean("lift("+g+",4,k=5,basis=fourier),relu,gconv(4,k=5,basis=fourier),relu,gpool,dense(4)", g)
		pix := mean("lift("+g+",4,k=5),relu,gconv(4,k=5),relu,gpool,dense(4)", g)
		t.Logf("%s: relative invariance error: fourier %.3g, pixel %.3g", g, four, pix)
		if four > 0.1 {
			t.Errorf("%s: invariance error %.3g with basis=fourier (pixel %.3g), want < 0.1", g, four, pix)
		}
	}
}
