// The "toy" experiment: the talk's toy regression figure. Ensembles of wide
// MLPs (NTK parametrisation) are trained by full-batch gradient descent on
// the MSE loss with full Z2 augmentation (x → −x) on points of the even
// function cos(3x)·exp(−x²/4) that lie on one side of the origin only; the
// ground truth, a few members, the ensemble mean and the infinite-ensemble
// NTK mean μ_t are shown at chosen training steps, and the symmetry error
// |f(x) − f(−x)| is followed over training for members, ensembles and the
// NTK, with an unaugmented ensemble for comparison.
//
// results.json (besides "meta", see Run) holds:
//
//   - "params": the parameters of the scale (experiments/toy.yaml).
//   - "arch": the architecture spec trained and used for the NTK.
//   - "train": {"x", "y"}: the training inputs and targets (before
//     augmentation; the augmented set adds (−x, y) for every point).
//   - "grid": {"x", "truth"}: the evaluation grid (mirror symmetric:
//     x[m−1−i] = −x[i]) and the ground truth on it.
//   - "lr": the learning rate η; "lr_lambda_max_over_n": η·λ_max(Θ(X,X))/N
//     for the augmented training set (N = 2·train_size; discrete gradient
//     descent is stable below 2).
//   - "curve": one entry per recorded step with "step" and, all averaged
//     over the grid: "sym_member_da", "sym_ensemble_da", "sym_ntk_da",
//     "sym_ntk_da_continuous", "sym_member_noaug", "sym_ensemble_noaug",
//     "sym_ntk_noaug" (symmetry error mean_i |f(x_i) − f(−x_i)|; "member"
//     is the mean over members, "ensemble" the ensemble mean of all
//     members, "ntk" the infinite ensemble under discrete gradient descent,
//     "ntk_da_continuous" the continuous-time predict.Regressor mean);
//     "dist_ensemble_ntk_da", "dist_ensemble_ntk_noaug" (root mean square
//     over the grid of ensemble mean − NTK mean), "dist_ntk_discrete_continuous"
//     (same, NTK discrete vs continuous time, augmented); "rmse_member_da",
//     "rmse_ensemble_da", "rmse_ntk_da", "rmse_ensemble_noaug",
//     "rmse_ntk_noaug" (root mean square error against the ground truth on
//     the grid; member: mean over members).
//   - "sizes": the final step against ensemble size: "size", "subsets"
//     (member groups averaged), "sym_ensemble_da", "sym_ensemble_noaug",
//     "dist_ntk_da", "dist_ntk_noaug" (the noaug keys are absent for sizes
//     above noaug_members).
//   - "widths": the final step against width, at width_members members
//     ("width", "members", "sym_member_da", "sym_ensemble_da",
//     "dist_ntk_da", "rmse_ensemble_da"); the main width is included
//     (averaged over groups of width_members of its members).
//   - "ntk_sym_rel_max": max over the recorded steps of the NTK symmetry
//     error divided by max over steps of mean_i |μ_t(x_i)| (augmented,
//     discrete and continuous time: the larger); exact theory says 0.
//   - "panels": for each panel step, "step", "title", "ensemble_da",
//     "ntk_da", "ensemble_noaug", "ntk_noaug" and "members_da" (the first
//     `shown` members) on the grid.
//
// Tables: tables/curve.csv, sizes.csv, widths.csv, final.csv from the
// report, and tables/toy_predictions.csv with every panel's curves on the
// grid.

package toy

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "toy",
		Summary: "toy regression with Z2 augmentation: single MLPs vs ensemble mean vs NTK over training (the talk's toy figure)",
		Run:     runToy,
	})
}

type toyParams struct {
	TrainSize        int     `yaml:"train_size" json:"train_size"`
	NegativeFraction float64 `yaml:"negative_fraction" json:"negative_fraction"`
	Noise            float64 `yaml:"noise" json:"noise"`
	Grid             int     `yaml:"grid" json:"grid"`
	Seed             uint64  `yaml:"seed" json:"seed"`
	// Arch is a spec template: {w} is replaced by the width.
	Arch         string  `yaml:"arch" json:"arch"`
	Width        int     `yaml:"width" json:"width"`
	Members      int     `yaml:"members" json:"members"`
	NoAugMembers int     `yaml:"noaug_members" json:"noaug_members"`
	Steps        int     `yaml:"steps" json:"steps"`
	LR           float64 `yaml:"lr" json:"lr"`
	Panels       []int   `yaml:"panels" json:"panels"`
	Curve        []int   `yaml:"curve" json:"curve"`
	Sizes        []int   `yaml:"sizes" json:"sizes"`
	Shown        int     `yaml:"shown" json:"shown"`
	Widths       []int   `yaml:"widths" json:"widths"`
	WidthMembers int     `yaml:"width_members" json:"width_members"`
}

func (p *toyParams) check() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/toy.yaml: "+f, a...)
	}
	switch {
	case p.TrainSize < 1:
		return bad("train_size must be at least 1")
	case p.Grid < 3:
		return bad("grid must be at least 3 points")
	case p.Width < 1 || !strings.Contains(p.Arch, "{w}"):
		return bad("need width >= 1 and an arch template with {w}")
	case p.Members < 2 || p.NoAugMembers < 2:
		return bad("members and noaug_members must be at least 2")
	case p.Steps < 1 || !(p.LR > 0):
		return bad("need steps >= 1 and lr > 0")
	case len(p.Panels) == 0:
		return bad("panels: list the steps to draw")
	}
	for _, s := range append(slices.Clone(p.Panels), p.Curve...) {
		if s < 0 || s > p.Steps {
			return bad("step %d outside 0..steps (%d)", s, p.Steps)
		}
	}
	for _, w := range p.Widths {
		if w < 1 {
			return bad("widths: %d is not a width", w)
		}
	}
	if len(p.Widths) > 0 && (p.WidthMembers < 2 || p.WidthMembers > p.Members) {
		return bad("width_members must be in 2..members")
	}
	return nil
}

// toySnapshots are the members' predictions on the grid at the recorded
// steps, cached next to a run so that a finished run can be reused (train
// does not repeat the snapshots of finished members).
type toySnapshots struct {
	Steps []int
	Grid  []float32
	Preds [][][]float32 // [member][step index][grid point]
}

// toyTrain trains an ensemble with snapshots of every member's predictions
// on grid at the given steps, or reuses a finished one with its snapshots.
func toyTrain(ctx context.Context, env *experiment.Env, name string, cfg *train.Config, raw *data.Dataset, steps []int, grid []float32) ([][][]float32, error) {
	// The run directory of trainEnsemble.
	dir := filepath.Join(env.Out, "runs", name+"-"+cfg.Hash()[:10])
	cache := filepath.Join(dir, "toy-snapshots.gob")
	if b, err := os.ReadFile(cache); err == nil {
		var c toySnapshots
		if gob.NewDecoder(bytes.NewReader(b)).Decode(&c) == nil && slices.Equal(c.Steps, steps) && slices.Equal(c.Grid, grid) && len(c.Preds) == cfg.Members {
			env.Logf("%s: reusing %d members and their snapshots from %s", name, cfg.Members, dir)
			return c.Preds, nil
		}
	}
	// Members trained before without (these) snapshots cannot be reused.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	at := map[int]int{}
	for i, s := range steps {
		at[s] = i
	}
	preds := make([][][]float32, cfg.Members)
	for m := range preds {
		preds[m] = make([][]float32, len(steps))
	}
	nets := make([]*nn.Network[float32], cfg.Members)
	opts := train.Options{
		Snapshots: steps,
		Snapshot: func(m, step int, net *nn.Network[float32]) error {
			// Evaluate a copy: the training network must not be touched.
			if nets[m] == nil {
				nets[m] = nn.New[float32](net.Arch)
			}
			copy(nets[m].Params, net.Params)
			preds[m][at[step]] = slices.Clone(nets[m].Forward(grid, len(grid)))
			return nil
		},
	}
	if _, err := experiment.TrainEnsemble(ctx, env, name, cfg, raw, opts); err != nil {
		return nil, err
	}
	for m := range preds {
		for i, p := range preds[m] {
			if p == nil {
				return nil, fmt.Errorf("%s: member %d has no snapshot at step %d (remove %s and run again)", name, m, steps[i], dir)
			}
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(toySnapshots{Steps: steps, Grid: grid, Preds: preds}); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(cache, buf.Bytes(), atomicfile.DefaultPerm); err != nil {
		return nil, err
	}
	return preds, nil
}

// toyNTK returns the infinite-ensemble mean on the grid at the given steps
// for the training set (x, y) (N points): under discrete full-batch gradient
// descent with learning rate lr on L = 1/(2N) Σ (f − y)², the exact
// infinite-width dynamics f ← f − (lr/N) Θ(·,X)(f(X) − Y) from f = 0, and in
// continuous time from predict.Regressor. It also returns lr·λ_max/N.
func toyNTK(ctx context.Context, arch *nn.Arch, x, y, grid []float64, steps []int, lr float64) (disc, cont [][]float64, ratio float64, err error) {
	n, m := len(x), len(grid)
	kt, err := arch.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, nil, 0, err
	}
	kg, err := arch.Kernel(ctx, grid, m, x, n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, nil, 0, err
	}
	a := slices.Clone(kt.Theta)
	vals := make([]float64, n)
	if err := linalg.EigSym(n, a, vals); err != nil {
		return nil, nil, 0, err
	}
	ratio = lr * vals[n-1] / float64(n)
	// Discrete time.
	at := map[int]int{}
	last := 0
	for i, s := range steps {
		at[s] = i
		last = max(last, s)
	}
	disc = make([][]float64, len(steps))
	fx := make([]float64, n)
	fg := make([]float64, m)
	r := make([]float64, n)
	c := lr / float64(n)
	for s := 0; ; s++ {
		if i, ok := at[s]; ok {
			disc[i] = slices.Clone(fg)
		}
		if s == last {
			break
		}
		for i := range r {
			r[i] = fx[i] - y[i]
		}
		for i := 0; i < n; i++ {
			fx[i] -= c * toyDot(kt.Theta[i*n:(i+1)*n], r)
		}
		for i := 0; i < m; i++ {
			fg[i] -= c * toyDot(kg.Theta[i*n:(i+1)*n], r)
		}
	}
	// Continuous time.
	pred, err := predict.NewRegressor(n, kt.Theta, y, 1, predict.Options{LearningRate: lr})
	if err != nil {
		return nil, nil, 0, err
	}
	times := make([]float64, len(steps))
	for i, s := range steps {
		times[i] = float64(s)
	}
	mu, err := pred.Mean(kg.Theta, m, times)
	if err != nil {
		return nil, nil, 0, err
	}
	cont = make([][]float64, len(steps))
	for i := range steps {
		cont[i] = mu[i*m : (i+1)*m]
	}
	return disc, cont, ratio, nil
}

func toyDot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// symErr is the symmetry error mean_i |f(x_i) − f(−x_i)| on a mirror
// symmetric grid (x[m−1−i] = −x[i]).
func toySym(f []float64) float64 {
	m := len(f)
	var s float64
	for i, v := range f {
		s += math.Abs(v - f[m-1-i])
	}
	return s / float64(m)
}

// rmsDist is the root mean square of a − b.
func toyRMS(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += (v - b[i]) * (v - b[i])
	}
	return math.Sqrt(s / float64(len(a)))
}

func toyMeanAbs(f []float64) float64 {
	var s float64
	for _, v := range f {
		s += math.Abs(v)
	}
	return s / float64(len(f))
}

// ensMean averages members idx at step index s.
func toyEnsMean(preds [][][]float32, idx []int, s int) []float64 {
	out := make([]float64, len(preds[idx[0]][s]))
	for _, m := range idx {
		for i, v := range preds[m][s] {
			out[i] += float64(v)
		}
	}
	for i := range out {
		out[i] /= float64(len(idx))
	}
	return out
}

func toyMember(preds [][][]float32, m, s int) []float64 {
	out := make([]float64, len(preds[m][s]))
	for i, v := range preds[m][s] {
		out[i] = float64(v)
	}
	return out
}

type toyCurvePoint struct {
	Step              int     `json:"step"`
	SymMemberDA       float64 `json:"sym_member_da"`
	SymEnsembleDA     float64 `json:"sym_ensemble_da"`
	SymNTKDA          float64 `json:"sym_ntk_da"`
	SymNTKDACont      float64 `json:"sym_ntk_da_continuous"`
	SymMemberNoAug    float64 `json:"sym_member_noaug"`
	SymEnsembleNoAug  float64 `json:"sym_ensemble_noaug"`
	SymNTKNoAug       float64 `json:"sym_ntk_noaug"`
	DistEnsNTKDA      float64 `json:"dist_ensemble_ntk_da"`
	DistEnsNTKNoAug   float64 `json:"dist_ensemble_ntk_noaug"`
	DistNTKDiscCont   float64 `json:"dist_ntk_discrete_continuous"`
	RMSEMemberDA      float64 `json:"rmse_member_da"`
	RMSEEnsembleDA    float64 `json:"rmse_ensemble_da"`
	RMSENTKDA         float64 `json:"rmse_ntk_da"`
	RMSEEnsembleNoAug float64 `json:"rmse_ensemble_noaug"`
	RMSENTKNoAug      float64 `json:"rmse_ntk_noaug"`
}

type toySizePoint struct {
	Size             int      `json:"size"`
	Subsets          int      `json:"subsets"`
	SymEnsembleDA    float64  `json:"sym_ensemble_da"`
	SymEnsembleNoAug *float64 `json:"sym_ensemble_noaug,omitempty"` // absent above noaug_members
	DistNTKDA        float64  `json:"dist_ntk_da"`
	DistNTKNoAug     *float64 `json:"dist_ntk_noaug,omitempty"`
}

type toyWidthPoint struct {
	Width          int     `json:"width"`
	Members        int     `json:"members"`
	SymMemberDA    float64 `json:"sym_member_da"`
	SymEnsembleDA  float64 `json:"sym_ensemble_da"`
	DistNTKDA      float64 `json:"dist_ntk_da"`
	RMSEEnsembleDA float64 `json:"rmse_ensemble_da"`
}

type toyPanel struct {
	Step          int         `json:"step"`
	Title         string      `json:"title"`
	EnsembleDA    []float64   `json:"ensemble_da"`
	NTKDA         []float64   `json:"ntk_da"`
	EnsembleNoAug []float64   `json:"ensemble_noaug"`
	NTKNoAug      []float64   `json:"ntk_noaug"`
	MembersDA     [][]float64 `json:"members_da"`
}

func toyPanelTitle(step int) string {
	switch step {
	case 0:
		return "Initialization"
	case 1:
		return "After 1 Training Step"
	}
	return fmt.Sprintf("After %d Training Steps", step)
}

// avgSubsets averages f over up to 8 member groups of size k of n members.
func toyAvgSubsets(n, k int, seed uint64, f func(idx []int) float64) (float64, int) {
	subs := metrics.Subsets(n, k, 8, seed)
	var s float64
	for _, idx := range subs {
		s += f(idx)
	}
	return s / float64(len(subs)), len(subs)
}

func runToy(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p toyParams
	if err := experiment.DecodeParams("toy", node, &p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	tr, err := data.ToyRegression(p.TrainSize, p.Seed, data.ToyOptions{Noise: p.Noise, NegativeFraction: p.NegativeFraction})
	if err != nil {
		return nil, err
	}
	gd, err := data.ToyGrid(p.Grid)
	if err != nil {
		return nil, err
	}
	gridX := experiment.ToF64(gd.X)
	truth := experiment.ToF64(gd.Y)
	spec := experiment.ExpandSpec(p.Arch, p.Width)
	arch, err := nn.Parse(spec, []int{1}, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("experiments/toy.yaml: arch: %w", err)
	}
	// Recorded steps: the curve, the panels and the last step.
	steps := append(append(slices.Clone(p.Curve), p.Panels...), 0, p.Steps)
	slices.Sort(steps)
	steps = slices.Compact(steps)
	last := len(steps) - 1
	stepAt := map[int]int{}
	for i, s := range steps {
		stepAt[s] = i
	}

	model := func(width, members int) experiment.ModelParams {
		return experiment.ModelParams{Arch: experiment.ExpandSpec(p.Arch, width), Param: "ntk", Members: members, Steps: p.Steps, BatchSize: 0,
			Optimizer: train.OptimizerConfig{Name: "gd", LR: p.LR}, Loss: "mse"}
	}
	label := fmt.Sprintf("toy(n=%d,neg=%g,noise=%g)", p.TrainSize, p.NegativeFraction, p.Noise)
	cfgDA := model(p.Width, p.Members).Config(label, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "full", Group: "z2"})
	cfgNo := model(p.Width, p.NoAugMembers).Config(label, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "none"})
	predDA, err := toyTrain(ctx, env, "da", cfgDA, tr, steps, gd.X)
	if err != nil {
		return nil, err
	}
	predNo, err := toyTrain(ctx, env, "noaug", cfgNo, tr, steps, gd.X)
	if err != nil {
		return nil, err
	}

	// The NTK means, with and without augmentation (the augmented set in
	// train's orbit order: sample i, then its mirror image).
	n := tr.Len()
	xa := make([]float64, 2*n)
	ya := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		xa[2*i], xa[2*i+1] = float64(tr.X[i]), -float64(tr.X[i])
		ya[2*i], ya[2*i+1] = float64(tr.Y[i]), float64(tr.Y[i])
	}
	env.Logf("NTK means of %s on %d (augmented) and %d training points", spec, 2*n, n)
	ntkDA, contDA, ratioDA, err := toyNTK(ctx, arch, xa, ya, gridX, steps, p.LR)
	if err != nil {
		return nil, err
	}
	ntkNo, _, ratioNo, err := toyNTK(ctx, arch, experiment.ToF64(tr.X), experiment.ToF64(tr.Y), gridX, steps, p.LR)
	if err != nil {
		return nil, err
	}

	// Curves over training.
	allDA, allNo := experiment.Indices(p.Members), experiment.Indices(p.NoAugMembers)
	curve := make([]toyCurvePoint, len(steps))
	var maxNTKSym, maxNTKAbs float64
	for s, step := range steps {
		c := &curve[s]
		c.Step = step
		eDA, eNo := toyEnsMean(predDA, allDA, s), toyEnsMean(predNo, allNo, s)
		for mb := 0; mb < p.Members; mb++ {
			f := toyMember(predDA, mb, s)
			c.SymMemberDA += toySym(f) / float64(p.Members)
			c.RMSEMemberDA += toyRMS(f, truth) / float64(p.Members)
		}
		for mb := 0; mb < p.NoAugMembers; mb++ {
			c.SymMemberNoAug += toySym(toyMember(predNo, mb, s)) / float64(p.NoAugMembers)
		}
		c.SymEnsembleDA, c.SymEnsembleNoAug = toySym(eDA), toySym(eNo)
		c.SymNTKDA, c.SymNTKDACont, c.SymNTKNoAug = toySym(ntkDA[s]), toySym(contDA[s]), toySym(ntkNo[s])
		c.DistEnsNTKDA, c.DistEnsNTKNoAug = toyRMS(eDA, ntkDA[s]), toyRMS(eNo, ntkNo[s])
		c.DistNTKDiscCont = toyRMS(ntkDA[s], contDA[s])
		c.RMSEEnsembleDA, c.RMSENTKDA = toyRMS(eDA, truth), toyRMS(ntkDA[s], truth)
		c.RMSEEnsembleNoAug, c.RMSENTKNoAug = toyRMS(eNo, truth), toyRMS(ntkNo[s], truth)
		maxNTKSym = max(maxNTKSym, c.SymNTKDA, c.SymNTKDACont)
		maxNTKAbs = max(maxNTKAbs, toyMeanAbs(ntkDA[s]), toyMeanAbs(contDA[s]))
	}
	ntkRel := maxNTKSym / maxNTKAbs

	// Ensemble size at the last step.
	var sizes []toySizePoint
	for _, k := range p.Sizes {
		if k < 1 || k > p.Members {
			continue
		}
		sp := toySizePoint{Size: k}
		sp.SymEnsembleDA, sp.Subsets = toyAvgSubsets(p.Members, k, p.Seed+uint64(k), func(idx []int) float64 { return toySym(toyEnsMean(predDA, idx, last)) })
		sp.DistNTKDA, _ = toyAvgSubsets(p.Members, k, p.Seed+uint64(k), func(idx []int) float64 { return toyRMS(toyEnsMean(predDA, idx, last), ntkDA[last]) })
		if k <= p.NoAugMembers {
			a, _ := toyAvgSubsets(p.NoAugMembers, k, p.Seed+uint64(k), func(idx []int) float64 { return toySym(toyEnsMean(predNo, idx, last)) })
			b, _ := toyAvgSubsets(p.NoAugMembers, k, p.Seed+uint64(k), func(idx []int) float64 { return toyRMS(toyEnsMean(predNo, idx, last), ntkNo[last]) })
			sp.SymEnsembleNoAug, sp.DistNTKNoAug = &a, &b
		}
		sizes = append(sizes, sp)
	}

	// Width study at the last step, width_members members each.
	var widths []toyWidthPoint
	widthStats := func(w int, preds [][][]float32, idxs [][]int) toyWidthPoint {
		wp := toyWidthPoint{Width: w, Members: len(idxs[0])}
		for _, idx := range idxs {
			e := toyEnsMean(preds, idx, last)
			wp.SymEnsembleDA += toySym(e) / float64(len(idxs))
			wp.DistNTKDA += toyRMS(e, ntkDA[last]) / float64(len(idxs))
			wp.RMSEEnsembleDA += toyRMS(e, truth) / float64(len(idxs))
			for _, mb := range idx {
				wp.SymMemberDA += toySym(toyMember(preds, mb, last)) / float64(len(idx)*len(idxs))
			}
		}
		return wp
	}
	if len(p.Widths) > 0 {
		ws := append(slices.Clone(p.Widths), p.Width)
		slices.Sort(ws)
		ws = slices.Compact(ws)
		for _, w := range ws {
			if w == p.Width {
				widths = append(widths, widthStats(w, predDA, metrics.Subsets(p.Members, p.WidthMembers, 8, p.Seed+99)))
				continue
			}
			cfg := model(w, p.WidthMembers).Config(label, "", p.TrainSize, p.Seed, train.AugConfig{Mode: "full", Group: "z2"})
			pw, err := toyTrain(ctx, env, fmt.Sprintf("da-w%d", w), cfg, tr, []int{p.Steps}, gd.X)
			if err != nil {
				return nil, err
			}
			// Re-index: only the last step was recorded.
			full := make([][][]float32, len(pw))
			for mb := range pw {
				full[mb] = make([][]float32, len(steps))
				full[mb][last] = pw[mb][0]
			}
			widths = append(widths, widthStats(w, full, [][]int{experiment.Indices(p.WidthMembers)}))
		}
	}

	// Panels.
	shown := min(p.Shown, p.Members)
	var panels []toyPanel
	for _, step := range p.Panels {
		s := stepAt[step]
		pn := toyPanel{Step: step, Title: toyPanelTitle(step), EnsembleDA: toyEnsMean(predDA, allDA, s), NTKDA: ntkDA[s],
			EnsembleNoAug: toyEnsMean(predNo, allNo, s), NTKNoAug: ntkNo[s]}
		for mb := 0; mb < shown; mb++ {
			pn.MembersDA = append(pn.MembersDA, toyMember(predDA, mb, s))
		}
		panels = append(panels, pn)
	}
	if err := writeToyPredictions(env.Out, gridX, truth, panels); err != nil {
		return nil, err
	}

	res := map[string]any{
		"params":               p,
		"arch":                 spec,
		"train":                map[string]any{"x": experiment.ToF64(tr.X), "y": experiment.ToF64(tr.Y)},
		"grid":                 map[string]any{"x": gridX, "truth": truth},
		"lr":                   p.LR,
		"lr_lambda_max_over_n": ratioDA,
		"curve":                curve,
		"sizes":                sizes,
		"widths":               widths,
		"ntk_sym_rel_max":      ntkRel,
		"panels":               panels,
	}
	rep := toyReport(&p, spec, tr, gridX, truth, panels, curve, sizes, widths, ratioDA, ratioNo, ntkRel)
	fin := curve[last]
	var sum strings.Builder
	fmt.Fprintf(&sum, "\ntoy: %s, %d training points on one side, full Z2 augmentation, GD lr %g, %d steps\n", spec, n, p.LR, p.Steps)
	fmt.Fprintf(&sum, "%-34s %-14s %-14s\n", "at the last step", "symmetry err", "RMSE vs truth")
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "single member + DA (mean)", fin.SymMemberDA, fin.RMSEMemberDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", fmt.Sprintf("ensemble of %d + DA", p.Members), fin.SymEnsembleDA, fin.RMSEEnsembleDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "NTK + DA (infinite ensemble)", fin.SymNTKDA, fin.RMSENTKDA)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), fin.SymEnsembleNoAug, fin.RMSEEnsembleNoAug)
	fmt.Fprintf(&sum, "%-34s %-14.3g %-14.3g\n", "NTK, no DA", fin.SymNTKNoAug, fin.RMSENTKNoAug)
	fmt.Fprintf(&sum, "NTK + DA symmetry error relative to its scale, max over steps: %.2g; ensemble − NTK distance (RMS): %.3g\n", ntkRel, fin.DistEnsNTKDA)
	return &experiment.Result{JSON: res, Report: rep, Summary: sum.String()}, nil
}

// writeToyPredictions writes tables/toy_predictions.csv: the ground truth
// and every panel's curves on the grid.
func writeToyPredictions(out string, x, truth []float64, panels []toyPanel) error {
	var b strings.Builder
	b.WriteString("x,truth")
	for _, pn := range panels {
		fmt.Fprintf(&b, ",ensemble_da_t%d,ntk_da_t%d,ensemble_noaug_t%d,ntk_noaug_t%d", pn.Step, pn.Step, pn.Step, pn.Step)
		for j := range pn.MembersDA {
			fmt.Fprintf(&b, ",member%d_da_t%d", j, pn.Step)
		}
	}
	b.WriteString("\n")
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for i := range x {
		b.WriteString(g(x[i]) + "," + g(truth[i]))
		for _, pn := range panels {
			b.WriteString("," + g(pn.EnsembleDA[i]) + "," + g(pn.NTKDA[i]) + "," + g(pn.EnsembleNoAug[i]) + "," + g(pn.NTKNoAug[i]))
			for _, mf := range pn.MembersDA {
				b.WriteString("," + g(mf[i]))
			}
		}
		b.WriteString("\n")
	}
	if err := os.MkdirAll(filepath.Join(out, "tables"), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(out, "tables", "toy_predictions.csv"), []byte(b.String()), atomicfile.DefaultPerm)
}

// isolated returns x, y with NaN between the points, so that a line series
// draws them as isolated markers.
func toyIsolated(x, y []float64) ([]float64, []float64) {
	var ox, oy []float64
	for i := range x {
		if i > 0 {
			ox, oy = append(ox, math.NaN()), append(oy, math.NaN())
		}
		ox, oy = append(ox, x[i]), append(oy, y[i])
	}
	return ox, oy
}

func toyReport(p *toyParams, spec string, tr *data.Dataset, x, truth []float64, panels []toyPanel, curve []toyCurvePoint, sizes []toySizePoint, widths []toyWidthPoint, ratioDA, ratioNo, ntkRel float64) *report.Report {
	ylo, yhi := -2.0, 2.0
	tx, ty := toyIsolated(experiment.ToF64(tr.X), experiment.ToF64(tr.Y))
	neg := experiment.ToF64(tr.X)
	for i := range neg {
		neg[i] = -neg[i]
	}
	mx, my := toyIsolated(neg, experiment.ToF64(tr.Y))
	var figs []report.Figure
	for _, pn := range panels {
		pl := &report.Plot{Title: pn.Title, XLabel: "x", YLabel: "f(x)", YMin: &ylo, YMax: &yhi}
		pl.Series = append(pl.Series, report.Series{Name: "Ground Truth", X: x, Y: truth, Color: 7})
		for j, mf := range pn.MembersDA {
			s := report.Series{X: x, Y: mf, Dashed: true, Color: 6}
			if j == 0 {
				s.Name = fmt.Sprintf("MLP (%d of %d members)", len(pn.MembersDA), p.Members)
			}
			pl.Series = append(pl.Series, s)
		}
		pl.Series = append(pl.Series,
			report.Series{Name: fmt.Sprintf("Ensemble Mean (%d)", p.Members), X: x, Y: pn.EnsembleDA, Color: 1},
			report.Series{Name: "NTK mean μ_t", X: x, Y: pn.NTKDA, Dashed: true, Color: 4},
			report.Series{Name: "training points", X: tx, Y: ty, Points: true, Color: 3},
			report.Series{Name: "mirror images (augmentation)", X: mx, Y: my, Points: true, Color: 5},
		)
		caption := pn.Title + "."
		if len(figs) == 0 {
			caption = pn.Title + ", full Z2 augmentation: the networks are trained on the training points (green) and their mirror images (−x, y) (purple)."
		}
		figs = append(figs, report.Figure{Name: fmt.Sprintf("toy_step%d", pn.Step), Caption: caption, Plot: pl})
	}
	// The unaugmented ensemble at the last panel.
	lp := panels[len(panels)-1]
	noPlot := &report.Plot{Title: lp.Title + ", no augmentation", XLabel: "x", YLabel: "f(x)", YMin: &ylo, YMax: &yhi,
		Series: []report.Series{
			{Name: "Ground Truth", X: x, Y: truth, Color: 7},
			{Name: fmt.Sprintf("Ensemble Mean, no DA (%d)", p.NoAugMembers), X: x, Y: lp.EnsembleNoAug, Color: 2},
			{Name: "NTK mean, no DA", X: x, Y: lp.NTKNoAug, Dashed: true, Color: 4},
			{Name: "Ensemble Mean + DA", X: x, Y: lp.EnsembleDA, Color: 1},
			{Name: "training points", X: tx, Y: ty, Points: true, Color: 3},
		}}
	figs = append(figs, report.Figure{Name: "toy_noaug", Caption: "Without augmentation the ensemble (and the NTK) fit the training side and are not symmetric on the other; the augmented ensemble mean is shown for comparison.", Plot: noPlot})

	// Curves over steps (log axes; step 0 cannot be shown).
	var st []float64
	col := func(f func(c toyCurvePoint) float64) []float64 {
		out := make([]float64, len(curve))
		for i, c := range curve {
			out[i] = f(c)
		}
		return out
	}
	for _, c := range curve {
		st = append(st, float64(c.Step))
	}
	symPlot := &report.Plot{Title: "Symmetry error over training", XLabel: "training step (log; initialisation not shown)", YLabel: "mean |f(x) − f(−x)| on the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: "single member + DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.SymMemberDA }), Points: true, Color: 6},
			{Name: fmt.Sprintf("ensemble of %d + DA", p.Members), X: st, Y: col(func(c toyCurvePoint) float64 { return c.SymEnsembleDA }), Points: true, Color: 1},
			{Name: "NTK + DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.SymNTKDA }), Points: true, Color: 4},
			{Name: "single member, no DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.SymMemberNoAug }), Dashed: true, Color: 5},
			{Name: fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), X: st, Y: col(func(c toyCurvePoint) float64 { return c.SymEnsembleNoAug }), Dashed: true, Color: 2},
		}}
	distPlot := &report.Plot{Title: "Ensemble mean vs NTK mean", XLabel: "training step (log)", YLabel: "RMS of ensemble mean − μ_t on the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: fmt.Sprintf("+ DA, %d members", p.Members), X: st, Y: col(func(c toyCurvePoint) float64 { return c.DistEnsNTKDA }), Points: true, Color: 1},
			{Name: fmt.Sprintf("no DA, %d members", p.NoAugMembers), X: st, Y: col(func(c toyCurvePoint) float64 { return c.DistEnsNTKNoAug }), Points: true, Dashed: true, Color: 2},
			{Name: "NTK: discrete vs continuous time", X: st, Y: col(func(c toyCurvePoint) float64 { return c.DistNTKDiscCont }), Points: true, Dashed: true, Color: 7},
		}}
	rmsePlot := &report.Plot{Title: "Error against the ground truth", XLabel: "training step (log)", YLabel: "RMSE on the grid [−3, 3]", LogX: true,
		Series: []report.Series{
			{Name: "single member + DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.RMSEMemberDA }), Points: true, Color: 6},
			{Name: "ensemble + DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.RMSEEnsembleDA }), Points: true, Color: 1},
			{Name: "NTK + DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.RMSENTKDA }), Dashed: true, Color: 4},
			{Name: "ensemble, no DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.RMSEEnsembleNoAug }), Points: true, Color: 2},
			{Name: "NTK, no DA", X: st, Y: col(func(c toyCurvePoint) float64 { return c.RMSENTKNoAug }), Dashed: true, Color: 5},
		}}

	// Ensemble size.
	var sx, sDA, sNo, dDA, dNo, guide []float64
	for _, s := range sizes {
		sx = append(sx, float64(s.Size))
		sDA = append(sDA, s.SymEnsembleDA)
		sNo = append(sNo, toyOpt(s.SymEnsembleNoAug))
		dDA = append(dDA, s.DistNTKDA)
		dNo = append(dNo, toyOpt(s.DistNTKNoAug))
	}
	if len(sizes) > 0 {
		for _, s := range sizes {
			guide = append(guide, sizes[0].SymEnsembleDA*math.Sqrt(float64(sizes[0].Size)/float64(s.Size)))
		}
	}
	sizePlot := &report.Plot{Title: fmt.Sprintf("Ensemble size after %d steps", p.Steps), XLabel: "ensemble size M", YLabel: "mean over the grid", LogX: true, LogY: true,
		Series: []report.Series{
			{Name: "symmetry error + DA", X: sx, Y: sDA, Points: true, Color: 1},
			{Name: "symmetry error, no DA", X: sx, Y: sNo, Points: true, Color: 2},
			{Name: "RMS distance to NTK + DA", X: sx, Y: dDA, Points: true, Dashed: true, Color: 3},
			{Name: "RMS distance to NTK, no DA", X: sx, Y: dNo, Points: true, Dashed: true, Color: 5},
			{Name: "∝ 1/√M", X: sx, Y: guide, Dashed: true, Color: 7},
		}}
	fin := curve[len(curve)-1]

	// Tables.
	ct := report.Table{Name: "curve", Caption: "Over training: symmetry error mean |f(x) − f(−x)| on the grid (member: mean over members), RMS distance of ensemble mean and NTK mean, and RMSE against the ground truth.",
		Columns: []string{"step", "sym member+DA", "sym ensemble+DA", "sym NTK+DA", "sym NTK+DA (cont.)", "sym member no DA", "sym ensemble no DA", "sym NTK no DA", "ens−NTK +DA", "ens−NTK no DA", "NTK disc−cont", "RMSE ens+DA", "RMSE NTK+DA", "RMSE ens no DA"}}
	for _, c := range curve {
		ct.Rows = append(ct.Rows, []string{strconv.Itoa(c.Step), experiment.G3(c.SymMemberDA), experiment.G3(c.SymEnsembleDA), experiment.G3(c.SymNTKDA), experiment.G3(c.SymNTKDACont), experiment.G3(c.SymMemberNoAug), experiment.G3(c.SymEnsembleNoAug), experiment.G3(c.SymNTKNoAug),
			experiment.G3(c.DistEnsNTKDA), experiment.G3(c.DistEnsNTKNoAug), experiment.G3(c.DistNTKDiscCont), experiment.G3(c.RMSEEnsembleDA), experiment.G3(c.RMSENTKDA), experiment.G3(c.RMSEEnsembleNoAug)})
	}
	ft := report.Table{Name: "final", Caption: fmt.Sprintf("After %d steps.", p.Steps), Columns: []string{"model", "symmetry error", "RMSE vs ground truth", "RMS distance to its NTK mean"}}
	ft.Rows = [][]string{
		{"single member + DA (mean over members)", experiment.G3(fin.SymMemberDA), experiment.G3(fin.RMSEMemberDA), "—"},
		{fmt.Sprintf("ensemble of %d + DA", p.Members), experiment.G3(fin.SymEnsembleDA), experiment.G3(fin.RMSEEnsembleDA), experiment.G3(fin.DistEnsNTKDA)},
		{"NTK + DA (infinite ensemble)", experiment.G3(fin.SymNTKDA), experiment.G3(fin.RMSENTKDA), "0"},
		{"single member, no DA (mean over members)", experiment.G3(fin.SymMemberNoAug), "—", "—"},
		{fmt.Sprintf("ensemble of %d, no DA", p.NoAugMembers), experiment.G3(fin.SymEnsembleNoAug), experiment.G3(fin.RMSEEnsembleNoAug), experiment.G3(fin.DistEnsNTKNoAug)},
		{"NTK, no DA", experiment.G3(fin.SymNTKNoAug), experiment.G3(fin.RMSENTKNoAug), "0"},
	}
	szt := report.Table{Name: "sizes", Caption: fmt.Sprintf("After %d steps, against ensemble size (averaged over up to 8 groups of members).", p.Steps), Columns: []string{"M", "groups", "sym ensemble+DA", "sym ensemble no DA", "ens−NTK +DA", "ens−NTK no DA"}}
	for _, s := range sizes {
		szt.Rows = append(szt.Rows, []string{strconv.Itoa(s.Size), strconv.Itoa(s.Subsets), experiment.G3(s.SymEnsembleDA), experiment.G3(toyOpt(s.SymEnsembleNoAug)), experiment.G3(s.DistNTKDA), experiment.G3(toyOpt(s.DistNTKNoAug))})
	}

	intro := fmt.Sprintf("The toy example of the talk. Ground truth cos(3x)·exp(−x²/4), even in x. %d training points, %s; an ensemble of %d MLPs %s (NTK parametrisation) trained by full-batch gradient descent (learning rate %g, MSE loss 1/(2N) Σ (f − y)², %d steps) with full Z2 augmentation, i.e. on the %d points and their mirror images. "+
		"The NTK mean μ_t is the infinite ensemble of infinitely wide networks of the same architecture after the same number t of gradient-descent steps: the exact infinite-width dynamics under discrete gradient descent, f ← f − (η/N) Θ(·, X)(f(X) − Y) from f = 0 (η λ_max/N = %.2f for the augmented set, %.2f without). "+
		"The theory (Gerken & Kessel 2024) says μ_t is exactly symmetric for every t, on and off the data, and that finite augmented ensembles are approximately symmetric, more so than their members, and approach μ_t as they grow. An ensemble of %d trained without augmentation is the comparison.",
		p.TrainSize, toySides(p.NegativeFraction), p.Members, spec, p.LR, p.Steps, p.TrainSize, ratioDA, ratioNo, p.NoAugMembers)
	measured := fmt.Sprintf("Measured after %d steps: symmetry error %.3g for single augmented members, %.3g for their ensemble of %d (%.1f× smaller), %.2g for the NTK; without augmentation %.3g for the ensemble. "+
		"The largest NTK symmetry error over all recorded steps, relative to the size of μ_t, is %.1e (discrete and continuous time): exact symmetry up to round-off. "+
		"The ensemble mean is %.3g (RMS) from μ_t at the last step.",
		p.Steps, fin.SymMemberDA, fin.SymEnsembleDA, p.Members, fin.SymMemberDA/fin.SymEnsembleDA, fin.SymNTKDA, fin.SymEnsembleNoAug, ntkRel, fin.DistEnsNTKDA)
	if len(sizes) > 1 {
		a, b := sizes[0], sizes[len(sizes)-1]
		measured += fmt.Sprintf(" From M = %d to M = %d the augmented ensemble's symmetry error falls from %.3g to %.3g (1/√M would give %.3g) and its distance to μ_t from %.3g to %.3g.",
			a.Size, b.Size, a.SymEnsembleDA, b.SymEnsembleDA, a.SymEnsembleDA*math.Sqrt(float64(a.Size)/float64(b.Size)), a.DistNTKDA, b.DistNTKDA)
	}
	timeNote := fmt.Sprintf("The predict.Regressor mean in continuous time (exponent −η t Θ/N) is also computed; it differs from the discrete-step μ_t mostly in the first steps (largest RMS difference %.3g) and is just as symmetric. Discrete gradient descent is what the networks do, so the panels show the discrete μ_t.", toyMax(curve, func(c toyCurvePoint) float64 { return c.DistNTKDiscCont }))
	first := curve[0]
	symText := fmt.Sprintf("The symmetry error of single augmented members falls during training, from %.3g at initialisation to %.3g after %d steps, but stays %.1f× above that of their ensemble mean (%.3g); the NTK mean is symmetric to round-off at every step (points at 1e-15 and below; the exact zero at initialisation is not drawn on the log axis). Without augmentation neither members (%.3g) nor the ensemble (%.3g) become symmetric.",
		first.SymMemberDA, fin.SymMemberDA, p.Steps, fin.SymMemberDA/fin.SymEnsembleDA, fin.SymEnsembleDA, fin.SymMemberNoAug, fin.SymEnsembleNoAug)
	sizeText := "Finite augmented ensembles are only approximately symmetric; the symmetry error of the ensemble mean falls with the number of members M (a mean of M independent, individually asymmetric members; the distribution of trained networks is itself symmetric at any width, so the limit M → ∞ is exactly symmetric)."
	if len(sizes) > 1 {
		a, b := sizes[0], sizes[len(sizes)-1]
		sizeText += fmt.Sprintf(" Measured: from M = %d to %d the symmetry error falls %.1f× (1/√M: %.1f×), the RMS distance to μ_t %.2f×: ", a.Size, b.Size, a.SymEnsembleDA/b.SymEnsembleDA, math.Sqrt(float64(b.Size)/float64(a.Size)), a.DistNTKDA/b.DistNTKDA)
		if a.DistNTKDA/b.DistNTKDA < 1.5 {
			sizeText += "the distance hardly shrinks, because at this width it is dominated by the systematic finite-width deviation of the trained networks from the kernel dynamics, which averaging does not remove (see Width)."
		} else {
			sizeText += "averaging removes the members' fluctuations around μ_t."
		}
	}
	sections := []report.Section{
		{Heading: "Summary", Text: measured, Tables: []report.Table{ft}},
		{Heading: "Training dynamics", Text: fmt.Sprintf("Ground truth, %d members (dashed), the ensemble mean and the NTK mean at the chosen steps, as in the talk's figure. ", min(p.Shown, p.Members)) + timeNote, Figures: figs},
		{Heading: "Symmetry over training", Text: symText,
			Figures: []report.Figure{
				{Name: "toy_symmetry", Caption: "Symmetry error mean_x |f(x) − f(−x)| on the grid over training.", Plot: symPlot},
				{Name: "toy_distance", Caption: "RMS distance between the ensemble mean and the NTK mean μ_t at the same step.", Plot: distPlot},
				{Name: "toy_rmse", Caption: "RMSE against the ground truth on the whole grid (both sides).", Plot: rmsePlot},
			},
			Tables: []report.Table{ct}},
		{Heading: "Ensemble size", Text: sizeText,
			Figures: []report.Figure{{Name: "toy_sizes", Caption: "Symmetry error and distance to the NTK mean after the last step against ensemble size.", Plot: sizePlot}},
			Tables:  []report.Table{szt}},
	}
	if len(widths) > 0 {
		var wx, wd, ws, wm []float64
		wt := report.Table{Name: "widths", Caption: fmt.Sprintf("After %d steps, against width, at %d members per ensemble (the main width averaged over groups of its members).", p.Steps, p.WidthMembers),
			Columns: []string{"width", "members", "sym member+DA", "sym ensemble+DA", "ens−NTK +DA", "RMSE ensemble+DA"}}
		for _, w := range widths {
			wx = append(wx, float64(w.Width))
			wd = append(wd, w.DistNTKDA)
			ws = append(ws, w.SymEnsembleDA)
			wm = append(wm, w.SymMemberDA)
			wt.Rows = append(wt.Rows, []string{strconv.Itoa(w.Width), strconv.Itoa(w.Members), experiment.G3(w.SymMemberDA), experiment.G3(w.SymEnsembleDA), experiment.G3(w.DistNTKDA), experiment.G3(w.RMSEEnsembleDA)})
		}
		widthText := "At a fixed number of members the distance between the ensemble mean and μ_t combines the ensemble's sampling noise (which does not shrink with width) and the systematic deviation of finite-width training from the infinite-width kernel dynamics (which does, as the NTK stops moving during training)."
		var dl, sl []string
		for _, w := range widths {
			dl = append(dl, fmt.Sprintf("%d: %.3g", w.Width, w.DistNTKDA))
			sl = append(sl, fmt.Sprintf("%d: %.3g", w.Width, w.SymMemberDA))
		}
		widthText += fmt.Sprintf(" Measured distance by width: %s; single members' symmetry error by width: %s.", strings.Join(dl, ", "), strings.Join(sl, ", "))
		wPlot := &report.Plot{Title: fmt.Sprintf("Width, %d members per ensemble", p.WidthMembers), XLabel: "width (hidden units per layer)", YLabel: "mean over the grid", LogX: true, LogY: true,
			Series: []report.Series{
				{Name: "symmetry error, member + DA", X: wx, Y: wm, Points: true, Color: 6},
				{Name: "symmetry error, ensemble + DA", X: wx, Y: ws, Points: true, Color: 1},
				{Name: "RMS distance ensemble − NTK", X: wx, Y: wd, Points: true, Dashed: true, Color: 3},
			}}
		sections = append(sections, report.Section{Heading: "Width", Text: widthText,
			Figures: []report.Figure{{Name: "toy_widths", Caption: "Symmetry error and distance to the NTK mean against width.", Plot: wPlot}}, Tables: []report.Table{wt}})
	}
	sections = append(sections, report.Section{Heading: "Files", Text: "tables/toy_predictions.csv holds the ground truth and every panel's curves on the grid; results.json documents its keys in experiment/toy.go."})
	return &report.Report{Title: "Toy regression: emergent symmetry of augmented ensembles", Intro: intro, Sections: sections}
}

func toySides(neg float64) string {
	if neg == 0 {
		return "all with x > 0 (none on the negative side)"
	}
	return fmt.Sprintf("a fraction %g of them with x < 0", neg)
}

func toyMax(c []toyCurvePoint, f func(toyCurvePoint) float64) float64 {
	var m float64
	for _, v := range c {
		m = max(m, f(v))
	}
	return m
}

// toyOpt returns *v, or NaN for nil (a gap in plots, "—" in tables).
func toyOpt(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}
