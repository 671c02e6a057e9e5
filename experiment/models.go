package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// trainEnsemble trains (or resumes, or reuses) the ensemble described by
// cfg in env.Out/runs/NAME-HASH (HASH from the config, so that a changed
// config trains afresh) and opens it. raw, if not nil, is the training data
// to use instead of loading cfg.Data.
func trainEnsemble(ctx context.Context, env *Env, name string, cfg *train.Config, raw *data.Dataset, opts train.Options) (*train.Ensemble, error) {
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

// ensembleOrbits evaluates every member of an ensemble on the orbits of a
// prepared dataset: one orbit per member.
func ensembleOrbits(ctx context.Context, ens *train.Ensemble, ds *data.Dataset, rep *group.Rep, batch int) ([]*metrics.Orbit, error) {
	n, d := ds.Len(), ds.SampleSize()
	k := ens.Arch.OutputDim()
	G := rep.Group().Order()
	out := make([]*metrics.Orbit, len(ens.Members))
	for m := range out {
		out[m] = metrics.NewOrbit(G, n, k)
	}
	buf := make([]float32, min(batch, n)*d)
	for g := 0; g < G; g++ {
		for s := 0; s < n; s += batch {
			b := min(batch, n-s)
			x := buf[:b*d]
			group.ApplyBatch(rep, g, x, ds.X[s*d:(s+b)*d])
			preds, err := ens.Predict(ctx, x, b, 0)
			if err != nil {
				return nil, err
			}
			for m, y := range preds {
				for i := 0; i < b; i++ {
					row := out[m].At(g, s+i)
					for c := range row {
						row[c] = float64(y[i*k+c])
					}
				}
			}
		}
	}
	return out, nil
}
