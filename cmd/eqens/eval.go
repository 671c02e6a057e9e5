package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/train"
)

func init() { subcommands = append(subcommands, newEvalCmd) }

// evalFlags are the flags of eqens eval.
type evalFlags struct {
	runs                     []string
	dataSpec, groupSpec, out string
	dataDir                  string
	size, workers            int
}

func newEvalCmd() *cobra.Command {
	var ef evalFlags
	cmd := &cobra.Command{
		Use:   "eval --run DIR [--run DIR...] --data NAME[:SPLIT] [--group G] [--out FILE.json]",
		Short: "Evaluate the members of a trained ensemble and their means",
		Long: `Load the finished members of a run directory (or of several directories holding
shards of one run, whose configs must agree) and evaluate them on a dataset:
accuracy and mean negative log-likelihood for classifiers, mean squared error
for regression, per member and for the two ensemble means (the mean of the
outputs, i.e. of the logits, and for classifiers the mean of the softmax
probabilities).

The data are preprocessed like the training data (standardisation statistics
from DIR/preprocess.json). NAME is a dataset name as in the config's
data.name (default split: test), or a .npz file (FILE.npz[:SPLIT]).

With --group G every member is also evaluated on the transformed inputs
rho(g)x of every element g, and the orbit metrics are reported: the mean
orbit-same-predictions count (OSP) with its chance level for classifiers, the
relative equivariance error for regression.

With --out FILE.json the metrics are written there (atomically), together with
the predictions as NumPy files beside it: FILE.predictions.npy (members ×
samples × outputs, with a leading group-element axis when --group is given),
FILE.mean_output.npy and, for classifiers, FILE.mean_softmax.npy.`,
		Example: `  eqens eval --run runs/mnist-c4 --data mnist:test --group c4 --out runs/mnist-c4/eval-test.json
  eqens eval --run runs/shard0 --run runs/shard1 --data fashion-mnist --size 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return ef.run(cmd) },
	}
	f := cmd.Flags()
	f.StringArrayVar(&ef.runs, "run", nil, "run directory (repeat for shards of one run)")
	f.StringVar(&ef.dataSpec, "data", "", "dataset NAME[:SPLIT] (default split test) or FILE.npz[:SPLIT]")
	f.StringVar(&ef.groupSpec, "group", "", "also evaluate on the orbit under this group (e.g. c4)")
	f.StringVar(&ef.out, "out", "", "write the metrics to this JSON file and the predictions beside it as .npy")
	f.IntVar(&ef.size, "size", 0, "evaluate the first N samples only (0: all)")
	f.IntVar(&ef.workers, "workers", 0, "members evaluated at once (0: one per core)")
	f.StringVar(&ef.dataDir, "data-dir", "", "directory searched first for datasets")
	return cmd
}

// check validates the flags that need no file, in the order the error
// catalogue lists them.
func (ef *evalFlags) check() error {
	if len(ef.runs) == 0 {
		return usageError("--run is required: a run directory written by eqens train")
	}
	if ef.dataSpec == "" {
		return usageError("--data is required: NAME[:SPLIT], e.g. mnist:test")
	}
	if ef.size < 0 {
		return usageError("--size %d: want 0 (all samples) or more", ef.size)
	}
	return nil
}

// readData loads the raw --data split for an ensemble whose data config
// is dc, and keeps its first --size samples.
func (ef *evalFlags) readData(dc train.DataConfig) (*data.Dataset, error) {
	name, split, _ := strings.Cut(ef.dataSpec, ":")
	if split == "" {
		split = "test"
	}
	if strings.HasSuffix(name, ".npz") {
		dc.Name, dc.Path = train.NPZName, name
	} else {
		if name != dc.Name {
			dc.Path = ""
		}
		dc.Name = name
	}
	if ef.dataDir != "" {
		dc.Dir = ef.dataDir
	}
	if ef.size > 0 && dc.Name == train.CrossProductName {
		dc.Size = ef.size
	}
	ds, err := train.LoadData(dc, split)
	if err != nil {
		return nil, usageError("--data %s: %v", ef.dataSpec, err)
	}
	if ef.size > 0 && ef.size < ds.Len() {
		ds = ds.Head(ef.size)
	}
	return ds, nil
}

// run opens the ensemble, evaluates it and prints (and with --out writes)
// the metrics.
func (ef *evalFlags) run(cmd *cobra.Command) error {
	if err := ef.check(); err != nil {
		return err
	}
	ens, err := train.OpenEnsemble(ef.runs...)
	if err != nil {
		return err
	}
	ds, err := ef.readData(ens.Config.Data)
	if err != nil {
		return err
	}
	var opts train.EvalOptions
	opts.Workers = ef.workers
	if ef.groupSpec != "" {
		if opts.Group, err = group.Parse(ef.groupSpec); err != nil {
			return usageError("--group: %v", err)
		}
	}
	res, err := train.Evaluate(cmd.Context(), ens, ds, opts)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if len(ens.Unfinished) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "eqens eval: skipping %d unfinished member(s): %v\n", len(ens.Unfinished), ens.Unfinished)
	}
	printEval(w, res)
	if ef.out == "" {
		return nil
	}
	return writeEval(ef.out, res, ens.Arch.OutputDim())
}

func printEval(w io.Writer, r *train.EvalResult) {
	fmt.Fprintf(w, "%s: %d samples, %s, %d member(s)\n", r.Data, r.N, r.Task, len(r.Members))
	keys := []string{"accuracy", "nll"}
	if r.Task == "regression" {
		keys = []string{"mse"}
	}
	row := func(label string, m train.Metrics) {
		fmt.Fprintf(w, "  %-22s", label)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s %.4f", k, m[k])
		}
		fmt.Fprintln(w)
	}
	for _, m := range r.Members {
		row(fmt.Sprintf("member %d", m.Member), m.Metrics)
	}
	row("ensemble mean output", r.Ensemble["mean_output"])
	if m, ok := r.Ensemble["mean_softmax"]; ok {
		row("ensemble mean softmax", m)
	}
	if g := r.Group; g != nil {
		if r.Task == "classification" {
			mean := 0.0
			for _, v := range g.OSPMembers {
				mean += v
			}
			mean /= float64(len(g.OSPMembers))
			fmt.Fprintf(w, "  orbit %s (|G| = %d): OSP members %.3f, ensemble mean output %.3f (chance %.3f), mean softmax %.3f\n",
				g.Group, g.Order, mean, g.OSPMeanOutput, g.OSPChanceMean, g.OSPMeanSoftmax)
		} else {
			mean := 0.0
			for _, v := range g.EquivarianceMembers {
				mean += v
			}
			mean /= float64(len(g.EquivarianceMembers))
			fmt.Fprintf(w, "  orbit %s (|G| = %d): relative equivariance error members %.4g, ensemble mean %.4g\n", g.Group, g.Order, mean, g.EquivarianceMean)
		}
	}
}

// writeEval writes the metrics JSON and the predictions beside it.
func writeEval(out string, r *train.EvalResult, k int) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	stem := strings.TrimSuffix(out, filepath.Ext(out))
	nel, nm := len(r.Predictions), len(r.Predictions[0])
	var all, mean, soft []float32
	for _, p := range r.Predictions {
		for _, m := range p {
			all = append(all, m...)
		}
		mean = append(mean, train.MeanOutputs(p)...)
		if r.Task == "classification" {
			soft = append(soft, train.MeanSoftmax(p, k)...)
		}
	}
	shape := []int{nm, r.N, k}
	mshape := []int{r.N, k}
	if r.Group != nil {
		shape = append([]int{nel}, shape...)
		mshape = append([]int{nel}, mshape...)
	}
	if err := npy.WriteFile(stem+".predictions.npy", npy.FromFloat32(shape, all)); err != nil {
		return err
	}
	if err := npy.WriteFile(stem+".mean_output.npy", npy.FromFloat32(mshape, mean)); err != nil {
		return err
	}
	if soft != nil {
		if err := npy.WriteFile(stem+".mean_softmax.npy", npy.FromFloat32(mshape, soft)); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(out, append(b, '\n'), atomicfile.DefaultPerm)
}
