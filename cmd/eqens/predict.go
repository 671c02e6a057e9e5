package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/kernel"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
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
			x, n := xa.x, xa.n
			opts := nn.KernelOptions{NTK: ntk}
			if augment != "" {
				rep, err := averageRep("augment", augment, xa.shape)
				if err != nil {
					return err
				}
				if x, y, err = augmentSet(rep, targets, x, y, n, k); err != nil {
					return err
				}
				n *= rep.Group().Order()
			}
			if average != "" {
				if opts.Average, err = averageRep("average", average, xa.shape); err != nil {
					return err
				}
				if targets != "invariant" {
					return fmt.Errorf("--average supports invariant targets only (use --augment for --targets %s)", targets)
				}
			}
			prog, finish := kernelProgress("kernel (train)")
			opts.Progress = prog
			opts.NTK = true // the NTK regime needs both K and Theta; NNGP ignores Theta
			ktr, err := arch.Kernel(cmd.Context(), x, n, nil, 0, opts)
			finish()
			if err != nil {
				return err
			}
			prog, finish = kernelProgress("kernel (test)")
			opts.Progress = prog
			kte, err := arch.Kernel(cmd.Context(), ta.x, ta.n, x, n, opts)
			finish()
			if err != nil {
				return err
			}
			regime, train, test := kernel.RegimeNTK, ktr.Theta, kte.Theta
			if !ntk {
				regime, train, test = kernel.RegimeNNGP, ktr.K, kte.K
			}
			popts := kernel.PredictOptions{Regime: regime, LearningRate: lr, Reg: reg, RegAbsolute: regAbs}
			if opts.Average != nil && reg > 0 {
				// The averaged kernel reproduces the augmented training set
				// when its regulariser is that of the augmented kernel
				// divided by |G| (its eigenvalues on invariant functions are
				// those of the augmented kernel over |G|). A relative --reg
				// refers to the augmented kernel's mean diagonal, the mean of
				// k(x, x) over the training points.
				G := float64(opts.Average.Group().Order())
				abs := reg
				if !regAbs {
					var mean float64
					d := len(x) / n
					for i := 0; i < n; i++ {
						ki, err := arch.Kernel(cmd.Context(), x[i*d:(i+1)*d], 1, nil, 0, nn.KernelOptions{NTK: ntk})
						if err != nil {
							return err
						}
						v := ki.K[0]
						if ntk {
							v = ki.Theta[0]
						}
						mean += v / float64(n)
					}
					abs = reg * mean
				}
				popts.Reg, popts.RegAbsolute = abs/G, true
			}
			pred, err := kernel.NewPredictor(n, train, y, k, popts)
			if err != nil {
				return err
			}
			mu, err := pred.Mean(test, ta.n, times)
			if err != nil {
				return err
			}
			if err := npy.WriteFile(out, npy.FromFloat64([]int{len(times), ta.n, k}, mu)); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: mean of shape (%d, %d, %d)\n", out, len(times), ta.n, k)
			if covPath != "" {
				opts.Progress = nil
				ktt, err := arch.Kernel(cmd.Context(), ta.x, ta.n, nil, 0, opts)
				if err != nil {
					return err
				}
				ck := kernel.CovarianceKernels{TestTrain: test, NNGPTestTest: ktt.K, NNGPTestTrain: kte.K, NNGPTrainTrain: ktr.K}
				cov, err := pred.Covariance(ta.n, ck, times)
				if err != nil {
					return err
				}
				if err := npy.WriteFile(covPath, npy.FromFloat64([]int{len(times), ta.n, ta.n}, cov)); err != nil {
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

// augmentSet expands a training set by its orbit: block g holds rho(g) X
// with targets Y (invariant) or rho_Y(g) Y (vector targets).
func augmentSet(rep *group.Rep, targets string, x, y []float64, n, k int) ([]float64, []float64, error) {
	g := rep.Group()
	G := g.Order()
	d := len(x) / n
	var yrep *group.Rep
	switch targets {
	case "invariant":
	case "vector":
		if g.Dim() == 0 || k%g.Dim() != 0 {
			return nil, nil, fmt.Errorf("--targets vector: %d outputs are not a multiple of the dimension %d of group %s", k, g.Dim(), g.Name())
		}
		var err error
		if yrep, err = group.VectorRep(g, k/g.Dim()); err != nil {
			return nil, nil, fmt.Errorf("--targets: %w", err)
		}
	default:
		return nil, nil, fmt.Errorf("--targets: %q (want invariant or vector)", targets)
	}
	xo := make([]float64, G*n*d)
	yo := make([]float64, G*n*k)
	for a := 0; a < G; a++ {
		group.ApplyBatch(rep, a, xo[a*n*d:(a+1)*n*d], x)
		if yrep != nil {
			group.ApplyBatch(yrep, a, yo[a*n*k:(a+1)*n*k], y)
		} else {
			copy(yo[a*n*k:(a+1)*n*k], y)
		}
	}
	return xo, yo, nil
}
