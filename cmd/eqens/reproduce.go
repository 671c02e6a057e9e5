package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/eqens/eqens/experiment"
	_ "github.com/eqens/eqens/experiment/all"
	"github.com/eqens/eqens/internal/cli"
	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, newReproduceCmd, newDemoCmd)
}

// runExperiment runs a registered experiment with the command's flags.
func runExperiment(cmd *cobra.Command, name, scale, out, config, dataDir string) error {
	e, err := experiment.Lookup(name)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join("eqens-out", name)
	}
	env := &experiment.Env{
		Out:     out,
		Scale:   scale,
		DataDir: dataDir,
		Log:     cmd.ErrOrStderr(),
		Version: cli.BuildVersion(version),
		Command: "eqens " + strings.Join(os.Args[1:], " "),
	}
	return experiment.Run(cmd.Context(), e, env, config)
}

func newReproduceCmd() *cobra.Command {
	var scale, out, config, dataDir string
	var list bool
	cmd := &cobra.Command{
		Use:   "reproduce NAME [--scale quick|full] [--out DIR] | --list",
		Short: "Run one of the papers' experiments and write results, plots and a report",
		Long: `Reproduce runs an experiment configured in experiments/NAME.yaml (embedded in
the binary) at the quick or full scale and writes results.json, CSV tables,
PNG/SVG plots and a report (report.md, report.html) into --out (default
eqens-out/NAME). --list names every experiment. --config runs a modified
copy of an experiment's YAML.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				for _, e := range experiment.List() {
					fmt.Fprintf(w, "%s\t%s\n", e.Name, e.Summary)
				}
				return w.Flush()
			}
			if len(args) != 1 {
				return fmt.Errorf("name an experiment (see eqens reproduce --list)")
			}
			return runExperiment(cmd, args[0], scale, out, config, dataDir)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&list, "list", false, "list the experiments")
	f.StringVar(&scale, "scale", "quick", "quick (minutes on 2 cores) or full (the papers' sizes)")
	f.StringVar(&out, "out", "", "output folder (default eqens-out/NAME)")
	f.StringVar(&config, "config", "", "run a modified copy of the experiment's YAML")
	f.StringVar(&dataDir, "data-dir", "", "folder with downloaded datasets (default $EQENS_DATA or the user cache)")
	return cmd
}

func newDemoCmd() *cobra.Command {
	var scale, out, dataDir string
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Run the main experiment on embedded MNIST: augmented ensembles become invariant",
		Long: `Demo trains, on MNIST embedded in the binary, a small deep ensemble of MLPs
with random C4 (90-degree rotation) augmentation, the same ensemble without
augmentation and a C4 GCNN, computes the infinite-width NTK prediction of
the augmented MLP ensemble, and prints a table of accuracy and orbit same
predictions (OSP: on how many of the 4 rotations of an image the prediction
stays the same) in and out of distribution, with 95% confidence intervals.
It writes the table, plots and an HTML report to eqens-out/demo (or --out).
It takes one to three minutes on two cores.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = filepath.Join("eqens-out", "demo")
			}
			return runExperiment(cmd, "demo", scale, out, "", dataDir)
		},
	}
	f := cmd.Flags()
	f.StringVar(&scale, "scale", "quick", "quick or full")
	f.StringVar(&out, "out", "", "output folder (default eqens-out/demo)")
	f.StringVar(&dataDir, "data-dir", "", "folder with downloaded datasets (Fashion-MNIST is used as out-of-distribution set when found)")
	return cmd
}
