package main

import (
	"fmt"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newApplyCmd) }

func newApplyCmd() *cobra.Command {
	var (
		spec, xPath, out, param string
		seed                    uint64
	)
	cmd := &cobra.Command{
		Use:   "apply --arch SPEC --x X.npy --out Y.npy [--seed S] [--param ntk|standard]",
		Short: "Evaluate a freshly initialised network on inputs from an .npy file",
		Long: `Apply builds the network described by --arch, initialises it from --seed and
writes its outputs on the samples of --x (NCHW images or (N, D) vectors,
float32 or float64) to --out as an (N, outputs) array of the same float type.

Architecture specs are serial lists of layers, for example
  dense(512),relu,dense(512),relu,dense(10)
  lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(10)
with keyword arguments w_std (default 1) and b_std (default 0) as in
neural-tangents.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec == "" {
				return fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(10))")
			}
			if out == "" {
				return fmt.Errorf("--out: missing (the .npy file to write)")
			}
			p, err := nn.ParseParam(param)
			if err != nil {
				return fmt.Errorf("--param: %w", err)
			}
			in, err := cli.ReadInputs("x", xPath, nil)
			if err != nil {
				return err
			}
			arch, err := nn.Parse(spec, in.Shape, p)
			if err != nil {
				return fmt.Errorf("--arch: %w", err)
			}
			k := arch.OutputDim()
			var res *npy.Array
			if in.F32 {
				net := nn.New[float32](arch)
				net.Init(seed)
				x := make([]float32, len(in.X))
				for i, v := range in.X {
					x[i] = float32(v)
				}
				y := net.Forward(x, in.N)
				res = npy.FromFloat32([]int{in.N, k}, append([]float32(nil), y...))
			} else {
				net := nn.New[float64](arch)
				net.Init(seed)
				y := net.Forward(in.X, in.N)
				res = npy.FromFloat64([]int{in.N, k}, append([]float64(nil), y...))
			}
			if err := npy.WriteFile(out, res); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d×%d outputs of %s (%d parameters, %s parametrisation)\n", out, in.N, k, arch.Spec, arch.NumParams(), p)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "arch", "", "architecture spec, e.g. dense(512),relu,dense(10)")
	f.StringVar(&xPath, "x", "", "inputs: .npy array (N, C, H, W) or (N, D)")
	f.StringVar(&out, "out", "", "output .npy file (N, outputs)")
	f.StringVar(&param, "param", "ntk", "parametrisation: ntk or standard")
	f.Uint64Var(&seed, "seed", 0, "initialisation seed")
	return cmd
}
