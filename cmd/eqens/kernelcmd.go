package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newKernelCmd) }

// kernelKind parses --kind.
func kernelKind(s string) (ntk bool, err error) { return cli.KernelKind(s) }

// averageRep parses --average (or --augment) for inputs of the given shape.
func averageRep(flag, name string, shape []int) (*group.Rep, error) {
	return cli.GroupRep(flag, name, shape)
}

// kernelProgress returns a progress callback drawing a bar on a terminal.
func kernelProgress(desc string) (func(done, total int), func()) {
	return progress.Counter(os.Stderr, desc, 10*time.Second)
}

// kernelFlags are the flags of eqens kernel.
type kernelFlags struct {
	spec, x1Path, x2Path, kind, avg, out, rows, cols string
	memoryMB                                         int
}

func newKernelCmd() *cobra.Command {
	var kf kernelFlags
	cmd := &cobra.Command{
		Use:   "kernel --arch SPEC --x A.npy [--x2 B.npy] --kind ntk|nngp [--average GROUP] [--rows A:B --cols C:D] --out K.npy",
		Short: "Compute the analytic infinite-width NTK or NNGP kernel between inputs",
		Long: `Kernel computes the infinite-width kernel of the architecture (NTK
parametrisation, neural-tangents conventions) between the samples of --x and
--x2 (or of --x with itself) and writes an (n1, n2) float64 array. At infinite
width the kernel is the identity across output units; the scalar per pair
is written.

--average GROUP writes the group-averaged kernel (1/|G|) Σ_g k(x, rho(g) x'),
the kernel of the infinite ensemble trained with full augmentation.

--rows A:B and --cols C:D compute one tile: rows [A, B) of --x and columns
[C, D) of --x2 (or of --x), bit for bit the same block as the whole kernel;
the tile's ranges and what it is a tile of go into K.npy.json beside it, and
"eqens kernel merge" assembles the tiles (docs/sharding.md).

Before computing, kernel prints the memory it plans to use and refuses when
the machine does not have it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return kf.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&kf.spec, "arch", "", "architecture spec")
	f.StringVar(&kf.x1Path, "x", "", "inputs: .npy array (N, C, H, W) or (N, D)")
	f.StringVar(&kf.x2Path, "x2", "", "second inputs (default: --x)")
	f.StringVar(&kf.kind, "kind", "ntk", "kernel: ntk or nngp")
	f.StringVar(&kf.avg, "average", "", "group to average the kernel over, e.g. c4")
	f.StringVar(&kf.out, "out", "", "output .npy file (n1, n2) float64")
	f.StringVar(&kf.rows, "rows", "", "compute only rows A:B (a tile; default all)")
	f.StringVar(&kf.cols, "cols", "", "compute only columns C:D (a tile; default all)")
	f.IntVar(&kf.memoryMB, "memory-mb", 256, "working memory per worker in MiB (larger: bigger blocks of pairs)")
	cmd.AddCommand(newKernelMergeCmd())
	return cmd
}

// run reads the inputs, plans and computes the kernel (or a tile of it) and
// writes it.
func (kf *kernelFlags) run(cmd *cobra.Command) error {
	if kf.spec == "" {
		return fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(1))")
	}
	if kf.out == "" {
		return fmt.Errorf("--out: missing (the .npy file to write)")
	}
	ntk, err := kernelKind(kf.kind)
	if err != nil {
		return err
	}
	if kf.memoryMB <= 0 {
		return fmt.Errorf("--memory-mb: %d must be positive", kf.memoryMB)
	}
	a, err := cli.ReadInputs("x", kf.x1Path, nil)
	if err != nil {
		return err
	}
	var b *cli.Inputs
	if kf.x2Path != "" {
		if b, err = cli.ReadInputs("x2", kf.x2Path, a.Shape); err != nil {
			return err
		}
	}
	n2 := a.N
	if b != nil {
		n2 = b.N
	}
	rows, cols, err := tileSpans(kf.rows, kf.cols, a.N, n2)
	if err != nil {
		return err
	}
	arch, err := nn.Parse(kf.spec, a.Shape, nn.NTK)
	if err != nil {
		return fmt.Errorf("--arch: %w", err)
	}
	rep, err := averageRep("average", kf.avg, a.Shape)
	if err != nil {
		return err
	}
	// Only one matrix is written: with --kind ntk K is not kept.
	opts := nn.KernelOptions{NTK: ntk, ThetaOnly: ntk, Average: rep, MemoryMB: kf.memoryMB}
	if err := checkKernelMemory(cmd, arch, rows, cols, opts); err != nil {
		return err
	}
	prog, finish := kernelProgress("kernel")
	opts.Progress = prog
	var x2 []float64
	if b != nil {
		x2 = b.X
	}
	res, err := arch.KernelBlock(cmd.Context(), a.X, a.N, x2, n2, rows, cols, opts)
	finish()
	if err != nil {
		return err
	}
	m := res.K
	if ntk {
		m = res.Theta
	}
	if kf.rows != "" || kf.cols != "" {
		if err := writeTile(kf, arch, a, b, rows, cols, m); err != nil {
			return err
		}
	} else if err := npy.WriteFile(kf.out, npy.FromFloat64([]int{res.N1, res.N2}, m)); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d×%d %s kernel of %s\n", kf.out, res.N1, res.N2, kf.kind, arch.Spec)
	return nil
}

// tileSpans parses --rows and --cols (empty: all of the n1 rows or n2
// columns).
func tileSpans(rows, cols string, n1, n2 int) (nn.Span, nn.Span, error) {
	r, err := parseSpan("rows", rows, n1)
	if err != nil {
		return r, r, err
	}
	c, err := parseSpan("cols", cols, n2)
	return r, c, err
}

// parseSpan parses A:B with 0 <= A < B <= n.
func parseSpan(flag, s string, n int) (nn.Span, error) {
	if s == "" {
		return nn.Span{Lo: 0, Hi: n}, nil
	}
	lo, hi, ok := strings.Cut(s, ":")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 0 || b > n || a >= b {
		return nn.Span{}, fmt.Errorf("--%s: %q is not a range A:B with 0 <= A < B <= %d (the number of samples)", flag, s, n)
	}
	return nn.Span{Lo: a, Hi: b}, nil
}

// checkKernelMemory prints the planned memory and refuses when it exceeds
// what the machine has available.
func checkKernelMemory(cmd *cobra.Command, arch *nn.Arch, rows, cols nn.Span, opts nn.KernelOptions) error {
	p := arch.PlanKernel(rows.Len(), cols.Len(), opts)
	avail, known, have := availableText()
	fmt.Fprintf(cmd.ErrOrStderr(), "kernel: %d entries; memory: result %s, inputs %s, %d workers × %s = %s (available: %s)\n",
		p.Entries, fmtBytes(p.ResultBytes), fmtBytes(p.InputBytes), p.Workers, fmtBytes(p.WorkerBytes), fmtBytes(p.Total()), have)
	if !known || p.Total() <= avail {
		return nil
	}
	need := fmt.Sprintf("kernel: needs about %s (result %s, inputs %s, %d workers × %s of working memory) but %s are available", fmtBytes(p.Total()), fmtBytes(p.ResultBytes), fmtBytes(p.InputBytes), p.Workers, fmtBytes(p.WorkerBytes), fmtBytes(avail))
	switch {
	case p.ResultBytes+p.InputBytes+int64(p.Workers)*p.PairBytes > avail && p.ResultBytes > avail/2:
		return fmt.Errorf("%s: compute it in tiles with --rows A:B --cols C:D and assemble them with eqens kernel merge (docs/sharding.md)", need)
	case p.ResultBytes+p.InputBytes+int64(p.Workers)*p.PairBytes > avail:
		return fmt.Errorf("%s: one pair of inputs alone needs %s per worker; use fewer workers (GOMAXPROCS=1) or smaller inputs (pool the images)", need, fmtBytes(p.PairBytes))
	}
	return fmt.Errorf("%s: lower --memory-mb (now %d MiB per worker)", need, opts.MemoryMB)
}

// fmtBytes formats a byte count in KiB, MiB or GiB.
func fmtBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
}
