package convergence

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "kernel-convergence",
		Summary: "empirical NNGP and NTK vs width for MLP, CNN and C4 GCNN, against the analytic kernels",
		Run:     runConvergence,
	})
}

type convArch struct {
	Name   string `yaml:"name"`
	Spec   string `yaml:"spec"`
	Widths []int  `yaml:"widths"`
}

type convParams struct {
	Inputs int        `yaml:"inputs"`
	Pool   int        `yaml:"pool"`
	Seeds  int        `yaml:"seeds"`
	Seed   uint64     `yaml:"seed"`
	Archs  []convArch `yaml:"archs"`
}

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

func relFrobenius(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

type convRow struct {
	Arch      string  `json:"arch"`
	Width     int     `json:"width"`
	Spec      string  `json:"spec"`
	Params    int     `json:"params"`
	NTKErr    float64 `json:"ntk_rel_error"`
	NTKErrSD  float64 `json:"ntk_rel_error_sd"`
	NNGPErr   float64 `json:"nngp_rel_error"`
	NNGPErrSD float64 `json:"nngp_rel_error_sd"`
	// MeanNTKErr is the error of the empirical NTK averaged over the
	// networks: the fluctuations average out, a systematic difference
	// (finite-width bias, O(1/width)) does not.
	MeanNTKErr float64 `json:"mean_ntk_rel_error"`
}

func runConvergence(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p convParams
	if err := experiment.DecodeParams("kernel-convergence", node, &p); err != nil {
		return nil, err
	}
	if p.Inputs < 2 || p.Pool < 1 || 28%p.Pool != 0 || p.Seeds < 2 {
		return nil, fmt.Errorf("experiments/kernel-convergence.yaml: need inputs >= 2, pool dividing 28, seeds >= 2")
	}
	x, shape, err := pooledDigits(p.Inputs, p.Pool)
	if err != nil {
		return nil, err
	}
	// One network at a time: let the BLAS use every core for its (large,
	// float64) products.
	prev := linalg.Threads()
	linalg.SetThreads(runtime.GOMAXPROCS(0))
	defer linalg.SetThreads(prev)
	n := p.Inputs
	var rows []convRow
	var figs []report.Figure
	ntkPlot := &report.Plot{Title: "Empirical NTK vs analytic NTK", XLabel: "width (channels)", YLabel: "relative Frobenius error", LogX: true, LogY: true}
	nngpPlot := &report.Plot{Title: "Empirical NNGP vs analytic NNGP", XLabel: "width (channels)", YLabel: "relative Frobenius error", LogX: true, LogY: true}
	for _, ar := range p.Archs {
		var sx, sy, ssd, ny, nsds []float64
		for _, w := range ar.Widths {
			spec := experiment.ExpandSpec(ar.Spec, w)
			arch, err := nn.Parse(spec, shape, nn.NTK)
			if err != nil {
				return nil, fmt.Errorf("experiments/kernel-convergence.yaml: %s: %w", ar.Name, err)
			}
			k, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, err
			}
			ntkErr := make([]float64, p.Seeds)
			nngpErr := make([]float64, p.Seeds)
			ntkSum := make([]float64, len(k.Theta))
			// One network per width, initialised afresh for each seed: a
			// wide one takes gigabytes (the GCNN of width 8192: 12 GB), and
			// a new one could be allocated before the garbage collector
			// returned the last.
			net := nn.New[float64](arch)
			for s := range ntkErr {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				net.Init(p.Seed*1000 + uint64(w)*31 + uint64(s))
				// At most nn.DefaultJacobianBytes of per-example gradients
				// (wider networks stream theirs).
				emp := nn.EmpiricalNTK(net, x, n, nil, 0)
				ntkErr[s] = relFrobenius(emp, k.Theta)
				for i, v := range emp {
					ntkSum[i] += v / float64(p.Seeds)
				}
				// Return the gradients before the next network's.
				debug.FreeOSMemory()
				kn, err := nn.EmpiricalNNGP(net, x, n, nil, 0)
				if err != nil {
					return nil, err
				}
				nngpErr[s] = relFrobenius(kn, k.K)
			}
			debug.FreeOSMemory()
			mean, sd := experiment.MeanSD(ntkErr)
			nm, nsd := experiment.MeanSD(nngpErr)
			row := convRow{Arch: ar.Name, Width: w, Spec: arch.Spec, Params: arch.NumParams(), NTKErr: mean, NTKErrSD: sd, NNGPErr: nm, NNGPErrSD: nsd,
				MeanNTKErr: relFrobenius(ntkSum, k.Theta)}
			rows = append(rows, row)
			env.Logf("kernel-convergence: %-8s width %5d: NTK error %.4f ± %.4f (of the mean over networks %.4f), NNGP error %.4f ± %.4f",
				ar.Name, w, mean, sd, row.MeanNTKErr, nm, nsd)
			sx = append(sx, float64(w))
			sy = append(sy, mean)
			ssd = append(ssd, sd)
			ny = append(ny, nm)
			nsds = append(nsds, nsd)
		}
		lo := make([]float64, len(sy))
		hi := make([]float64, len(sy))
		for i := range sy {
			lo[i] = math.Max(sy[i]-ssd[i], sy[i]*0.1)
			hi[i] = sy[i] + ssd[i]
		}
		nlo := make([]float64, len(ny))
		nhi := make([]float64, len(ny))
		for i := range ny {
			nlo[i] = math.Max(ny[i]-nsds[i], ny[i]*0.1)
			nhi[i] = ny[i] + nsds[i]
		}
		ntkPlot.Series = append(ntkPlot.Series, report.Series{Name: ar.Name, X: sx, Y: sy, Lo: lo, Hi: hi, Points: true})
		nngpPlot.Series = append(nngpPlot.Series, report.Series{Name: ar.Name, X: sx, Y: ny, Lo: nlo, Hi: nhi, Points: true})
	}
	// 1/sqrt(width) reference through the first MLP point.
	if len(rows) > 0 {
		var rx, ry []float64
		for _, w := range p.Archs[0].Widths {
			rx = append(rx, float64(w))
			ry = append(ry, rows[0].NTKErr*math.Sqrt(float64(p.Archs[0].Widths[0])/float64(w)))
		}
		ntkPlot.Series = append(ntkPlot.Series, report.Series{Name: "∝ 1/√width", X: rx, Y: ry, Dashed: true})
	}
	figs = append(figs, report.Figure{Name: "ntk_convergence", Caption: "Relative Frobenius error between the empirical NTK of single networks and the analytic NTK (mean ± sd over networks), with a 1/√width reference.", Plot: ntkPlot},
		report.Figure{Name: "nngp_convergence", Caption: "Relative Frobenius error between the empirical NNGP of single networks (the readout covariance given the penultimate features, as neural-tangents' empirical_nngp_fn) and the analytic NNGP (mean ± sd over networks).", Plot: nngpPlot})
	tab := report.Table{Name: "convergence", Caption: "Kernel convergence with width (relative Frobenius errors, mean ± sd over networks)", Columns: []string{"architecture", "width", "parameters", "NTK error", "± sd", "NTK error of the mean", "NNGP error", "± sd"}}
	var sum strings.Builder
	fmt.Fprintf(&sum, "%-9s %6s %10s %12s %12s\n", "arch", "width", "params", "NTK error", "NNGP error")
	for _, r := range rows {
		tab.Rows = append(tab.Rows, []string{r.Arch, strconv.Itoa(r.Width), strconv.Itoa(r.Params), f4(r.NTKErr), f4(r.NTKErrSD), f4(r.MeanNTKErr), f4(r.NNGPErr), f4(r.NNGPErrSD)})
		fmt.Fprintf(&sum, "%-9s %6d %10d %12.4f %12.4f\n", r.Arch, r.Width, r.Params, r.NTKErr, r.NNGPErr)
	}
	rep := &report.Report{
		Title:    "Kernel convergence: finite networks approach their infinite-width kernels",
		Intro:    fmt.Sprintf("Empirical NTKs and NNGPs of single networks (%d per width) on %d MNIST test digits average-pooled to %dx%d, against the analytic kernels computed by eqens from the same architecture spec. At infinite width both errors vanish; for single networks they fall roughly like 1/√width. For the C4 GCNN the width counts all channels (width/4 fields per rotation).", p.Seeds, n, shape[1], shape[2]),
		Sections: []report.Section{{Heading: "Results", Tables: []report.Table{tab}, Figures: figs}},
	}
	return &experiment.Result{JSON: map[string]any{"rows": rows, "params": p}, Report: rep, Summary: sum.String()}, nil
}

func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
