package group

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ksStatistic is the one-sample Kolmogorov–Smirnov statistic
// D = sup |F_n(x) − F(x)| of the sample x against the CDF cdf.
func ksStatistic(x []float64, cdf func(float64) float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := float64(len(s))
	var d float64
	for i, v := range s {
		f := cdf(v)
		d = max(d, f-float64(i)/n, float64(i+1)/n-f)
	}
	return d
}

// ksPValue is the asymptotic p-value of D for n samples, Q_KS(λ) with
// λ = (√n + 0.12 + 0.11/√n) D (Stephens' correction).
func ksPValue(d float64, n int) float64 {
	sn := math.Sqrt(float64(n))
	l := (sn + 0.12 + 0.11/sn) * d
	if l < 0.2 {
		return 1
	}
	var q float64
	for k := 1; k <= 100; k++ {
		term := 2 * math.Exp(-2*float64(k*k)*l*l)
		if k%2 == 0 {
			term = -term
		}
		q += term
	}
	return math.Max(0, math.Min(1, q))
}

// ksAlpha is the significance level of the Haar tests: with fixed seeds
// they are deterministic; a correct sampler passes a given test with
// probability 1 − ksAlpha over seeds.
const ksAlpha = 1e-3

const haarSamples = 20000

// rotationAngle is the angle θ in [0, π] of a rotation of R^3.
func rotationAngle(m []float64) float64 {
	return math.Acos(math.Max(-1, math.Min(1, (m[0]+m[4]+m[8]-1)/2)))
}

// so3Stats computes the KS statistics of a set of rotation matrices: the
// rotation angle against the Haar density (1 − cos θ)/π on [0, π] (CDF
// (θ − sin θ)/π), and the z coordinate (uniform on [−1, 1]) and azimuth
// (uniform on (−π, π]) of R e_z, which is uniform on the sphere.
func so3Stats(mats [][]float64) (angle, z, azimuth float64) {
	var th, zs, az []float64
	for _, m := range mats {
		th = append(th, rotationAngle(m))
		zs = append(zs, m[8])
		az = append(az, math.Atan2(m[5], m[2]))
	}
	angle = ksStatistic(th, func(t float64) float64 { return (t - math.Sin(t)) / math.Pi })
	z = ksStatistic(zs, func(v float64) float64 { return (v + 1) / 2 })
	azimuth = ksStatistic(az, func(v float64) float64 { return (v + math.Pi) / (2 * math.Pi) })
	return angle, z, azimuth
}

// eulerUniform is a deliberately wrong sampler: ZYZ Euler angles drawn
// uniformly (β uniform instead of cos β), which overweights the poles.
func eulerUniform(n int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 5))
	var out [][]float64
	for k := 0; k < n; k++ {
		a, b, c := 2*math.Pi*rng.Float64(), math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
		rz := func(t float64) []float64 {
			s, co := math.Sincos(t)
			return []float64{co, -s, 0, s, co, 0, 0, 0, 1}
		}
		s, co := math.Sincos(b)
		ry := []float64{co, 0, s, 0, 1, 0, -s, 0, co}
		out = append(out, matProd(matProd(rz(a), ry, 3), rz(c), 3))
	}
	return out
}

// cubeQuaternions is a subtler wrong sampler: a quaternion uniform in the
// cube [−1, 1]^4, normalised (no rejection), which overweights the corners.
func cubeQuaternions(n int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 6))
	var out [][]float64
	for k := 0; k < n; k++ {
		var q [4]float64
		var s float64
		for i := range q {
			q[i] = 2*rng.Float64() - 1
			s += q[i] * q[i]
		}
		s = math.Sqrt(s)
		out = append(out, quatMatrix(q[0]/s, q[1]/s, q[2]/s, q[3]/s))
	}
	return out
}

func TestSO3Haar(t *testing.T) {
	g := must(SO3Sample(haarSamples+1, 1))
	var mats [][]float64
	for a := 1; a < g.Order(); a++ { // element 0 is the identity
		mats = append(mats, g.Matrix(a))
	}
	crit := func(d float64) bool { return ksPValue(d, haarSamples) < ksAlpha }
	da, dz, daz := so3Stats(mats)
	t.Logf("SO3Sample(%d): KS D angle %.4f (p %.3f), z %.4f (p %.3f), azimuth %.4f (p %.3f)",
		haarSamples, da, ksPValue(da, haarSamples), dz, ksPValue(dz, haarSamples), daz, ksPValue(daz, haarSamples))
	if crit(da) || crit(dz) || crit(daz) {
		t.Errorf("SO3Sample fails the Haar test at level %g", ksAlpha)
	}
	// Test of the test: wrong samplers are rejected.
	for _, w := range []struct {
		name string
		mats [][]float64
	}{{"uniform Euler angles", eulerUniform(haarSamples, 1)}, {"normalised cube quaternions", cubeQuaternions(haarSamples, 1)}} {
		da, dz, daz := so3Stats(w.mats)
		t.Logf("%s: KS D angle %.4f (p %.2g), z %.4f (p %.2g), azimuth %.4f (p %.2g)",
			w.name, da, ksPValue(da, haarSamples), dz, ksPValue(dz, haarSamples), daz, ksPValue(daz, haarSamples))
		if !crit(da) && !crit(dz) && !crit(daz) {
			t.Errorf("the Haar test accepts the wrong sampler %q", w.name)
		}
	}
}

func TestSO2Haar(t *testing.T) {
	angles := func(mats func(int) []float64, n int) []float64 {
		var th []float64
		for a := 1; a <= n; a++ {
			m := mats(a)
			v := math.Atan2(m[2], m[0])
			if v < 0 {
				v += 2 * math.Pi
			}
			th = append(th, v)
		}
		return th
	}
	uniform := func(v float64) float64 { return v / (2 * math.Pi) }
	g := must(SO2Sample(haarSamples+1, 1))
	d := ksStatistic(angles(g.Matrix, haarSamples), uniform)
	t.Logf("SO2Sample(%d): KS D angle %.4f (p %.3f)", haarSamples, d, ksPValue(d, haarSamples))
	if ksPValue(d, haarSamples) < ksAlpha {
		t.Errorf("SO2Sample fails the uniformity test at level %g", ksAlpha)
	}
	// Test of the test: angles 2π u^1.1 are rejected.
	rng := rand.New(rand.NewPCG(1, 8))
	wrong := func(int) []float64 { return rot2(2 * math.Pi * math.Pow(rng.Float64(), 1.1)) }
	d = ksStatistic(angles(wrong, haarSamples), uniform)
	t.Logf("angles 2π u^1.1: KS D %.4f (p %.2g)", d, ksPValue(d, haarSamples))
	if ksPValue(d, haarSamples) >= ksAlpha {
		t.Error("the uniformity test accepts angles 2π u^1.1")
	}
}

// The KS p-value is calibrated: about a fraction α of correct samples of
// modest size fall below α.
func TestKSCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const trials, n = 2000, 200
	reject := 0
	x := make([]float64, n)
	for k := 0; k < trials; k++ {
		for i := range x {
			x[i] = rng.Float64()
		}
		if ksPValue(ksStatistic(x, func(v float64) float64 { return v }), n) < 0.05 {
			reject++
		}
	}
	if f := float64(reject) / trials; f < 0.03 || f > 0.07 {
		t.Errorf("KS test rejects %.3f of uniform samples at level 0.05", f)
	}
}
