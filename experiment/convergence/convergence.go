package convergence

import (
	"context"
	"fmt"
	"runtime"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/linalg"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "kernel-convergence",
		Summary: "empirical NNGP and NTK vs width for MLP, CNN and C4 GCNN, against the analytic kernels",
		Run:     run,
	})
}

// archConfig is one architecture of experiments/kernel-convergence.yaml:
// a spec template ({w} the width, {w4} width/4) and its widths.
type archConfig struct {
	Name   string `yaml:"name"`
	Spec   string `yaml:"spec"`
	Widths []int  `yaml:"widths"`
}

// params are the parameters of experiments/kernel-convergence.yaml.
type params struct {
	Inputs int          `yaml:"inputs"`
	Pool   int          `yaml:"pool"`
	Seeds  int          `yaml:"seeds"`
	Seed   uint64       `yaml:"seed"`
	Archs  []archConfig `yaml:"archs"`
}

// check says which field of p is out of range.
func (p *params) check() error {
	switch {
	case p.Inputs < 2:
		return fmt.Errorf("inputs: %d, want at least 2", p.Inputs)
	case p.Pool < 1 || 28%p.Pool != 0:
		return fmt.Errorf("pool: %d, want a divisor of 28 (1 keeps the digits at 28x28, 4 pools them to 7x7)", p.Pool)
	case p.Seeds < 2:
		return fmt.Errorf("seeds: %d, want at least 2 (the errors' spread over networks)", p.Seeds)
	}
	for _, ar := range p.Archs {
		for _, w := range ar.Widths {
			if w < 1 {
				return fmt.Errorf("archs %q: width %d, want a positive width", ar.Name, w)
			}
		}
	}
	return nil
}

// row is the result at one architecture and width.
type row struct {
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

// run runs kernel-convergence. results.json holds rows (one per
// architecture and width) and params. Table: convergence. Figures:
// ntk_convergence, nngp_convergence.
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("kernel-convergence", node, &p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("experiments/kernel-convergence.yaml: %w", err)
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
	var rows []row
	byArch := make([][]row, len(p.Archs))
	for ai, ar := range p.Archs {
		for _, w := range ar.Widths {
			r, err := measureWidth(ctx, &p, ar, w, x, shape)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
			byArch[ai] = append(byArch[ai], r)
			env.Logf("kernel-convergence: %-8s width %5d: NTK error %.4f ± %.4f (of the mean over networks %.4f), NNGP error %.4f ± %.4f",
				ar.Name, w, r.NTKErr, r.NTKErrSD, r.MeanNTKErr, r.NNGPErr, r.NNGPErrSD)
		}
	}
	rep, sum := buildReport(&p, shape, rows, byArch)
	return &experiment.Result{JSON: map[string]any{"rows": rows, "params": p}, Report: rep, Summary: sum}, nil
}
