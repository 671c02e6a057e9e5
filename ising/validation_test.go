package ising

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// exactL4 returns ⟨E⟩/N and ⟨|M|⟩/N of the 4×4 periodic lattice at
// temperature T by summing over all 2¹⁶ configurations.
func exactL4(T float64) (e, absM float64) {
	const L, N = 4, 16
	// Count the states by (E, |M|): E ∈ [-32, 32] in steps of 4, |M| ≤ 16.
	var g [65][17]float64
	s := make([]float32, N)
	for state := range 1 << N {
		m := 0
		for i := range s {
			s[i] = float32(2*(state>>i&1) - 1)
			m += int(s[i])
		}
		g[int(Energy(s, L))+32][max(m, -m)]++
	}
	var z, ze, zm float64
	for ei := range g {
		for mi, cnt := range g[ei] {
			if cnt == 0 {
				continue
			}
			w := cnt * math.Exp(-float64(ei-32)/T)
			z += w
			ze += w * float64(ei-32)
			zm += w * float64(mi)
		}
	}
	return ze / z / N, zm / z / N
}

// zCheck compares a Monte Carlo mean with an exact value. It fails the test
// if they differ by more than 4 standard errors plus allowance, and
// returns the deviation in standard errors.
func zCheck(t *testing.T, what string, x []float64, exact, allowance float64) (z float64) {
	t.Helper()
	mean, se, tau, levels := binning(x)
	z = (mean - exact) / se
	t.Logf("%-32s MC %.6f ± %.6f (τ_int %5.2f), exact %.6f, z = %+.2f", what, mean, se, tau, exact, z)
	if n := len(levels); n >= 3 && levels[n-1] > 1.3*levels[n-3] {
		t.Errorf("%s: binning has not converged: standard errors %v", what, levels)
	}
	if math.Abs(mean-exact) > 4*se+allowance {
		t.Errorf("%s: MC mean %.6f ± %.6f is %.1f standard errors from the exact %.6f (allowance %g)", what, mean, se, z, exact, allowance)
	}
	return z
}

// TestExactEnumerationL4 compares both samplers, through Sample, with the
// exact averages of the 4×4 lattice at temperatures below, at and above
// T_c. The errors come from a binning analysis, so they account for the
// autocorrelation of the chains (one sample per sweep). As a check that
// the test has power it also requires the statistical error to be small
// enough to tell T from a temperature 3% higher.
func TestExactEnumerationL4(t *testing.T) {
	temps := []float64{1.5, 2.269, 3.5}
	samples := 1 << 17
	if testing.Short() {
		samples = 1 << 15
	}
	for _, alg := range []Algorithm{Metropolis, Wolff} {
		cfg := Config{L: 4, Temperatures: temps, Algorithm: alg, BurnIn: 2000, Thin: 1, Samples: samples, Seed: 2024, Magnetization: true}
		d, err := Sample(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i, T := range temps {
			e := make([]float64, samples)
			m := make([]float64, samples)
			for k := range samples {
				y := d.Target(i*samples + k)
				e[k], m[k] = float64(y[0]), math.Abs(float64(y[1]))
			}
			ee, em := exactL4(T)
			zCheck(t, fmt.Sprintf("%s T=%.3f ⟨E⟩/N", alg, T), e, ee, 0)
			zCheck(t, fmt.Sprintf("%s T=%.3f ⟨|M|⟩/N", alg, T), m, em, 0)
			_, se, _, _ := binning(e)
			if e2, _ := exactL4(1.03 * T); math.Abs(e2-ee) < 8*se {
				t.Errorf("%s T=%v: standard error %v too large to resolve a 3%% temperature shift (ΔE/N = %v)", alg, T, se, e2-ee)
			}
		}
	}
}

// finiteSize is the allowance for the difference between the energy per
// site of the 32×32 torus and Onsager's infinite-lattice value away from
// T_c. The correction is of order exp(-L/ξ) (Ferdinand, Fisher 1969) with
// the exact correlation lengths ξ(T=2) = 1/(2(2K + ln tanh K)) ≈ 2.2 and
// ξ(T=3) = 1/(ln coth K - 2K) ≈ 2.1 (K = 1/T), so exp(-32/2.2) < 10⁻⁶; the
// allowance is a hundred times that.
const finiteSize = 1e-4

// TestOnsager compares the energy per site of 32×32 chains (both
// algorithms, cold start, one measurement per sweep) with Onsager's exact
// result at T = 2 and T = 3, and ⟨|M|⟩/N at T = 2 with Yang's
// spontaneous magnetisation. The exp(-L/ξ) bound on finite-size effects
// is only argued for the energy here; ⟨|M|⟩/N on the torus is taken to
// agree with the infinite-lattice value to within 10⁻³, about the
// variance of M/N at L = 32, T = 2 (7·10⁻⁴), a generous allowance.
func TestOnsager(t *testing.T) {
	const L = 32
	sweeps := 1 << 15
	if testing.Short() {
		sweeps = 1 << 13
	}
	for _, alg := range []Algorithm{Wolff, Metropolis} {
		for _, T := range []float64{2, 3} {
			c, err := NewChain(L, T, alg, true, 77)
			if err != nil {
				t.Fatal(err)
			}
			c.Equilibrate(1000)
			e := make([]float64, sweeps)
			m := make([]float64, sweeps)
			for k := range sweeps {
				c.Sweep()
				e[k], m[k] = c.EnergyPerSite(), math.Abs(c.MagnetizationPerSite())
			}
			zCheck(t, fmt.Sprintf("%s L=%d T=%v E/N", alg, L, T), e, OnsagerEnergy(T), finiteSize)
			if T < CriticalTemperature {
				zCheck(t, fmt.Sprintf("%s L=%d T=%v |M|/N", alg, L, T), m, OnsagerMagnetization(T), 1e-3)
			}
		}
	}
}
