package convergence

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/nn"
)

// pooledDigits returns n standardised MNIST test digits average-pooled by
// the factor pool, as float64 NCHW inputs.
func pooledDigits(n, pool int) ([]float64, []int, error) {
	ds, err := data.MNIST("test")
	if err != nil {
		return nil, nil, err
	}
	h := 28 / pool
	x := make([]float64, n*h*h)
	for s := 0; s < n; s++ {
		img := ds.Input(s)
		for i := 0; i < h; i++ {
			for j := 0; j < h; j++ {
				var t float64
				for a := 0; a < pool; a++ {
					for b := 0; b < pool; b++ {
						t += float64(img[(i*pool+a)*28+j*pool+b])
					}
				}
				x[s*h*h+i*h+j] = t / float64(pool*pool)
			}
		}
	}
	var m, v float64
	for _, t := range x {
		m += t
	}
	m /= float64(len(x))
	for _, t := range x {
		v += (t - m) * (t - m)
	}
	sd := math.Sqrt(v / float64(len(x)))
	for i := range x {
		x[i] = (x[i] - m) / sd
	}
	return x, []int{1, h, h}, nil
}

// relFrobenius returns |a − b|_F / |b|_F.
func relFrobenius(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// measureWidth compares the empirical NTK and NNGP of p.Seeds networks of
// architecture ar at width w on the inputs x with the analytic kernels.
func measureWidth(ctx context.Context, p *params, ar archConfig, w int, x []float64, shape []int) (row, error) {
	n := p.Inputs
	spec := experiment.ExpandSpec(ar.Spec, w)
	arch, err := nn.Parse(spec, shape, nn.NTK)
	if err != nil {
		return row{}, fmt.Errorf("experiments/kernel-convergence.yaml: %s: %w", ar.Name, err)
	}
	k, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return row{}, err
	}
	ntkErr := make([]float64, p.Seeds)
	nngpErr := make([]float64, p.Seeds)
	ntkSum := make([]float64, len(k.Theta))
	// One network per width, initialised afresh for each seed: a wide one
	// takes gigabytes (the GCNN of width 8192: 12 GB), and a new one could
	// be allocated before the garbage collector returned the last.
	net := nn.New[float64](arch)
	for s := range ntkErr {
		if err := ctx.Err(); err != nil {
			return row{}, err
		}
		net.Init(p.Seed*1000 + uint64(w)*31 + uint64(s))
		// At most nn.DefaultJacobianBytes of per-example gradients (wider
		// networks stream theirs).
		emp := nn.EmpiricalNTK(net, x, n, nil, 0)
		ntkErr[s] = relFrobenius(emp, k.Theta)
		for i, v := range emp {
			ntkSum[i] += v / float64(p.Seeds)
		}
		// Return the gradients before the next network's.
		debug.FreeOSMemory()
		kn, err := nn.EmpiricalNNGP(net, x, n, nil, 0)
		if err != nil {
			return row{}, err
		}
		nngpErr[s] = relFrobenius(kn, k.K)
	}
	debug.FreeOSMemory()
	mean, sd := experiment.MeanSD(ntkErr)
	nm, nsd := experiment.MeanSD(nngpErr)
	return row{Arch: ar.Name, Width: w, Spec: arch.Spec, Params: arch.NumParams(), NTKErr: mean, NTKErrSD: sd, NNGPErr: nm, NNGPErrSD: nsd,
		MeanNTKErr: relFrobenius(ntkSum, k.Theta)}, nil
}
