package fashion

import (
	"context"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/train"
)

// trainConfig is the training config of a model family on the
// preprocessed training subset (already standardised and masked).
func trainConfig(m experiment.ModelParams, arch string, p *params, aug train.AugConfig) *train.Config {
	m.Arch = arch
	c := m.Config("fashion-mnist/disc", "", p.TrainSize, p.Seed, aug)
	c.Data.Standardize = "none"
	return c
}

// trainNoAug trains the CNN baseline without augmentation (the same for
// every group).
func trainNoAug(ctx context.Context, env *experiment.Env, p *params, fd *preparedData) (*train.Ensemble, error) {
	mp := p.CNN.ModelParams
	mp.Members = p.NoAugMembers
	cfg := trainConfig(mp, p.CNN.Arch, p, train.AugConfig{Mode: "none"})
	return experiment.TrainEnsemble(ctx, env, "cnn_noaug", cfg, fd.train, train.Options{})
}

// groupModels are the ensembles trained for one group.
type groupModels struct {
	// da: CNNs with random augmentation by the group; gcnn and canon: the
	// GCNN and the canonicalised CNN, without augmentation.
	da, gcnn, canon *train.Ensemble
	// steps holds the augmented CNNs' snapshots (nil without a steps
	// curve).
	steps *stepRecorder
}

// trainGroup trains the models of the group gn with the architectures
// archs ("cnn", "gcnn", "canon").
func trainGroup(ctx context.Context, env *experiment.Env, p *params, fd *preparedData, gn string, archs map[string]string) (groupModels, error) {
	var m groupModels
	var err error
	cfgDA := trainConfig(p.CNN.ModelParams, archs["cnn"], p, train.AugConfig{Mode: "random", Group: gn})
	if m.da, m.steps, err = trainDA(ctx, env, p, fd, gn, cfgDA); err != nil {
		return m, err
	}
	cfgG := trainConfig(p.GCNN.ModelParams, archs["gcnn"], p, train.AugConfig{Mode: "none"})
	if m.gcnn, err = experiment.TrainEnsemble(ctx, env, "gcnn_"+gn, cfgG, fd.train, train.Options{}); err != nil {
		return m, err
	}
	cfgC := trainConfig(p.Canon.ModelParams, archs["canon"], p, train.AugConfig{Mode: "none"})
	if m.canon, err = experiment.TrainEnsemble(ctx, env, "canon_"+gn, cfgC, fd.train, train.Options{}); err != nil {
		return m, err
	}
	return m, nil
}
