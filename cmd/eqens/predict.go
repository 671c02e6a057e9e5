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

// predictFlags are the flags of eqens predict.
type predictFlags struct {
	spec, xPath, yPath, tPath, times, augment, average, kind, out, cov, targets string
	reg, lr                                                                     float64
	regAbs                                                                      bool
}

func newPredictCmd() *cobra.Command {
	var pf predictFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error { return pf.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&pf.spec, "arch", "", "architecture spec")
	f.StringVar(&pf.xPath, "train-x", "", "training inputs .npy (N, C, H, W) or (N, D)")
	f.StringVar(&pf.yPath, "train-y", "", "training targets .npy (N,) or (N, outputs)")
	f.StringVar(&pf.tPath, "test-x", "", "test inputs .npy")
	f.StringVar(&pf.times, "time", "inf", "training times, comma-separated steps or inf")
	f.StringVar(&pf.augment, "augment", "", "train on the training set expanded by its orbit under this group")
	f.StringVar(&pf.average, "average", "", "use the kernel averaged over this group (same prediction as --augment, cheaper)")
	f.StringVar(&pf.targets, "targets", "invariant", "how targets transform under --augment: invariant or vector")
	f.StringVar(&pf.kind, "kind", "ntk", "ntk (gradient descent) or nngp (Bayesian, readout only)")
	f.Float64Var(&pf.reg, "reg", 0, "diagonal regulariser, relative to the mean diagonal of the training kernel (see --reg-absolute)")
	f.BoolVar(&pf.regAbs, "reg-absolute", false, "--reg is an absolute value")
	f.Float64Var(&pf.lr, "lr", 1, "learning rate of the gradient descent the time refers to")
	f.StringVar(&pf.out, "out", "", "output .npy for the mean (times, test points, outputs)")
	f.StringVar(&pf.cov, "cov", "", "output .npy for the covariance (times, test points, test points)")
	return cmd
}

// check validates the flags that need no file, in the order the error
// catalogue lists them, and returns the kernel kind and the times.
func (pf *predictFlags) check() (ntk bool, times []float64, err error) {
	if pf.spec == "" {
		return false, nil, fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(1))")
	}
	if pf.out == "" {
		return false, nil, fmt.Errorf("--out: missing (the .npy file for the mean)")
	}
	if pf.augment != "" && pf.average != "" {
		return false, nil, fmt.Errorf("--augment and --average exclude each other (they give the same prediction; --average is cheaper)")
	}
	if ntk, err = kernelKind(pf.kind); err != nil {
		return false, nil, err
	}
	if times, err = parseTimes(pf.times); err != nil {
		return false, nil, err
	}
	if !(pf.reg >= 0) || math.IsInf(pf.reg, 0) {
		return false, nil, fmt.Errorf("--reg: %v must be a non-negative number", pf.reg)
	}
	if !(pf.lr > 0) || math.IsInf(pf.lr, 0) {
		return false, nil, fmt.Errorf("--lr: %v must be a positive number", pf.lr)
	}
	return ntk, times, nil
}

// readTargets reads --train-y for n training samples: the targets, n×k
// row-major, and k.
func readTargets(path string, n int) ([]float64, int, error) {
	ya, err := npy.ReadFile(path)
	if path == "" {
		return nil, 0, fmt.Errorf("--train-y: missing (an .npy array of targets, (N,) or (N, outputs))")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("--train-y: %w", err)
	}
	y, err := ya.Float64()
	if err != nil {
		return nil, 0, fmt.Errorf("--train-y %s: %w", path, err)
	}
	if len(ya.Shape) == 0 || len(ya.Shape) > 2 || ya.Shape[0] != n {
		return nil, 0, fmt.Errorf("--train-y %s: shape %v, want (%d,) or (%d, outputs) to match --train-x", path, ya.Shape, n, n)
	}
	k := 1
	if len(ya.Shape) == 2 {
		k = ya.Shape[1]
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, fmt.Errorf("--train-y %s: target %d is not finite", path, i/k)
		}
	}
	return y, k, nil
}

// run reads the arrays, fits the prediction and writes the mean (and the
// covariance).
func (pf *predictFlags) run(cmd *cobra.Command) error {
	ntk, times, err := pf.check()
	if err != nil {
		return err
	}
	xa, err := readInputs("train-x", pf.xPath, nil)
	if err != nil {
		return err
	}
	y, k, err := readTargets(pf.yPath, xa.n)
	if err != nil {
		return err
	}
	ta, err := readInputs("test-x", pf.tPath, xa.shape)
	if err != nil {
		return err
	}
	arch, err := nn.Parse(pf.spec, xa.shape, nn.NTK)
	if err != nil {
		return fmt.Errorf("--arch: %w", err)
	}
	setup := predict.Setup{LearningRate: pf.lr, Reg: pf.reg, RegAbsolute: pf.regAbs, Progress: kernelProgress}
	if !ntk {
		setup.Regime = predict.RegimeNNGP
	}
	if setup.Symmetry, setup.Input, setup.Target, err = predictSymmetry(pf.augment, pf.average, pf.targets, xa.shape, k); err != nil {
		return err
	}
	model, err := predict.Fit(cmd.Context(), arch, xa.x, xa.n, y, k, setup)
	if err != nil {
		return err
	}
	p, err := model.Predict(cmd.Context(), ta.x, ta.n, times, pf.cov != "")
	if err != nil {
		return err
	}
	if err := npy.WriteFile(pf.out, npy.FromFloat64([]int{len(times), ta.n, k}, p.Mean)); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: mean of shape (%d, %d, %d)\n", pf.out, len(times), ta.n, k)
	if pf.cov != "" {
		if err := npy.WriteFile(pf.cov, npy.FromFloat64([]int{len(times), ta.n, ta.n}, p.Cov)); err != nil {
			return fmt.Errorf("--cov: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: covariance of shape (%d, %d, %d)\n", pf.cov, len(times), ta.n, ta.n)
	}
	return nil
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
