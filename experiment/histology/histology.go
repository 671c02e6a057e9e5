package histology

import (
	"context"
	"fmt"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "histology",
		Summary: "PathMNIST histology, C4 and D4: OSP and accuracy of augmented CNN ensembles vs members, and equivariant (GCNN) NTKs vs the CNN NTK",
		Run:     run,
	})
}

// params are the parameters of experiments/histology.yaml.
type params struct {
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
	NoAugMembers int                       `yaml:"noaug_members"`
	NTK          experiment.OrbitNTKParams `yaml:"ntk"`
}

// loadSplit reads one split of the configured dataset. A missing or
// corrupt installed dataset gives an error that says how to get it.
func loadSplit(env *experiment.Env, p *params, split string) (*data.Dataset, error) {
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

// run runs the histology experiment. results.json holds
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
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("histology", node, &p); err != nil {
		return nil, err
	}
	groups, err := parseGroups(&p)
	if err != nil {
		return nil, err
	}
	// Fail fast: the data first.
	trainAll, err := loadSplit(env, &p, "train")
	if err != nil {
		return nil, err
	}
	testAll, err := loadSplit(env, &p, "test")
	if err != nil {
		return nil, err
	}
	reps, err := imageReps(groups, testAll.Shape)
	if err != nil {
		return nil, err
	}
	if len(p.NTK.TrainSizes) > 0 {
		if err := p.NTK.CheckNetworks("experiments/histology.yaml: ntk", testAll.Shape, groups); err != nil {
			return nil, err
		}
	}
	id := testAll.Subset(testAll.Shuffled(p.Seed + 100)[:min(p.TestSize, testAll.Len())])
	ood, oodNames, notes, err := experiment.OODSets(env, p.Dataset, testAll, p.OODSize, p.Blur, p.Seed)
	if err != nil {
		return nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}

	groupRes, daSpec, err := runEnsembles(ctx, env, &p, groups, reps, trainAll, sets)
	if err != nil {
		return nil, err
	}
	var ntk *experiment.OrbitNTKResult
	if len(p.NTK.TrainSizes) > 0 {
		if ntk, err = runKernels(ctx, env, &p, groups, trainAll, id); err != nil {
			return nil, err
		}
	}

	var gnames []string
	gorders := map[string]int{}
	for _, g := range groups {
		gnames = append(gnames, g.Name())
		gorders[g.Name()] = g.Order()
	}
	res := map[string]any{}
	res["dataset"] = p.Dataset
	res["group_names"] = gnames
	res["group_orders"] = gorders
	res["groups"] = groupRes
	res["ntk"] = ntk
	res["ood_sets"] = oodNames
	res["notes"] = notes
	res["params"] = p
	r, sum := buildReport(&p, groups, groupRes, ntk, oodNames, notes, daSpec, id.Len())
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// parseGroups checks the dataset name and parses the groups.
func parseGroups(p *params) ([]*group.Group, error) {
	if p.Dataset != "pathmnist" && p.Dataset != "pathmnist64" {
		return nil, fmt.Errorf("experiments/histology.yaml: dataset %q: want pathmnist or pathmnist64", p.Dataset)
	}
	return experiment.ParseGroups("experiments/histology.yaml", p.Groups)
}

// imageReps returns the exact actions of the groups on images of the
// shape (channels, height, width).
func imageReps(groups []*group.Group, shape []int) ([]*group.Rep, error) {
	reps := make([]*group.Rep, len(groups))
	for i, g := range groups {
		var err error
		if reps[i], err = group.ImageRep(g, shape[0], shape[1], shape[2]); err != nil {
			return nil, err
		}
		if !reps[i].Exact() {
			return nil, fmt.Errorf("experiments/histology.yaml: group %s acts by interpolation; use exact groups (c4, d4)", g.Name())
		}
	}
	return reps, nil
}

// trainConfig is the training config of the CNN with model parameters mp
// and augmentation aug.
func trainConfig(env *experiment.Env, p *params, mp experiment.ModelParams, aug train.AugConfig) *train.Config {
	cfg := mp.Config(p.Dataset, env.DataDir, p.TrainSize, p.Seed, aug)
	cfg.Data.Path = p.File // a fixture or copy gets its own run hash
	return cfg
}

// runKernels runs the kernel regression on the images preprocessed as for
// the CNN runs (the training subset and the test images id).
func runKernels(ctx context.Context, env *experiment.Env, p *params, groups []*group.Group, trainAll, id *data.Dataset) (*experiment.OrbitNTKResult, error) {
	s, err := train.Prepare(trainConfig(env, p, p.CNN, train.AugConfig{Mode: "none"}).Clone(), trainAll)
	if err != nil {
		return nil, err
	}
	te := experiment.CloneSet(id)
	if err := s.Preprocess.Apply(te, nil); err != nil {
		return nil, err
	}
	return experiment.OrbitNTK(ctx, env, &p.NTK, "experiments/histology.yaml: ntk", groups, s.Data, te)
}
