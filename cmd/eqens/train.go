package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eqens/eqens/train"
)

func init() { subcommands = append(subcommands, newTrainCmd) }

// usageError is an error in the command line: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// trainFlags are the flags of eqens train.
type trainFlags struct {
	cfgPath, out, members, dataDir string
	shardIndex, shardCount         int
	workers                        int
	schedule                       string
	logEvery                       time.Duration
}

func newTrainCmd() *cobra.Command {
	var tf trainFlags
	cmd := &cobra.Command{
		Use:   "train --config FILE.yaml --out DIR [--members A:B | --shard-index I --shard-count N]",
		Short: "Train a deep ensemble (with data augmentation) described by a YAML config",
		Long: `Train the ensemble members described by a YAML config (see docs/config.md) into
the run directory DIR:

  DIR/config.yaml                       the resolved config (defaults filled in)
  DIR/preprocess.json                   input standardisation statistics
  DIR/members/member-0007.safetensors   one checkpoint per member

Members train in parallel, one per core (--workers), and every member's result
depends only on the config and its index, not on the number of cores or on
which shard trains it. Checkpoints are written atomically every
checkpoint_every steps and when the run is interrupted (Ctrl-C); running the
same command again resumes each member bit for bit and skips finished ones.

Shards: --members A:B trains members A..B-1 only; --shard-index I
--shard-count N trains the I-th of N equal blocks of members (what the Slurm
and Kubernetes examples in deploy/ use). Shards may write into one shared
DIR, or into separate ones that "eqens ensemble merge" combines.

A member whose loss becomes NaN or infinite stops with an error naming its
index and step; the others finish and the command exits with status 1 listing
the failed members. A progress bar is shown when standard error is a
terminal; otherwise a log line is written every --log-every.`,
		Example: `  eqens train --config mnist-c4.yaml --out runs/mnist-c4
  eqens train --config mnist-c4.yaml --out runs/mnist-c4 --members 0:8
  eqens train --config mnist-c4.yaml --out runs/mnist-c4 --shard-index 2 --shard-count 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return tf.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&tf.cfgPath, "config", "", "YAML file describing the run (see docs/config.md)")
	f.StringVar(&tf.out, "out", "", "run directory to write (created; an existing one of the same run is resumed)")
	f.StringVar(&tf.members, "members", "", "train only members A..B-1 (A:B)")
	f.IntVar(&tf.shardIndex, "shard-index", 0, "train shard I of --shard-count N (e.g. $SLURM_ARRAY_TASK_ID)")
	f.IntVar(&tf.shardCount, "shard-count", 0, "number of shards the members are split into")
	f.IntVar(&tf.workers, "workers", 0, "members trained at once (0: one per core, GOMAXPROCS)")
	f.StringVar(&tf.schedule, "schedule", "members", "how members share the cores: members (--workers at a time, idle cores help the last ones) or batched (all members in lockstep, layer by layer; more memory); the same bits either way")
	f.StringVar(&tf.dataDir, "data-dir", "", "directory searched first for datasets (overrides data.dir; not part of the config hash)")
	f.DurationVar(&tf.logEvery, "log-every", 30*time.Second, "when standard error is not a terminal, log progress this often (0: never)")
	return cmd
}

// check validates the flags that need no file, in the order the error
// catalogue lists them, and reports whether shard flags were given.
func (tf *trainFlags) check(cmd *cobra.Command) (shardFlags bool, err error) {
	if tf.cfgPath == "" {
		return false, usageError("--config is required: a YAML file describing the run (see docs/config.md)")
	}
	if tf.out == "" {
		return false, usageError("--out is required: the run directory to write")
	}
	f := cmd.Flags()
	shardFlags = f.Changed("shard-index") || f.Changed("shard-count")
	if f.Changed("members") && shardFlags {
		return false, usageError("--members and --shard-index/--shard-count exclude each other")
	}
	if shardFlags && !(f.Changed("shard-index") && f.Changed("shard-count")) {
		return false, usageError("--shard-index and --shard-count go together")
	}
	return shardFlags, nil
}

// readConfig loads --config, with --data-dir applied.
func (tf *trainFlags) readConfig() (*train.Config, error) {
	cfg, err := train.LoadConfig(tf.cfgPath)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if tf.dataDir != "" {
		cfg.Data.Dir = tf.dataDir
	}
	return cfg, nil
}

// memberRange resolves the members to train from --members or the shard
// flags; ok is false (after saying so) when the shard is empty.
func (tf *trainFlags) memberRange(cmd *cobra.Command, cfg *train.Config, shardFlags bool) (r train.Range, ok bool, err error) {
	switch {
	case cmd.Flags().Changed("members"):
		if r, err = train.ParseRange(tf.members, cfg.Members); err != nil {
			return r, false, usageError("--members: %v", err)
		}
	case shardFlags:
		if r, err = train.ShardRange(tf.shardIndex, tf.shardCount, cfg.Members); err != nil {
			return r, false, usageError("--shard-index/--shard-count: %v", err)
		}
		if r.Len() == 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "shard %d of %d has no members (the ensemble has %d); nothing to do\n", tf.shardIndex, tf.shardCount, cfg.Members)
			return r, false, nil
		}
	default:
		r = train.Range{Lo: 0, Hi: cfg.Members}
	}
	return r, true, nil
}

// run loads the config, trains the members and reports what was done.
func (tf *trainFlags) run(cmd *cobra.Command) error {
	shardFlags, err := tf.check(cmd)
	if err != nil {
		return err
	}
	cfg, err := tf.readConfig()
	if err != nil {
		return err
	}
	r, ok, err := tf.memberRange(cmd, cfg, shardFlags)
	if err != nil || !ok {
		return err
	}
	if tf.workers < 0 {
		return usageError("--workers %d: want 0 (one per core) or more", tf.workers)
	}
	sched, err := train.ParseSchedule(tf.schedule)
	if err != nil {
		return usageError("--schedule: %v", err)
	}
	prog := newTrainProgress(cmd.ErrOrStderr(), r, tf.logEvery)
	start := time.Now()
	rep, err := train.Train(cmd.Context(), cfg, tf.out, train.Options{Members: r, Workers: tf.workers, Schedule: sched, Progress: prog.event})
	prog.finish()
	var cerr *train.ConfigError
	if errors.As(err, &cerr) && rep == nil {
		return &exitError{code: 2, err: err}
	}
	if rep != nil {
		fmt.Fprintf(cmd.OutOrStdout(), "%s: members %s: %d trained, %d already finished, %d failed (%d steps each, %s)\n",
			tf.out, r, len(rep.Trained), len(rep.Skipped), len(rep.Failed), rep.Steps, time.Since(start).Round(time.Millisecond))
	}
	return err
}

// trainProgress shows one progress bar for a run on a terminal, or writes a
// log line every so often otherwise.
type trainProgress struct {
	w        io.Writer
	r        train.Range
	bar      *progressbar.ProgressBar
	tty      bool
	every    time.Duration
	start    time.Time
	lastLog  time.Time
	steps    map[int]int
	total    int64
	done     int64
	finished int
	failed   int
	loss     float64
	mu       sync.Mutex
}

func newTrainProgress(w io.Writer, r train.Range, every time.Duration) *trainProgress {
	p := &trainProgress{w: w, r: r, every: every, start: time.Now(), steps: map[int]int{}}
	p.lastLog = p.start
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *trainProgress) desc() string {
	s := fmt.Sprintf("members %d/%d", p.finished, p.r.Len())
	if p.failed > 0 {
		s += fmt.Sprintf(" (%d failed)", p.failed)
	}
	if p.loss == p.loss { // not NaN
		s += fmt.Sprintf(" loss %.4g", p.loss)
	}
	return s
}

// event is the train.Options.Progress callback (calls are serialised by
// train.Train; the mutex guards against finish running concurrently).
func (p *trainProgress) event(e train.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total == 0 && e.Steps > 0 {
		p.total = int64(e.Steps) * int64(p.r.Len())
		if p.tty {
			p.bar = progressbar.NewOptions64(p.total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(p.desc()),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("steps"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(20),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionFullWidth(),
			)
		}
	}
	if d := e.Step - p.steps[e.Member]; d > 0 {
		p.steps[e.Member] = e.Step
		p.done += int64(d)
		if p.bar != nil {
			p.bar.Add64(int64(d))
		}
	}
	switch {
	case !e.Done:
		p.loss = e.Loss
	case errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded):
		// interrupted: reported once at the end
	case e.Err != nil:
		p.failed++
		if p.bar != nil {
			p.bar.Clear()
		}
		fmt.Fprintf(p.w, "\r%v\n", e.Err)
	default:
		p.finished++
	}
	if p.bar != nil {
		p.bar.Describe(p.desc())
		return
	}
	if p.every > 0 && time.Since(p.lastLog) >= p.every {
		p.lastLog = time.Now()
		p.log()
	}
}

func (p *trainProgress) log() {
	el := time.Since(p.start)
	rate := float64(p.done) / el.Seconds()
	eta := "?"
	if rate > 0 && p.total > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "train: %s, step %d/%d, %.1f steps/s, ETA %s\n", p.desc(), p.done, p.total, rate, eta)
}

func (p *trainProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(p.desc())
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
