package cnngcnn

import (
	"context"
	"fmt"
	"slices"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
)

// datasetResult is everything measured on one dataset.
type datasetResult struct {
	Name      string                           `json:"name"`
	Shape     []int                            `json:"shape"`
	TrainSize int                              `json:"train_size"`
	OODSets   []string                         `json:"ood_sets"`
	Models    map[string]experiment.ModelStats `json:"models"`
	Labels    map[string]string                `json:"labels"`
	// Curve is CNN+DA against the GCNN ensemble by CNN ensemble size,
	// NoAugCurve the same for the CNN ensemble without augmentation.
	Curve      []curvePoint    `json:"curve"`
	NoAugCurve []curvePoint    `json:"noaug_curve"`
	Compare    []comparison    `json:"compare"`
	Identity   *identityResult `json:"kernel_identity"`
	NTK        *ntkResult      `json:"ntk,omitempty"`
}

// runDataset trains and evaluates the models of one dataset. The
// training split is loaded once by the caller and handed to every run
// (train selects the same subset from it as it would from the named set).
func runDataset(ctx context.Context, env *experiment.Env, p *params, dp *datasetParams, g *group.Group, trainAll, testAll *data.Dataset) (*datasetResult, []report.Section, error) {
	rep, err := group.ImageRep(g, testAll.Shape[0], testAll.Shape[1], testAll.Shape[2])
	if err != nil {
		return nil, nil, err
	}
	if !rep.Exact() {
		return nil, nil, fmt.Errorf("group %s acts on %v images by interpolation; this experiment needs exact rotations (c4, d4)", g.Name(), testAll.Shape)
	}
	id := testAll.Subset(testAll.Shuffled(p.Seed + 100)[:min(dp.TestSize, testAll.Len())])
	ood, oodNames, notes, err := experiment.OODSets(env, dp.Name, testAll, dp.OODSize, dp.Blur, p.Seed)
	if err != nil {
		return nil, nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}
	m, err := trainModels(ctx, env, p, dp, trainAll)
	if err != nil {
		return nil, nil, err
	}
	env.Logf("%s: evaluating on the %d-element orbits of %d test and %d out-of-distribution images", dp.Name, g.Order(), id.Len(), len(ood)*dp.OODSize)
	res := &datasetResult{Name: dp.Name, Shape: slices.Clone(testAll.Shape), TrainSize: dp.TrainSize, OODSets: oodNames, Labels: map[string]string{}}
	if err := evaluateModels(ctx, res, p, m, rep, sets); err != nil {
		return nil, nil, err
	}
	if err := runKernels(ctx, env, res, dp, g, m.cfgDA, trainAll, id, testAll.Classes); err != nil {
		return nil, nil, err
	}
	return res, datasetSections(res, dp, g, notes, m.da.Arch.Spec, m.gcnn.Arch.Spec), nil
}

// models are the ensembles trained on one dataset.
type models struct {
	// cfgDA is the config of the CNNs trained with augmentation (da);
	// gcnn is the GCNN ensemble, noaug (nil: none) the CNNs without
	// augmentation.
	cfgDA           *train.Config
	da, gcnn, noaug *train.Ensemble
}

// trainModels trains the CNNs with random augmentation by the group, the
// GCNN and, if asked for, the CNNs without augmentation.
func trainModels(ctx context.Context, env *experiment.Env, p *params, dp *datasetParams, trainAll *data.Dataset) (*models, error) {
	aug := train.AugConfig{Mode: "random", Group: p.Group}
	none := train.AugConfig{Mode: "none"}
	m := &models{cfgDA: dp.CNN.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, aug)}
	cfgG := dp.GCNN.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, none)
	var err error
	if m.da, err = experiment.TrainEnsemble(ctx, env, dp.Name+"-cnn_da", m.cfgDA, trainAll, train.Options{}); err != nil {
		return nil, err
	}
	if m.gcnn, err = experiment.TrainEnsemble(ctx, env, dp.Name+"-gcnn", cfgG, trainAll, train.Options{}); err != nil {
		return nil, err
	}
	if dp.NoAugMembers > 0 {
		mp := dp.CNN
		mp.Members = dp.NoAugMembers
		cfgNo := mp.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, none)
		if m.noaug, err = experiment.TrainEnsemble(ctx, env, dp.Name+"-cnn_noaug", cfgNo, trainAll, train.Options{}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// evaluateModels evaluates the ensembles on the orbits of the evaluation
// sets: the statistics of each model, the curves against CNN ensemble size
// and the comparisons of the full ensembles.
func evaluateModels(ctx context.Context, res *datasetResult, p *params, m *models, rep *group.Rep, sets *experiment.EvalSets) error {
	daOrb, err := experiment.EvalEnsemble(ctx, m.da, rep, sets.ID, sets.OOD)
	if err != nil {
		return err
	}
	gOrb, err := experiment.EvalEnsemble(ctx, m.gcnn, rep, sets.ID, sets.OOD)
	if err != nil {
		return err
	}
	var noOrb []*experiment.Orbits
	if m.noaug != nil {
		if noOrb, err = experiment.EvalEnsemble(ctx, m.noaug, rep, sets.ID, sets.OOD); err != nil {
			return err
		}
	}
	gEns := experiment.Ensemble(gOrb, experiment.Indices(len(gOrb)))
	res.Models = map[string]experiment.ModelStats{
		"cnn_member":  experiment.Stats(daOrb, sets, p.Seed),
		"cnn_da":      experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, experiment.Indices(len(daOrb)))}, sets, p.Seed),
		"gcnn_member": experiment.Stats(gOrb, sets, p.Seed),
		"gcnn":        experiment.Stats([]*experiment.Orbits{gEns}, sets, p.Seed),
	}
	res.Labels = map[string]string{
		"cnn_member":  fmt.Sprintf("CNN + DA, single members (mean of %d)", len(daOrb)),
		"cnn_da":      fmt.Sprintf("CNN + DA, ensemble of %d", len(daOrb)),
		"gcnn_member": fmt.Sprintf("GCNN, single members (mean of %d)", len(gOrb)),
		"gcnn":        fmt.Sprintf("GCNN, ensemble of %d", len(gOrb)),
	}
	if noOrb != nil {
		res.Models["cnn_noaug"] = experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, experiment.Indices(len(noOrb)))}, sets, p.Seed)
		res.Labels["cnn_noaug"] = fmt.Sprintf("CNN, no DA, ensemble of %d", len(noOrb))
	}
	res.Curve = sizeCurve(daOrb, gEns, sets, p.Sizes, p.Seed)
	if noOrb != nil {
		res.NoAugCurve = sizeCurve(noOrb, gEns, sets, p.Sizes, p.Seed+1000)
	}
	res.Compare = append(res.Compare, compareEnsembles("cnn_da", "gcnn", experiment.Ensemble(daOrb, experiment.Indices(len(daOrb))), gEns, len(daOrb), len(gOrb), p.Seed))
	if noOrb != nil {
		res.Compare = append(res.Compare, compareEnsembles("cnn_noaug", "gcnn", experiment.Ensemble(noOrb, experiment.Indices(len(noOrb))), gEns, len(noOrb), len(gOrb), p.Seed))
	}
	if h := len(gOrb) / 2; h >= 1 {
		a := experiment.Ensemble(gOrb, experiment.Indices(h))
		bi := experiment.Indices(len(gOrb))[h:]
		b := experiment.Ensemble(gOrb, bi)
		res.Compare = append(res.Compare, compareEnsembles("gcnn_half_a", "gcnn_half_b", a, b, h, len(bi), p.Seed))
	}
	return nil
}

// runKernels runs the kernel checks on the preprocessed (standardised)
// images of the CNN run: the kernel identity on test images and, if asked
// for, the infinite-ensemble predictions.
func runKernels(ctx context.Context, env *experiment.Env, res *datasetResult, dp *datasetParams, g *group.Group, cfgDA *train.Config, trainAll, id *data.Dataset, classes int) error {
	s, err := train.Prepare(cfgDA.Clone(), trainAll)
	if err != nil {
		return err
	}
	idPrep := experiment.CloneSet(id)
	if err := s.Preprocess.Apply(idPrep, nil); err != nil {
		return err
	}
	env.Logf("%s: kernel identity on %d test images pooled by %d", dp.Name, dp.Identity.Inputs, dp.Identity.Pool)
	if res.Identity, err = kernelIdentity(ctx, dp.Identity, g, idPrep); err != nil {
		return err
	}
	if dp.NTK.TrainSize > 0 {
		env.Logf("%s: NTK predictions, %d training images (CNN on their %d-element orbits) and %d test images pooled by %d", dp.Name, dp.NTK.TrainSize, g.Order(), dp.NTK.TestSize, dp.NTK.Pool)
		if res.NTK, err = ntkPredict(ctx, dp.NTK, g, s.Data, idPrep, classes); err != nil {
			return err
		}
	}
	return nil
}
