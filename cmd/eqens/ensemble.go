package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/eqens/eqens/train"
)

func init() { subcommands = append(subcommands, newEnsembleCmd) }

func newEnsembleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ensemble",
		Short: "Combine and inspect trained ensembles",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEnsembleMergeCmd(), newEnsembleListCmd())
	return cmd
}

func newEnsembleMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR1 DIR2... --out DIR",
		Short: "Merge run directories holding shards of one run",
		Long: `Copy the members of run directories that hold shards of one run (for example
one per Slurm array task) into one run directory.

The runs must have the same resolved config: its hash (everything but
data.dir) is compared and merging refuses runs that differ, listing the keys
that do. A member present in several directories must be identical in all
of them (a finished checkpoint wins over an unfinished one). The merged
ensemble predicts exactly what a single run of all members predicts. Files
are copied atomically; DIR may already hold members of the same run.`,
		Example: `  eqens ensemble merge runs/shard-0 runs/shard-1 runs/shard-2 --out runs/all`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: 2, err: fmt.Errorf("--out is required: the run directory to merge into")}
			}
			rep, err := train.Merge(out, args...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d finished member(s) %v", out, len(rep.Members), rep.Members)
			if len(rep.Unfinished) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), ", %d unfinished %v", len(rep.Unfinished), rep.Unfinished)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "run directory to merge into")
	return cmd
}

func newEnsembleListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list DIR",
		Short: "List the members of a run directory with their progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			cfg, err := train.ReadRunConfig(dir)
			if err != nil {
				return err
			}
			ms, err := train.ListMembers(dir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d of %d members present (config hash %.12s)\n", dir, len(ms), cfg.Members, cfg.Hash())
			for _, m := range ms {
				ck, err := train.ReadCheckpoint(train.MemberPath(dir, m))
				if err != nil {
					fmt.Fprintf(w, "  member %d: %v\n", m, err)
					continue
				}
				status := "running"
				if ck.Done {
					status = "done"
				}
				fmt.Fprintf(w, "  member %d: %s, step %d/%d, loss %.4g\n", m, status, ck.Step, ck.Steps, ck.Loss)
			}
			return nil
		},
	}
}
