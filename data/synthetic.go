package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/eqens/eqens/internal/splitmix"
)

// This file holds the synthetic sets: the toy regression problem of the
// talk, the cross-product regression for SO(3) equivariance, and
// out-of-distribution image sets. Every generator is a deterministic
// function of its arguments (math/rand/v2 PCG streams seeded from the
// seed and a per-generator constant).

// synthRand returns the random stream of one generator: PCG seeded from
// seed and a constant that names the generator, so that equal seeds given
// to different generators do not produce correlated data.
func synthRand(seed, domain uint64) *rand.Rand {
	mix := func(x uint64) uint64 { return splitmix.Mix(x + splitmix.Golden) }
	a := mix(seed ^ mix(domain))
	return rand.New(rand.NewPCG(a, mix(a)))
}

// synthValues returns n*prod(shape) after checking that shape has positive
// dimensions, n >= 0 and the product fits in maxSynthValues.
func synthValues(what string, n int, shape []int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%s: n = %d samples, want n >= 0", what, n)
	}
	if len(shape) == 0 {
		return 0, fmt.Errorf("%s: empty input shape", what)
	}
	size := float64(n)
	for _, s := range shape {
		if s <= 0 {
			return 0, fmt.Errorf("%s: input shape %v has a non-positive dimension", what, shape)
		}
		size *= float64(s)
	}
	if size > maxSynthValues {
		return 0, fmt.Errorf("%s: %d samples of shape %v is %.3g values, more than the limit of %d", what, n, shape, size, int64(maxSynthValues))
	}
	return int(size), nil
}

// maxSynthValues bounds the size of a generated set (2³¹ float32 values,
// 8 GiB) so that absurd arguments give errors, not failed allocations.
const maxSynthValues = 1 << 31

// ---------------------------------------------------------------------
// Toy regression

// ToyHalfWidth is the half width of the toy problem's domain: inputs lie
// in [-ToyHalfWidth, ToyHalfWidth] = [-3, 3].
const ToyHalfWidth = 3.0

// ToyTruth is the ground truth of the toy regression,
//
//	f(x) = cos(3x) exp(-x²/4),
//
// an even function, f(-x) = f(x), so that the problem is invariant under
// the reflection x → -x, the group Z2 acting on R¹ by the matrix [-1] (and
// trivially on the output). On [-3, 3] it has a peak of height 1 at 0 and
// three damped oscillations on each side (period 2π/3), smooth enough for
// a small MLP and detailed enough that a model fitted on one side does not
// mirror itself onto the other by accident.
func ToyTruth(x float64) float64 {
	return math.Cos(3*x) * math.Exp(-x*x/4)
}

// ToyOptions configures [ToyRegression]. The zero value gives noiseless
// targets at inputs on the positive side only.
type ToyOptions struct {
	// Noise is the standard deviation of the Gaussian noise added to the
	// targets (0 for none, at least 0).
	Noise float64
	// NegativeFraction is the fraction of the inputs drawn from the
	// negative half [-3, 0); the others come from [0, 3]. The default 0
	// leaves the negative half empty, so a model only learns it through
	// the symmetry (augmentation with x → -x fills it in); 0.5 gives a
	// balanced set. round(NegativeFraction*n) inputs are negative.
	NegativeFraction float64
}

// ToyRegression returns the training set of the toy example: n inputs
// (Shape [1]) drawn uniformly from the halves of [-3, 3] as opt says, in
// random order, with targets ToyTruth(x) plus optional noise (TargetDim
// 1). The targets are computed at the float32 inputs as stored.
func ToyRegression(n int, seed uint64, opt ToyOptions) (*Dataset, error) {
	if n < 1 {
		return nil, fmt.Errorf("data: ToyRegression: n = %d samples, want n >= 1", n)
	}
	if n > maxSynthValues {
		return nil, fmt.Errorf("data: ToyRegression: n = %d samples, want at most %d", n, int64(maxSynthValues))
	}
	if !(opt.Noise >= 0) || math.IsInf(opt.Noise, 0) {
		return nil, fmt.Errorf("data: ToyRegression: ToyOptions.Noise = %v, want a finite standard deviation >= 0", opt.Noise)
	}
	if !(opt.NegativeFraction >= 0 && opt.NegativeFraction <= 1) {
		return nil, fmt.Errorf("data: ToyRegression: ToyOptions.NegativeFraction = %v, want a fraction in [0, 1]", opt.NegativeFraction)
	}
	r := synthRand(seed, 0x746f79)
	neg := int(math.Round(opt.NegativeFraction * float64(n)))
	d := &Dataset{Name: "toy/train", Shape: []int{1}, X: make([]float32, n), Y: make([]float32, n), TargetDim: 1}
	for i := range n {
		x := ToyHalfWidth * r.Float64() // [0, 3)
		if i >= n-neg {
			x = -ToyHalfWidth * (1 - r.Float64()) // [-3, 0)
		}
		d.X[i] = float32(x)
		y := ToyTruth(float64(d.X[i]))
		if opt.Noise > 0 {
			y += opt.Noise * r.NormFloat64()
		}
		d.Y[i] = float32(y)
	}
	r.Shuffle(n, func(i, j int) {
		d.X[i], d.X[j] = d.X[j], d.X[i]
		d.Y[i], d.Y[j] = d.Y[j], d.Y[i]
	})
	return d, nil
}

// ToyGrid returns n >= 2 evenly spaced evaluation inputs covering [-3, 3],
// ends included, with the exact targets ToyTruth(x) (Shape [1], TargetDim
// 1). The grid is mirror symmetric: input n-1-i is exactly the negative of
// input i, so the grid is closed under the reflection x → -x.
func ToyGrid(n int) (*Dataset, error) {
	if n < 2 || n > maxSynthValues {
		return nil, fmt.Errorf("data: ToyGrid: n = %d points, want 2 <= n <= %d", n, int64(maxSynthValues))
	}
	d := &Dataset{Name: "toy/grid", Shape: []int{1}, X: make([]float32, n), Y: make([]float32, n), TargetDim: 1}
	for i := range n {
		// An odd integer numerator keeps x_{n-1-i} = -x_i exact.
		d.X[i] = float32(ToyHalfWidth * float64(2*i-(n-1)) / float64(n-1))
		d.Y[i] = float32(ToyTruth(float64(d.X[i])))
	}
	return d, nil
}

// ---------------------------------------------------------------------
// Cross products

// CrossDist names the input distribution of [CrossProduct].
type CrossDist string

const (
	// CrossOnManifold draws u and v independently from the standard
	// normal distribution on R³ (rotation invariant, norms about 1.6 on
	// average, root mean square √3).
	// The empty CrossDist means the same.
	CrossOnManifold CrossDist = "on-manifold"
	// CrossOffManifold draws u and v independently and uniformly from
	// the sphere of radius 3, an out-of-distribution set for models
	// trained on CrossOnManifold: the norms are fixed and larger than
	// all but about 3% of the training norms, while the distribution is
	// still rotation invariant.
	CrossOffManifold CrossDist = "off-manifold"
)

// CrossProduct returns n samples of the cross-product regression: the
// input is a pair (u, v) of 3-vectors stacked as (u₁, u₂, u₃, v₁, v₂, v₃)
// (Shape [6]) and the target is u × v (TargetDim 3), computed in float64
// from the float32 inputs as stored. dist picks the input distribution.
//
// The task is exactly SO(3) equivariant: under a rotation R the input
// transforms as (u, v) → (Ru, Rv) and the target as u × v → R(u × v),
// since (Ru) × (Rv) = det(R) R(u × v) and det R = 1. (Under an improper
// orthogonal map, det R = -1, the target picks up a sign: u × v is a
// pseudovector, so the symmetry group is SO(3), not O(3).)
func CrossProduct(n int, seed uint64, dist CrossDist) (*Dataset, error) {
	if _, err := synthValues("data: CrossProduct", n, []int{6}); err != nil {
		return nil, err
	}
	var draw func(r *rand.Rand) [3]float64
	switch dist {
	case "", CrossOnManifold:
		dist = CrossOnManifold
		draw = func(r *rand.Rand) [3]float64 {
			return [3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		}
	case CrossOffManifold:
		draw = func(r *rand.Rand) [3]float64 {
			for {
				g := [3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
				if nrm := math.Sqrt(g[0]*g[0] + g[1]*g[1] + g[2]*g[2]); nrm > 1e-12 {
					return [3]float64{3 * g[0] / nrm, 3 * g[1] / nrm, 3 * g[2] / nrm}
				}
			}
		}
	default:
		return nil, fmt.Errorf("data: CrossProduct: distribution %q, want %q or %q", string(dist), CrossOnManifold, CrossOffManifold)
	}
	r := synthRand(seed, 0x63726f7373)
	d := &Dataset{Name: "cross/" + string(dist), Shape: []int{6}, X: make([]float32, 6*n), Y: make([]float32, 3*n), TargetDim: 3}
	for i := range n {
		x := d.X[6*i : 6*i+6]
		u, v := draw(r), draw(r)
		for k := range 3 {
			x[k], x[3+k] = float32(u[k]), float32(v[k])
		}
		w := crossProduct(
			[3]float64{float64(x[0]), float64(x[1]), float64(x[2])},
			[3]float64{float64(x[3]), float64(x[4]), float64(x[5])})
		for k := range 3 {
			d.Y[3*i+k] = float32(w[k])
		}
	}
	return d, nil
}

// crossProduct returns u × v.
func crossProduct(u, v [3]float64) [3]float64 {
	return [3]float64{
		u[1]*v[2] - u[2]*v[1],
		u[2]*v[0] - u[0]*v[2],
		u[0]*v[1] - u[1]*v[0],
	}
}

// ---------------------------------------------------------------------
// Out-of-distribution images

// The noise sets have pixel values in [0, 1], the range of the image
// readers (bytes divided by 255): Gaussian values with mean oodMean and
// standard deviation oodStd, clipped to [0, 1] (about 2.3% of the pixels
// end up at each bound).
const (
	oodMean = 0.5
	oodStd  = 0.25
)

// clipUnit clamps v to [0, 1].
func clipUnit(v float64) float32 {
	return float32(min(1, max(0, v)))
}

// NoiseImages returns n images of the given shape (e.g. [1 28 28] or
// [3 32 32]) with independent Gaussian pixels of mean 0.5 and standard
// deviation 0.25, clipped to [0, 1], the value range of the in-distribution
// image sets. The set is unlabelled: Labels and Y are nil, and Classes and
// TargetDim are 0 (set Classes to the in-distribution class count if the
// consumer needs it).
func NoiseImages(n int, shape []int, seed uint64) (*Dataset, error) {
	size, err := synthValues("data: NoiseImages", n, shape)
	if err != nil {
		return nil, err
	}
	r := synthRand(seed, 0x6e6f697365)
	d := &Dataset{Name: "ood/noise", Shape: slices.Clone(shape), X: make([]float32, size)}
	for i := range d.X {
		d.X[i] = clipUnit(oodMean + oodStd*r.NormFloat64())
	}
	return d, nil
}

// BlurredNoise returns n images of the given shape, [C H W] or [H W], made
// of white Gaussian noise smoothed, channel by channel, with a Gaussian
// filter of standard deviation sigma pixels (0 < sigma <= 4·max(H, W);
// truncated at 4 sigma, boundaries reflected as in scipy.ndimage's
// "reflect" mode, which treats rows and columns alike so the filter
// commutes with rotations by 90 degrees). Each image is then shifted and
// scaled to mean 0.5 and standard deviation 0.25 over all its pixels and
// clipped to [0, 1], the same pixel statistics as [NoiseImages] but with
// smooth, blob-like structure, which networks do not dismiss as easily as
// white noise. Labels and Y are nil; Classes and TargetDim are 0.
func BlurredNoise(n int, shape []int, sigma float64, seed uint64) (*Dataset, error) {
	size, err := synthValues("data: BlurredNoise", n, shape)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 && len(shape) != 3 {
		return nil, fmt.Errorf("data: BlurredNoise: shape %v, want [C H W] or [H W]", shape)
	}
	h, w := shape[len(shape)-2], shape[len(shape)-1]
	if !(sigma > 0) || sigma > 4*float64(max(h, w)) {
		return nil, fmt.Errorf("data: BlurredNoise: sigma = %v pixels, want 0 < sigma <= %d (4 times the image size)", sigma, 4*max(h, w))
	}
	rad := int(math.Ceil(4 * sigma))
	kern := make([]float64, 2*rad+1)
	var ksum float64
	for k := range kern {
		dk := float64(k - rad)
		kern[k] = math.Exp(-dk * dk / (2 * sigma * sigma))
		ksum += kern[k]
	}
	for k := range kern {
		kern[k] /= ksum
	}
	r := synthRand(seed, 0x626c7572)
	d := &Dataset{Name: "ood/blurred-noise", Shape: slices.Clone(shape), X: make([]float32, size)}
	ss := d.SampleSize()
	img := make([]float64, ss)
	tmp := make([]float64, h*w)
	for i := range n {
		for j := range img {
			img[j] = r.NormFloat64()
		}
		for c := 0; c < ss; c += h * w {
			blur2D(img[c:c+h*w], tmp, h, w, kern)
		}
		var mean, sq float64
		for _, v := range img {
			mean += v
		}
		mean /= float64(ss)
		for _, v := range img {
			sq += (v - mean) * (v - mean)
		}
		scale := 0.0
		if sd := math.Sqrt(sq / float64(ss)); sd > 1e-12 {
			scale = oodStd / sd
		}
		x := d.X[i*ss : (i+1)*ss]
		for j, v := range img {
			x[j] = clipUnit(oodMean + scale*(v-mean))
		}
	}
	return d, nil
}

// blur2D convolves the h×w image p in place with the normalised 1D kernel
// kern along rows and then along columns, reflecting at the borders; tmp
// is scratch space of h*w values.
func blur2D(p, tmp []float64, h, w int, kern []float64) {
	rad := len(kern) / 2
	for y := range h {
		row := p[y*w : (y+1)*w]
		for x := range w {
			var s float64
			for k, kv := range kern {
				s += kv * row[reflectIndex(x+k-rad, w)]
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s float64
			for k, kv := range kern {
				s += kv * tmp[reflectIndex(y+k-rad, h)*w+x]
			}
			p[y*w+x] = s
		}
	}
}

// reflectIndex maps any integer index onto [0, n) by reflection about the
// edges, repeating the edge value (… c b a | a b c … x y z | z y x …).
func reflectIndex(i, n int) int {
	m := i % (2 * n)
	if m < 0 {
		m += 2 * n
	}
	if m >= n {
		m = 2*n - 1 - m
	}
	return m
}

// PixelShuffled returns a copy of d's images with the pixels of every image
// moved by one fixed random permutation drawn from seed. For [C H W]
// images the H×W positions are permuted and each pixel keeps its C channel
// values together; for any other shape all values of a sample are
// permuted. The shuffle destroys the spatial structure (strokes, shapes)
// while keeping each image's pixel histogram and the per-set pixel
// statistics, which makes a hard out-of-distribution set. The result is
// unlabelled (Labels and Y nil) but keeps d's Classes and TargetDim, so
// that consumers know the output dimension the set is evaluated with.
func PixelShuffled(d *Dataset, seed uint64) (*Dataset, error) {
	if d == nil {
		return nil, fmt.Errorf("data: PixelShuffled: nil data set")
	}
	if _, err := synthValues(fmt.Sprintf("data: PixelShuffled %q", d.Name), 1, d.Shape); err != nil {
		return nil, err
	}
	ss := d.SampleSize()
	if len(d.X)%ss != 0 {
		return nil, fmt.Errorf("data: PixelShuffled: data set %q: %d input values is not a multiple of the sample size %d", d.Name, len(d.X), ss)
	}
	block, chans := ss, 1 // positions permuted, values per position
	if len(d.Shape) == 3 {
		chans, block = d.Shape[0], d.Shape[1]*d.Shape[2]
	}
	perm := synthRand(seed, 0x73687566).Perm(block)
	out := &Dataset{
		Name:      d.Name + "/pixel-shuffled",
		Shape:     slices.Clone(d.Shape),
		X:         make([]float32, len(d.X)),
		Classes:   d.Classes,
		TargetDim: d.TargetDim,
	}
	for i := 0; i < len(d.X); i += ss {
		src, dst := d.X[i:i+ss], out.X[i:i+ss]
		for c := range chans {
			for p, q := range perm {
				dst[c*block+p] = src[c*block+q]
			}
		}
	}
	return out, nil
}
