//go:build mpi

// Command eqens-mpi computes eqens predict on many machines at once: under
// mpirun (or srun, or a Kubernetes MPI operator) every rank computes only
// the blocks of the kernels it owns in ScaLAPACK's 2-D block-cyclic layout,
// the solves run in ScaLAPACK (pdpotrf, pdpotrs, pdsyevd) and rank 0 writes
// the same files as eqens predict. Build it with make mpi (build tags
// openblas and mpi; Open MPI and ScaLAPACK installed); docs/sharding.md
// describes how to run and size it.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/eqens/eqens/internal/mpi"
	"github.com/eqens/eqens/internal/scalapack"
	"github.com/spf13/cobra"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = ""

func main() {
	if err := mpi.Init(); err != nil {
		fmt.Fprintf(os.Stderr, "eqens-mpi: %v\n", err)
		os.Exit(1)
	}
	code := run(os.Args[1:])
	scalapack.Finish()
	mpi.Finalize()
	os.Exit(code)
}

// run executes the command line on this rank and returns the exit status.
// Errors are agreed on collectively (see agree), so every rank returns the
// same status and rank 0 prints the message once. A panic is printed by its
// rank and aborts the whole job.
func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if os.Getenv("EQENS_TRACEBACK") == "1" {
				fmt.Fprintf(os.Stderr, "panic on rank %d: %v\n%s", mpi.Rank(), r, debug.Stack())
			} else {
				fmt.Fprintf(os.Stderr, "eqens-mpi: rank %d: internal error: %v\n(this is a bug; rerun with EQENS_TRACEBACK=1 for details and please report it)\n", mpi.Rank(), r)
			}
			mpi.Abort(3)
		}
	}()
	root := &cobra.Command{
		Use:   "eqens-mpi",
		Short: "eqens predict on an MPI job: kernels and solves distributed over the ranks (ScaLAPACK)",
		Long: `eqens-mpi runs under mpirun, srun or a Kubernetes MPI operator and computes
what "eqens predict" computes, with the kernel matrices and their
factorisations distributed over the ranks (docs/sharding.md).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(newPredictCmd(), newCompareCmd(), newVersionCmd())
	root.SetArgs(args)
	if mpi.Rank() != 0 {
		// Help and usage once, from rank 0.
		root.SetOut(discard{})
	}
	err := root.Execute()
	if err == nil {
		return 0
	}
	// Every error is the same on every rank: a command-line error
	// (cobra's) because every rank parses the same arguments, any other
	// because the commands agree on it (agree). Rank 0 prints it.
	if mpi.Rank() == 0 {
		fmt.Fprintf(os.Stderr, "eqens-mpi: %v\n", err)
	}
	return 1
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// collectiveError is an error that every rank returns: that of the lowest
// rank that failed.
type collectiveError struct {
	rank int
	msg  string
}

func (e *collectiveError) Error() string {
	if e.rank == 0 {
		return e.msg
	}
	return fmt.Sprintf("rank %d: %s", e.rank, e.msg)
}

// agree is a collective check: every rank calls it with its own error (or
// nil), and every rank gets nil if no rank failed, else the error of the
// lowest rank that did. Each phase of the computation ends with it, so that
// an error on some ranks stops all of them at the same point, with one
// message, instead of leaving the others waiting in the next collective.
func agree(err error) error {
	var ce *collectiveError
	if errors.As(err, &ce) {
		return err // already agreed on
	}
	size, rank := mpi.Size(), mpi.Rank()
	flag := []int64{int64(size)}
	if err != nil {
		flag[0] = int64(rank)
	}
	mpi.AllreduceInt(flag, mpi.Min)
	first := int(flag[0])
	if first == size {
		return nil
	}
	var msg []byte
	if rank == first {
		msg = []byte(err.Error())
	}
	n := []int64{int64(len(msg))}
	mpi.AllreduceInt(n, mpi.Max)
	buf := make([]byte, n[0])
	copy(buf, msg)
	mpi.BcastBytes(buf, first)
	return &collectiveError{rank: first, msg: string(buf)}
}
