package ising

// The data: the training configurations, the test sets in and out of
// distribution, the group elements the orbit is measured over and the
// evaluation steps.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/ising"
)

// inputs is what the networks and the NTK are trained on and measured on.
type inputs struct {
	g   *group.Group
	rep *group.Rep // the action of g on the 1×L×L configurations
	// train holds the training configurations; trainLabel names them in
	// the run directories; trE and trSD are their mean and standard
	// deviation of the energy per site.
	train      *data.Dataset
	trainLabel string
	trE, trSD  float64
	sets       []*testSet
	// elems are the group elements of the orbit subset, identity first.
	elems []int
	// steps are the evaluation steps, up to params.Steps.
	steps []int
	// xorb holds per set its images under elems: element e, point i at
	// xorb[j][(e*n_j+i)*L²:].
	xorb [][]float32
	// evalHash names the members' snapshot caches (see trainWidth).
	evalHash string
}

// prepare draws the data and fixes the orbit subset and the evaluation
// steps.
func prepare(ctx context.Context, env *experiment.Env, p *params) (*inputs, error) {
	g, err := group.Parse(fmt.Sprintf("ising:%d", p.L))
	if err != nil {
		return nil, err
	}
	rep, err := group.InputRep(g, []int{1, p.L, p.L})
	if err != nil {
		return nil, err
	}
	raw, err := trainingSet(ctx, p)
	if err != nil {
		return nil, err
	}
	in := &inputs{g: g, rep: rep, train: raw}
	in.trainLabel = "ising-" + configHash([]any{p.L, p.Algorithm, p.BurnIn, p.Thin, p.TrainTemperatures, p.TrainSize, p.Seed})
	if in.sets, err = makeTestSets(ctx, p); err != nil {
		return nil, err
	}
	in.trE, in.trSD = experiment.MeanSD(experiment.ToF64(raw.Y))
	in.elems = orbitSubset(g.Order(), p.OrbitElements, p.Seed+5000)
	in.steps = logSteps(p.Steps, p.Snapshots)
	in.xorb = orbitImages(rep, in.sets, in.elems, p.L*p.L)
	in.evalHash = configHash([]any{"v1", p.L, p.Algorithm, p.BurnIn, p.Thin, p.TrainTemperatures, p.TestSize, p.LowTemperature, p.HighTemperature, in.elems, in.steps, p.Seed})
	env.Logf("ising: L = %d, %d training configurations at T = %v (E/L² = %.3f ± %.3f), group %s of order %d, relative std over %d elements, %d evaluation steps up to %d",
		p.L, raw.Len(), p.TrainTemperatures, in.trE, in.trSD, g.Name(), g.Order(), len(in.elems), len(in.steps), p.Steps)
	return in, nil
}

// trainingSet returns the first TrainSize/len(T) samples of one chain per
// training temperature.
func trainingSet(ctx context.Context, p *params) (*data.Dataset, error) {
	nt := len(p.TrainTemperatures)
	per := (p.TrainSize + nt - 1) / nt
	raw, err := ising.Sample(ctx, ising.Config{L: p.L, Temperatures: p.TrainTemperatures, Algorithm: ising.Algorithm(p.Algorithm),
		BurnIn: p.BurnIn, Thin: p.Thin, Samples: per, Seed: p.Seed})
	if err != nil {
		return nil, err
	}
	if raw.Len() > p.TrainSize {
		idx := make([]int, 0, p.TrainSize)
		for i := 0; i < p.TrainSize; i++ {
			idx = append(idx, (i%nt)*per+i/nt)
		}
		slices.Sort(idx)
		raw = raw.Subset(idx)
	}
	return raw, nil
}

// orbitImages returns per set the images of its configurations (d spins
// each) under the elements elems, element after element.
func orbitImages(rep *group.Rep, sets []*testSet, elems []int, d int) [][]float32 {
	S := len(elems)
	xorb := make([][]float32, len(sets))
	for j, s := range sets {
		xorb[j] = make([]float32, S*s.N*d)
		for e, a := range elems {
			group.ApplyBatch(rep, a, xorb[j][e*s.N*d:(e+1)*s.N*d], s.data.X)
		}
	}
	return xorb
}

// testSet is one test set.
type testSet struct {
	Name        string  `json:"name"`
	Label       string  `json:"label"`
	Temperature float64 `json:"temperature"`
	N           int     `json:"n"`
	Excluded    int     `json:"excluded_uniform"`
	EnergyMean  float64 `json:"energy_mean"`
	EnergyStd   float64 `json:"energy_std"`
	data        *data.Dataset
	y           []float64
}

// uniform reports whether all spins are equal (the two ground states,
// whose orbit under the lattice group is a single configuration).
func uniform(x []float32) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}

// drawConfigs samples n non-uniform configurations at temperature T (T = 0:
// uniformly random spins) and returns them with the number of uniform
// configurations skipped on the way.
func drawConfigs(ctx context.Context, p *params, T float64, n int, seed uint64) ([]float32, []float32, int, error) {
	for try, ask := 0, n+n/4+4; try < 8; try, ask = try+1, ask*4 {
		var ds *data.Dataset
		var err error
		if T == 0 {
			ds, err = ising.RandomSpins(p.L, ask, seed+uint64(try))
		} else {
			ds, err = ising.Sample(ctx, ising.Config{L: p.L, Temperatures: []float64{T}, Algorithm: ising.Algorithm(p.Algorithm),
				BurnIn: p.BurnIn, Thin: p.Thin, Samples: ask, Seed: seed + uint64(try)})
		}
		if err != nil {
			return nil, nil, 0, err
		}
		var x, y []float32
		excl := 0
		for i := 0; i < ds.Len() && len(y) < n; i++ {
			if uniform(ds.Input(i)) {
				excl++
				continue
			}
			x = append(x, ds.Input(i)...)
			y = append(y, ds.Y[i])
		}
		if len(y) == n {
			return x, y, excl, nil
		}
	}
	return nil, nil, 0, fmt.Errorf("ising: fewer than %d non-uniform configurations at T = %v (the temperature is too low for L = %d)", n, T, p.L)
}

// makeTestSets draws the in-distribution set (the training temperatures)
// and the out-of-distribution sets, without uniform configurations.
func makeTestSets(ctx context.Context, p *params) ([]*testSet, error) {
	specs := []struct {
		name, label string
		temps       []float64
	}{
		{"id", fmt.Sprintf("in distribution (T = %s)", floatList(p.TrainTemperatures)), p.TrainTemperatures},
		{"low_t", fmt.Sprintf("low temperature (T = %s)", floatList([]float64{p.LowTemperature})), []float64{p.LowTemperature}},
		{"high_t", fmt.Sprintf("high temperature (T = %s)", floatList([]float64{p.HighTemperature})), []float64{p.HighTemperature}},
		{"random", "uniformly random spins (T = ∞)", []float64{0}},
	}
	var out []*testSet
	for k, sp := range specs {
		s := &testSet{Name: sp.name, Label: sp.label, Temperature: sp.temps[0]}
		var x, y []float32
		nt := len(sp.temps)
		for i, T := range sp.temps {
			n := p.TestSize/nt + btoi(i < p.TestSize%nt)
			xi, yi, ex, err := drawConfigs(ctx, p, T, n, p.Seed+1000*uint64(k+1)+uint64(i)*100)
			if err != nil {
				return nil, err
			}
			x, y = append(x, xi...), append(y, yi...)
			s.Excluded += ex
		}
		s.data = &data.Dataset{Name: "ising/" + sp.name, Shape: []int{1, p.L, p.L}, X: x, Y: y, TargetDim: 1}
		s.N = len(y)
		s.y = experiment.ToF64(y)
		s.EnergyMean, s.EnergyStd = experiment.MeanSD(s.y)
		out = append(out, s)
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// logSteps returns about count log-spaced integer steps in [1, steps],
// always including steps.
func logSteps(steps, count int) []int {
	var out []int
	for i := 0; i < count; i++ {
		s := 1
		if count > 1 {
			s = int(math.Round(math.Pow(float64(steps), float64(i)/float64(count-1))))
		}
		s = min(max(s, 1), steps)
		if len(out) == 0 || s > out[len(out)-1] {
			out = append(out, s)
		}
	}
	if out[len(out)-1] != steps {
		out = append(out, steps)
	}
	return out
}

// orbitSubset returns the identity followed by s-1 distinct random
// non-identity elements (sorted), or every element when s <= 0 or s >= G.
func orbitSubset(G, s int, seed uint64) []int {
	if s <= 0 || s >= G {
		return experiment.Indices(G)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6f72626974))
	perm := rng.Perm(G - 1)[:s-1]
	for i := range perm {
		perm[i]++
	}
	slices.Sort(perm)
	return append([]int{0}, perm...)
}

// configHash is a short hash of the JSON of v, naming cached results.
func configHash(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:12]
}

// floatList formats temperatures as "2, 2.269".
func floatList(v []float64) string {
	var s []string
	for _, t := range v {
		s = append(s, strconv.FormatFloat(t, 'g', 4, 64))
	}
	return strings.Join(s, ", ")
}

// intList formats widths as "512/1024".
func intList(v []int) string {
	var s []string
	for _, t := range v {
		s = append(s, strconv.Itoa(t))
	}
	return strings.Join(s, "/")
}
