package main

import (
	"fmt"
	"runtime"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the compiled-in linear-algebra backend and its matrix-product kernel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "eqens %s\n", cli.BuildVersion(version))
			fmt.Fprintf(w, "backend: %s\n", linalg.Backend)
			fmt.Fprintf(w, "kernel: %s\n", linalg.Kernel())
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
