package main

import (
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
