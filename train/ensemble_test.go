package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
)

// detConfigs are small runs that exercise every source of randomness:
// initialisation, epoch shuffles with a smaller last batch, and random
// augmentation draws.
func detConfigs() []struct {
	name string
	cfg  *Config
	ds   *data.Dataset
} {
	mlp := DefaultConfig()
	mlp.Data = DataConfig{Name: CrossProductName, Split: "train", Size: 20, Seed: 4}
	mlp.Augmentation = AugConfig{Mode: "random", Group: "oct", Input: "auto", Output: "vector"}
	mlp.Model.Arch = "dense(16),relu,dense(3)"
	mlp.Optimizer = OptimizerConfig{Name: "sgd", LR: 0.02, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Schedule: "cosine", Gamma: 0.1}
	mlp.Steps, mlp.BatchSize, mlp.Members, mlp.Seed, mlp.CheckpointEvery = 30, 7, 4, 11, 10

	cnn := memConfig("conv(3,k=3),relu,maxpool(2),flatten,dense(2)", 0)
	cnn.Epochs = 4
	cnn.BatchSize = 5
	cnn.Members = 3
	cnn.Seed = 5
	cnn.Augmentation = AugConfig{Mode: "full", Group: "c4", Input: "auto", Output: "trivial"}
	cnn.Optimizer.Schedule, cnn.Optimizer.StepSize = "step", 7
	return []struct {
		name string
		cfg  *Config
		ds   *data.Dataset
	}{{"mlp-cross-product", mlp, nil}, {"cnn-images", cnn, tinyImages(6, 1, 6, 2, 3)}}
}

// readMembers returns the bytes of every member file in dir.
func readMembers(t *testing.T, dir string) map[int][]byte {
	t.Helper()
	ms, err := ListMembers(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int][]byte{}
	for _, m := range ms {
		b, err := os.ReadFile(MemberPath(dir, m))
		if err != nil {
			t.Fatal(err)
		}
		out[m] = b
	}
	return out
}

func sameMembers(t *testing.T, what string, a, b map[int][]byte) {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%s: %d and %d members", what, len(a), len(b))
	}
	for m, x := range a {
		if !bytes.Equal(x, b[m]) {
			t.Errorf("%s: member %d differs", what, m)
		}
	}
}

// TestDeterminismAcrossCores trains the same config with GOMAXPROCS 1 and
// 2 (and more workers than cores) and requires bit-identical checkpoints.
func TestDeterminismAcrossCores(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for _, tc := range detConfigs() {
		t.Run(tc.name, func(t *testing.T) {
			var runs []map[int][]byte
			for _, p := range []struct {
				procs, workers int
				sched          Schedule
			}{{1, 0, ""}, {2, 0, ""}, {2, 3, ""}, {1, 0, ScheduleBatched}, {2, 0, ScheduleBatched}} {
				runtime.GOMAXPROCS(p.procs)
				dir := t.TempDir()
				if _, err := Train(context.Background(), tc.cfg, dir, Options{Data: tc.ds, Workers: p.workers, Schedule: p.sched}); err != nil {
					t.Fatal(err)
				}
				runs = append(runs, readMembers(t, dir))
			}
			sameMembers(t, "GOMAXPROCS 1 vs 2", runs[0], runs[1])
			sameMembers(t, "GOMAXPROCS 1 vs 3 workers on 2", runs[0], runs[2])
			sameMembers(t, "members one by one vs batched on 1 core", runs[0], runs[3])
			sameMembers(t, "members one by one vs batched on 2 cores", runs[0], runs[4])
			// Different members did get different parameters.
			if bytes.Equal(runs[0][0], runs[0][1]) {
				t.Error("members 0 and 1 are identical")
			}
		})
	}
}

// TestShardsMerge trains an ensemble in two shards, merges them and
// requires the same files and the same predictions as one run.
func TestShardsMerge(t *testing.T) {
	for _, tc := range detConfigs() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root := t.TempDir()
			whole, a, b, merged := filepath.Join(root, "whole"), filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "merged")
			M := tc.cfg.Members
			for _, run := range []struct {
				dir   string
				r     Range
				sched Schedule
			}{{whole, Range{}, ""}, {a, Range{0, 2}, ""}, {b, Range{2, M}, ScheduleBatched}} {
				rep, err := Train(ctx, tc.cfg, run.dir, Options{Data: tc.ds, Members: run.r, Schedule: run.sched})
				if err != nil {
					t.Fatal(err)
				}
				if run.r != (Range{}) && len(rep.Trained) != run.r.Len() {
					t.Fatalf("shard %v trained %v", run.r, rep.Trained)
				}
			}
			mr, err := Merge(merged, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(mr.Members) != M || len(mr.Unfinished) != 0 {
				t.Fatalf("merged %+v", mr)
			}
			sameMembers(t, "merged vs single run", readMembers(t, whole), readMembers(t, merged))
			for _, f := range []string{ConfigFile, PreprocessFile} {
				x, _ := os.ReadFile(filepath.Join(whole, f))
				y, _ := os.ReadFile(filepath.Join(merged, f))
				if !bytes.Equal(x, y) {
					t.Errorf("%s differs", f)
				}
			}
			// Predictions: the merged run, the two shards opened together
			// and the single run agree exactly.
			var preds [][][]float32
			for _, dirs := range [][]string{{whole}, {merged}, {a, b}} {
				e, err := OpenEnsemble(dirs...)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(e.Members, identity(M)) {
					t.Fatalf("members %v", e.Members)
				}
				s, err := Prepare(tc.cfg, tc.ds)
				if err != nil {
					t.Fatal(err)
				}
				p, err := e.Predict(ctx, s.Data.X, s.Data.Len(), 0)
				if err != nil {
					t.Fatal(err)
				}
				preds = append(preds, p)
			}
			for i := 1; i < len(preds); i++ {
				for m := range preds[0] {
					if !slices.Equal(preds[0][m], preds[i][m]) {
						t.Errorf("predictions of member %d differ (case %d)", m, i)
					}
				}
			}
			// Shards training into one shared directory give the same.
			shared := filepath.Join(root, "shared")
			for _, r := range []Range{{2, M}, {0, 2}} {
				if _, err := Train(ctx, tc.cfg, shared, Options{Data: tc.ds, Members: r}); err != nil {
					t.Fatal(err)
				}
			}
			sameMembers(t, "shared directory vs single run", readMembers(t, whole), readMembers(t, shared))
			// A second run over a finished directory skips every member.
			for _, sched := range []Schedule{ScheduleMembers, ScheduleBatched} {
				rep, err := Train(ctx, tc.cfg, whole, Options{Data: tc.ds, Schedule: sched})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Skipped) != M || len(rep.Trained) != 0 {
					t.Errorf("rerun (%s): trained %v, skipped %v", sched, rep.Trained, rep.Skipped)
				}
			}
		})
	}
}

func TestMergeRefusesDifferentRuns(t *testing.T) {
	ctx := context.Background()
	tc := detConfigs()[0]
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	if _, err := Train(ctx, tc.cfg, a, Options{Members: Range{0, 1}}); err != nil {
		t.Fatal(err)
	}
	other := tc.cfg.Clone()
	other.Optimizer.LR = 0.03
	if _, err := Train(ctx, other, b, Options{Members: Range{1, 2}}); err != nil {
		t.Fatal(err)
	}
	_, err := Merge(filepath.Join(root, "m"), a, b)
	if err == nil || !strings.Contains(err.Error(), "different configs") || !strings.Contains(err.Error(), "optimizer.lr: 0.02 != 0.03") {
		t.Errorf("Merge of different runs: %v", err)
	}
	if _, err := OpenEnsemble(a, b); err == nil || !strings.Contains(err.Error(), "different configs") {
		t.Errorf("OpenEnsemble of different runs: %v", err)
	}
	// Training another config into an existing run directory is refused.
	if _, err := Train(ctx, other, a, Options{}); err == nil || !strings.Contains(err.Error(), "holds a different run") {
		t.Errorf("Train into a directory of another run: %v", err)
	}
}

// TestDivergence finds a learning rate at which some members of an
// ensemble diverge and others do not, and checks that the diverged members
// are reported with their index and step while the others finish.
func TestDivergence(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Data = DataConfig{Name: CrossProductName, Split: "train", Size: 16}
	cfg.Model.Arch = "dense(16),relu,dense(3)"
	cfg.Optimizer.Name = "sgd"
	cfg.Steps, cfg.BatchSize, cfg.Members, cfg.CheckpointEvery = 60, 0, 8, 0
	for _, sched := range []Schedule{ScheduleMembers, ScheduleBatched} {
		t.Run(string(sched), func(t *testing.T) { testDivergence(t, cfg, sched) })
	}
}

func testDivergence(t *testing.T, cfg *Config, sched Schedule) {
	for _, lr := range []float64{0.5, 0.7, 1, 1.4, 2, 3, 5, 10, 30, 100} {
		cfg.Optimizer.LR = lr
		dir := t.TempDir()
		rep, err := Train(context.Background(), cfg, dir, Options{Schedule: sched})
		if len(rep.Failed) == 0 || len(rep.Trained) == 0 {
			continue
		}
		var fe *FailedError
		if !errors.As(err, &fe) || !errors.Is(err, ErrDiverged) {
			t.Fatalf("lr %g: error %v, want a FailedError wrapping ErrDiverged", lr, err)
		}
		for _, f := range rep.Failed {
			msg := f.Error()
			want := "member " + strconv.Itoa(f.Member) + " failed at step " + strconv.Itoa(f.Step) + ": diverged: loss is"
			if !strings.HasPrefix(msg, want) || f.Step < 1 || f.Step >= cfg.Steps {
				t.Errorf("lr %g: member error %q, want prefix %q", lr, msg, want)
			}
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("lr %g: run error %q does not list %q", lr, err, msg)
			}
		}
		for _, m := range rep.Trained {
			ck, err := ReadCheckpoint(MemberPath(dir, m))
			if err != nil || !ck.Done || ck.Step != cfg.Steps || math.IsNaN(ck.Loss) {
				t.Errorf("lr %g: finished member %d: %+v, %v", lr, m, ck, err)
			}
		}
		if len(rep.Failed)+len(rep.Trained) != cfg.Members {
			t.Errorf("lr %g: %d failed + %d trained of %d", lr, len(rep.Failed), len(rep.Trained), cfg.Members)
		}
		return
	}
	t.Fatal("no learning rate made some but not all members diverge")
}

// TestCancelResume cancels a run after some steps and resumes it; the
// result must equal an uninterrupted run bit for bit.
func TestCancelResume(t *testing.T) {
	tc := detConfigs()[0]
	cfg := tc.cfg.Clone()
	cfg.Steps, cfg.CheckpointEvery = 200, 0
	ref := t.TempDir()
	if _, err := Train(context.Background(), cfg, ref, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stopAt  int
		members Range
		sched   Schedule
	}{{1, Range{0, 1}, ""}, {37, Range{0, 1}, ""}, {199, Range{0, 1}, ""}, {1, Range{0, 3}, ScheduleBatched}, {37, Range{}, ScheduleBatched}} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Train(ctx, cfg, dir, Options{Workers: 1, Members: tc.members, Schedule: tc.sched, Progress: func(e Event) {
			if !e.Done && e.Member == 0 && e.Step == tc.stopAt {
				cancel()
			}
		}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at %d (%s): error %v, want context.Canceled", tc.stopAt, tc.sched, err)
		}
		ck, err := ReadCheckpoint(MemberPath(dir, 0))
		if err != nil || ck.Done || ck.Step != tc.stopAt {
			t.Fatalf("stop at %d (%s): checkpoint %+v, %v", tc.stopAt, tc.sched, ck, err)
		}
		if _, err := Train(context.Background(), cfg, dir, Options{Schedule: tc.sched}); err != nil {
			t.Fatal(err)
		}
		sameMembers(t, "resumed vs uninterrupted ("+string(tc.sched)+")", readMembers(t, ref), readMembers(t, dir))
	}
	// Cancelled right after the last step, members finish in both
	// schedules.
	for _, sched := range []Schedule{ScheduleMembers, ScheduleBatched} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		Train(ctx, cfg, dir, Options{Workers: 1, Members: Range{0, 2}, Schedule: sched, Progress: func(e Event) {
			if !e.Done && e.Step == cfg.Steps {
				cancel()
			}
		}})
		cancel()
		ck, err := ReadCheckpoint(MemberPath(dir, 0))
		if err != nil {
			t.Fatal(err)
		}
		if !ck.Done {
			t.Errorf("%s: cancelled after the last step: checkpoint at step %d of %d not final; want a finished member", sched, ck.Step, ck.Steps)
		}
	}
}

// TestEvaluateOrbit evaluates classifiers on the C4 orbit: a C4-invariant
// GCNN predicts the same class on every rotated copy (OSP = |G| for every
// member), an MLP does not have to.
func TestEvaluateOrbit(t *testing.T) {
	ctx := context.Background()
	ds := tinyImages(12, 1, 6, 3, 21)
	test := tinyImages(20, 1, 6, 3, 22)
	c4, err := group.Parse("c4")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arch      string
		invariant bool
	}{
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(3)", true},
		{"dense(16),relu,dense(3)", false},
	} {
		cfg := memConfig(tc.arch, 20)
		cfg.Members = 3
		dir := t.TempDir()
		if _, err := Train(ctx, cfg, dir, Options{Data: ds}); err != nil {
			t.Fatal(err)
		}
		e, err := OpenEnsemble(dir)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Evaluate(ctx, e, test, EvalOptions{Group: c4})
		if err != nil {
			t.Fatal(err)
		}
		if res.Task != "classification" || len(res.Members) != 3 || len(res.Predictions) != 4 || res.N != 20 {
			t.Fatalf("%s: result %+v", tc.arch, res)
		}
		for _, k := range []string{"mean_output", "mean_softmax"} {
			if m := res.Ensemble[k]; m["accuracy"] < 0 || m["accuracy"] > 1 || !(m["nll"] > 0) {
				t.Errorf("%s: ensemble %s metrics %v", tc.arch, k, m)
			}
		}
		g := res.Group
		for i, osp := range g.OSPMembers {
			if osp < 1 || osp > 4 || (tc.invariant && osp != 4) {
				t.Errorf("%s: member %d OSP %v", tc.arch, i, osp)
			}
			if g.OSPChanceMember[i] < 1 || g.OSPChanceMember[i] > 4 {
				t.Errorf("%s: member %d chance OSP %v", tc.arch, i, g.OSPChanceMember[i])
			}
		}
		if tc.invariant && (g.OSPMeanOutput != 4 || g.OSPMeanSoftmax != 4) {
			t.Errorf("%s: ensemble OSP %v, %v", tc.arch, g.OSPMeanOutput, g.OSPMeanSoftmax)
		}
		// The mean-output metrics on element 0 are those of the ensemble.
		if g.ByElement[0]["accuracy"] != res.Ensemble["mean_output"]["accuracy"] {
			t.Errorf("%s: element 0 %v, ensemble %v", tc.arch, g.ByElement[0], res.Ensemble["mean_output"])
		}
	}
}
