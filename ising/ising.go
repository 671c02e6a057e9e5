package ising

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mathext"

	"github.com/eqens/eqens/data"
)

// CriticalTemperature is Onsager's critical temperature of the infinite
// square lattice, T_c = 2/ln(1+√2) (J = k_B = 1).
const CriticalTemperature = 2.269185314213021968

// Config says what [Sample] draws.
type Config struct {
	// L is the linear lattice size; the lattice has L×L sites. At least 2.
	L int
	// Temperatures lists the temperatures (> 0) to sample at. Each one
	// gets its own independent Markov chain and Samples configurations;
	// the samples of Temperatures[i] occupy indices i*Samples to
	// (i+1)*Samples-1 of the returned data set.
	Temperatures []float64
	// Algorithm is the update, Metropolis or Wolff; empty means
	// Metropolis.
	Algorithm Algorithm
	// BurnIn is the number of sweeps discarded before the first sample
	// (at least 0); see [Chain.Equilibrate], which also fixes the length
	// of Wolff sweeps at the end of burn-in.
	BurnIn int
	// Thin is the number of sweeps between two samples (at least 1). A
	// sweep is L² Metropolis proposals, or a fixed number of Wolff
	// cluster updates that flips about L² spins on average.
	Thin int
	// Samples is the number of configurations drawn per temperature (at
	// least 1).
	Samples int
	// Seed seeds the random streams; the chain of Temperatures[i] uses a
	// stream derived from Seed and i.
	Seed uint64
	// ColdStart starts every chain from the ordered state with all spins
	// +1; by default (false) chains start from uniformly random spins (a
	// hot start).
	ColdStart bool
	// Magnetization adds the magnetisation per site as a second target:
	// the data set then has TargetDim 2 with targets (E/L², M/L²);
	// otherwise TargetDim is 1 and the target is E/L².
	Magnetization bool
}

// maxValues bounds the number of float32 values a data set may hold
// (2³² values, 16 GiB), to turn absurd configurations into errors instead
// of failed allocations.
const maxValues = 1 << 32

// Validate checks the configuration and returns an error naming the first
// field that is out of range.
func (c *Config) Validate() error {
	if c.L < 2 {
		return fmt.Errorf("ising: Config.L = %d, want L >= 2", c.L)
	}
	if c.L > 1<<15 {
		return fmt.Errorf("ising: Config.L = %d, want L <= %d", c.L, 1<<15)
	}
	if len(c.Temperatures) == 0 {
		return fmt.Errorf("ising: Config.Temperatures is empty, want at least one temperature > 0")
	}
	for i, t := range c.Temperatures {
		if !(t > 0) || math.IsInf(t, 0) {
			return fmt.Errorf("ising: Config.Temperatures[%d] = %v, want a finite temperature > 0", i, t)
		}
	}
	if err := c.Algorithm.check(); err != nil {
		return err
	}
	if c.BurnIn < 0 {
		return fmt.Errorf("ising: Config.BurnIn = %d, want BurnIn >= 0", c.BurnIn)
	}
	if c.Thin < 1 {
		return fmt.Errorf("ising: Config.Thin = %d, want Thin >= 1 (sweeps between samples)", c.Thin)
	}
	if c.Samples < 1 {
		return fmt.Errorf("ising: Config.Samples = %d, want Samples >= 1", c.Samples)
	}
	n := float64(c.Samples) * float64(len(c.Temperatures)) * float64(c.L) * float64(c.L)
	if n > maxValues {
		return fmt.Errorf("ising: Config.Samples = %d at %d temperatures on a %d×%d lattice is %.3g spins, want at most %d", c.Samples, len(c.Temperatures), c.L, c.L, n, int64(maxValues))
	}
	return nil
}

// Sample runs one Markov chain per temperature of cfg and returns the
// sampled configurations as a regression data set with Shape [1, L, L]
// (spins as float32 ±1, site (r, c) at offset r*L+c) and the energy per
// site, or the energy and magnetisation per site, as targets (see
// [Config]). The chains run in parallel on up to GOMAXPROCS goroutines;
// the result depends only on cfg. Sample returns ctx's error, wrapped, if
// ctx ends first.
func Sample(ctx context.Context, cfg Config) (*data.Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	alg := cfg.Algorithm
	if alg == "" {
		alg = Metropolis
	}
	L, nT, ns := cfg.L, len(cfg.Temperatures), cfg.Samples
	n := L * L
	td := 1
	if cfg.Magnetization {
		td = 2
	}
	d := &data.Dataset{
		Name:      fmt.Sprintf("ising/L%d/%s", L, alg),
		Shape:     []int{1, L, L},
		X:         make([]float32, nT*ns*n),
		Y:         make([]float32, nT*ns*td),
		TargetDim: td,
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, nT)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), nT) {
		wg.Go(func() {
			for i := range next {
				errs[i] = runChain(ctx, cfg, alg, i, d)
				if errs[i] != nil {
					cancel()
				}
			}
		})
	}
	fed := 0
feed:
	for ; fed < nT; fed++ {
		select {
		case next <- fed:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("ising: sampling at T = %v (Temperatures[%d]): %w", cfg.Temperatures[i], i, err)
		}
	}
	if fed < nT {
		return nil, fmt.Errorf("ising: sampling: %w", context.Cause(ctx))
	}
	return d, nil
}

// runChain fills the samples of temperature i into d.
func runChain(ctx context.Context, cfg Config, alg Algorithm, i int, d *data.Dataset) error {
	c, err := NewChain(cfg.L, cfg.Temperatures[i], alg, cfg.ColdStart, streamSeed(cfg.Seed, uint64(i)))
	if err != nil {
		return err
	}
	if err := c.equilibrate(ctx, cfg.BurnIn); err != nil {
		return err
	}
	n := cfg.L * cfg.L
	sweeps := 0
	td := d.TargetDim
	for k := range cfg.Samples {
		for range cfg.Thin {
			if err := c.check(ctx, sweeps); err != nil {
				return err
			}
			sweeps++
			c.Sweep()
		}
		j := i*cfg.Samples + k
		c.AppendSpins(d.X[j*n : j*n : (j+1)*n])
		d.Y[j*td] = float32(c.EnergyPerSite())
		if td == 2 {
			d.Y[j*td+1] = float32(c.MagnetizationPerSite())
		}
	}
	return nil
}

// Energy returns the exact total energy H = -Σ_<ij> s_i s_j of the
// configuration spins on the periodic L×L lattice (site (r, c) at offset
// r*L+c), summing over the 2L² bonds from each site to its right and lower
// neighbour. Spins are normally ±1; other values enter the same bilinear
// form. Energy returns NaN if L < 1 or len(spins) != L*L. Divide by L² for
// the energy per site that [Sample] uses as a target.
func Energy(spins []float32, L int) float64 {
	if L < 1 || len(spins) != L*L {
		return math.NaN()
	}
	var h float64
	for r := range L {
		row := spins[r*L : (r+1)*L]
		down := spins[((r+1)%L)*L : ((r+1)%L+1)*L]
		for c, s := range row {
			right := row[0]
			if c+1 < L {
				right = row[c+1]
			}
			h -= float64(s) * (float64(right) + float64(down[c]))
		}
	}
	return h
}

// Magnetization returns the total magnetisation M = Σ_i s_i of a
// configuration. Divide by the number of sites for the magnetisation per
// site.
func Magnetization(spins []float32) float64 {
	var m float64
	for _, s := range spins {
		m += float64(s)
	}
	return m
}

// SetTargets recomputes the targets of a data set of Ising configurations
// (Shape [1, L, L]) from its inputs: Y becomes the exact energy per site,
// followed by the magnetisation per site if withMagnetization is set, and
// TargetDim 1 or 2. Labels and Classes are cleared. Use it after
// transforming or combining configurations.
func SetTargets(d *data.Dataset, withMagnetization bool) error {
	if d == nil {
		return fmt.Errorf("ising: SetTargets: nil data set")
	}
	if len(d.Shape) != 3 || d.Shape[0] != 1 || d.Shape[1] != d.Shape[2] || d.Shape[1] < 1 {
		return fmt.Errorf("ising: SetTargets: data set %q has shape %v, want [1 L L]", d.Name, d.Shape)
	}
	L := d.Shape[1]
	n := L * L
	if len(d.X)%n != 0 {
		return fmt.Errorf("ising: SetTargets: data set %q holds %d values, not a multiple of %d", d.Name, len(d.X), n)
	}
	td := 1
	if withMagnetization {
		td = 2
	}
	ns := len(d.X) / n
	y := make([]float32, ns*td)
	for i := range ns {
		s := d.X[i*n : (i+1)*n]
		y[i*td] = float32(Energy(s, L) / float64(n))
		if td == 2 {
			y[i*td+1] = float32(Magnetization(s) / float64(n))
		}
	}
	d.Y, d.TargetDim, d.Labels, d.Classes = y, td, nil, 0
	return nil
}

// RandomSpins returns n configurations of independent, uniformly random
// spins on an L×L lattice (the infinite-temperature ensemble), an
// out-of-distribution set for models trained on thermal samples, with
// their exact energies per site as targets (TargetDim 1; call [SetTargets]
// to add the magnetisation). The result depends only on L, n and seed.
func RandomSpins(L, n int, seed uint64) (*data.Dataset, error) {
	if L < 2 || L > 1<<15 {
		return nil, fmt.Errorf("ising: RandomSpins: L = %d, want 2 <= L <= %d", L, 1<<15)
	}
	if n < 0 {
		return nil, fmt.Errorf("ising: RandomSpins: n = %d, want n >= 0", n)
	}
	if float64(n)*float64(L)*float64(L) > maxValues {
		return nil, fmt.Errorf("ising: RandomSpins: %d configurations of %d×%d spins is too many (at most %d spins)", n, L, L, int64(maxValues))
	}
	r := newPCG(seed, 0x72616e646f6d)
	x := make([]float32, n*L*L)
	var bits uint64
	for i := range x {
		if i%64 == 0 {
			bits = r.Uint64()
		}
		x[i] = float32(1 - 2*int(bits&1))
		bits >>= 1
	}
	d := &data.Dataset{Name: fmt.Sprintf("ising/random/L%d", L), Shape: []int{1, L, L}, X: x}
	if err := SetTargets(d, false); err != nil {
		return nil, err
	}
	return d, nil
}

// OnsagerEnergy returns Onsager's exact internal energy per site of the
// infinite square-lattice Ising model at temperature T (J = k_B = 1):
//
//	u(T) = -coth(2β) [1 + (2/π)(2 tanh²(2β) - 1) K(k)],  k = 2 sinh(2β)/cosh²(2β),
//
// with K the complete elliptic integral of the first kind of modulus k
// (gonum's mathext.CompleteK takes the parameter m = k²). At T_c, where
// k = 1 and K diverges, the product vanishes and u = -√2. OnsagerEnergy
// returns NaN for T <= 0 or NaN; u(+Inf) = 0. For T >= 30 it sums the
// high-temperature series instead, to avoid cancellation.
func OnsagerEnergy(T float64) float64 {
	switch {
	case !(T > 0):
		return math.NaN()
	case T >= 30:
		// The closed form cancels catastrophically as T → ∞ (coth(2β)
		// grows while the bracket vanishes); use the high-temperature
		// series ln Z/N = ln(2cosh²β) + t⁴ + 2t⁶ + 9/2 t⁸ + 12 t¹⁰ +
		// 112/3 t¹² + ..., t = tanh β, whose truncation error here is
		// below 10⁻¹⁵.
		t := math.Tanh(1 / T)
		t2 := t * t
		return -2*t - (1-t2)*t2*t*(4+t2*(12+t2*(36+t2*(120+t2*448))))
	}
	b2 := 2 / T
	th := math.Tanh(b2)
	coth := 1 / th
	k := 2 * math.Sinh(b2) / (math.Cosh(b2) * math.Cosh(b2))
	m := k * k
	if m >= 1 {
		// T = T_c to rounding: (2 tanh² - 1) K(k) ~ t log t → 0.
		return -coth
	}
	return -coth * (1 + 2/math.Pi*(2*th*th-1)*mathext.CompleteK(m))
}

// OnsagerMagnetization returns the exact spontaneous magnetisation per site
// of the infinite square lattice (Onsager, Yang),
// (1 - sinh⁻⁴(2β))^{1/8} for T < T_c and 0 above; NaN for T <= 0 or NaN.
func OnsagerMagnetization(T float64) float64 {
	if !(T > 0) {
		return math.NaN()
	}
	if T >= CriticalTemperature {
		return 0
	}
	s := math.Sinh(2 / T)
	x := 1 - 1/(s*s*s*s)
	if x <= 0 {
		return 0
	}
	return math.Pow(x, 1.0/8)
}
