package ising

// The networks: one ensemble per width, trained with random augmentation,
// whose members' outputs on the orbit subsets of the test sets are
// recorded at every evaluation step and cached next to the run.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/train"
)

// records holds the members' outputs at every snapshot on the orbit
// subsets of every test set, as float32: member m, step index s, set j,
// element e, point i at rec[m][s*tot + off[j] + e*n_j + i].
type records struct {
	rec   [][]float32
	count []int
	tot   int
	off   []int
	n     []int
	S     int
}

// newRecords returns empty records for the given members, sets and number
// of orbit elements S.
func newRecords(members int, sets []*testSet, S int) *records {
	r := &records{rec: make([][]float32, members), count: make([]int, members), S: S}
	for _, s := range sets {
		r.off = append(r.off, r.tot)
		r.n = append(r.n, s.N)
		r.tot += S * s.N
	}
	return r
}

// orbit returns member m's outputs at step index s on the orbit subset of
// set j.
func (r *records) orbit(m, s, j int) *metrics.Orbit {
	n := r.n[j]
	src := r.rec[m][s*r.tot+r.off[j] : s*r.tot+r.off[j]+r.S*n]
	o := metrics.NewOrbit(r.S, n, 1)
	for i, v := range src {
		o.Out[i] = float64(v)
	}
	return o
}

// widthRun is what one width's ensemble produced.
type widthRun struct {
	width int
	recs  *records
	ens   *train.Ensemble
}

// trainWidth trains (or reuses) the ensemble of one width and returns
// the members' outputs at every snapshot. The outputs are kept next to the
// run (runs/NAME-HASH/ising-eval-EVALHASH/member-MMMM.f32) so that a rerun
// that reuses finished members also reuses their snapshots; a member
// without them is retrained from scratch, since the snapshot hook does not
// revisit steps before a restart point.
func trainWidth(ctx context.Context, env *experiment.Env, p *params, in *inputs, w int) (*widthRun, error) {
	mp := experiment.ModelParams{Arch: experiment.ExpandSpec(p.Arch, w), Param: "ntk", Members: p.Members, Steps: p.Steps,
		Optimizer: train.OptimizerConfig{Name: "gd", LR: p.LR}, Loss: "mse"}
	cfg := mp.Config(in.trainLabel, "", in.train.Len(), p.Seed, train.AugConfig{Mode: "random", Group: fmt.Sprintf("ising:%d", p.L)})
	cfg.Data.Standardize = "none"
	cfg.BatchSize = 0
	name := fmt.Sprintf("ising_w%d", w)
	// The run directory, as trainEnsemble names it.
	dir := filepath.Join(env.Out, "runs", name+"-"+cfg.Hash()[:10])
	cache := filepath.Join(dir, "ising-eval-"+in.evalHash)
	memberCache := func(m int) string { return filepath.Join(cache, fmt.Sprintf("member-%04d.f32", m)) }
	S := len(in.xorb[0]) / (in.sets[0].N * p.L * p.L)
	r := newRecords(p.Members, in.sets, S)
	cached, err := loadRecords(r, len(in.steps), dir, memberCache)
	if err != nil {
		return nil, err
	}
	opts := train.Options{Snapshots: in.steps, Snapshot: r.recorder(in.steps, in.xorb, p.L*p.L, cached)}
	ens, err := experiment.TrainEnsemble(ctx, env, name, cfg, in.train, opts)
	if err != nil {
		return nil, err
	}
	if len(ens.Members) != p.Members {
		return nil, fmt.Errorf("%s: %d of %d members finished", name, len(ens.Members), p.Members)
	}
	for m := range r.rec {
		if cached[m] {
			continue
		}
		if r.count[m] != len(in.steps) {
			return nil, fmt.Errorf("%s: member %d has %d of %d snapshots; remove %s and run again", name, m, r.count[m], len(in.steps), dir)
		}
		if err := experiment.SaveFloats(memberCache(m), r.rec[m]); err != nil {
			return nil, err
		}
	}
	return &widthRun{width: w, recs: r, ens: ens}, nil
}

// loadRecords fills the records of the members whose outputs at the
// nsteps snapshots are cached (file(m)) and reports which they are; the
// others get empty records, and their trained network in the run
// directory dir is removed, so that they are trained again with the
// snapshot hook.
func loadRecords(r *records, nsteps int, dir string, file func(m int) string) ([]bool, error) {
	size := nsteps * r.tot
	cached := make([]bool, len(r.rec))
	for m := range cached {
		if v, err := experiment.LoadFloats[float32](file(m), size); err == nil {
			r.rec[m] = v
			cached[m] = true
			continue
		}
		if err := os.Remove(train.MemberPath(dir, m)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		r.rec[m] = make([]float32, size)
	}
	return cached, nil
}

// recorder returns the snapshot hook that records a member's outputs on
// the orbit images xorb (d spins per configuration) at the given steps,
// except for the cached members.
func (r *records) recorder(steps []int, xorb [][]float32, d int, cached []bool) func(m, step int, net *nn.Network[float32]) error {
	stepIdx := map[int]int{}
	for i, s := range steps {
		stepIdx[s] = i
	}
	const batch = 1024
	return func(m, step int, net *nn.Network[float32]) error {
		si, ok := stepIdx[step]
		if !ok || cached[m] {
			return nil
		}
		dst := r.rec[m][si*r.tot : (si+1)*r.tot]
		for j, x := range xorb {
			tot := len(x) / d
			for s := 0; s < tot; s += batch {
				b := min(batch, tot-s)
				out := net.Forward(x[s*d:(s+b)*d], b)
				copy(dst[r.off[j]+s:r.off[j]+s+b], out[:b])
			}
		}
		r.count[m]++
		return nil
	}
}
