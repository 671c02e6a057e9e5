package main

import (
	"fmt"
	"os"
	"time"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newKernelCmd) }

// kernelKind parses --kind.
func kernelKind(s string) (ntk bool, err error) {
	switch s {
	case "ntk":
		return true, nil
	case "nngp":
		return false, nil
	}
	return false, fmt.Errorf("--kind: %q is not a kernel (want ntk or nngp)", s)
}

// averageRep parses --average (or --augment) for inputs of the given shape.
func averageRep(flag, name string, shape []int) (*group.Rep, error) {
	if name == "" {
		return nil, nil
	}
	g, err := group.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	rep, err := group.InputRep(g, shape)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return rep, nil
}

// kernelProgress returns a progress callback drawing a bar on a terminal.
func kernelProgress(desc string) (func(done, total int), func()) {
	var bar *progress.Bar
	return func(done, total int) {
			if bar == nil {
				bar = progress.New(os.Stderr, int64(total), desc, 10*time.Second)
			}
			bar.Add(1)
		}, func() {
			bar.Finish()
		}
}

func newKernelCmd() *cobra.Command {
	var spec, x1Path, x2Path, kind, avg, out string
	cmd := &cobra.Command{
		Use:   "kernel --arch SPEC --x A.npy [--x2 B.npy] --kind ntk|nngp [--average GROUP] --out K.npy",
		Short: "Compute the analytic infinite-width NTK or NNGP kernel between inputs",
		Long: `Kernel computes the infinite-width kernel of the architecture (NTK
parametrisation, neural-tangents conventions) between the samples of --x and
--x2 (or of --x with itself) and writes an (n1, n2) float64 array. At infinite
width the kernel is the identity across output units; the scalar per pair
is written.

--average GROUP writes the group-averaged kernel (1/|G|) Σ_g k(x, rho(g) x'),
the kernel of the infinite ensemble trained with full augmentation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec == "" {
				return fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(1))")
			}
			if out == "" {
				return fmt.Errorf("--out: missing (the .npy file to write)")
			}
			ntk, err := kernelKind(kind)
			if err != nil {
				return err
			}
			a, err := readInputs("x", x1Path, nil)
			if err != nil {
				return err
			}
			var b *inputArray
			if x2Path != "" {
				if b, err = readInputs("x2", x2Path, a.shape); err != nil {
					return err
				}
			}
			arch, err := nn.Parse(spec, a.shape, nn.NTK)
			if err != nil {
				return fmt.Errorf("--arch: %w", err)
			}
			rep, err := averageRep("average", avg, a.shape)
			if err != nil {
				return err
			}
			prog, finish := kernelProgress("kernel")
			opts := nn.KernelOptions{NTK: ntk, Average: rep, Progress: prog}
			var res *nn.KernelResult
			if b == nil {
				res, err = arch.Kernel(cmd.Context(), a.x, a.n, nil, 0, opts)
			} else {
				res, err = arch.Kernel(cmd.Context(), a.x, a.n, b.x, b.n, opts)
			}
			finish()
			if err != nil {
				return err
			}
			m := res.K
			if ntk {
				m = res.Theta
			}
			if err := npy.WriteFile(out, npy.FromFloat64([]int{res.N1, res.N2}, m)); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d×%d %s kernel of %s\n", out, res.N1, res.N2, kind, arch.Spec)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "arch", "", "architecture spec")
	f.StringVar(&x1Path, "x", "", "inputs: .npy array (N, C, H, W) or (N, D)")
	f.StringVar(&x2Path, "x2", "", "second inputs (default: --x)")
	f.StringVar(&kind, "kind", "ntk", "kernel: ntk or nngp")
	f.StringVar(&avg, "average", "", "group to average the kernel over, e.g. c4")
	f.StringVar(&out, "out", "", "output .npy file (n1, n2) float64")
	return cmd
}
