package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eqens/eqens/data"
)

func init() { subcommands = append(subcommands, newDataCmd) }

// dataSubcommands lists the constructors of the "eqens data" subcommands
// defined in other files; each appends its own in an init function, like
// subcommands. They can read the --data-dir flag with dataDirFlag.
var dataSubcommands []func() *cobra.Command

// dataDirFlag returns the value of the --data-dir flag of the data command
// (empty if not given).
func dataDirFlag(cmd *cobra.Command) string {
	d, _ := cmd.Flags().GetString("data-dir")
	return d
}

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "List, check and download the datasets eqens uses",
		Long: `Manage the datasets eqens trains and evaluates on.

MNIST is embedded in the binary. The other datasets are looked up, in order, in
  DIR/NAME                     when --data-dir DIR is given
  $EQENS_DATA/NAME             when the variable is set
  <user cache>/eqens/NAME      (` + cacheHint() + `)
  package directories          Fashion-MNIST: /usr/share/datasets/fashion-mnist
                               (Debian package dataset-fashion-mnist)
and every file is checked against its published checksum before use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().String("data-dir", "", "directory searched first for datasets (as DIR/NAME); also where fetch stores them unless --dir is given")
	cmd.AddCommand(newDataListCmd(), newDataFetchCmd())
	for _, add := range dataSubcommands {
		cmd.AddCommand(add())
	}
	return cmd
}

// cacheHint names the user cache directory for help texts.
func cacheHint() string {
	if c, err := os.UserCacheDir(); err == nil {
		return "here " + filepath.Join(c, "eqens")
	}
	return "os.UserCacheDir"
}

func newDataListCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "list [NAME...]",
		Short: "Show each dataset: where it was found, whether its checksums match, how to get it",
		Long: `List the known datasets (or the named ones) with their status:

  present     every file found and verified against its published checksum
  missing     not found in any location searched
  incomplete  some files found, others missing
  corrupt     a file found does not match its checksum (delete it and fetch again)

Checking reads every file found, which takes a second or two for the large ones.
With --verbose every location searched is shown.`,
		Example: `  eqens data list
  eqens data list --verbose fashion-mnist
  eqens data list --data-dir /srv/datasets`,
		ValidArgs: data.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := selectSpecs(args, false)
			if err != nil {
				return err
			}
			return writeDataList(cmd.OutOrStdout(), specs, dataDirFlag(cmd), verbose)
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show every location searched")
	return cmd
}

// selectSpecs returns the specs named in args (all of them if args is
// empty, or if allowAll and args is just "all").
func selectSpecs(args []string, allowAll bool) ([]*data.Spec, error) {
	if len(args) == 0 || (allowAll && len(args) == 1 && args[0] == "all") {
		return data.Registry(), nil
	}
	var specs []*data.Spec
	for _, a := range args {
		s, err := data.Lookup(a)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// writeDataList writes the status table.
func writeDataList(w io.Writer, specs []*data.Spec, dataDir string, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tWHERE / HOW TO GET")
	for _, s := range specs {
		sts := s.Check(dataDir)
		best := summarize(sts)
		where := "get it with: " + s.HowToGet()
		if best.State == data.Present {
			where = best.Location.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, best.State, where)
		for _, st := range sts {
			if st == best && st.State == data.Present && st.Detail == "" && !verbose {
				continue
			}
			if !verbose && st.State == data.Missing && st.Detail == "" {
				continue
			}
			line := st.Location.String() + ": " + st.State.String()
			if st.Detail != "" {
				line += " (" + st.Detail + ")"
			}
			fmt.Fprintf(tw, "\t\t  %s\n", line)
		}
	}
	return tw.Flush()
}

// summarize picks the location that describes a dataset best: the first
// where it is present, else the first corrupt one, else the first
// incomplete one, else the first.
func summarize(sts []data.LocationStatus) data.LocationStatus {
	for _, want := range []data.State{data.Present, data.Corrupt, data.Incomplete} {
		for _, st := range sts {
			if st.State == want {
				return st
			}
		}
	}
	if len(sts) == 0 {
		return data.LocationStatus{}
	}
	return sts[0]
}

func newDataFetchCmd() *cobra.Command {
	var dir, mirror string
	cmd := &cobra.Command{
		Use:   "fetch NAME... | all",
		Short: "Download datasets, resumably, and verify their checksums",
		Long: `Download the named datasets (or all of them) into DIR/NAME, where DIR is --dir,
else --data-dir, else $EQENS_DATA, else eqens's directory in the user cache.

Files already there and verified are skipped. A download goes to FILE.part first;
an interrupted one (network error, Ctrl-C) is resumed by running the command again.
Only a download that matches its published checksum is renamed to FILE; one that
does not is deleted. A progress bar is shown when standard error is a terminal.`,
		Example: `  eqens data fetch cifar10
  eqens data fetch fashion-mnist qm9 --dir /srv/datasets
  eqens data fetch all`,
		ValidArgs: append(data.Names(), "all"),
		Args:      cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := selectSpecs(args, true)
			if err != nil {
				return err
			}
			dest := dir
			if dest == "" {
				dest = dataDirFlag(cmd)
			}
			if dest == "" {
				if dest, err = data.DefaultDir(); err != nil {
					return err
				}
			}
			stderr := cmd.ErrOrStderr()
			opts := data.FetchOptions{Log: stderr, BaseURL: mirror}
			if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				opts.Progress = stderr
			}
			var failed []string
			for _, s := range specs {
				if err := data.Fetch(cmd.Context(), s.Name, dest, opts); err != nil {
					if cmd.Context().Err() != nil {
						return err
					}
					fmt.Fprintf(stderr, "eqens: %v\n", err)
					failed = append(failed, s.Name)
					continue
				}
				if !s.Embedded {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ready in %s\n", s.Name, filepath.Join(dest, s.Name))
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not fetch %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to download into (as DIR/NAME)")
	cmd.Flags().StringVar(&mirror, "mirror", "", "fetch every file from `URL`/FILE instead of the official locations")
	return cmd
}
