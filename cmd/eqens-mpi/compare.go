//go:build mpi

package main

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/internal/mpi"
	"github.com/eqens/eqens/npy"
	"github.com/spf13/cobra"
)

func newCompareCmd() *cobra.Command {
	var rtol float64
	cmd := &cobra.Command{
		Use:   "compare A.npy B.npy [--rtol R]",
		Short: "Check that two arrays (e.g. eqens-mpi's and eqens predict's outputs) agree to a relative tolerance",
		Long: `Compare reads two .npy arrays of the same shape and checks, slice by slice
along the first axis (one slice per time for eqens predict's outputs), that
max |a − b| <= R · max |b|. It prints the largest relative difference and
fails when some slice exceeds R. It needs no mpirun.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mpi.Rank() != 0 {
				return nil
			}
			worst, err := compareFiles(args[0], args[1], rtol)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s and %s agree: largest relative difference %.3g (tolerance %g)\n", args[0], args[1], worst, rtol)
			return nil
		},
	}
	cmd.Flags().Float64Var(&rtol, "rtol", 1e-10, "relative tolerance")
	return cmd
}

// compareFiles returns the largest slice-wise relative difference of the
// arrays in files a and b, or an error when it exceeds rtol.
func compareFiles(a, b string, rtol float64) (float64, error) {
	read := func(p string) (*npy.Array, []float64, error) {
		arr, err := npy.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		v, err := arr.Float64()
		return arr, v, err
	}
	aa, av, err := read(a)
	if err != nil {
		return 0, err
	}
	ba, bv, err := read(b)
	if err != nil {
		return 0, err
	}
	if fmt.Sprint(aa.Shape) != fmt.Sprint(ba.Shape) {
		return 0, fmt.Errorf("%s has shape %v, %s has shape %v", a, aa.Shape, b, ba.Shape)
	}
	slices := 1
	if len(aa.Shape) >= 2 {
		slices = aa.Shape[0]
	}
	if len(av) == 0 {
		return 0, nil
	}
	per := len(av) / slices
	worst := 0.0
	for s := 0; s < slices; s++ {
		scale, diff, at := 0.0, 0.0, 0
		for i := s * per; i < (s+1)*per; i++ {
			if math.IsNaN(av[i]) != math.IsNaN(bv[i]) {
				return 0, fmt.Errorf("entry %d: %v in %s, %v in %s", i, av[i], a, bv[i], b)
			}
			scale = max(scale, math.Abs(bv[i]))
			if d := math.Abs(av[i] - bv[i]); d > diff {
				diff, at = d, i
			}
		}
		rel := diff
		if scale > 0 {
			rel = diff / scale
		}
		worst = max(worst, rel)
		if rel > rtol {
			return worst, fmt.Errorf("%s and %s differ in slice %d: |a − b| = %.3g at entry %d (%v vs %v), %.3g relative to the slice's largest |b| %.3g (tolerance %g)",
				a, b, s, diff, at, av[at], bv[at], rel, scale, rtol)
		}
	}
	return worst, nil
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the number of ranks and the MPI library",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mpi.Rank() == 0 {
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "eqens-mpi %s\n", cli.BuildVersion(version))
				fmt.Fprintf(w, "backend: openblas + scalapack, %s\n", mpi.LibraryVersion())
				fmt.Fprintf(w, "ranks: %d\n", mpi.Size())
			}
			return nil
		},
	}
}
