package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/predict"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newPredictCmd) }

// newPredictCmd makes eqens predict. Its flags, checks and files are in
// internal/cli, shared with eqens-mpi predict (cmd/eqens-mpi), which
// computes the same prediction on a ScaLAPACK process grid.
func newPredictCmd() *cobra.Command {
	var pf cli.PredictFlags
	cmd := &cobra.Command{
		Use:   cli.PredictUse,
		Short: "Predict with the infinite ensemble of infinitely wide networks (NTK/NNGP regression)",
		Long:  cli.PredictLong,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runPredict(cmd, &pf) },
	}
	pf.Register(cmd)
	return cmd
}

// runPredict reads the arrays, fits the prediction and writes the mean (and
// the covariance).
func runPredict(cmd *cobra.Command, pf *cli.PredictFlags) error {
	job, err := pf.Load(kernelProgress)
	if err != nil {
		return err
	}
	if err := checkPredictMemory(cmd, job, pf.Cov != ""); err != nil {
		return err
	}
	model, err := predict.Fit(cmd.Context(), job.Arch, job.Train.X, job.Train.N, job.Y, job.K, job.Setup)
	if err != nil {
		return err
	}
	p, err := model.Predict(cmd.Context(), job.Test.X, job.Test.N, job.Times, pf.Cov != "")
	if err != nil {
		return err
	}
	return pf.Write(cmd.ErrOrStderr(), job, p)
}

// checkPredictMemory prints the planned memory of the prediction and
// refuses when it exceeds what the machine has available.
func checkPredictMemory(cmd *cobra.Command, job *cli.PredictJob, cov bool) error {
	finite := slices.ContainsFunc(job.Times, func(t float64) bool { return !math.IsInf(t, 1) })
	p := predict.Plan(job.Arch, job.Train.N, job.Test.N, job.Setup, finite, cov)
	avail, known, have := availableText()
	fmt.Fprintf(cmd.ErrOrStderr(), "predict: memory about %s: training kernel %s (kept %s), test kernels %s, factorisations %s (available: %s)\n",
		fmtBytes(p.Peak()), fmtBytes(p.Train), fmtBytes(p.Kept), fmtBytes(p.Test), fmtBytes(p.Solve), have)
	if !known || p.Peak() <= avail {
		return nil
	}
	return fmt.Errorf("predict: needs about %s but %s are available: use --average instead of --augment (a training kernel |G|² times smaller), "+
		"fewer training points, only --time inf and no --cov (one training matrix), or eqens-mpi predict, which spreads the kernels over MPI ranks (docs/sharding.md)",
		fmtBytes(p.Peak()), fmtBytes(avail))
}
