package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/nn"
)

// Ensemble holds the finished members of a run, read from one run
// directory or from several directories holding shards of the same run.
type Ensemble struct {
	// Config is the resolved config of the run, Hash its hash.
	Config *Config
	Hash   string
	// Preprocess is the input preprocessing of the run.
	Preprocess *Preprocess
	Arch       *nn.Arch
	// Dirs are the run directories read.
	Dirs []string
	// Members lists the finished members in increasing order, Params their
	// parameters (in nn.Network order) and Paths their files.
	Members []int
	Params  [][]float32
	Paths   []string
	// Unfinished lists members whose checkpoints are not final; they are
	// not loaded.
	Unfinished []int
}

// readRun reads the config and preprocessing of a run directory.
func readRun(dir string) (*Config, []byte, error) {
	c, err := ReadRunConfig(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s is not a run directory: no %s (train one with eqens train --out %s)", dir, ConfigFile, dir)
	}
	if err != nil {
		return nil, nil, err
	}
	pre, err := os.ReadFile(filepath.Join(dir, PreprocessFile))
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", dir, err)
	}
	return c, pre, nil
}

// sameRun checks that the runs in dirs are shards of one run and returns
// its config and preprocessing.
func sameRun(dirs []string) (*Config, []byte, error) {
	if len(dirs) == 0 {
		return nil, nil, errors.New("no run directory given")
	}
	var c0 *Config
	var p0 []byte
	for i, d := range dirs {
		c, p, err := readRun(d)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			c0, p0 = c, p
			continue
		}
		if c.Hash() != c0.Hash() {
			return nil, nil, fmt.Errorf("runs %s and %s have different configs, refusing to combine them: %s", dirs[0], d, strings.Join(c0.Diff(c), "; "))
		}
		if !bytes.Equal(p, p0) {
			return nil, nil, fmt.Errorf("runs %s and %s have the same config but different %s (the training data differed)", dirs[0], d, PreprocessFile)
		}
	}
	return c0, p0, nil
}

// OpenEnsemble reads the finished members of the run directories dirs,
// which must hold shards of one run: their configs must have the same Hash
// (everything but data.dir equal). A member present in several directories
// must be bit-identical in all of them.
func OpenEnsemble(dirs ...string) (*Ensemble, error) {
	c, pb, err := sameRun(dirs)
	if err != nil {
		return nil, err
	}
	var pre Preprocess
	if err := json.Unmarshal(pb, &pre); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dirs[0], PreprocessFile), err)
	}
	e := &Ensemble{Config: c, Hash: c.Hash(), Preprocess: &pre, Dirs: dirs}
	byMember := map[int]int{}
	unfinished := map[int]bool{}
	for _, d := range dirs {
		ms, err := ListMembers(d)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			path := MemberPath(d, m)
			ck, err := ReadCheckpoint(path)
			if err != nil {
				return nil, err
			}
			if ck.ConfigHash != e.Hash || ck.Member != m {
				return nil, fmt.Errorf("%s: belongs to another run or member (config hash %.12s, member %d)", path, ck.ConfigHash, ck.Member)
			}
			if !ck.Done {
				unfinished[m] = true
				continue
			}
			if e.Arch == nil {
				e.Arch = ck.Arch
			}
			if i, dup := byMember[m]; dup {
				if !slices.Equal(e.Params[i], ck.Params) {
					return nil, fmt.Errorf("member %d differs between %s and %s", m, e.Paths[i], path)
				}
				continue
			}
			byMember[m] = len(e.Members)
			e.Members = append(e.Members, m)
			e.Params = append(e.Params, ck.Params)
			e.Paths = append(e.Paths, path)
		}
	}
	for m := range unfinished {
		if _, ok := byMember[m]; !ok {
			e.Unfinished = append(e.Unfinished, m)
		}
	}
	slices.Sort(e.Unfinished)
	if len(e.Members) == 0 {
		return nil, fmt.Errorf("no finished members in %s (%d unfinished)", strings.Join(dirs, ", "), len(e.Unfinished))
	}
	// Sort members by index, keeping params and paths aligned.
	order := identity(len(e.Members))
	slices.SortFunc(order, func(a, b int) int { return e.Members[a] - e.Members[b] })
	ms, ps, paths := make([]int, len(order)), make([][]float32, len(order)), make([]string, len(order))
	for i, j := range order {
		ms[i], ps[i], paths[i] = e.Members[j], e.Params[j], e.Paths[j]
	}
	e.Members, e.Params, e.Paths = ms, ps, paths
	return e, nil
}

// Augmentation returns the run's augmentation for data of the given kind,
// or nil.
func (e *Ensemble) Augmentation(ds *data.Dataset) (*Augmentation, error) {
	return NewAugmentation(e.Config.Augmentation, ds.Shape, ds.OutputDim(), ds.IsClassification())
}

// PrepareData applies the run's input preprocessing to ds in place
// (standardisation with the training statistics and, for interpolated
// group actions, the circular mask) and checks its shape.
func (e *Ensemble) PrepareData(ds *data.Dataset) error {
	if !slices.Equal(ds.Shape, e.Arch.InShape) {
		return fmt.Errorf("dataset %s has inputs of shape %v, the ensemble expects %v", ds.Name, ds.Shape, e.Arch.InShape)
	}
	var rep *group.Rep
	if e.Preprocess.Mask {
		aug, err := e.Augmentation(ds)
		if err != nil {
			return err
		}
		rep = maskRep(aug)
	}
	return e.Preprocess.Apply(ds, rep)
}

// predictBatch is the number of samples evaluated at once.
const predictBatch = 256

// Predict returns every member's outputs on the n inputs in x (already
// preprocessed, see PrepareData): Predict(...)[i] holds member
// e.Members[i]'s n×OutputDim outputs. Members are evaluated in parallel on
// workers goroutines (0: GOMAXPROCS) with single-threaded linear algebra.
func (e *Ensemble) Predict(ctx context.Context, x []float32, n, workers int) ([][]float32, error) {
	in, k := e.Arch.InputSize(), e.Arch.OutputDim()
	if len(x) != n*in {
		return nil, fmt.Errorf("predict: %d input values for %d samples of size %d", len(x), n, in)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(e.Members))
	prev := linalg.Threads()
	linalg.SetThreads(1)
	defer linalg.SetThreads(prev)
	out := make([][]float32, len(e.Members))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One network per worker, its buffers reused for every member
			// it evaluates (a forward pass depends on Params alone).
			net := nn.New[float32](e.Arch)
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				copy(net.Params, e.Params[i])
				o := make([]float32, n*k)
				for s := 0; s < n; s += predictBatch {
					b := min(predictBatch, n-s)
					copy(o[s*k:(s+b)*k], net.Forward(x[s*in:(s+b)*in], b))
				}
				out[i] = o
			}
		}()
	}
	for i := range e.Members {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// MeanOutputs returns the ensemble mean of the members' outputs (of the
// logits, for classifiers): the prediction the infinite-width theory
// describes. Sums run in float64, in member order.
func MeanOutputs(preds [][]float32) []float32 {
	if len(preds) == 0 {
		return nil
	}
	acc := make([]float64, len(preds[0]))
	for _, p := range preds {
		for j, v := range p {
			acc[j] += float64(v)
		}
	}
	out := make([]float32, len(acc))
	for j, v := range acc {
		out[j] = float32(v / float64(len(preds)))
	}
	return out
}

// MeanSoftmax returns the ensemble mean of the members' softmax
// probabilities over k classes: the usual deep-ensemble prediction of a
// classifier (Lakshminarayanan et al.), which differs from the softmax of
// MeanOutputs.
func MeanSoftmax(preds [][]float32, k int) []float32 {
	if len(preds) == 0 {
		return nil
	}
	acc := make([]float64, len(preds[0]))
	p := make([]float32, len(preds[0]))
	for _, o := range preds {
		Softmax(p, o, k)
		for j, v := range p {
			acc[j] += float64(v)
		}
	}
	out := make([]float32, len(acc))
	for j, v := range acc {
		out[j] = float32(v / float64(len(preds)))
	}
	return out
}

// MergeReport says what Merge did.
type MergeReport struct {
	// Members lists the finished members in the merged run, Unfinished
	// the members copied whose training has not finished.
	Members, Unfinished []int
}

// Merge combines run directories holding shards of one run into dst. The
// runs must have the same config (Hash); a member present in several of
// them must be identical there, except that a finished checkpoint wins
// over an unfinished one. Files are copied atomically; dst may already hold
// members of the same run.
func Merge(dst string, srcs ...string) (*MergeReport, error) {
	all := slices.Clone(srcs)
	if _, err := os.Stat(filepath.Join(dst, ConfigFile)); err == nil {
		all = append(all, dst)
	}
	c, pre, err := sameRun(all)
	if err != nil {
		return nil, err
	}
	chosen, err := chooseMembers(srcs, c.Hash())
	if err != nil {
		return nil, err
	}
	if err := writeRunFiles(dst, c, pre); err != nil {
		return nil, err
	}
	if err := copyMembers(dst, chosen); err != nil {
		return nil, err
	}
	return mergedMembers(dst)
}

// mergePick is the checkpoint of a member chosen for the merged run.
type mergePick struct {
	path string
	ck   *Checkpoint
	raw  []byte // the file's content
}

// chooseMembers picks, for every member in the run directories srcs, the
// checkpoint to merge: a finished one, else the one trained furthest.
func chooseMembers(srcs []string, hash string) (map[int]*mergePick, error) {
	chosen := map[int]*mergePick{}
	for _, d := range srcs {
		ms, err := ListMembers(d)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			path := MemberPath(d, m)
			raw, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			ck, err := ReadCheckpoint(path)
			if err != nil {
				return nil, err
			}
			if ck.ConfigHash != hash || ck.Member != m {
				return nil, fmt.Errorf("%s: belongs to another run or member (config hash %.12s, member %d)", path, ck.ConfigHash, ck.Member)
			}
			old, ok := chosen[m]
			switch {
			case !ok:
				chosen[m] = &mergePick{path, ck, raw}
			case old.ck.Done && ck.Done:
				if !slices.Equal(old.ck.Params, ck.Params) {
					return nil, fmt.Errorf("member %d differs between %s and %s", m, old.path, path)
				}
			case ck.Done || (!old.ck.Done && ck.Step > old.ck.Step):
				chosen[m] = &mergePick{path, ck, raw}
			}
		}
	}
	return chosen, nil
}

// writeRunFiles writes the config and the preprocessing of the merged run
// into dst.
func writeRunFiles(dst string, c *Config, pre []byte) error {
	if err := os.MkdirAll(filepath.Join(dst, MembersDir), 0o755); err != nil {
		return err
	}
	cb, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dst, ConfigFile), cb, atomicfile.DefaultPerm); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dst, PreprocessFile), pre, atomicfile.DefaultPerm)
}

// copyMembers copies the chosen checkpoints into dst, keeping a finished
// member dst already holds.
func copyMembers(dst string, chosen map[int]*mergePick) error {
	for m, p := range chosen {
		out := MemberPath(dst, m)
		if existing, err := ReadCheckpoint(out); err == nil {
			if existing.Done && !p.ck.Done {
				continue
			}
			if existing.Done && p.ck.Done && !slices.Equal(existing.Params, p.ck.Params) {
				return fmt.Errorf("member %d differs between %s and %s", m, out, p.path)
			}
		}
		if abs(out) != abs(p.path) {
			if err := atomicfile.WriteFile(out, p.raw, atomicfile.DefaultPerm); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergedMembers reports the finished and unfinished members in dst.
func mergedMembers(dst string) (*MergeReport, error) {
	rep := &MergeReport{}
	ms, err := ListMembers(dst)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		ck, err := ReadCheckpoint(MemberPath(dst, m))
		if err != nil {
			return nil, err
		}
		if ck.Done {
			rep.Members = append(rep.Members, m)
		} else {
			rep.Unfinished = append(rep.Unfinished, m)
		}
	}
	return rep, nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
