//go:build mpi

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/internal/mpi"
	"github.com/eqens/eqens/internal/scalapack"
	"github.com/spf13/cobra"
)

const predictMPILong = cli.PredictLong + `

eqens-mpi predict computes the same prediction on an MPI job and writes the
same files, with the same flags (and three of its own: --grid, --block-size,
--threads). Every rank reads --train-x, --train-y and --test-x (put them
where every node can read them); rank 0 writes --out and --cov.

The kernels are never held whole: the N×N training kernel (N training
points; N·|G| with --augment) is cut into --block-size square blocks dealt
2-D block-cyclically over a P×Q grid of the R ranks (ScaLAPACK's layout;
--grid, default the most nearly square P×Q = R), and each rank computes only
its blocks of the upper triangle (the group-averaged kernel too), the
entries "eqens kernel" computes, bit for bit. t = inf is solved with pdpotrf and
pdpotrs, finite times with the eigendecomposition pdsyevd; the test kernels
are distributed the same way and the products run in PBLAS.

Sizing R. With S = 8·N²/R bytes, one rank's share of one N×N matrix, a rank
needs about

  S                 --time inf only (factorised in place)
  4S                with finite times (kernel, eigenvectors, pdsyevd's
                    workspace of about 2S; the t = inf solve runs first and
                    its factor is freed before)
  + S               with --cov and --kind ntk (the NNGP training kernel)
  + 8·m·N/R         the test kernel (m test points), 2× with --cov and
                    --kind ntk, plus 3·8·m·N/R scratch and 8·m²/R with --cov

and rank 0 holds the outputs (8·T·m·k bytes, 8·T·m² with --cov) besides.
So choose R >= 8·N²·F / (memory per rank), F = 1 (inf only) or 4 (finite
times), with some room for the rest: N = 60000 (8·N² = 28.8 GB) with
finite times needs 115 GB in all, e.g. R = 32 ranks of 4 GB (4 nodes of 8
ranks with 40 GB each); t = inf alone, 16 ranks of 2.5 GB. The command
prints its plan first and refuses to start when the ranks on a node would
need more than 90% of the node's memory.

Launching (one rank per core; --threads sets the goroutines and BLAS
threads per rank, default the rank's cores divided by the ranks on its
node):

  mpirun -np 64 --hostfile hosts eqens-mpi predict --arch SPEC --train-x X.npy ...
  srun --ntasks=64 --mpi=pmix --kill-on-bad-exit=1 eqens-mpi predict ...
      (Slurm; deploy/slurm-mpi.sbatch)
  an MPIJob of the Kubeflow MPI Operator whose launcher runs mpirun
  (deploy/k8s-mpijob.yaml)

If a rank dies (killed, out of memory, its node lost) the MPI launcher ends
the whole job with a non-zero status and names the rank; an error on some
ranks (e.g. an unreadable file) is printed once by rank 0 and every rank
exits with status 1. docs/sharding.md has the details.`

// mpiFlags are eqens-mpi predict's own flags.
type mpiFlags struct {
	grid    string
	block   int
	threads int
	// dumpKernel (hidden, for tests): rank 0 gathers the training kernel
	// before the regulariser and writes it, as eqens kernel would.
	dumpKernel string
}

func newPredictCmd() *cobra.Command {
	var pf cli.PredictFlags
	var mf mpiFlags
	cmd := &cobra.Command{
		Use:   cli.PredictUse,
		Short: "eqens predict with the kernels and solves distributed over the ranks (ScaLAPACK)",
		Long:  predictMPILong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return agree(runPredict(cmd, &pf, &mf))
		},
	}
	pf.Register(cmd)
	f := cmd.Flags()
	f.StringVar(&mf.grid, "grid", "", "process grid PxQ with P·Q = the number of ranks (default the most nearly square)")
	f.IntVar(&mf.block, "block-size", 64, "rows and columns of the square blocks of the distributed matrices")
	f.IntVar(&mf.threads, "threads", 0, "goroutines and BLAS threads per rank (default: this rank's cores / ranks on its node)")
	f.StringVar(&mf.dumpKernel, "debug-train-kernel", "", "gather the training kernel on rank 0 and write it to this .npy (tests only: defeats the distribution)")
	_ = f.MarkHidden("debug-train-kernel")
	return cmd
}

// parseGrid parses --grid for size ranks.
func parseGrid(s string, size int) (int, int, error) {
	if s == "" {
		p, q := scalapack.GridShape(size)
		return p, q, nil
	}
	a, b, ok := strings.Cut(strings.ToLower(s), "x")
	p, err1 := strconv.Atoi(a)
	q, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || p < 1 || q < 1 {
		return 0, 0, fmt.Errorf("--grid: %q: want PxQ, e.g. 2x4", s)
	}
	if p*q != size {
		return 0, 0, fmt.Errorf("--grid %s: %d×%d = %d ranks, but the job has %d", s, p, q, p*q, size)
	}
	return p, q, nil
}

// setThreads sets GOMAXPROCS, the OpenBLAS threads and the Go memory limit
// of this rank from --threads and the ranks on its node.
func setThreads(threads int) (int, int) {
	local := mpi.LocalSize()
	if threads <= 0 {
		// GOMAXPROCS defaults to the CPUs this rank may use (its affinity
		// mask, and a container's CPU limit).
		threads = max(1, runtime.GOMAXPROCS(0)/local)
	}
	runtime.GOMAXPROCS(threads)
	linalg.SetThreads(threads)
	if os.Getenv("GOMEMLIMIT") == "" {
		if b := nodeMemory(); b > 0 {
			debug.SetMemoryLimit(b / 10 * 9 / int64(local))
		}
	}
	return threads, local
}

// nodeMemory returns the memory the ranks on this node (or in this
// container) share in bytes: the machine's, or a smaller cgroup limit (a
// Kubernetes pod's, a Slurm job's); 0 if unknown.
func nodeMemory() int64 {
	var b int64
	if kb, ok := cli.MemInfo("MemTotal"); ok {
		b = kb * 1024
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && v > 0 && (b == 0 || v < b) {
			b = v
		}
	}
	return b
}
