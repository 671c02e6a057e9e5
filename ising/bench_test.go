package ising

import (
	"fmt"
	"testing"
)

// BenchmarkSweep reports sweeps per second and spin updates (Metropolis
// proposals or Wolff cluster additions tried) per second for both
// algorithms below, at and above T_c.
func BenchmarkSweep(b *testing.B) {
	for _, alg := range []Algorithm{Metropolis, Wolff} {
		for _, L := range []int{16, 64} {
			for _, T := range []float64{2, CriticalTemperature, 3} {
				b.Run(fmt.Sprintf("%s/L=%d/T=%.3f", alg, L, T), func(b *testing.B) {
					c, err := NewChain(L, T, alg, true, 1)
					if err != nil {
						b.Fatal(err)
					}
					c.Equilibrate(100)
					for b.Loop() {
						c.Sweep()
					}
					s := b.Elapsed().Seconds()
					b.ReportMetric(float64(b.N)/s, "sweeps/s")
					b.ReportMetric(float64(b.N)*float64(L*L)/s/1e6, "Msites/s")
				})
			}
		}
	}
}

// BenchmarkSample measures Sample end to end (chains for four
// temperatures, one sample per sweep, stored as float32).
func BenchmarkSample(b *testing.B) {
	cfg := Config{L: 32, Temperatures: []float64{1.5, 2, 2.5, 3}, Algorithm: Wolff, BurnIn: 100, Thin: 1, Samples: 1000}
	for b.Loop() {
		if _, err := Sample(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(cfg.Temperatures)*(cfg.BurnIn+cfg.Samples))/b.Elapsed().Seconds(), "sweeps/s")
}
