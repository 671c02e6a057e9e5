package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Orbit holds a model's outputs on the orbits of N test points: for group
// element g, point i and output c the value Out[(g*N+i)*K+c]. Element 0 is
// the identity, so the first N×K values are the outputs on the points
// themselves.
type Orbit struct {
	G, N, K int
	Out     []float64
}

// NewOrbit allocates an orbit of G elements, N points and K outputs.
func NewOrbit(g, n, k int) *Orbit {
	return &Orbit{G: g, N: n, K: k, Out: make([]float64, g*n*k)}
}

// At returns the outputs for element g and point i (a view).
func (o *Orbit) At(g, i int) []float64 {
	off := (g*o.N + i) * o.K
	return o.Out[off : off+o.K]
}

// Check validates the dimensions.
func (o *Orbit) Check() error {
	if o.G < 1 || o.N < 1 || o.K < 1 || len(o.Out) != o.G*o.N*o.K {
		return fmt.Errorf("metrics: orbit with G=%d N=%d K=%d holds %d values", o.G, o.N, o.K, len(o.Out))
	}
	return nil
}

// Argmax returns the index of the largest value of v, the first one on
// ties (0 for an empty v): the predicted class of a row of scores. A NaN
// never compares larger, so NaNs after the first value are passed over,
// and a NaN first value is returned (index 0) whatever follows.
func Argmax[T ~float32 | ~float64](v []T) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Predictions returns the predicted class (argmax) for every element and
// point: pred[g*N+i].
func (o *Orbit) Predictions() []int {
	p := make([]int, o.G*o.N)
	for g := 0; g < o.G; g++ {
		for i := 0; i < o.N; i++ {
			p[g*o.N+i] = Argmax(o.At(g, i))
		}
	}
	return p
}

// OSP returns, for each point, the number of group elements g whose
// prediction on rho(g) x equals the prediction on x, the identity included:
// a value between 1 and G (G means the prediction is invariant).
func OSP(o *Orbit) []float64 {
	p := o.Predictions()
	out := make([]float64, o.N)
	for i := 0; i < o.N; i++ {
		for g := 0; g < o.G; g++ {
			if p[g*o.N+i] == p[i] {
				out[i]++
			}
		}
	}
	return out
}

// ClassShares returns how often each class is predicted over all orbit
// elements and points.
func ClassShares(o *Orbit) []float64 {
	s := make([]float64, o.K)
	p := o.Predictions()
	for _, c := range p {
		s[c]++
	}
	for c := range s {
		s[c] /= float64(len(p))
	}
	return s
}

// MajorityShare is the share of the most frequently predicted class. Near
// 1, OSP is trivially near G and says nothing about equivariance: always
// report it beside OSP.
func MajorityShare(o *Orbit) float64 {
	return slices.Max(ClassShares(o))
}

// ChanceOSP is the OSP expected if the predictions on the G transforms of a
// point were unrelated draws from the model's class frequencies p_c:
// 1 + (G-1) Σ_c p_c^2.
func ChanceOSP(o *Orbit) float64 {
	var s float64
	for _, p := range ClassShares(o) {
		s += p * p
	}
	return 1 + float64(o.G-1)*s
}

// OutputAction maps outputs under a group element: dst = rho_Y(g) src.
// nil means the trivial action (invariant outputs).
type OutputAction func(g int, dst, src []float64)

// EquivarianceError returns, for each point, the mean and the maximum over
// g of |f(rho(g) x) - rho_Y(g) f(x)| (Euclidean norm over the outputs).
func EquivarianceError(o *Orbit, act OutputAction) (mean, maxv []float64) {
	mean = make([]float64, o.N)
	maxv = make([]float64, o.N)
	ty := make([]float64, o.K)
	for i := 0; i < o.N; i++ {
		f := o.At(0, i)
		for g := 1; g < o.G; g++ {
			if act != nil {
				act(g, ty, f)
			} else {
				copy(ty, f)
			}
			var d float64
			for c, v := range o.At(g, i) {
				d += (v - ty[c]) * (v - ty[c])
			}
			d = math.Sqrt(d)
			mean[i] += d
			maxv[i] = math.Max(maxv[i], d)
		}
		if o.G > 1 {
			mean[i] /= float64(o.G - 1)
		}
	}
	return mean, maxv
}

// RelativeStd returns, for each point, the standard deviation over the
// orbit of the predictions divided by the magnitude of their mean (norms
// over the outputs): the Ising experiment's measure of invariance. Points
// whose mean prediction is zero get +Inf.
func RelativeStd(o *Orbit) []float64 {
	out := make([]float64, o.N)
	m := make([]float64, o.K)
	for i := 0; i < o.N; i++ {
		clear(m)
		for g := 0; g < o.G; g++ {
			for c, v := range o.At(g, i) {
				m[c] += v / float64(o.G)
			}
		}
		var v, mn float64
		for g := 0; g < o.G; g++ {
			for c, x := range o.At(g, i) {
				v += (x - m[c]) * (x - m[c])
			}
		}
		for _, x := range m {
			mn += x * x
		}
		v /= float64(o.G)
		if mn == 0 {
			out[i] = math.Inf(1)
			continue
		}
		out[i] = math.Sqrt(v / mn)
	}
	return out
}

// softmax writes the probabilities of logits into p.
func softmax(p, logits []float64) {
	m := slices.Max(logits)
	var s float64
	for c, v := range logits {
		p[c] = math.Exp(v - m)
		s += p[c]
	}
	for c := range p {
		p[c] /= s
	}
}

// SymmetricKL returns, for each point, the symmetric Kullback–Leibler
// divergence KL(p(x)||p(gx)) + KL(p(gx)||p(x)) between the softmax
// distributions, averaged over the non-identity elements g.
func SymmetricKL(o *Orbit) []float64 {
	out := make([]float64, o.N)
	p := make([]float64, o.K)
	q := make([]float64, o.K)
	for i := 0; i < o.N; i++ {
		softmax(p, o.At(0, i))
		for g := 1; g < o.G; g++ {
			softmax(q, o.At(g, i))
			out[i] += symKL(p, q)
		}
		if o.G > 1 {
			out[i] /= float64(o.G - 1)
		}
	}
	return out
}

// MemberKL returns, for each point, the symmetric KL divergence between the
// predicted class distributions (softmax of the outputs on the point
// itself) of every two members, averaged over the pairs: how much the
// members of an ensemble disagree. It is 0 for fewer than two members.
func MemberKL(members []*Orbit) []float64 {
	if len(members) == 0 {
		return nil
	}
	n, k := members[0].N, members[0].K
	out := make([]float64, n)
	if len(members) < 2 {
		return out
	}
	probs := make([][]float64, len(members))
	for m := range probs {
		probs[m] = make([]float64, k)
	}
	pairs := float64(len(members) * (len(members) - 1) / 2)
	for i := 0; i < n; i++ {
		for m, o := range members {
			softmax(probs[m], o.At(0, i))
		}
		for a := range probs {
			for b := a + 1; b < len(probs); b++ {
				out[i] += symKL(probs[a], probs[b])
			}
		}
		out[i] /= pairs
	}
	return out
}

// symKL is KL(p‖q) + KL(q‖p), the probabilities floored at 1e-300.
func symKL(p, q []float64) float64 {
	var d float64
	for c := range p {
		pc, qc := math.Max(p[c], 1e-300), math.Max(q[c], 1e-300)
		d += (pc - qc) * (math.Log(pc) - math.Log(qc))
	}
	return d
}

// Correct returns, for each point, 1 if the prediction on the point itself
// equals its label and 0 otherwise.
func Correct(o *Orbit, labels []int) []float64 {
	out := make([]float64, o.N)
	for i := 0; i < o.N; i++ {
		if Argmax(o.At(0, i)) == labels[i] {
			out[i] = 1
		}
	}
	return out
}

// SquaredError returns, for each point, the squared error ||f(x) - y||^2
// of the prediction on the point itself (y holds N×K targets).
func SquaredError(o *Orbit, y []float64) []float64 {
	out := make([]float64, o.N)
	for i := 0; i < o.N; i++ {
		for c, v := range o.At(0, i) {
			d := v - y[i*o.K+c]
			out[i] += d * d
		}
	}
	return out
}

// Agreement returns, for each point, 1 if two models predict the same class
// on it (identity element) and 0 otherwise.
func Agreement(a, b *Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		if Argmax(a.At(0, i)) == Argmax(b.At(0, i)) {
			out[i] = 1
		}
	}
	return out
}

// Distance returns, for each point, ||f_a(x) - f_b(x)|| / ||f_b(x)||: how
// far a regression model's prediction is from a reference one.
func Distance(a, b *Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		var d, n float64
		fb := b.At(0, i)
		for c, v := range a.At(0, i) {
			d += (v - fb[c]) * (v - fb[c])
			n += fb[c] * fb[c]
		}
		out[i] = math.Sqrt(d / math.Max(n, 1e-300))
	}
	return out
}

// Combine averages the members' orbits given by idx: the output of the
// ensemble of those members. With probs set, the members' softmax
// probabilities are averaged instead of their raw outputs (logits); the
// result then holds log-probabilities, so argmax-based metrics and SymmetricKL
// apply unchanged.
func Combine(members []*Orbit, idx []int, probs bool) *Orbit {
	m0 := members[idx[0]]
	out := NewOrbit(m0.G, m0.N, m0.K)
	p := make([]float64, m0.K)
	for _, j := range idx {
		o := members[j]
		for r := 0; r < o.G*o.N; r++ {
			src := o.Out[r*o.K : (r+1)*o.K]
			dst := out.Out[r*o.K : (r+1)*o.K]
			if probs {
				softmax(p, src)
				src = p
			}
			for c, v := range src {
				dst[c] += v / float64(len(idx))
			}
		}
	}
	if probs {
		for i, v := range out.Out {
			out.Out[i] = math.Log(math.Max(v, 1e-300))
		}
	}
	return out
}

// Mean returns the average of the values.
func Mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Estimate is a mean with a bootstrap confidence interval.
type Estimate struct {
	Mean float64 `json:"mean"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
}

func (e Estimate) String() string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", e.Mean, e.Lo, e.Hi)
}

// Bootstrap returns the mean of the per-point values with a percentile
// bootstrap confidence interval at the given level (e.g. 0.95), from b
// resamples drawn with seed.
func Bootstrap(v []float64, b int, level float64, seed uint64) Estimate {
	e := Estimate{Mean: Mean(v)}
	if len(v) < 2 || b < 2 {
		e.Lo, e.Hi = e.Mean, e.Mean
		return e
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	means := make([]float64, b)
	for r := range means {
		var s float64
		for range v {
			s += v[rng.IntN(len(v))]
		}
		means[r] = s / float64(len(v))
	}
	slices.Sort(means)
	a := (1 - level) / 2
	e.Lo = quantile(means, a)
	e.Hi = quantile(means, 1-a)
	return e
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// Subsets returns up to count index sets of size m drawn from 0..n-1: the
// disjoint blocks of a random permutation first, then further random
// draws, so that small ensembles are compared over several member groups.
func Subsets(n, m, count int, seed uint64) [][]int {
	if m > n || m < 1 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, uint64(m)))
	var out [][]int
	perm := rng.Perm(n)
	for s := 0; s+m <= n && len(out) < count; s += m {
		out = append(out, slices.Clone(perm[s:s+m]))
	}
	for len(out) < count && m < n {
		out = append(out, rng.Perm(n)[:m])
	}
	return out
}
