package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/train"
)

// TrainEnsemble trains (or resumes, or reuses) the ensemble described by
// cfg in env.Out/runs/NAME-HASH (HASH from the config, so that a changed
// config trains afresh) and opens it. raw, if not nil, is the training data
// to use instead of loading cfg.Data.
func TrainEnsemble(ctx context.Context, env *Env, name string, cfg *train.Config, raw *data.Dataset, opts train.Options) (*train.Ensemble, error) {
	dir := filepath.Join(env.Out, "runs", name+"-"+cfg.Hash()[:10])
	if raw != nil {
		opts.Data = raw
	}
	s, err := train.Prepare(cfg.Clone(), raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	total := int64(cfg.Members * s.Steps)
	bar := progress.New(os.Stderr, total, "train "+name, 15*time.Second)
	start := time.Now()
	prev := opts.Progress
	opts.Progress = func(e train.Event) {
		if !e.Done {
			bar.Add(1)
			if e.Step%50 == 0 {
				bar.Describe(fmt.Sprintf("train %s (member %d loss %.3g)", name, e.Member, e.Loss))
			}
		} else if e.Skipped {
			bar.Add(e.Steps)
		}
		if prev != nil {
			prev(e)
		}
	}
	rep, err := train.Train(ctx, cfg, dir, opts)
	bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	env.Logf("trained %s: %d members × %d steps (%d reused) in %.1f s", name, cfg.Members, s.Steps, len(rep.Skipped), time.Since(start).Seconds())
	return train.OpenEnsemble(dir)
}

// ModelParams describes a trained model family in an experiment config.
type ModelParams struct {
	Arch      string                `yaml:"arch"`
	Param     string                `yaml:"param"`
	Members   int                   `yaml:"members"`
	Steps     int                   `yaml:"steps"`
	BatchSize int                   `yaml:"batch_size"`
	Optimizer train.OptimizerConfig `yaml:"optimizer"`
	Loss      string                `yaml:"loss"`
}

// Config turns model parameters into a training Config on the named data.
func (m ModelParams) Config(dataName, dataDir string, size int, seed uint64, aug train.AugConfig) *train.Config {
	c := train.DefaultConfig()
	c.Data.Name = dataName
	c.Data.Dir = dataDir
	c.Data.Size = size
	c.Data.Seed = seed
	if aug.Mode != "" {
		c.Augmentation.Mode = aug.Mode
	}
	if aug.Group != "" {
		c.Augmentation.Group = aug.Group
	}
	if aug.Output != "" {
		c.Augmentation.Output = aug.Output
	}
	if aug.Sampling != "" {
		c.Augmentation.Sampling = aug.Sampling
	}
	c.Model.Arch = m.Arch
	c.Model.Param = m.Param
	c.Members = m.Members
	c.Steps = m.Steps
	c.BatchSize = m.BatchSize
	o := &c.Optimizer
	o.Name, o.LR = m.Optimizer.Name, m.Optimizer.LR
	if m.Optimizer.Momentum != 0 {
		o.Momentum = m.Optimizer.Momentum
	}
	if m.Optimizer.Schedule != "" {
		o.Schedule = m.Optimizer.Schedule
		o.MinLR, o.StepSize = m.Optimizer.MinLR, m.Optimizer.StepSize
		if m.Optimizer.Gamma != 0 {
			o.Gamma = m.Optimizer.Gamma
		}
	}
	c.Loss = m.Loss
	c.Seed = seed
	return c
}
