package toy

// This file trains ensembles with snapshots of every member's predictions
// on the grid, cached next to the run.

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/train"
)

// snapshots are the members' predictions on the grid at the recorded
// steps, cached next to a run so that a finished run can be reused (train
// does not repeat the snapshots of finished members).
type snapshots struct {
	Steps []int
	Grid  []float32
	Preds [][][]float32 // [member][step index][grid point]
}

// trainWithSnapshots trains an ensemble with snapshots of every member's
// predictions on grid at the given steps, or reuses a finished one with its
// snapshots.
func trainWithSnapshots(ctx context.Context, env *experiment.Env, name string, cfg *train.Config, raw *data.Dataset, steps []int, grid []float32) ([][][]float32, error) {
	// The run directory of experiment.TrainEnsemble.
	dir := filepath.Join(env.Out, "runs", name+"-"+cfg.Hash()[:10])
	cache := filepath.Join(dir, "toy-snapshots.gob")
	if preds, ok := readSnapshots(cache, cfg.Members, steps, grid); ok {
		env.Logf("%s: reusing %d members and their snapshots from %s", name, cfg.Members, dir)
		return preds, nil
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
	if err := gob.NewEncoder(&buf).Encode(snapshots{Steps: steps, Grid: grid, Preds: preds}); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(cache, buf.Bytes(), atomicfile.DefaultPerm); err != nil {
		return nil, err
	}
	return preds, nil
}

// readSnapshots returns the cached predictions of members members if the
// cache holds them for these steps and this grid.
func readSnapshots(cache string, members int, steps []int, grid []float32) ([][][]float32, bool) {
	b, err := os.ReadFile(cache)
	if err != nil {
		return nil, false
	}
	var c snapshots
	if gob.NewDecoder(bytes.NewReader(b)).Decode(&c) != nil || !slices.Equal(c.Steps, steps) || !slices.Equal(c.Grid, grid) || len(c.Preds) != members {
		return nil, false
	}
	return c.Preds, true
}
