package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/eqens/eqens/internal/cli"
	"github.com/spf13/cobra"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = ""

// exitError carries a specific exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "eqens",
		Short: "Equivariant ensembles: data augmentation, GCNNs, NTKs and equivariance metrics",
		Long: `eqens trains deep ensembles with data augmentation, builds group-equivariant
networks (GCNNs), computes their exact infinite-width kernels (NNGP and NTK)
and measures how equivariant a model really is, in and out of distribution.

Start with "eqens demo", which runs the main experiment on embedded MNIST.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands lists the constructors of the top-level commands; each file of
// this package appends its own in an init function.
var subcommands []func() *cobra.Command

func main() {
	setMemoryLimit()
	os.Exit(run(os.Args[1:]))
}

// setMemoryLimit keeps the Go heap within 90% of the machine's memory
// (unless GOMEMLIMIT says otherwise): large kernel matrices and Jacobians
// are allocated in few big pieces, and without a limit the collector lets
// garbage of the previous ones accumulate up to twice the live heap.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if kb, ok := cli.MemInfo("MemTotal"); ok && kb > 0 {
		debug.SetMemoryLimit(kb * 1024 / 10 * 9)
	}
}

// run executes the command line and returns the process exit status. A panic
// anywhere below is turned into a one-line internal error, never a trace,
// unless EQENS_TRACEBACK=1 asks for it.
func run(args []string) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			if os.Getenv("EQENS_TRACEBACK") == "1" {
				fmt.Fprintf(os.Stderr, "panic: %v\n%s", r, debug.Stack())
			} else {
				fmt.Fprintf(os.Stderr, "eqens: internal error: %v\n(this is a bug; rerun with EQENS_TRACEBACK=1 for details and please report it)\n", r)
			}
			code = 3
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "eqens: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
}
