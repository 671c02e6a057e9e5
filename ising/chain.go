package ising

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// Algorithm names a Markov chain update.
type Algorithm string

const (
	// Metropolis proposes single-spin flips at uniformly random sites and
	// accepts them with probability min(1, exp(-β ΔE)); one sweep is L²
	// proposals.
	Metropolis Algorithm = "metropolis"
	// Wolff grows a cluster of aligned spins from a random site, adding
	// each aligned neighbour with probability 1 - exp(-2β), and flips it
	// (Wolff 1989). It beats critical slowing down near T_c. One sweep is
	// a fixed number of cluster updates that flips about L² spins on
	// average, so that a sweep costs about as much as a Metropolis sweep;
	// see [Chain.Equilibrate] for how the number is chosen.
	Wolff Algorithm = "wolff"
)

func (a Algorithm) check() error {
	switch a {
	case "", Metropolis, Wolff:
		return nil
	}
	return fmt.Errorf("ising: Config.Algorithm = %q, want %q or %q", string(a), Metropolis, Wolff)
}

// Chain is one Markov chain of spin configurations on a periodic L×L
// lattice at a fixed temperature. A Chain is not safe for concurrent use;
// run one chain per goroutine.
type Chain struct {
	l, n  int
	temp  float64
	alg   Algorithm
	spins []int8
	nb    []int32 // right, left, down, up neighbour of each site
	rng   *rand.PCG
	// Metropolis: accept a flip with ΔE = 4 (8) iff a uniform 64-bit
	// number is below acc[1] (acc[2]); acc[0] is unused.
	acc [3]uint64
	// Wolff: add an aligned neighbour iff a uniform 64-bit number is
	// below add.
	add   uint64
	stack []int32
	// clusters is the fixed number of Wolff updates per sweep (0 until
	// Equilibrate fixes it).
	clusters int
}

// NewChain returns a chain on an L×L lattice at temperature T using alg
// (empty means Metropolis), started from all spins +1 if cold is set and
// from uniformly random spins otherwise, with its random stream seeded by
// seed.
func NewChain(L int, T float64, alg Algorithm, cold bool, seed uint64) (*Chain, error) {
	if L < 2 || L > 1<<15 {
		return nil, fmt.Errorf("ising: lattice size L = %d, want 2 <= L <= %d", L, 1<<15)
	}
	if !(T > 0) || math.IsInf(T, 0) {
		return nil, fmt.Errorf("ising: temperature T = %v, want a finite T > 0", T)
	}
	if err := alg.check(); err != nil {
		return nil, err
	}
	if alg == "" {
		alg = Metropolis
	}
	n := L * L
	c := &Chain{
		l: L, n: n, temp: T, alg: alg,
		spins: make([]int8, n),
		nb:    make([]int32, 4*n),
		rng:   newPCG(seed, 0x6973696e67),
	}
	for r := range L {
		for col := range L {
			i := r*L + col
			c.nb[4*i] = int32(r*L + (col+1)%L)
			c.nb[4*i+1] = int32(r*L + (col+L-1)%L)
			c.nb[4*i+2] = int32(((r+1)%L)*L + col)
			c.nb[4*i+3] = int32(((r+L-1)%L)*L + col)
		}
	}
	beta := 1 / T
	c.acc[1] = threshold(math.Exp(-4 * beta))
	c.acc[2] = threshold(math.Exp(-8 * beta))
	c.add = threshold(-math.Expm1(-2 * beta))
	if alg == Wolff {
		c.stack = make([]int32, 0, n)
	}
	var b uint64
	for i := range c.spins {
		if cold {
			c.spins[i] = 1
			continue
		}
		if i%64 == 0 {
			b = c.rng.Uint64()
		}
		c.spins[i] = int8(1 - 2*int(b&1))
		b >>= 1
	}
	return c, nil
}

// threshold returns t such that a uniform 64-bit integer u satisfies
// u < t with probability p (to within 2⁻⁶⁴); for p >= 1 the comparison
// always holds except for u = 2⁶⁴-1, which has probability 2⁻⁶⁴.
func threshold(p float64) uint64 {
	switch {
	case !(p > 0):
		return 0
	case p >= 1:
		return math.MaxUint64
	}
	t := math.Ldexp(p, 64)
	if t >= 0x1p64 {
		return math.MaxUint64
	}
	return uint64(t)
}

// intN returns a uniform integer in [0, n) (Lemire's method with
// rejection, unbiased).
func (c *Chain) intN(n uint64) uint64 {
	hi, lo := bits.Mul64(c.rng.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(c.rng.Uint64(), n)
		}
	}
	return hi
}

// Equilibrate advances the chain by the given number of sweeps, meant as
// burn-in whose configurations are not measured.
//
// For Wolff chains each of these sweeps runs cluster updates until at
// least L² spins have been flipped, and afterwards the number of cluster
// updates per sweep is fixed, for all later calls of [Chain.Sweep], to
// their mean number per sweep here (rounded, at least 1). A sweep length
// that depends on the current state, such as "until L² spins have
// flipped", would bias measurements taken at the end of each sweep towards
// states that grow large clusters, which is why it is used for burn-in
// only. Calling Equilibrate again re-fixes the number. Equilibrate(0) on a
// Wolff chain fixes it from one adaptive sweep.
func (c *Chain) Equilibrate(sweeps int) {
	_ = c.equilibrate(context.Background(), sweeps)
}

// equilibrate is Equilibrate, returning ctx's error if ctx ends first.
func (c *Chain) equilibrate(ctx context.Context, sweeps int) error {
	updates := 0
	for k := range sweeps {
		if err := c.check(ctx, k); err != nil {
			return err
		}
		if c.alg == Wolff {
			updates += c.adaptiveWolffSweep()
		} else {
			c.metropolisSweep()
		}
	}
	if c.alg == Wolff {
		if sweeps <= 0 {
			updates, sweeps = c.adaptiveWolffSweep(), 1
		}
		c.clusters = max(1, int(math.Round(float64(updates)/float64(sweeps))))
	}
	return nil
}

// check returns ctx's error every 2¹⁶ spin updates or so, counting sweeps
// with k, and nil otherwise.
func (c *Chain) check(ctx context.Context, k int) error {
	if k%max(1, (1<<16)/c.n) == 0 {
		return ctx.Err()
	}
	return nil
}

// ClustersPerSweep returns the number of cluster updates in a sweep of a
// Wolff chain once [Chain.Equilibrate] has fixed it, and 0 before that or
// for Metropolis chains.
func (c *Chain) ClustersPerSweep() int { return c.clusters }

// Sweep advances the chain by one sweep: L² Metropolis proposals, or the
// fixed number of Wolff cluster updates set by [Chain.Equilibrate] (a
// Wolff chain that has not been equilibrated first runs Equilibrate(0),
// one extra adaptive sweep).
func (c *Chain) Sweep() {
	if c.alg != Wolff {
		c.metropolisSweep()
		return
	}
	if c.clusters == 0 {
		c.Equilibrate(0)
	}
	for range c.clusters {
		c.wolffUpdate()
	}
}

func (c *Chain) metropolisSweep() {
	s, nb, n := c.spins, c.nb, uint64(c.n)
	for range c.n {
		i := c.intN(n)
		q := nb[4*i : 4*i+4 : 4*i+4]
		si := s[i]
		// k = s_i Σ_nb s_j ∈ {-4, -2, 0, 2, 4}; flipping costs ΔE = 2k.
		k := si * (s[q[0]] + s[q[1]] + s[q[2]] + s[q[3]])
		if k <= 0 || c.rng.Uint64() < c.acc[k>>1] {
			s[i] = -si
		}
	}
}

// adaptiveWolffSweep runs cluster updates until at least L² spins have
// been flipped and returns the number of updates.
func (c *Chain) adaptiveWolffSweep() int {
	k := 0
	for flipped := 0; flipped < c.n; k++ {
		flipped += c.wolffUpdate()
	}
	return k
}

// wolffUpdate grows and flips one cluster and returns its size.
func (c *Chain) wolffUpdate() int {
	s, nb := c.spins, c.nb
	seed := int32(c.intN(uint64(c.n)))
	old := s[seed]
	s[seed] = -old
	stack := append(c.stack[:0], seed)
	size := 1
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, k := range nb[4*j : 4*j+4] {
			if s[k] == old && c.rng.Uint64() < c.add {
				s[k] = -old
				stack = append(stack, k)
				size++
			}
		}
	}
	c.stack = stack
	return size
}

// Size returns the linear lattice size L.
func (c *Chain) Size() int { return c.l }

// Temperature returns the chain's temperature.
func (c *Chain) Temperature() float64 { return c.temp }

// Algorithm returns the chain's update algorithm.
func (c *Chain) Algorithm() Algorithm { return c.alg }

// EnergyPerSite returns the exact energy per site H/L² of the current
// configuration.
func (c *Chain) EnergyPerSite() float64 {
	s, nb := c.spins, c.nb
	h := 0
	for i, si := range s {
		h -= int(si) * int(s[nb[4*i]]+s[nb[4*i+2]])
	}
	return float64(h) / float64(c.n)
}

// MagnetizationPerSite returns the magnetisation per site M/L² of the
// current configuration.
func (c *Chain) MagnetizationPerSite() float64 {
	m := 0
	for _, si := range c.spins {
		m += int(si)
	}
	return float64(m) / float64(c.n)
}

// AppendSpins appends the current configuration, L² values ±1 with site
// (r, c) at offset r*L+c, to dst and returns the extended slice.
func (c *Chain) AppendSpins(dst []float32) []float32 {
	for _, si := range c.spins {
		dst = append(dst, float32(si))
	}
	return dst
}

// newPCG returns a PCG generator whose state is derived from seed and a
// domain constant with the SplitMix64 finaliser, so that nearby seeds give
// unrelated streams.
func newPCG(seed, domain uint64) *rand.PCG {
	a := splitmix(seed ^ splitmix(domain))
	return rand.NewPCG(a, splitmix(a^0x9e3779b97f4a7c15))
}

// streamSeed derives the seed of stream i (the chain of the i-th
// temperature) from a master seed.
func streamSeed(seed, i uint64) uint64 {
	return splitmix(seed + splitmix(i+0x243f6a8885a308d3))
}

// splitmix is the SplitMix64 output function (Steele, Lea, Flood 2014).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
