package histology

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "histology",
		Summary: "PathMNIST histology, C4 and D4: OSP and accuracy of augmented CNN ensembles vs members, and equivariant (GCNN) NTKs vs the CNN NTK",
		Run:     runHistology,
	})
}

// histParams are the parameters of experiments/histology.yaml.
type histParams struct {
	// Dataset is pathmnist (28 px) or pathmnist64.
	Dataset string `yaml:"dataset"`
	// File, if set, is a PathMNIST-format .npz read directly, without the
	// checksum verification of the installed dataset (tests, custom
	// copies). Empty: the dataset is looked up like `eqens data list`.
	File string `yaml:"file"`
	// Groups are the exact image groups studied, e.g. [c4, d4].
	Groups    []string `yaml:"groups"`
	TrainSize int      `yaml:"train_size"`
	TestSize  int      `yaml:"test_size"`
	OODSize   int      `yaml:"ood_size"`
	Blur      float64  `yaml:"blur"`
	Seed      uint64   `yaml:"seed"`
	Sizes     []int    `yaml:"sizes"`
	// CNN is trained once per group with random augmentation by it.
	CNN experiment.ModelParams `yaml:"cnn"`
	// NoAugMembers, if positive, trains the CNN without augmentation as a
	// control (evaluated under every group).
	NoAugMembers int           `yaml:"noaug_members"`
	NTK          histNTKParams `yaml:"ntk"`
}

// histNTKParams configures kernel regression with the CNN NTK and its
// group averages (the NTKs of the mirrored GCNNs) on pooled images.
type histNTKParams struct {
	// Pool average-pools the images (28 px by 4: 7x7).
	Pool int `yaml:"pool"`
	// Arch is the CNN; its average over a group is the NTK of the GCNN
	// given by GCNN with {group} replaced by the group's name.
	Arch string `yaml:"arch"`
	GCNN string `yaml:"gcnn"`
	// CheckInputs test images verify that identity (0: skip).
	CheckInputs int `yaml:"check_inputs"`
	// TrainSizes is the learning curve (nested subsets of the training
	// subset); TestSize the number of test images.
	TrainSizes []int   `yaml:"train_sizes"`
	TestSize   int     `yaml:"test_size"`
	Reg        float64 `yaml:"reg"`
}

// histCurvePoint is one point of the OSP-vs-size curve of one group.
type histCurvePoint struct {
	Size       int      `json:"size"`
	OSPID      float64  `json:"osp_id"`
	OSPOOD     float64  `json:"osp_ood"`
	Accuracy   float64  `json:"accuracy"`
	NoAugOSPID *float64 `json:"noaug_osp_id,omitempty"`
	NoAugOOD   *float64 `json:"noaug_osp_ood,omitempty"`
}

// histGroupResult holds the ensembles' results under one group.
type histGroupResult struct {
	Order  int                              `json:"order"`
	Models map[string]experiment.ModelStats `json:"models"`
	Curve  []histCurvePoint                 `json:"curve"`
}

// histNTKPoint is the test accuracy of one kernel at one training size.
type histNTKPoint struct {
	Kernel    string  `json:"kernel"`
	TrainSize int     `json:"train_size"`
	Accuracy  float64 `json:"accuracy"`
}

// histNTKResult holds the kernel-regression results.
type histNTKResult struct {
	Shape    []int   `json:"shape"`
	Arch     string  `json:"arch"`
	TestSize int     `json:"test_size"`
	Reg      float64 `json:"reg"`
	// Kernels names them: "cnn" and "gcnn-GROUP".
	Kernels []string `json:"kernels"`
	// Curve is the test accuracy by kernel and training size.
	Curve []histNTKPoint `json:"curve"`
	// OSP[kernel][group] is the mean orbit-same-predictions count of the
	// kernel's predictor (largest training size) on the test orbits.
	OSP map[string]map[string]float64 `json:"osp"`
	// Identity[group] is max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| on
	// CheckInputs test images: the group-averaged CNN NTK against the
	// GCNN spec's own.
	Identity map[string]float64 `json:"identity,omitempty"`
	Seconds  float64            `json:"seconds"`
}

// histLoad reads one split of the configured dataset. A missing or
// corrupt installed dataset gives an error that says how to get it.
func histLoad(env *experiment.Env, p *histParams, split string) (*data.Dataset, error) {
	if p.File != "" {
		d, err := data.ReadPathMNIST(p.File, split)
		if err != nil {
			return nil, fmt.Errorf("experiments/histology.yaml: file: %w", err)
		}
		return d, nil
	}
	size := 28
	if p.Dataset == "pathmnist64" {
		size = 64
	}
	d, err := data.PathMNIST(split, env.DataDir, size)
	if err != nil {
		return nil, fmt.Errorf("the histology experiment needs MedMNIST's PathMNIST (%d px), which is not usable here:\n  %v\nDownload it (about 200 MB) with `eqens data fetch %s`, or put %s into DIR/%s/ and pass --data-dir DIR (or set $EQENS_DATA=DIR)", size, err, p.Dataset, map[int]string{28: "pathmnist.npz", 64: "pathmnist_64.npz"}[size], p.Dataset)
	}
	return d, nil
}

// runHistology runs the histology experiment. results.json holds
//
//	dataset, groups          the data and the groups (names, orders)
//	groups.G.models          ModelStats (accuracy, OSP in and out of
//	                         distribution, chance levels) of member_da and
//	                         ensemble_da (CNNs trained with random G
//	                         augmentation) and ensemble_noaug, under G
//	groups.G.curve           OSP and accuracy against ensemble size
//	ntk                      kernel regression on pooled images: test
//	                         accuracy by kernel (cnn, gcnn-G = CNN NTK
//	                         averaged over G) and training size, the OSP of
//	                         each kernel's predictor under each group, and
//	                         the identity check against the GCNN spec
//	ood_sets, params, notes
//
// Tables: models-G, curve, ntk-curve, ntk-osp.
func runHistology(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p histParams
	if err := experiment.DecodeParams("histology", node, &p); err != nil {
		return nil, err
	}
	if p.Dataset != "pathmnist" && p.Dataset != "pathmnist64" {
		return nil, fmt.Errorf("experiments/histology.yaml: dataset %q: want pathmnist or pathmnist64", p.Dataset)
	}
	if len(p.Groups) == 0 {
		return nil, errors.New("experiments/histology.yaml: no groups")
	}
	var groups []*group.Group
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("experiments/histology.yaml: groups: %w", err)
		}
		groups = append(groups, g)
	}
	// Fail fast: the data first.
	trainAll, err := histLoad(env, &p, "train")
	if err != nil {
		return nil, err
	}
	testAll, err := histLoad(env, &p, "test")
	if err != nil {
		return nil, err
	}
	c, h, w := testAll.Shape[0], testAll.Shape[1], testAll.Shape[2]
	reps := make([]*group.Rep, len(groups))
	for i, g := range groups {
		if reps[i], err = group.ImageRep(g, c, h, w); err != nil {
			return nil, err
		}
		if !reps[i].Exact() {
			return nil, fmt.Errorf("experiments/histology.yaml: group %s acts by interpolation; use exact groups (c4, d4)", g.Name())
		}
	}
	id := testAll.Subset(testAll.Shuffled(p.Seed + 100)[:min(p.TestSize, testAll.Len())])
	ood, oodNames, notes, err := experiment.OODSets(env, p.Dataset, testAll, p.OODSize, p.Blur, p.Seed)
	if err != nil {
		return nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}

	// Ensembles: one per group with augmentation, one without.
	cfgOf := func(mp experiment.ModelParams, aug train.AugConfig) *train.Config {
		cfg := mp.Config(p.Dataset, env.DataDir, p.TrainSize, p.Seed, aug)
		cfg.Data.Path = p.File // a fixture or copy gets its own run hash
		return cfg
	}
	res := map[string]any{}
	groupRes := map[string]*histGroupResult{}
	var noOrbByGroup [][]*experiment.Orbits
	var ensNo *train.Ensemble
	if p.NoAugMembers > 0 {
		mp := p.CNN
		mp.Members = p.NoAugMembers
		if ensNo, err = experiment.TrainEnsemble(ctx, env, "cnn_noaug", cfgOf(mp, train.AugConfig{Mode: "none"}), trainAll, train.Options{}); err != nil {
			return nil, err
		}
	}
	var daSpec string
	for i, g := range groups {
		ens, err := experiment.TrainEnsemble(ctx, env, "cnn_da_"+g.Name(), cfgOf(p.CNN, train.AugConfig{Mode: "random", Group: g.Name()}), trainAll, train.Options{})
		if err != nil {
			return nil, err
		}
		daSpec = ens.Arch.Spec
		env.Logf("histology: evaluating under %s on %d test and %d out-of-distribution images", g.Name(), id.Len(), len(ood)*p.OODSize)
		daOrb, err := experiment.EvalEnsemble(ctx, ens, reps[i], id, ood)
		if err != nil {
			return nil, err
		}
		var noOrb []*experiment.Orbits
		if ensNo != nil {
			if noOrb, err = experiment.EvalEnsemble(ctx, ensNo, reps[i], id, ood); err != nil {
				return nil, err
			}
		}
		noOrbByGroup = append(noOrbByGroup, noOrb)
		gr := &histGroupResult{Order: g.Order(), Models: map[string]experiment.ModelStats{
			"member_da":   experiment.Stats(daOrb, sets, p.Seed),
			"ensemble_da": experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, experiment.Indices(len(daOrb)))}, sets, p.Seed),
		}}
		if noOrb != nil {
			gr.Models["ensemble_noaug"] = experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, experiment.Indices(len(noOrb)))}, sets, p.Seed)
		}
		for _, m := range p.Sizes {
			if m > len(daOrb) || m < 1 {
				continue
			}
			cp := histCurvePoint{Size: m}
			subs := metrics.Subsets(len(daOrb), m, 8, p.Seed+uint64(m))
			wt := 1 / float64(len(subs))
			for _, sub := range subs {
				a := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, sub)}, sets, p.Seed)
				cp.OSPID += a.OSPID * wt
				cp.OSPOOD += a.OSPOOD * wt
				cp.Accuracy += a.Accuracy * wt
			}
			if noOrb != nil && m <= len(noOrb) {
				var oi, oo float64
				nsubs := metrics.Subsets(len(noOrb), m, 8, p.Seed+uint64(m))
				for _, sub := range nsubs {
					b := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, sub)}, sets, p.Seed)
					oi += b.OSPID / float64(len(nsubs))
					oo += b.OSPOOD / float64(len(nsubs))
				}
				cp.NoAugOSPID, cp.NoAugOOD = &oi, &oo
			}
			gr.Curve = append(gr.Curve, cp)
		}
		groupRes[g.Name()] = gr
	}

	// Kernel regression.
	var ntk *histNTKResult
	if len(p.NTK.TrainSizes) > 0 {
		s, err := train.Prepare(cfgOf(p.CNN, train.AugConfig{Mode: "none"}).Clone(), trainAll)
		if err != nil {
			return nil, err
		}
		te := experiment.CloneSet(id)
		if err := s.Preprocess.Apply(te, nil); err != nil {
			return nil, err
		}
		if ntk, err = histKernels(ctx, env, &p.NTK, groups, s.Data, te); err != nil {
			return nil, err
		}
	}

	var gnames []string
	gorders := map[string]int{}
	for _, g := range groups {
		gnames = append(gnames, g.Name())
		gorders[g.Name()] = g.Order()
	}
	res["dataset"] = p.Dataset
	res["group_names"] = gnames
	res["group_orders"] = gorders
	res["groups"] = groupRes
	res["ntk"] = ntk
	res["ood_sets"] = oodNames
	res["notes"] = notes
	res["params"] = p
	r, sum := histReport(&p, groups, groupRes, ntk, oodNames, notes, daSpec, id.Len())
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// histSubgroupIndex returns, for each element of h, the index of the element
// of big with the same matrix, or an error if h is not inside big.
func histSubgroupIndex(h, big *group.Group) ([]int, error) {
	if h.Dim() != big.Dim() || h.Dim() == 0 {
		return nil, fmt.Errorf("%s and %s do not act on the same space", h.Name(), big.Name())
	}
	out := make([]int, h.Order())
	for a := 0; a < h.Order(); a++ {
		ma := h.Matrix(a)
		out[a] = -1
		for b := 0; b < big.Order(); b++ {
			mb := big.Matrix(b)
			same := true
			for i := range ma {
				if math.Abs(ma[i]-mb[i]) > 1e-9 {
					same = false
					break
				}
			}
			if same {
				out[a] = b
				break
			}
		}
		if out[a] < 0 {
			return nil, fmt.Errorf("%s is not a subgroup of %s", h.Name(), big.Name())
		}
	}
	return out, nil
}

// histBlockAverage returns the r×n matrix (1/|S|) Σ_{b∈S} K[:, b, :n] of a
// kernel k with rows r and columns ordered (block b, sample j < stride).
func histBlockAverage(k []float64, r, stride, n int, blocks []int) []float64 {
	nb := len(k) / (r * stride)
	out := make([]float64, r*n)
	inv := 1 / float64(len(blocks))
	for i := 0; i < r; i++ {
		row := k[i*nb*stride:]
		for _, b := range blocks {
			src := row[b*stride : b*stride+n]
			dst := out[i*n : (i+1)*n]
			for j, v := range src {
				dst[j] += v * inv
			}
		}
	}
	return out
}

// histKernels runs kernel regression with the CNN NTK and its averages
// over the groups on pooled images. One kernel evaluation against the
// orbit of the training images under the largest group gives every kernel
// at every training size and the predictions on every test orbit:
// Θ(ρ(a)t, ρ(h)x) = Θ(t, ρ(a⁻¹h)x).
func histKernels(ctx context.Context, env *experiment.Env, np *histNTKParams, groups []*group.Group, trainSet, test *data.Dataset) (*histNTKResult, error) {
	start := time.Now()
	nmax := slices.Max(np.TrainSizes)
	if nmax > trainSet.Len() {
		return nil, fmt.Errorf("experiments/histology.yaml: ntk.train_sizes: %d images asked for, the training subset has %d", nmax, trainSet.Len())
	}
	tr := trainSet.Head(nmax)
	te := test.Head(np.TestSize)
	x, shape, err := experiment.AvgPool(tr, np.Pool)
	if err != nil {
		return nil, err
	}
	xt, _, err := experiment.AvgPool(te, np.Pool)
	if err != nil {
		return nil, err
	}
	n, m, k := tr.Len(), te.Len(), tr.Classes
	big := groups[0]
	for _, g := range groups {
		if g.Order() > big.Order() {
			big = g
		}
	}
	sub := make([][]int, len(groups))
	for i, g := range groups {
		if sub[i], err = histSubgroupIndex(g, big); err != nil {
			return nil, fmt.Errorf("ntk: the kernels are computed on the orbits of the largest group: %w", err)
		}
	}
	eIdx := []int{big.Identity()}
	repB, err := group.ImageRep(big, shape[0], shape[1], shape[2])
	if err != nil {
		return nil, err
	}
	arch, err := nn.Parse(np.Arch, shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("experiments/histology.yaml: ntk.arch: %w", err)
	}
	B := big.Order()
	xo := experiment.OrbitInputs(repB, x, n)
	env.Logf("histology: NTK of %s on %d training images × %d elements of %s and %d test images (%dx%dx%d)", arch.Spec, n, B, big.Name(), m, shape[0], shape[1], shape[2])
	ktr, err := arch.Kernel(ctx, x, n, xo, B*n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kte, err := arch.Kernel(ctx, xt, m, xo, B*n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	res := &histNTKResult{Shape: shape, Arch: arch.Spec, TestSize: m, Reg: np.Reg, OSP: map[string]map[string]float64{}}
	type kdef struct {
		name   string
		blocks []int
	}
	kdefs := []kdef{{"cnn", eIdx}}
	for i, g := range groups {
		kdefs = append(kdefs, kdef{"gcnn-" + g.Name(), sub[i]})
	}
	y := experiment.CentredOneHot(tr.Labels, k)
	sizes := slices.Clone(np.TrainSizes)
	slices.Sort(sizes)
	for _, kd := range kdefs {
		res.Kernels = append(res.Kernels, kd.name)
		var pred *predict.Regressor
		for _, ns := range sizes {
			ktrain := histBlockAverage(ktr.Theta[:ns*B*n], ns, n, ns, kd.blocks)
			p, err := predict.NewRegressor(ns, ktrain, y[:ns*k], k, predict.Options{Reg: np.Reg})
			if err != nil {
				return nil, fmt.Errorf("ntk %s, %d images: %w", kd.name, ns, err)
			}
			ktest := histBlockAverage(kte.Theta, m, n, ns, kd.blocks)
			mu, err := p.Mean(ktest, m, []float64{math.Inf(1)})
			if err != nil {
				return nil, err
			}
			res.Curve = append(res.Curve, histNTKPoint{Kernel: kd.name, TrainSize: ns, Accuracy: experiment.Accuracy(mu, te.Labels, k)})
			pred = p
		}
		// Orbits of the test images for the largest training size:
		// block a⁻¹h for test element a and kernel element h.
		res.OSP[kd.name] = map[string]float64{}
		for i, g := range groups {
			o := metrics.NewOrbit(g.Order(), m, k)
			for a := 0; a < g.Order(); a++ {
				ai := big.Inv(sub[i][a])
				blocks := make([]int, len(kd.blocks))
				for j, hb := range kd.blocks {
					blocks[j] = big.Mul(ai, hb)
				}
				ktest := histBlockAverage(kte.Theta, m, n, nmax, blocks)
				mu, err := pred.Mean(ktest, m, []float64{math.Inf(1)})
				if err != nil {
					return nil, err
				}
				copy(o.Out[a*m*k:(a+1)*m*k], mu)
			}
			res.OSP[kd.name][g.Name()] = metrics.Mean(metrics.OSP(o))
		}
	}
	if np.CheckInputs > 0 && np.GCNN != "" {
		res.Identity = map[string]float64{}
		nc := min(np.CheckInputs, m)
		xc := xt[:nc*len(xt)/m]
		kc, err := arch.Kernel(ctx, xc, nc, experiment.OrbitInputs(repB, xc, nc), B*nc, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		for i, g := range groups {
			spec := strings.ReplaceAll(np.GCNN, "{group}", g.Name())
			ga, err := nn.Parse(spec, shape, nn.NTK)
			if err != nil {
				return nil, fmt.Errorf("experiments/histology.yaml: ntk.gcnn: %w", err)
			}
			gk, err := ga.Kernel(ctx, xc, nc, nil, 0, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, err
			}
			res.Identity[g.Name()] = experiment.MaxRelDiff(histBlockAverage(kc.Theta, nc, nc, nc, sub[i]), gk.Theta)
		}
	}
	res.Seconds = experiment.Round3(time.Since(start).Seconds())
	return res, nil
}

// histReport builds the report and the summary.
func histReport(p *histParams, groups []*group.Group, gr map[string]*histGroupResult, ntk *histNTKResult, oodNames, notes []string, spec string, nTest int) (*report.Report, string) {
	var sum strings.Builder
	var sections []report.Section
	labels := map[string]string{
		"member_da":      fmt.Sprintf("CNN + DA member (mean of %d)", p.CNN.Members),
		"ensemble_da":    fmt.Sprintf("CNN + DA ensemble (%d)", p.CNN.Members),
		"ensemble_noaug": fmt.Sprintf("CNN, no DA, ensemble (%d)", p.NoAugMembers),
	}
	order := []string{"member_da", "ensemble_da", "ensemble_noaug"}
	curveTab := report.Table{Name: "curve", Caption: "Mean OSP and accuracy of augmented CNN ensembles by size (means over up to 8 member subsets), with the same for the ensemble without augmentation.",
		Columns: []string{"group", "size", "OSP test", "OSP OOD", "accuracy", "no DA: OSP test", "no DA: OSP OOD"}}
	var figs []report.Figure
	for _, g := range groups {
		r := gr[g.Name()]
		cols := []string{"model", "accuracy", "OSP test"}
		for _, o := range oodNames {
			cols = append(cols, "OSP "+o)
		}
		cols = append(cols, "chance OSP test", "majority test")
		tab := report.Table{Name: "models-" + g.Name(), Caption: fmt.Sprintf("%s (|G| = %d): accuracy on %d test images and orbit same predictions (1..%d), in and out of distribution; ± is the half-width of the 95%% bootstrap interval over images.", g.Name(), g.Order(), nTest, g.Order()), Columns: cols}
		fmt.Fprintf(&sum, "\n%s (|G| = %d):\n%-36s %-15s %-15s %-15s\n", g.Name(), g.Order(), "model", "accuracy", "OSP test", "OSP OOD")
		for _, name := range order {
			ms, ok := r.Models[name]
			if !ok {
				continue
			}
			row := []string{labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2)}
			for _, o := range oodNames {
				row = append(row, experiment.PM(ms.OOD[o].OSP, 2))
			}
			row = append(row, experiment.F2(ms.ID.ChanceOSP), experiment.F2(ms.ID.MajorityShare))
			tab.Rows = append(tab.Rows, row)
			fmt.Fprintf(&sum, "%-36s %-15s %-15s %-15s\n", labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2), experiment.PM(ms.OOD["pooled"].OSP, 2))
		}
		var xs, yid, yood, nxs, nid, nood []float64
		for _, c := range r.Curve {
			xs = append(xs, float64(c.Size))
			yid = append(yid, c.OSPID)
			yood = append(yood, c.OSPOOD)
			row := []string{g.Name(), fmt.Sprint(c.Size), experiment.F2(c.OSPID), experiment.F2(c.OSPOOD), fmt.Sprintf("%.3f", c.Accuracy), "", ""}
			if c.NoAugOSPID != nil {
				nxs = append(nxs, float64(c.Size))
				nid = append(nid, *c.NoAugOSPID)
				nood = append(nood, *c.NoAugOOD)
				row[5], row[6] = experiment.F2(*c.NoAugOSPID), experiment.F2(*c.NoAugOOD)
			}
			curveTab.Rows = append(curveTab.Rows, row)
		}
		ymin, ymax := 1.0, float64(g.Order())*1.08
		pl := &report.Plot{Title: fmt.Sprintf("%s: orbit same predictions vs ensemble size", g.Name()), XLabel: "ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: &ymin, YMax: &ymax,
			Series: []report.Series{
				{Name: "DA, test", X: xs, Y: yid, Points: true, Color: 1},
				{Name: "DA, out of distribution", X: xs, Y: yood, Points: true, Color: 2},
			},
			HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("|G| = %d", g.Order())}}}
		if len(nxs) > 0 {
			pl.Series = append(pl.Series,
				report.Series{Name: "no DA, test", X: nxs, Y: nid, Points: true, Dashed: true, Color: 1},
				report.Series{Name: "no DA, out of distribution", X: nxs, Y: nood, Points: true, Dashed: true, Color: 2})
		}
		if len(xs) > 0 {
			figs = append(figs, report.Figure{Name: "osp-" + g.Name(), Caption: fmt.Sprintf("Mean OSP under %s against ensemble size, in and out of distribution (pooled).", g.Name()), Plot: pl})
		}
		sections = append(sections, report.Section{Heading: fmt.Sprintf("Ensembles under %s", g.Name()), Tables: []report.Table{tab}})
	}
	text := fmt.Sprintf("CNN `%s` trained on %d images, %d steps, batch %d, %s (lr %g); out-of-distribution sets: %s (%d images each).", spec, p.TrainSize, p.CNN.Steps, p.CNN.BatchSize, p.CNN.Optimizer.Name, p.CNN.Optimizer.LR, strings.Join(oodNames, ", "), p.OODSize)
	if p.File != "" {
		notes = append(notes, fmt.Sprintf("The data were read from %s, which is not checksum-verified against the published PathMNIST.", p.File))
	}
	if len(notes) > 0 {
		text += "\n\n" + strings.Join(notes, "\n\n")
	}
	sections = append(sections, report.Section{Heading: "Ensemble size", Text: text, Tables: []report.Table{curveTab}, Figures: figs})
	if ntk != nil {
		ct := report.Table{Name: "ntk-curve", Caption: fmt.Sprintf("Test accuracy of kernel regression (t = ∞, ridge %g × mean diagonal, centred one-hot targets) on %d pooled test images (%dx%dx%d).", ntk.Reg, ntk.TestSize, ntk.Shape[0], ntk.Shape[1], ntk.Shape[2]),
			Columns: []string{"training images"}}
		for _, kn := range ntk.Kernels {
			ct.Columns = append(ct.Columns, histKernelLabel(kn))
		}
		var plotS []report.Series
		bySize := map[int][]string{}
		var sizes []int
		for ki, kn := range ntk.Kernels {
			var xs, ys []float64
			for _, pt := range ntk.Curve {
				if pt.Kernel != kn {
					continue
				}
				xs = append(xs, float64(pt.TrainSize))
				ys = append(ys, pt.Accuracy)
				if _, ok := bySize[pt.TrainSize]; !ok {
					bySize[pt.TrainSize] = make([]string, len(ntk.Kernels))
					sizes = append(sizes, pt.TrainSize)
				}
				bySize[pt.TrainSize][ki] = fmt.Sprintf("%.3f", pt.Accuracy)
			}
			plotS = append(plotS, report.Series{Name: histKernelLabel(kn), X: xs, Y: ys, Points: true})
		}
		slices.Sort(sizes)
		for _, s := range sizes {
			ct.Rows = append(ct.Rows, append([]string{fmt.Sprint(s)}, bySize[s]...))
		}
		ot := report.Table{Name: "ntk-osp", Caption: fmt.Sprintf("Mean OSP of each kernel's predictor (largest training size) on the orbits of the %d test images; the group-averaged kernels are exactly invariant under their group.", ntk.TestSize), Columns: []string{"kernel"}}
		for _, g := range groups {
			ot.Columns = append(ot.Columns, fmt.Sprintf("OSP %s (max %d)", g.Name(), g.Order()))
		}
		fmt.Fprintf(&sum, "\nNTK on %dx%dx%d images, %d test images: accuracy by training size\n", ntk.Shape[0], ntk.Shape[1], ntk.Shape[2], ntk.TestSize)
		for _, s := range sizes {
			fmt.Fprintf(&sum, "  n = %-6d", s)
			for ki, kn := range ntk.Kernels {
				fmt.Fprintf(&sum, " %s %s", kn, bySize[s][ki])
			}
			sum.WriteString("\n")
		}
		for _, kn := range ntk.Kernels {
			row := []string{histKernelLabel(kn)}
			fmt.Fprintf(&sum, "  OSP %-10s", kn)
			for _, g := range groups {
				row = append(row, experiment.F2(ntk.OSP[kn][g.Name()]))
				fmt.Fprintf(&sum, " %s %.2f", g.Name(), ntk.OSP[kn][g.Name()])
			}
			sum.WriteString("\n")
			ot.Rows = append(ot.Rows, row)
		}
		zero, one := 0.0, 1.0
		pl := &report.Plot{Title: "Kernel regression on pooled PathMNIST", XLabel: "training images", YLabel: "test accuracy", LogX: true, YMin: &zero, YMax: &one, Series: plotS,
			HLines: []report.RefLine{{Y: 1 / 9.0, Label: "chance (9 classes)"}}}
		ntkText := fmt.Sprintf("Infinite ensembles of infinitely wide networks trained to convergence: the NTK of the CNN `%s` and its averages over the groups, which are the NTKs of the mirrored roto-translation GCNNs (lift and group convolutions with identity support; at infinite width the support does not matter for exact groups), as in Misof, Kessel & Gerken (2025). The images are average-pooled by %d to keep the kernel cost O((|G|HW)²) per pair affordable.", ntk.Arch, p.NTK.Pool)
		if len(ntk.Identity) > 0 {
			var parts []string
			for _, g := range groups {
				parts = append(parts, fmt.Sprintf("%s %.2g", g.Name(), ntk.Identity[g.Name()]))
			}
			ntkText += fmt.Sprintf(" Check on %d test images: max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| with the GCNN `%s` = %s.", min(p.NTK.CheckInputs, ntk.TestSize), p.NTK.GCNN, strings.Join(parts, ", "))
			fmt.Fprintf(&sum, "  identity averaged CNN NTK = GCNN NTK: max rel diff %s\n", strings.Join(parts, ", "))
		}
		sections = append(sections, report.Section{Heading: "Equivariant NTKs", Text: ntkText, Tables: []report.Table{ct, ot},
			Figures: []report.Figure{{Name: "ntk-accuracy", Caption: "Test accuracy of kernel regression against the number of training images.", Plot: pl}}})
	}
	intro := fmt.Sprintf("Colon-pathology tiles (MedMNIST PathMNIST, %s, 9 tissue classes, Kather et al. 2018) have no preferred orientation, so the class is invariant under rotations (C4) and also reflections (D4). Deep ensembles of CNNs trained with random augmentation by each group are compared with their members and with an ensemble trained without augmentation: orbit same predictions (OSP, the number of group elements that keep the predicted class, 1..|G|) in and out of distribution (Gerken & Kessel 2024). The second part compares the equivariant NTKs (GCNN) with the ordinary CNN NTK for kernel regression (Misof, Kessel & Gerken 2025).", p.Dataset)
	return &report.Report{Title: "Emergent and built-in invariance on histology images", Intro: intro, Sections: sections}, sum.String()
}

func histKernelLabel(k string) string {
	if k == "cnn" {
		return "CNN NTK"
	}
	if g, ok := strings.CutPrefix(k, "gcnn-"); ok {
		return g + " GCNN NTK"
	}
	return k
}
