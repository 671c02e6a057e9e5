package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestToyTruthEven(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, 0.1, 0.5, 1, math.Pi / 3, 2.2, 3, 7.5}
	for range 1000 {
		xs = append(xs, 6*r.Float64()-3)
	}
	for _, x := range xs {
		if a, b := ToyTruth(x), ToyTruth(-x); a != b {
			t.Fatalf("ToyTruth(%v) = %v but ToyTruth(%v) = %v", x, a, -x, b)
		}
	}
	// Non-trivial: peak at 0, the first minima of cos(3x), decay.
	tests := []struct{ x, want float64 }{
		{0, 1},
		{math.Pi / 3, -math.Exp(-math.Pi * math.Pi / 36)},
		{2 * math.Pi / 3, math.Exp(-math.Pi * math.Pi / 9)},
		{math.Pi / 6, 0},
	}
	for _, tt := range tests {
		if got := ToyTruth(tt.x); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("ToyTruth(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

func TestToyRegression(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		opt     ToyOptions
		wantNeg int
	}{
		{"one-sided", 40, ToyOptions{}, 0},
		{"uneven", 40, ToyOptions{NegativeFraction: 0.2}, 8},
		{"balanced noisy", 41, ToyOptions{NegativeFraction: 0.5, Noise: 0.1}, 21},
		{"all negative", 5, ToyOptions{NegativeFraction: 1}, 5},
	}
	for _, tt := range tests {
		d, err := ToyRegression(tt.n, 7, tt.opt)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Equal(d.Shape, []int{1}) || d.Len() != tt.n || d.TargetDim != 1 || d.IsClassification() {
			t.Fatalf("%s: shape %v, %d samples, TargetDim %d", tt.name, d.Shape, d.Len(), d.TargetDim)
		}
		neg := 0
		for i, x := range d.X {
			if x < -ToyHalfWidth || x > ToyHalfWidth {
				t.Errorf("%s: input %v outside [-3, 3]", tt.name, x)
			}
			if x < 0 {
				neg++
			}
			if want := float32(ToyTruth(float64(x))); tt.opt.Noise == 0 && d.Y[i] != want {
				t.Errorf("%s: target %v at x = %v, want %v", tt.name, d.Y[i], x, want)
			}
		}
		if neg != tt.wantNeg {
			t.Errorf("%s: %d negative inputs, want %d", tt.name, neg, tt.wantNeg)
		}
		again, _ := ToyRegression(tt.n, 7, tt.opt)
		other, _ := ToyRegression(tt.n, 8, tt.opt)
		if !slices.Equal(d.X, again.X) || !slices.Equal(d.Y, again.Y) || slices.Equal(d.X, other.X) {
			t.Errorf("%s: not a deterministic function of the seed", tt.name)
		}
	}
	// The noise has the requested standard deviation (4000 residuals:
	// the sample deviation is within 4·σ/√(2n) of σ).
	const n, sigma = 4000, 0.3
	d, err := ToyRegression(n, 3, ToyOptions{Noise: sigma, NegativeFraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	var ss, s float64
	for i, x := range d.X {
		e := float64(d.Y[i]) - ToyTruth(float64(x))
		s, ss = s+e, ss+e*e
	}
	if sd := math.Sqrt(ss / n); math.Abs(sd-sigma) > 4*sigma/math.Sqrt(2*n) || math.Abs(s/n) > 4*sigma/math.Sqrt(n) {
		t.Errorf("noise: mean %v, deviation %v, want 0 and %v", s/n, sd, sigma)
	}

	for _, bad := range []struct {
		n    int
		opt  ToyOptions
		want string
	}{
		{0, ToyOptions{}, "n = 0"},
		{10, ToyOptions{Noise: -1}, "Noise"},
		{10, ToyOptions{Noise: math.NaN()}, "Noise"},
		{10, ToyOptions{NegativeFraction: 1.5}, "NegativeFraction"},
		{10, ToyOptions{NegativeFraction: math.NaN()}, "NegativeFraction"},
	} {
		if _, err := ToyRegression(bad.n, 1, bad.opt); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ToyRegression(%d, %+v): error %v, want one naming %s", bad.n, bad.opt, err, bad.want)
		}
	}
}

func TestToyGrid(t *testing.T) {
	for _, n := range []int{2, 3, 100, 101} {
		d, err := ToyGrid(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Len() != n || d.X[0] != -ToyHalfWidth || d.X[n-1] != ToyHalfWidth {
			t.Fatalf("n = %d: %d points from %v to %v", n, d.Len(), d.X[0], d.X[n-1])
		}
		for i := range n {
			if d.X[n-1-i] != -d.X[i] || d.Y[n-1-i] != d.Y[i] {
				t.Fatalf("n = %d: grid not mirror symmetric at %d: x %v %v, y %v %v", n, i, d.X[i], d.X[n-1-i], d.Y[i], d.Y[n-1-i])
			}
			if i > 0 && !(d.X[i] > d.X[i-1]) {
				t.Fatalf("n = %d: grid not increasing at %d", n, i)
			}
			if want := float32(ToyTruth(float64(d.X[i]))); d.Y[i] != want {
				t.Fatalf("n = %d: target %v, want %v", n, d.Y[i], want)
			}
		}
	}
	for _, n := range []int{-1, 0, 1} {
		if _, err := ToyGrid(n); err == nil {
			t.Errorf("ToyGrid(%d): no error", n)
		}
	}
}

// synthRotation returns a Haar-random rotation from a uniformly random unit
// quaternion.
func synthRotation(r *rand.Rand) [3][3]float64 {
	var q [4]float64
	var nrm float64
	for i := range q {
		q[i] = r.NormFloat64()
		nrm += q[i] * q[i]
	}
	nrm = math.Sqrt(nrm)
	w, x, y, z := q[0]/nrm, q[1]/nrm, q[2]/nrm, q[3]/nrm
	return [3][3]float64{
		{1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y)},
		{2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x)},
		{2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y)},
	}
}

func synthApply(m [3][3]float64, v [3]float64) [3]float64 {
	var out [3]float64
	for i := range 3 {
		out[i] = m[i][0]*v[0] + m[i][1]*v[1] + m[i][2]*v[2]
	}
	return out
}

func synthDet(m [3][3]float64) float64 {
	return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
}

func TestCrossProduct(t *testing.T) {
	const n = 2000
	r := rand.New(rand.NewPCG(5, 6))
	for _, dist := range []CrossDist{"", CrossOnManifold, CrossOffManifold} {
		d, err := CrossProduct(n, 9, dist)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Shape, []int{6}) || d.Len() != n || d.TargetDim != 3 {
			t.Fatalf("%q: shape %v, %d samples, TargetDim %d", dist, d.Shape, d.Len(), d.TargetDim)
		}
		again, _ := CrossProduct(n, 9, dist)
		other, _ := CrossProduct(n, 10, dist)
		if !slices.Equal(d.X, again.X) || !slices.Equal(d.Y, again.Y) || slices.Equal(d.X, other.X) {
			t.Errorf("%q: not a deterministic function of the seed", dist)
		}
		var norm2 float64
		for i := range n {
			x := d.Input(i)
			u := [3]float64{float64(x[0]), float64(x[1]), float64(x[2])}
			v := [3]float64{float64(x[3]), float64(x[4]), float64(x[5])}
			w := crossProduct(u, v)
			for k, y := range d.Target(i) {
				if y != float32(w[k]) {
					t.Fatalf("%q sample %d: target %v, want u×v = %v", dist, i, d.Target(i), w)
				}
			}
			norm2 += u[0]*u[0] + u[1]*u[1] + u[2]*u[2]
			if dist == CrossOffManifold {
				for _, a := range [][3]float64{u, v} {
					if nrm := math.Sqrt(a[0]*a[0] + a[1]*a[1] + a[2]*a[2]); math.Abs(nrm-3) > 1e-6 {
						t.Fatalf("off-manifold input norm %v, want 3", nrm)
					}
				}
			}
			// Equivariance: (Ru) × (Rv) = R(u × v) for R in SO(3).
			R := synthRotation(r)
			if det := synthDet(R); math.Abs(det-1) > 1e-12 {
				t.Fatalf("det R = %v", det)
			}
			lhs := crossProduct(synthApply(R, u), synthApply(R, v))
			rhs := synthApply(R, w)
			scale := 1 + math.Sqrt(norm2/float64(i+1))*3
			for k := range 3 {
				if math.Abs(lhs[k]-rhs[k]) > 1e-12*scale*scale {
					t.Fatalf("%q: (Ru)×(Rv) = %v, R(u×v) = %v", dist, lhs, rhs)
				}
			}
			// Under the improper map -R (det -1) the target does not
			// follow: (-Ru)×(-Rv) = R(u×v) = -(-R)(u×v).
			var P [3][3]float64
			for a := range 3 {
				for b := range 3 {
					P[a][b] = -R[a][b]
				}
			}
			lhs = crossProduct(synthApply(P, u), synthApply(P, v))
			for k := range 3 {
				if math.Abs(lhs[k]+synthApply(P, w)[k]) > 1e-12*scale*scale {
					t.Fatalf("%q: pseudovector sign rule fails: %v vs %v", dist, lhs, synthApply(P, w))
				}
			}
		}
		// E|u|² = 3 for standard normal inputs (variance of |u|² is 6).
		if dist != CrossOffManifold {
			if m := norm2 / n; math.Abs(m-3) > 4*math.Sqrt(6.0/n) {
				t.Errorf("%q: mean |u|² = %v, want 3", dist, m)
			}
		}
	}
	if _, err := CrossProduct(10, 1, "uniform"); err == nil || !strings.Contains(err.Error(), `"uniform"`) {
		t.Errorf("unknown distribution: error %v", err)
	}
	if _, err := CrossProduct(-1, 1, CrossOnManifold); err == nil {
		t.Error("n = -1: no error")
	}
}

// synthPixelStats returns the mean and standard deviation of the values and
// the correlation of horizontally neighbouring pixels of a [C H W] set.
func synthPixelStats(d *Dataset) (mean, sd, corr float64) {
	for _, v := range d.X {
		mean += float64(v)
	}
	mean /= float64(len(d.X))
	w := d.Shape[len(d.Shape)-1]
	var vv, cv float64
	var nc int
	for i, v := range d.X {
		a := float64(v) - mean
		vv += a * a
		if (i+1)%w != 0 {
			cv += a * (float64(d.X[i+1]) - mean)
			nc++
		}
	}
	return mean, math.Sqrt(vv / float64(len(d.X))), cv / float64(nc) / (vv / float64(len(d.X)))
}

func TestNoiseImages(t *testing.T) {
	for _, shape := range [][]int{{1, 28, 28}, {3, 32, 32}, {10}} {
		d, err := NoiseImages(50, shape, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Shape, shape) || d.Len() != 50 || d.Labels != nil || d.Y != nil {
			t.Fatalf("shape %v, %d samples", d.Shape, d.Len())
		}
		for _, v := range d.X {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0, 1]", v)
			}
		}
		again, _ := NoiseImages(50, shape, 4)
		other, _ := NoiseImages(50, shape, 5)
		if !slices.Equal(d.X, again.X) || slices.Equal(d.X, other.X) {
			t.Error("not a deterministic function of the seed")
		}
	}
	d, _ := NoiseImages(200, []int{1, 28, 28}, 1)
	mean, sd, corr := synthPixelStats(d)
	// Clipping N(0.5, 0.25²) to [0, 1] keeps the mean and shrinks the
	// deviation to 0.2399.
	if math.Abs(mean-0.5) > 0.003 || math.Abs(sd-0.2399) > 0.003 || math.Abs(corr) > 0.02 {
		t.Errorf("noise statistics: mean %v, sd %v, neighbour correlation %v", mean, sd, corr)
	}
	for _, bad := range []struct {
		n     int
		shape []int
	}{{-1, []int{1, 2, 2}}, {3, nil}, {3, []int{1, 0, 4}}, {1 << 20, []int{3, 1024, 1024}}} {
		if _, err := NoiseImages(bad.n, bad.shape, 1); err == nil {
			t.Errorf("NoiseImages(%d, %v): no error", bad.n, bad.shape)
		}
	}
}

func TestBlurredNoise(t *testing.T) {
	white, _ := NoiseImages(100, []int{1, 28, 28}, 2)
	_, _, cWhite := synthPixelStats(white)
	prev := cWhite
	for _, sigma := range []float64{0.5, 1, 2, 4} {
		d, err := BlurredNoise(100, []int{1, 28, 28}, sigma, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		mean, sd, corr := synthPixelStats(d)
		t.Logf("sigma %v: mean %.3f sd %.3f neighbour correlation %.3f", sigma, mean, sd, corr)
		if math.Abs(mean-0.5) > 0.01 || sd < 0.2 || sd > 0.25 {
			t.Errorf("sigma %v: pixel mean %v, sd %v, want about 0.5 and 0.24", sigma, mean, sd)
		}
		// Smoothing correlates neighbours, the more the wider the filter.
		// Far from the borders and without clipping the correlation is
		// Σ w_k w_{k+1} / Σ w_k² for the sampled kernel w_k ∝
		// exp(-k²/(2σ²)) (about exp(-1/(4σ²)) for wide filters).
		var ww, wn float64
		for k := -50; k <= 50; k++ {
			a, b := math.Exp(-float64(k*k)/(2*sigma*sigma)), math.Exp(-float64((k+1)*(k+1))/(2*sigma*sigma))
			ww, wn = ww+a*a, wn+a*b
		}
		if ideal := wn / ww; !(corr > prev) || math.Abs(corr-ideal) > 0.03 {
			t.Errorf("sigma %v: neighbour correlation %v (previous %v, ideal %v)", sigma, corr, prev, ideal)
		}
		prev = corr
	}
	d, err := BlurredNoise(5, []int{3, 8, 6}, 1.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := BlurredNoise(5, []int{3, 8, 6}, 1.5, 3)
	if !slices.Equal(d.Shape, []int{3, 8, 6}) || d.Len() != 5 || !slices.Equal(d.X, again.X) {
		t.Error("[3 8 6]: wrong shape or not deterministic")
	}
	if _, err := BlurredNoise(2, []int{5, 5}, 100, 1); err == nil {
		t.Error("sigma 100 on 5×5 images: no error")
	}
	for _, sigma := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := BlurredNoise(2, []int{1, 5, 5}, sigma, 1); err == nil || !strings.Contains(err.Error(), "sigma") {
			t.Errorf("sigma %v: error %v", sigma, err)
		}
	}
	if _, err := BlurredNoise(2, []int{25}, 1, 1); err == nil {
		t.Error("rank-1 shape: no error")
	}
}

// TestBlurCommutesWithRotation checks that the filter with reflected
// borders commutes with rotations of square images by 90 degrees, so that
// blurred noise is as rotation invariant in distribution as white noise.
func TestBlurCommutesWithRotation(t *testing.T) {
	const n = 9
	r := rand.New(rand.NewPCG(1, 1))
	img := make([]float64, n*n)
	for i := range img {
		img[i] = r.NormFloat64()
	}
	rot := func(p []float64) []float64 {
		q := make([]float64, n*n)
		for y := range n {
			for x := range n {
				q[y*n+x] = p[x*n+(n-1-y)]
			}
		}
		return q
	}
	kern := []float64{0.05, 0.1, 0.2, 0.3, 0.2, 0.1, 0.05}
	tmp := make([]float64, n*n)
	a := rot(img)
	blur2D(a, tmp, n, n, kern)
	b := slices.Clone(img)
	blur2D(b, tmp, n, n, kern)
	b = rot(b)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			t.Fatalf("blur(rot(x)) != rot(blur(x)) at %d: %v vs %v", i, a[i], b[i])
		}
	}
	for _, tt := range [][3]int{{-1, 4, 0}, {4, 4, 3}, {-9, 4, 0}, {11, 4, 3}, {5, 3, 0}} {
		if got := reflectIndex(tt[0], tt[1]); got != tt[2] {
			t.Errorf("reflectIndex(%d, %d) = %d, want %d", tt[0], tt[1], got, tt[2])
		}
	}
}

func TestPixelShuffled(t *testing.T) {
	tests := []struct {
		shape     []int
		positions int // permuted positions
	}{
		{[]int{1, 4, 5}, 20},
		{[]int{3, 4, 4}, 16},
		{[]int{12}, 12},
		{[]int{2, 6}, 12},
	}
	for _, tt := range tests {
		const n = 4
		d := &Dataset{Name: "src", Shape: tt.shape, Labels: []int{0, 1, 2, 1}, Classes: 3}
		ss := d.SampleSize()
		for i := range n * ss {
			d.X = append(d.X, float32(i))
		}
		s, err := PixelShuffled(d, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Shape, tt.shape) || s.Len() != n || s.Labels != nil || s.Y != nil || s.Classes != 3 {
			t.Fatalf("%v: shape %v, %d samples, labels %v, classes %d", tt.shape, s.Shape, s.Len(), s.Labels, s.Classes)
		}
		chans := ss / tt.positions
		// Recover the permutation from the first image and check that
		// every image and channel uses the same one.
		perm := make([]int, tt.positions)
		moved := 0
		for p := range perm {
			perm[p] = int(s.X[p])
			if perm[p] != p {
				moved++
			}
		}
		if moved == 0 {
			t.Errorf("%v: the permutation is the identity", tt.shape)
		}
		sorted := slices.Sorted(slices.Values(perm))
		for p, q := range sorted {
			if p != q {
				t.Fatalf("%v: not a permutation: %v", tt.shape, perm)
			}
		}
		for i := range n {
			for c := range chans {
				for p := range tt.positions {
					want := float32(i*ss + c*tt.positions + perm[p])
					if got := s.Input(i)[c*tt.positions+p]; got != want {
						t.Fatalf("%v: sample %d channel %d position %d holds %v, want %v", tt.shape, i, c, p, got, want)
					}
				}
			}
		}
		again, _ := PixelShuffled(d, 1)
		other, _ := PixelShuffled(d, 2)
		if !slices.Equal(s.X, again.X) || slices.Equal(s.X, other.X) {
			t.Errorf("%v: not a deterministic function of the seed", tt.shape)
		}
		if d.X[1] != 1 {
			t.Error("PixelShuffled modified its input")
		}
	}
	if _, err := PixelShuffled(nil, 1); err == nil {
		t.Error("nil data set: no error")
	}
	if _, err := PixelShuffled(&Dataset{Shape: []int{2, 2}, X: make([]float32, 5)}, 1); err == nil {
		t.Error("ragged data set: no error")
	}
	if _, err := PixelShuffled(&Dataset{Shape: []int{0, 2}}, 1); err == nil {
		t.Error("bad shape: no error")
	}
}
