package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/nn"
)

// Options control how Train runs. None of them changes the trained
// parameters.
type Options struct {
	// Members is the range of members to train (a shard); the zero value
	// means all of them.
	Members Range
	// Workers is the number of members trained at once, each on its own
	// goroutine; 0 means runtime.GOMAXPROCS(0). ScheduleBatched ignores it.
	Workers int
	// Schedule says how the members share the cores ("": ScheduleMembers).
	Schedule Schedule
	// Data, if not nil, is the training split to use instead of loading
	// cfg.Data (before subset selection and preprocessing, which Train
	// applies). Runs trained on in-memory data cannot be evaluated by name.
	Data *data.Dataset
	// Progress, if not nil, is called after every step of every member and
	// when a member ends. Calls are serialised.
	Progress func(Event)
	// Snapshots lists steps (0: the initialisation) after which Snapshot is
	// called with the member's network, on the member's goroutine (calls
	// for different members run concurrently). Experiments use it to follow
	// predictions over training time. A resumed member does not repeat the
	// snapshots of steps before its restart point.
	Snapshots []int
	// Snapshot receives the member index, the step and the network; the
	// network must not be kept or modified. An error stops the member.
	Snapshot func(member, step int, net *nn.Network[float32]) error
}

// Event reports the progress of one member.
type Event struct {
	Member int
	// Step is the number of steps done, of Steps.
	Step, Steps int
	// Loss is the loss of the last batch (NaN before the first step).
	Loss float64
	// Done is set when the member ends: finished (Err nil), skipped because
	// it had finished before (Skipped), failed or interrupted (Err).
	Done    bool
	Skipped bool
	Err     error
}

// Report says what Train did.
type Report struct {
	// Dir is the run directory.
	Dir string
	// Config is the resolved config, as saved in Dir/config.yaml.
	Config *Config
	// Members is the range trained.
	Members Range
	// Steps is the number of steps per member.
	Steps int
	// Trained lists the members that finished in this call, Skipped those
	// that had finished before, Failed those that diverged or failed.
	Trained, Skipped []int
	Failed           []*MemberError
}

// ErrDiverged is wrapped by the MemberError of a member whose loss or
// parameters became NaN or infinite.
var ErrDiverged = errors.New("diverged")

// MemberError is the failure of one member at one step.
type MemberError struct {
	Member int
	Step   int
	Err    error
}

// Error says which member failed at which step, and why.
func (e *MemberError) Error() string {
	return fmt.Sprintf("member %d failed at step %d: %v", e.Member, e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *MemberError) Unwrap() error { return e.Err }

// FailedError is returned by Train when some members failed; the others
// were trained to the end.
type FailedError struct{ Failed []*MemberError }

// Error lists the failed members, one line each.
func (e *FailedError) Error() string {
	var b strings.Builder
	idx := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		idx[i] = fmt.Sprint(f.Member)
	}
	fmt.Fprintf(&b, "%d member(s) failed: %s", len(e.Failed), strings.Join(idx, ", "))
	for _, f := range e.Failed {
		b.WriteString("\n  ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns the members' errors.
func (e *FailedError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// Setup is what a run trains on, derived from its config: the prepared
// training set, the augmentation and the architecture. Train builds it;
// it is exported for tools that inspect a run.
type Setup struct {
	// Config is the resolved config.
	Config *Config
	// Data is the training set after subset selection and preprocessing.
	Data       *data.Dataset
	Preprocess *Preprocess
	Aug        *Augmentation
	Arch       *nn.Arch
	// N is the size of the augmented training set, Batch the batch size
	// and Steps the number of steps per member.
	N, Batch, Steps int

	// running counts the members in training (ScheduleMembers): the
	// cores they leave idle go to their own forward and backward passes.
	running atomic.Int32
}

// memberWorkers returns the goroutines each running member may use within
// its passes: the cores divided among the members in training, so that
// the last members of a run use the cores the others left.
func (s *Setup) memberWorkers() int {
	return max(1, runtime.GOMAXPROCS(0)/max(1, int(s.running.Load())))
}

// Prepare loads and preprocesses the training data of cfg (or uses raw if
// not nil), resolves the data-dependent defaults and checks the config
// against the data.
func Prepare(cfg *Config, raw *data.Dataset) (*Setup, error) {
	if err := cfg.validate(raw != nil); err != nil {
		return nil, err
	}
	c := cfg.Clone()
	ds := raw
	if ds == nil {
		var err error
		if ds, err = LoadData(c.Data, c.Data.Split); err != nil {
			return nil, c.errf("data", "%v", err)
		}
	} else if err := ds.Validate(); err != nil {
		return nil, err
	}
	if n := c.Data.Size; n > 0 && n != ds.Len() {
		if n > ds.Len() {
			return nil, c.errf("data.size", "%d samples asked for, but %s has %d", n, ds.Name, ds.Len())
		}
		ds = ds.Subset(ds.Shuffled(c.Data.Seed)[:n])
	} else if raw != nil {
		ds = ds.Subset(identity(ds.Len()))
	}
	if err := c.resolve(ds); err != nil {
		return nil, err
	}
	aug, err := NewAugmentation(c.Augmentation, ds.Shape, ds.OutputDim(), ds.IsClassification())
	if err != nil {
		return nil, err
	}
	pre := fitPreprocess(c.Data.Standardize, ds, aug)
	if err := pre.Apply(ds, maskRep(aug)); err != nil {
		return nil, err
	}
	param, _ := nn.ParseParam(c.Model.Param)
	arch, err := nn.Parse(c.Model.Arch, ds.Shape, param)
	if err != nil {
		return nil, c.errf("model.arch", "%v", err)
	}
	s := &Setup{Config: c, Data: ds, Preprocess: pre, Aug: aug, Arch: arch}
	s.N = ds.Len() * aug.Factor()
	s.Batch = c.BatchSize
	if s.Batch <= 0 || s.Batch > s.N {
		s.Batch = s.N
	}
	s.Steps = c.Steps
	if c.Epochs > 0 {
		s.Steps = c.Epochs * ((s.N + s.Batch - 1) / s.Batch)
	}
	return s, nil
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func maskRep(a *Augmentation) *group.Rep {
	if a == nil {
		return nil
	}
	return a.In
}

// Train trains members opts.Members (all by default) of the ensemble that
// cfg describes into the run directory dir, resuming members from their
// checkpoints and skipping members that finished before. The members train
// in parallel, opts.Workers at a time, each on one goroutine with
// single-threaded linear algebra; when fewer members are in training than
// there are cores (the last ones of a run), the idle cores take parts of
// the running members' layers. opts.Schedule = ScheduleBatched trains them
// in lockstep instead (see Schedule). The parameters depend neither on
// the number of workers nor on the schedule.
//
// dir/config.yaml is written with the resolved config; if it exists it
// must describe the same run (same Hash), so that shards may share a
// directory and a restarted run continues where it stopped.
//
// A member whose loss becomes NaN or infinite stops with a MemberError
// wrapping ErrDiverged that names its index and step; the others go on,
// and Train returns a *FailedError at the end. When ctx is cancelled every
// member writes a checkpoint at its current step and Train returns an error
// wrapping ctx.Err(); running it again resumes bit for bit.
func Train(ctx context.Context, cfg *Config, dir string, opts Options) (*Report, error) {
	s, err := Prepare(cfg, opts.Data)
	if err != nil {
		return nil, err
	}
	c := s.Config
	r, err := memberRange(opts.Members, c.Members)
	if err != nil {
		return nil, err
	}
	if err := initRunDir(dir, c, s.Preprocess); err != nil {
		return nil, err
	}
	rep := &Report{Dir: dir, Config: c, Members: r, Steps: s.Steps}
	if r.Len() == 0 {
		return rep, nil
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, r.Len())
	prevThreads := linalg.Threads()
	linalg.SetThreads(1)
	defer linalg.SetThreads(prevThreads)

	sched, err := ParseSchedule(string(opts.Schedule))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	results := s.runMembers
	if sched == ScheduleBatched {
		results = s.runBatched
	}
	cancelled := collectResults(rep, results(ctx, dir, c.Hash(), r, workers, serialEmit(opts.Progress), &opts))
	if cancelled == nil && ctx.Err() != nil {
		cancelled = ctx.Err()
	}
	return rep, trainError(rep, dir, cancelled)
}

// memberRange resolves the range of members to train (the zero Range: all
// n of them) and checks that it lies within the ensemble.
func memberRange(r Range, n int) (Range, error) {
	if r == (Range{}) {
		r = Range{0, n}
	}
	if r.Lo < 0 || r.Hi > n || r.Lo > r.Hi {
		return r, fmt.Errorf("members %s: outside the ensemble of %d members (members: %d in the config)", r, n, n)
	}
	return r, nil
}

// serialEmit returns a callback that passes events to progress (if not
// nil) one at a time.
func serialEmit(progress func(Event)) func(Event) {
	var mu sync.Mutex
	return func(e Event) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		progress(e)
	}
}

// memberResult is the outcome of one member's runMember.
type memberResult struct {
	m       int
	skipped bool
	err     error
}

// runMembers trains the members of r on workers goroutines, handing out
// members in increasing order until ctx is cancelled, and returns the
// channel of their results, closed when all are done.
func (s *Setup) runMembers(ctx context.Context, dir, hash string, r Range, workers int, emit func(Event), opts *Options) <-chan memberResult {
	jobs := make(chan int)
	results := make(chan memberResult)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				s.running.Add(1)
				skipped, err := s.runMember(ctx, dir, hash, m, emit, opts)
				s.running.Add(-1)
				results <- memberResult{m, skipped, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for m := r.Lo; m < r.Hi; m++ {
			if ctx.Err() != nil {
				return
			}
			jobs <- m
		}
	}()
	go func() { wg.Wait(); close(results) }()
	return results
}

// collectResults sorts the members' results into rep, in increasing member
// order, and returns the error of an interrupted member (nil if none).
func collectResults(rep *Report, results <-chan memberResult) (cancelled error) {
	for res := range results {
		var me *MemberError
		switch {
		case res.err == nil && res.skipped:
			rep.Skipped = append(rep.Skipped, res.m)
		case res.err == nil:
			rep.Trained = append(rep.Trained, res.m)
		case errors.Is(res.err, context.Canceled) || errors.Is(res.err, context.DeadlineExceeded):
			cancelled = res.err
		case errors.As(res.err, &me):
			rep.Failed = append(rep.Failed, me)
		default:
			rep.Failed = append(rep.Failed, &MemberError{Member: res.m, Err: res.err})
		}
	}
	slices.Sort(rep.Trained)
	slices.Sort(rep.Skipped)
	slices.SortFunc(rep.Failed, func(a, b *MemberError) int { return a.Member - b.Member })
	return cancelled
}

// trainError is the error Train returns for rep: the failed members, and
// whether the run was interrupted (cancelled not nil).
func trainError(rep *Report, dir string, cancelled error) error {
	switch {
	case len(rep.Failed) > 0:
		err := error(&FailedError{Failed: rep.Failed})
		if cancelled != nil {
			err = errors.Join(err, fmt.Errorf("interrupted: %w", cancelled))
		}
		return err
	case cancelled != nil:
		return fmt.Errorf("interrupted; members checkpointed in %s, run the same command again to resume: %w", dir, cancelled)
	}
	return nil
}

// initRunDir creates the run directory, or checks that an existing one
// holds the same run.
func initRunDir(dir string, c *Config, pre *Preprocess) error {
	if err := os.MkdirAll(filepath.Join(dir, MembersDir), 0o755); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	if old, err := ReadRunConfig(dir); err == nil {
		if old.Hash() != c.Hash() {
			return fmt.Errorf("%s holds a different run (%s); choose another output directory", dir, strings.Join(old.Diff(c), "; "))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists but cannot be read: %w", cfgPath, err)
	} else {
		b, err := c.Marshal()
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(cfgPath, b, atomicfile.DefaultPerm); err != nil {
			return err
		}
	}
	pb, err := json.MarshalIndent(pre, "", "  ")
	if err != nil {
		return err
	}
	pb = append(pb, '\n')
	prePath := filepath.Join(dir, PreprocessFile)
	if old, err := os.ReadFile(prePath); err == nil {
		if !bytes.Equal(old, pb) {
			return fmt.Errorf("%s differs from the preprocessing of this run: the training data changed since %s was started", prePath, dir)
		}
		return nil
	}
	return atomicfile.WriteFile(prePath, pb, atomicfile.DefaultPerm)
}

// member is the training state of one ensemble member.
type member struct {
	s        *Setup
	idx      int
	seed     uint64
	net      *nn.Network[float32]
	opt      optimizer
	orderSrc *rand.PCG
	augSrc   *rand.PCG
	orderRng *rand.Rand
	augRng   *rand.Rand
	order    []int // the current epoch's order (nil: identity)
	pos      int   // position in the epoch
	step     int
	loss     float64
	stepLoss float64 // the loss of the step in progress
	saved    int     // the step of the last checkpoint written or read
}

// runMember trains member m to the end, or resumes it. It reports whether
// the member had already finished.
func (s *Setup) runMember(ctx context.Context, dir, hash string, m int, emit func(Event), opts *Options) (skipped bool, err error) {
	path := MemberPath(dir, m)
	mb, done, err := s.loadMember(path, hash, m)
	if err != nil {
		emit(Event{Member: m, Done: true, Err: err})
		return false, err
	}
	if done {
		emit(Event{Member: m, Step: s.Steps, Steps: s.Steps, Loss: mb.loss, Done: true, Skipped: true})
		return true, nil
	}
	err = mb.train(ctx, path, hash, emit, opts)
	emit(Event{Member: m, Step: mb.step, Steps: s.Steps, Loss: mb.loss, Done: true, Err: err})
	return false, err
}

// loadMember restores member m from its checkpoint, or initialises it.
func (s *Setup) loadMember(path, hash string, m int) (*member, bool, error) {
	c := s.Config
	mb := &member{s: s, idx: m, seed: MemberSeed(c.Seed, m), loss: math.NaN()}
	mb.net = nn.New[float32](s.Arch)
	mb.opt = newOptimizer(c.Optimizer, len(mb.net.Params))
	mb.orderSrc = rand.NewPCG(mb.seed, streamOrder)
	mb.augSrc = rand.NewPCG(mb.seed, streamAugment)
	mb.orderRng, mb.augRng = rand.New(mb.orderSrc), rand.New(mb.augSrc)
	ck, err := ReadCheckpoint(path)
	if errors.Is(err, fs.ErrNotExist) {
		mb.net.Init(mb.seed)
		return mb, false, nil
	}
	if err != nil {
		return nil, false, &MemberError{Member: m, Err: err}
	}
	fail := func(format string, args ...any) (*member, bool, error) {
		return nil, false, &MemberError{Member: m, Step: ck.Step, Err: fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))}
	}
	switch {
	case ck.ConfigHash != hash:
		return fail("written by a run with another config (hash %.12s, this run %.12s)", ck.ConfigHash, hash)
	case ck.Member != m || ck.MemberSeed != mb.seed:
		return fail("holds member %d (seed %d), want member %d (seed %d)", ck.Member, ck.MemberSeed, m, mb.seed)
	case ck.Arch.Spec != s.Arch.Spec || len(ck.Params) != len(mb.net.Params):
		return fail("architecture %s does not match %s", ck.Arch.Spec, s.Arch.Spec)
	case ck.Steps != s.Steps:
		return fail("trained for %d steps, this run has %d", ck.Steps, s.Steps)
	}
	copy(mb.net.Params, ck.Params)
	mb.step, mb.loss = ck.Step, ck.Loss
	if ck.Done {
		return mb, true, nil
	}
	if ck.Optimizer != c.Optimizer.Name {
		return fail("optimizer %q, want %q", ck.Optimizer, c.Optimizer.Name)
	}
	for name, v := range mb.opt.state() {
		sv, ok := ck.OptState[name]
		if !ok {
			return fail("optimizer state %s missing", name)
		}
		copy(v, sv)
	}
	if err := mb.orderSrc.UnmarshalBinary(ck.RNGOrder); err != nil {
		return fail("rng_order: %v", err)
	}
	if err := mb.augSrc.UnmarshalBinary(ck.RNGAugment); err != nil {
		return fail("rng_augment: %v", err)
	}
	if ck.Order != nil && len(ck.Order) != s.N {
		return fail("sample order of length %d for %d samples", len(ck.Order), s.N)
	}
	mb.order, mb.pos = ck.Order, ck.OrderPos
	return mb, false, nil
}

// checkpoint writes the member's state (done: its final parameters).
func (mb *member) checkpoint(path, hash string, done bool) error {
	s := mb.s
	ck := &Checkpoint{
		Arch: s.Arch, Member: mb.idx, MemberSeed: mb.seed, Seed: s.Config.Seed, ConfigHash: hash,
		Step: mb.step, Steps: s.Steps, Done: done, Loss: mb.loss, Params: mb.net.Params,
	}
	if !done {
		var err error
		ck.Optimizer = s.Config.Optimizer.Name
		ck.OptState = mb.opt.state()
		ck.Order, ck.OrderPos = mb.order, mb.pos
		if ck.RNGOrder, err = mb.orderSrc.MarshalBinary(); err != nil {
			return err
		}
		if ck.RNGAugment, err = mb.augSrc.MarshalBinary(); err != nil {
			return err
		}
	}
	return WriteCheckpoint(path, ck)
}

// train runs the member's remaining steps.
func (mb *member) train(ctx context.Context, path, hash string, emit func(Event), opts *Options) error {
	s := mb.s
	bt := newBatch(s)
	if err := mb.snapshot(opts); err != nil {
		return err
	}
	mb.saved = mb.step
	for mb.step < s.Steps {
		if err := ctx.Err(); err != nil {
			return mb.interrupt(path, hash, err)
		}
		// Results do not depend on the workers (nn.Network.SetWorkers).
		mb.net.SetWorkers(s.memberWorkers())
		if err := mb.trainStep(bt); err != nil {
			return err
		}
		if err := mb.afterStep(path, hash, emit, opts); err != nil {
			return err
		}
	}
	return mb.finish(path, hash)
}

// interrupt writes a checkpoint of the member unless its current step is
// saved, and returns err (the context's).
func (mb *member) interrupt(path, hash string, err error) error {
	if mb.step > mb.saved {
		if werr := mb.checkpoint(path, hash, false); werr != nil {
			return mb.fail(werr)
		}
	}
	return err
}

// afterStep reports a step, takes a snapshot if asked for and writes a
// checkpoint every CheckpointEvery steps.
func (mb *member) afterStep(path, hash string, emit func(Event), opts *Options) error {
	s := mb.s
	emit(Event{Member: mb.idx, Step: mb.step, Steps: s.Steps, Loss: mb.loss})
	if err := mb.snapshot(opts); err != nil {
		return err
	}
	if ce := s.Config.CheckpointEvery; ce > 0 && mb.step%ce == 0 && mb.step < s.Steps {
		if err := mb.checkpoint(path, hash, false); err != nil {
			return mb.fail(err)
		}
		mb.saved = mb.step
	}
	return nil
}

// finish checks the final parameters and writes the final checkpoint.
func (mb *member) finish(path, hash string) error {
	for i, v := range mb.net.Params {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return mb.fail(fmt.Errorf("%w: parameter %d is %v after the last step (lower optimizer.lr)", ErrDiverged, i, v))
		}
	}
	if err := mb.checkpoint(path, hash, true); err != nil {
		return mb.fail(err)
	}
	return nil
}

// fail wraps err as the member's failure at its current step.
func (mb *member) fail(err error) error {
	return &MemberError{Member: mb.idx, Step: mb.step, Err: err}
}

// snapshot calls opts.Snapshot if the current step is one of opts.Snapshots.
func (mb *member) snapshot(opts *Options) error {
	if opts == nil || opts.Snapshot == nil || !slices.Contains(opts.Snapshots, mb.step) {
		return nil
	}
	if err := opts.Snapshot(mb.idx, mb.step, mb.net); err != nil {
		return mb.fail(fmt.Errorf("snapshot: %w", err))
	}
	return nil
}

// batch holds the buffers of one training batch, sized for the largest.
type batch struct {
	x      []float32 // inputs
	y      []float32 // targets (one-hot for classifiers trained with MSE); nil for cross-entropy
	labels []int
	grad   []float32 // gradient of the loss with respect to the outputs
	idx    []int     // indices into the augmented training set
}

func newBatch(s *Setup) *batch {
	ds := s.Data
	ss, k := ds.SampleSize(), ds.OutputDim()
	bt := &batch{x: make([]float32, s.Batch*ss)}
	bt.labels = make([]int, s.Batch)
	if !ds.IsClassification() || s.Config.Loss == LossMSE {
		bt.y = make([]float32, s.Batch*k)
	}
	bt.grad = make([]float32, s.Batch*k)
	bt.idx = make([]int, 0, s.Batch)
	return bt
}

// trainStep takes one optimiser step on the next batch.
func (mb *member) trainStep(bt *batch) error {
	x, b := mb.startStep(bt)
	dy, err := mb.lossGrad(bt, mb.net.Forward(x, b))
	if err != nil {
		return err
	}
	mb.net.Backward(dy)
	mb.update()
	return nil
}

// startStep draws the next batch into bt and clears the gradient; it
// returns the batch's inputs and size.
func (mb *member) startStep(bt *batch) ([]float32, int) {
	mb.nextBatch(bt)
	mb.net.ZeroGrad()
	b := len(bt.idx)
	return bt.x[:b*mb.s.Data.SampleSize()], b
}

// lossGrad computes the loss of the outputs out of the batch in bt, keeps
// it for update, and returns its gradient with respect to out.
func (mb *member) lossGrad(bt *batch, out []float32) ([]float32, error) {
	c := mb.s.Config
	k := mb.s.Data.OutputDim()
	b := len(bt.idx)
	var loss float64
	if c.Loss == LossCrossEntropy {
		loss = CrossEntropy(out, bt.labels[:b], bt.grad[:b*k], b, k)
	} else {
		loss = MSE(out, bt.y[:b*k], bt.grad[:b*k], b)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil, mb.fail(fmt.Errorf("%w: loss is %v (lower optimizer.lr)", ErrDiverged, loss))
	}
	mb.stepLoss = loss
	return bt.grad[:b*k], nil
}

// update takes the optimiser step with the gradient in the network.
func (mb *member) update() {
	c := mb.s.Config
	mb.opt.step(mb.net.Params, mb.net.Grads, LearningRate(c.Optimizer, mb.step, mb.s.Steps), mb.step+1)
	mb.step++
	mb.loss = mb.stepLoss
}

// nextBatch fills bt with the next batch of the member's epoch order: the
// indices, then the augmented samples and their targets.
func (mb *member) nextBatch(bt *batch) {
	s := mb.s
	ds := s.Data
	ss, k := ds.SampleSize(), ds.OutputDim()
	bt.idx = bt.idx[:0]
	for len(bt.idx) < s.Batch {
		if mb.pos >= s.N {
			mb.pos = 0
			mb.order = nil
		}
		if mb.pos == 0 && mb.order == nil && s.Batch < s.N {
			mb.order = mb.orderRng.Perm(s.N)
		}
		if mb.order != nil {
			bt.idx = append(bt.idx, mb.order[mb.pos])
		} else {
			bt.idx = append(bt.idx, mb.pos)
		}
		mb.pos++
		if mb.pos >= s.N {
			break // the last batch of an epoch may be smaller
		}
	}
	for j, kk := range bt.idx {
		smp, e := s.Aug.pick(kk, mb.augRng)
		var yj []float32
		if ds.Y != nil {
			yj = bt.y[j*k : (j+1)*k]
		}
		s.Aug.transform(ds, smp, e, bt.x[j*ss:(j+1)*ss], yj)
		if ds.Labels != nil {
			bt.labels[j] = ds.Labels[smp]
			if bt.y != nil {
				row := bt.y[j*k : (j+1)*k]
				clear(row)
				row[bt.labels[j]] = 1
			}
		}
	}
}
