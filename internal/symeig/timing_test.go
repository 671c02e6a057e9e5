package symeig

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// Development timings, skipped unless an environment variable names a
// matrix order; each reports the best of SYMEIG_REPS runs (robust to a busy
// machine) with SYMEIG_WORKERS goroutines (default 2):
//
//	SYMEIG_PHASES=2000 go test -count=1 -run Phases -v   # the three steps
//	SYMEIG_SYTRD=2000  ... -run StepTimes                # one step alone,
//	SYMEIG_STEDC=2000  ... -run StepTimes                # (with -cpuprofile)
//	SYMEIG_ORMTR=2000  ... -run StepTimes
//
// SYMEIG_GRAM=1 uses a Gaussian-kernel Gram matrix instead of a random one.

func atoiOr(s string, def int) int {
	if v, err := strconv.Atoi(s); err == nil {
		return v
	}
	return def
}

func timingMatrix(n int) []float64 {
	if os.Getenv("SYMEIG_GRAM") != "" {
		return gaussGram(rand.New(rand.NewPCG(1, 2)), n, 3, 0.5)
	}
	return benchMatrix(n)
}

func TestPhases(t *testing.T) {
	n := atoiOr(os.Getenv("SYMEIG_PHASES"), 0)
	if n < 2 {
		t.Skip("SYMEIG_PHASES not set")
	}
	workers := atoiOr(os.Getenv("SYMEIG_WORKERS"), 2)
	a := timingMatrix(n)
	var best [5]float64
	for i := range best {
		best[i] = 1e9
	}
	for rep := 0; rep < atoiOr(os.Getenv("SYMEIG_REPS"), 3); rep++ {
		v := append([]float64(nil), a...)
		d := make([]float64, n)
		e := make([]float64, n-1)
		tau := make([]float64, n-1)
		t0 := time.Now()
		sytrd(n, v, d, e, tau, workers)
		t1 := time.Now()
		z := make([]float64, n*n)
		perm, err := stedc(n, d, e, z, workers)
		if err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		ormtr(n, v, tau, z, workers)
		t3 := time.Now()
		transposePerm(n, z, v, perm, workers)
		t4 := time.Now()
		for i, s := range []float64{t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds(), t4.Sub(t3).Seconds(), t4.Sub(t0).Seconds()} {
			best[i] = min(best[i], s)
		}
	}
	t.Logf("n=%d workers=%d: sytrd %.3f stedc %.3f ormtr %.3f transpose %.3f total %.3f s",
		n, workers, best[0], best[1], best[2], best[3], best[4])
}

func TestStepTimes(t *testing.T) {
	sy := atoiOr(os.Getenv("SYMEIG_SYTRD"), 0)
	st := atoiOr(os.Getenv("SYMEIG_STEDC"), 0)
	or := atoiOr(os.Getenv("SYMEIG_ORMTR"), 0)
	if sy < 2 && st < 2 && or < 2 {
		t.Skip("SYMEIG_SYTRD, SYMEIG_STEDC or SYMEIG_ORMTR not set")
	}
	workers := atoiOr(os.Getenv("SYMEIG_WORKERS"), 2)
	reps := atoiOr(os.Getenv("SYMEIG_REPS"), 5)
	timeIt := func(name string, n int, setup, run func()) {
		best := 1e9
		for rep := 0; rep < reps; rep++ {
			setup()
			t0 := time.Now()
			run()
			best = min(best, time.Since(t0).Seconds())
		}
		t.Logf("%s n=%d workers=%d: best %.4f s", name, n, workers, best)
	}
	reduce := func(n int) (a, d, e, tau []float64) {
		a = timingMatrix(n)
		d = make([]float64, n)
		e = make([]float64, n-1)
		tau = make([]float64, n-1)
		return
	}
	if n := sy; n >= 2 {
		a0, d, e, tau := reduce(n)
		a := make([]float64, n*n)
		timeIt("sytrd", n, func() { copy(a, a0) }, func() { sytrd(n, a, d, e, tau, workers) })
	}
	if n := st; n >= 2 {
		a, d0, e0, tau := reduce(n)
		sytrd(n, a, d0, e0, tau, workers)
		d, e, z := make([]float64, n), make([]float64, n-1), make([]float64, n*n)
		timeIt("stedc", n, func() { copy(d, d0); copy(e, e0); clear(z) }, func() {
			if _, err := stedc(n, d, e, z, workers); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := or; n >= 2 {
		a, d, e, tau := reduce(n)
		sytrd(n, a, d, e, tau, workers)
		z0 := benchMatrix(n)
		z := make([]float64, n*n)
		timeIt("ormtr", n, func() { copy(z, z0) }, func() { ormtr(n, a, tau, z, workers) })
	}
}
