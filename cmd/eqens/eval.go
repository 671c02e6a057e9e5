package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/train"
)

func init() { subcommands = append(subcommands, newEvalCmd) }

func newEvalCmd() *cobra.Command {
	var (
		runs                     []string
		dataSpec, groupSpec, out string
		dataDir                  string
		size, workers            int
	)
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(format string, args ...any) error {
				return &exitError{code: 2, err: fmt.Errorf(format, args...)}
			}
			if len(runs) == 0 {
				return usage("--run is required: a run directory written by eqens train")
			}
			if dataSpec == "" {
				return usage("--data is required: NAME[:SPLIT], e.g. mnist:test")
			}
			if size < 0 {
				return usage("--size %d: want 0 (all samples) or more", size)
			}
			ens, err := train.OpenEnsemble(runs...)
			if err != nil {
				return err
			}
			dc := ens.Config.Data
			name, split, _ := strings.Cut(dataSpec, ":")
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
			if dataDir != "" {
				dc.Dir = dataDir
			}
			if size > 0 && dc.Name == train.CrossProductName {
				dc.Size = size
			}
			ds, err := train.LoadData(dc, split)
			if err != nil {
				return usage("--data %s: %v", dataSpec, err)
			}
			if size > 0 && size < ds.Len() {
				ds = ds.Head(size)
			}
			var opts train.EvalOptions
			opts.Workers = workers
			if groupSpec != "" {
				if opts.Group, err = group.Parse(groupSpec); err != nil {
					return usage("--group: %v", err)
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
			if out == "" {
				return nil
			}
			return writeEval(out, res, ens.Arch.OutputDim())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&runs, "run", nil, "run directory (repeat for shards of one run)")
	f.StringVar(&dataSpec, "data", "", "dataset NAME[:SPLIT] (default split test) or FILE.npz[:SPLIT]")
	f.StringVar(&groupSpec, "group", "", "also evaluate on the orbit under this group (e.g. c4)")
	f.StringVar(&out, "out", "", "write the metrics to this JSON file and the predictions beside it as .npy")
	f.IntVar(&size, "size", 0, "evaluate the first N samples only (0: all)")
	f.IntVar(&workers, "workers", 0, "members evaluated at once (0: one per core)")
	f.StringVar(&dataDir, "data-dir", "", "directory searched first for datasets")
	return cmd
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
