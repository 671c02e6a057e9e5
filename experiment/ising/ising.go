package ising

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/ising"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "ising",
		Summary: "2D Ising energy, lattice-symmetry augmentation: relative std over the orbit vs training time for MLP ensembles of several widths, members and the NTK, in and out of distribution",
		Run:     run,
	})
}

type ntkParams struct {
	// OrbitPoints is the number of points per test set whose orbit (the
	// same element subset) the NTK is evaluated on.
	OrbitPoints int `yaml:"orbit_points" json:"orbit_points"`
	// Reg is the diagonal regulariser relative to the mean diagonal.
	Reg float64 `yaml:"reg" json:"reg"`
}

// params is one scale of experiments/ising.yaml.
type params struct {
	L                 int       `yaml:"L" json:"L"`
	Algorithm         string    `yaml:"algorithm" json:"algorithm"`
	BurnIn            int       `yaml:"burn_in" json:"burn_in"`
	Thin              int       `yaml:"thin" json:"thin"`
	TrainTemperatures []float64 `yaml:"train_temperatures" json:"train_temperatures"`
	TrainSize         int       `yaml:"train_size" json:"train_size"`
	TestSize          int       `yaml:"test_size" json:"test_size"`
	LowTemperature    float64   `yaml:"low_temperature" json:"low_temperature"`
	HighTemperature   float64   `yaml:"high_temperature" json:"high_temperature"`
	OrbitElements     int       `yaml:"orbit_elements" json:"orbit_elements"`
	FullOrbitPoints   int       `yaml:"full_orbit_points" json:"full_orbit_points"`
	Snapshots         int       `yaml:"snapshots" json:"snapshots"`
	Statistic         string    `yaml:"statistic" json:"statistic"`
	Seed              uint64    `yaml:"seed" json:"seed"`
	Arch              string    `yaml:"arch" json:"arch"`
	Widths            []int     `yaml:"widths" json:"widths"`
	Members           int       `yaml:"members" json:"members"`
	Steps             int       `yaml:"steps" json:"steps"`
	LR                float64   `yaml:"lr" json:"lr"`
	NTK               ntkParams `yaml:"ntk" json:"ntk"`
}

// loadParams decodes the scale, fills in the defaults (Wolff sampling,
// the median) and validates it.
func loadParams(node *yaml.Node) (*params, error) {
	var p params
	if err := experiment.DecodeParams("ising", node, &p); err != nil {
		return nil, err
	}
	if p.Algorithm == "" {
		p.Algorithm = string(ising.Wolff)
	}
	if p.Statistic == "" {
		p.Statistic = "median"
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *params) validate() error {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	if p.L < 3 {
		bad("L = %d, want L >= 3", p.L)
	}
	if len(p.TrainTemperatures) == 0 {
		bad("train_temperatures is empty")
	}
	for _, t := range append(slices.Clone(p.TrainTemperatures), p.LowTemperature, p.HighTemperature) {
		if !(t > 0) || math.IsInf(t, 0) {
			bad("temperature %v, want a finite temperature > 0", t)
		}
	}
	if p.TrainSize < 2 || p.TestSize < 2 {
		bad("train_size and test_size must be at least 2")
	}
	if p.Thin < 1 || p.BurnIn < 0 {
		bad("need thin >= 1 and burn_in >= 0")
	}
	if p.OrbitElements == 1 {
		bad("orbit_elements = 1 measures nothing (0 means the whole group)")
	}
	if p.Snapshots < 2 || p.Steps < 1 {
		bad("need snapshots >= 2 and steps >= 1")
	}
	if p.Statistic != "mean" && p.Statistic != "median" {
		bad("statistic %q, want mean or median", p.Statistic)
	}
	if len(p.Widths) == 0 || !strings.Contains(p.Arch, "{w}") {
		bad("need widths and an arch with {w}")
	}
	if p.Members < 3 {
		bad("members = %d, want at least 3 (an ensemble, and a jackknife over members)", p.Members)
	}
	if !(p.LR > 0) {
		bad("lr must be positive")
	}
	if p.NTK.OrbitPoints < 1 || p.NTK.Reg < 0 {
		bad("need ntk.orbit_points >= 1 and ntk.reg >= 0")
	}
	if len(errs) > 0 {
		return fmt.Errorf("experiments/ising.yaml: %s", strings.Join(errs, "; "))
	}
	return nil
}

// measured is what a run measured: the networks' and the NTK's curves and
// the derived tables, for results.json, the claims and the report.
type measured struct {
	curves []curve
	finals []finalValue
	sizes  []sizePoint
	full   []fullOrbitRow
	finM   []finiteM
	ntk    *ntkResult
	claims []claim
}

// run is the experiment: the data, the networks of every width, the NTK,
// the evaluation at the last step, the claims and the report.
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	p, err := loadParams(node)
	if err != nil {
		return nil, err
	}
	in, err := prepare(ctx, env, p)
	if err != nil {
		return nil, err
	}
	var widths []*widthRun
	for _, w := range p.Widths {
		wr, err := trainWidth(ctx, env, p, in, w)
		if err != nil {
			return nil, err
		}
		widths = append(widths, wr)
	}
	ntk, err := evalNTK(ctx, env, p, in)
	if err != nil {
		return nil, err
	}
	env.Logf("NTK: done in %.1f s; largest relative std over all times, sets and points: %.2g", ntk.took.Seconds(), ntk.maxRel)

	ms := evalNetworks(p, in, widths)
	ms.ntk = ntk
	// The NTK's final values.
	last := len(in.steps) - 1
	for _, c := range ntk.curves {
		ms.finals = append(ms.finals, finalValue{Model: c.Model, Set: c.Set, Mean: c.Mean[last], Lo: c.Mean[last], Hi: c.Mean[last], Median: c.Median[last], MSE: c.MSE[last]})
	}
	ms.curves = append(ms.curves, ntk.curves...)
	if ms.full, err = fullOrbitCheck(ctx, env, p, in, widths); err != nil {
		return nil, err
	}
	ms.claims = makeClaims(p, in.sets, ms, last)
	rep, summary := buildReport(p, env.Scale, in, ms)
	return &experiment.Result{JSON: resultsJSON(p, in, ms), Report: rep, Summary: summary}, nil
}

// resultsJSON is results.json (see the top of this file) less "meta".
func resultsJSON(p *params, in *inputs, ms *measured) map[string]any {
	return map[string]any{
		"group":                 in.g.Name(),
		"group_order":           in.g.Order(),
		"orbit_elements":        in.elems,
		"steps":                 in.steps,
		"widths":                p.Widths,
		"statistic":             p.Statistic,
		"sets":                  in.sets,
		"train":                 map[string]any{"n": in.train.Len(), "temperatures": p.TrainTemperatures, "energy_mean": in.trE, "energy_std": in.trSD},
		"curves":                ms.curves,
		"final":                 ms.finals,
		"ensemble_size":         ms.sizes,
		"full_orbit":            ms.full,
		"finite_m":              ms.finM,
		"ntk_max_rel_std":       ms.ntk.maxRel,
		"ntk_eta_lambda_over_n": map[string]float64{"max": ms.ntk.etaLamMax, "min": ms.ntk.etaLamMin},
		"claims":                ms.claims,
		"params":                p,
	}
}
