package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/predict"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newPredictCmd) }

// parseTimes parses --time: comma-separated non-negative numbers or inf.
func parseTimes(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "inf" || f == "Inf" || f == "infinity" {
			out = append(out, math.Inf(1))
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v < 0 || math.IsNaN(v) {
			return nil, fmt.Errorf("--time: %q is not a non-negative number or inf", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func newPredictCmd() *cobra.Command {
	var (
		spec, xPath, yPath, tPath, timeS, augment, average, kind, out, covPath, targets string
		reg, lr                                                                         float64
		regAbs                                                                          bool
	)
	cmd := &cobra.Command{
		Use:   "predict --arch SPEC --train-x X.npy --train-y Y.npy --test-x T.npy --out MU.npy [flags]",
		Short: "Predict with the infinite ensemble of infinitely wide networks (NTK/NNGP regression)",
		Long: `Predict computes the mean (and with --cov the covariance) over test points of
the infinite ensemble of infinitely wide networks with architecture --arch,
trained by full-batch gradient descent on the MSE loss
L = 1/(2N) Σ_i ||f(x_i) - y_i||^2, at the training times --time (steps of
learning rate --lr; "inf" means trained to convergence):

  mu_t(x) = Theta(x,X) Theta(X,X)^-1 (I - exp(-lr t Theta(X,X) / N)) Y

(neural-tangents normalises time by the number of training targets instead;
docs/predict.md gives the conversion). --kind nngp uses the NNGP kernel
(Bayesian inference with the readout only trained).

--augment G trains on the training set expanded by its orbit under G
(targets transformed as --targets says); --average G uses the group-averaged
kernel without augmentation, which gives the same prediction at |G|^2 less
solve memory (its regulariser is scaled so that both agree exactly).
Output: MU.npy of shape (times, test points, outputs) and COV.npy of shape
(times, test points, test points).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec == "" {
				return fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(1))")
			}
			if out == "" {
				return fmt.Errorf("--out: missing (the .npy file for the mean)")
			}
			if augment != "" && average != "" {
				return fmt.Errorf("--augment and --average exclude each other (they give the same prediction; --average is cheaper)")
			}
			ntk, err := kernelKind(kind)
			if err != nil {
				return err
			}
			times, err := parseTimes(timeS)
			if err != nil {
				return err
			}
			if !(reg >= 0) || math.IsInf(reg, 0) {
				return fmt.Errorf("--reg: %v must be a non-negative number", reg)
			}
			if !(lr > 0) || math.IsInf(lr, 0) {
				return fmt.Errorf("--lr: %v must be a positive number", lr)
			}
			xa, err := readInputs("train-x", xPath, nil)
			if err != nil {
				return err
			}
			ya, err := npy.ReadFile(yPath)
			if yPath == "" {
				return fmt.Errorf("--train-y: missing (an .npy array of targets, (N,) or (N, outputs))")
			}
			if err != nil {
				return fmt.Errorf("--train-y: %w", err)
			}
			y, err := ya.Float64()
			if err != nil {
				return fmt.Errorf("--train-y %s: %w", yPath, err)
			}
			if len(ya.Shape) == 0 || len(ya.Shape) > 2 || ya.Shape[0] != xa.n {
				return fmt.Errorf("--train-y %s: shape %v, want (%d,) or (%d, outputs) to match --train-x", yPath, ya.Shape, xa.n, xa.n)
			}
			k := 1
			if len(ya.Shape) == 2 {
				k = ya.Shape[1]
			}
			for i, v := range y {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("--train-y %s: target %d is not finite", yPath, i/k)
				}
			}
			ta, err := readInputs("test-x", tPath, xa.shape)
			if err != nil {
				return err
			}
			arch, err := nn.Parse(spec, xa.shape, nn.NTK)
			if err != nil {
				return fmt.Errorf("--arch: %w", err)
			}
			setup := predict.Setup{LearningRate: lr, Reg: reg, RegAbsolute: regAbs, Progress: kernelProgress}
			if !ntk {
				setup.Regime = predict.RegimeNNGP
			}
			if setup.Symmetry, setup.Input, setup.Target, err = predictSymmetry(augment, average, targets, xa.shape, k); err != nil {
				return err
			}
			model, err := predict.Fit(cmd.Context(), arch, xa.x, xa.n, y, k, setup)
			if err != nil {
				return err
			}
			p, err := model.Predict(cmd.Context(), ta.x, ta.n, times, covPath != "")
			if err != nil {
				return err
			}
			if err := npy.WriteFile(out, npy.FromFloat64([]int{len(times), ta.n, k}, p.Mean)); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: mean of shape (%d, %d, %d)\n", out, len(times), ta.n, k)
			if covPath != "" {
				if err := npy.WriteFile(covPath, npy.FromFloat64([]int{len(times), ta.n, ta.n}, p.Cov)); err != nil {
					return fmt.Errorf("--cov: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: covariance of shape (%d, %d, %d)\n", covPath, len(times), ta.n, ta.n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "arch", "", "architecture spec")
	f.StringVar(&xPath, "train-x", "", "training inputs .npy (N, C, H, W) or (N, D)")
	f.StringVar(&yPath, "train-y", "", "training targets .npy (N,) or (N, outputs)")
	f.StringVar(&tPath, "test-x", "", "test inputs .npy")
	f.StringVar(&timeS, "time", "inf", "training times, comma-separated steps or inf")
	f.StringVar(&augment, "augment", "", "train on the training set expanded by its orbit under this group")
	f.StringVar(&average, "average", "", "use the kernel averaged over this group (same prediction as --augment, cheaper)")
	f.StringVar(&targets, "targets", "invariant", "how targets transform under --augment: invariant or vector")
	f.StringVar(&kind, "kind", "ntk", "ntk (gradient descent) or nngp (Bayesian, readout only)")
	f.Float64Var(&reg, "reg", 0, "diagonal regulariser, relative to the mean diagonal of the training kernel (see --reg-absolute)")
	f.BoolVar(&regAbs, "reg-absolute", false, "--reg is an absolute value")
	f.Float64Var(&lr, "lr", 1, "learning rate of the gradient descent the time refers to")
	f.StringVar(&out, "out", "", "output .npy for the mean (times, test points, outputs)")
	f.StringVar(&covPath, "cov", "", "output .npy for the covariance (times, test points, test points)")
	return cmd
}

// predictSymmetry parses --augment, --average and --targets for inputs of
// the given shape and k outputs.
func predictSymmetry(augment, average, targets string, shape []int, k int) (predict.Symmetry, *group.Rep, *group.Rep, error) {
	if average != "" {
		rep, err := averageRep("average", average, shape)
		if err != nil {
			return 0, nil, nil, err
		}
		if targets != "invariant" {
			return 0, nil, nil, fmt.Errorf("--average supports invariant targets only (use --augment for --targets %s)", targets)
		}
		return predict.Average, rep, nil, nil
	}
	if augment == "" {
		return predict.NoSymmetry, nil, nil, nil
	}
	rep, err := averageRep("augment", augment, shape)
	if err != nil {
		return 0, nil, nil, err
	}
	g := rep.Group()
	switch targets {
	case "invariant":
		return predict.Augment, rep, nil, nil
	case "vector":
		if g.Dim() == 0 || k%g.Dim() != 0 {
			return 0, nil, nil, fmt.Errorf("--targets vector: %d outputs are not a multiple of the dimension %d of group %s", k, g.Dim(), g.Name())
		}
		yrep, err := group.VectorRep(g, k/g.Dim())
		if err != nil {
			return 0, nil, nil, fmt.Errorf("--targets: %w", err)
		}
		return predict.Augment, rep, yrep, nil
	}
	return 0, nil, nil, fmt.Errorf("--targets: %q (want invariant or vector)", targets)
}
