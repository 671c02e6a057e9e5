package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

// buildVersion returns the link-time version, else the VCS revision the
// binary was built from, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel+" + rev + dirty
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the compiled-in linear-algebra backend and its matrix-product kernel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "eqens %s\n", buildVersion())
			fmt.Fprintf(w, "backend: %s\n", linalg.Backend)
			fmt.Fprintf(w, "kernel: %s\n", linalg.Kernel())
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
