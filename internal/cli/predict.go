package cli

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/predict"
	"github.com/spf13/cobra"
)

// PredictUse is the usage line of eqens predict (and eqens-mpi predict).
const PredictUse = "predict --arch SPEC --train-x X.npy --train-y Y.npy --test-x T.npy --out MU.npy [flags]"

// PredictLong describes what eqens predict computes.
const PredictLong = `Predict computes the mean (and with --cov the covariance) over test points of
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
(times, test points, test points).`

// ParseTimes parses --time: comma-separated non-negative numbers or inf.
func ParseTimes(s string) ([]float64, error) {
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

// PredictFlags are the flags of eqens predict.
type PredictFlags struct {
	Spec, XPath, YPath, TPath, Times, Augment, Average, Kind, Out, Cov, Targets string
	Reg, LR                                                                     float64
	RegAbs                                                                      bool
}

// Register defines the flags on cmd.
func (pf *PredictFlags) Register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&pf.Spec, "arch", "", "architecture spec")
	f.StringVar(&pf.XPath, "train-x", "", "training inputs .npy (N, C, H, W) or (N, D)")
	f.StringVar(&pf.YPath, "train-y", "", "training targets .npy (N,) or (N, outputs)")
	f.StringVar(&pf.TPath, "test-x", "", "test inputs .npy")
	f.StringVar(&pf.Times, "time", "inf", "training times, comma-separated steps or inf")
	f.StringVar(&pf.Augment, "augment", "", "train on the training set expanded by its orbit under this group")
	f.StringVar(&pf.Average, "average", "", "use the kernel averaged over this group (same prediction as --augment, cheaper)")
	f.StringVar(&pf.Targets, "targets", "invariant", "how targets transform under --augment: invariant or vector")
	f.StringVar(&pf.Kind, "kind", "ntk", "ntk (gradient descent) or nngp (Bayesian, readout only)")
	f.Float64Var(&pf.Reg, "reg", 0, "diagonal regulariser, relative to the mean diagonal of the training kernel (see --reg-absolute)")
	f.BoolVar(&pf.RegAbs, "reg-absolute", false, "--reg is an absolute value")
	f.Float64Var(&pf.LR, "lr", 1, "learning rate of the gradient descent the time refers to")
	f.StringVar(&pf.Out, "out", "", "output .npy for the mean (times, test points, outputs)")
	f.StringVar(&pf.Cov, "cov", "", "output .npy for the covariance (times, test points, test points)")
}

// Check validates the flags that need no file, in the order the error
// catalogue lists them, and returns the kernel kind and the times.
func (pf *PredictFlags) Check() (ntk bool, times []float64, err error) {
	if pf.Spec == "" {
		return false, nil, fmt.Errorf("--arch: missing (e.g. dense(512),relu,dense(1))")
	}
	if pf.Out == "" {
		return false, nil, fmt.Errorf("--out: missing (the .npy file for the mean)")
	}
	if pf.Augment != "" && pf.Average != "" {
		return false, nil, fmt.Errorf("--augment and --average exclude each other (they give the same prediction; --average is cheaper)")
	}
	if ntk, err = KernelKind(pf.Kind); err != nil {
		return false, nil, err
	}
	if times, err = ParseTimes(pf.Times); err != nil {
		return false, nil, err
	}
	if !(pf.Reg >= 0) || math.IsInf(pf.Reg, 0) {
		return false, nil, fmt.Errorf("--reg: %v must be a non-negative number", pf.Reg)
	}
	if !(pf.LR > 0) || math.IsInf(pf.LR, 0) {
		return false, nil, fmt.Errorf("--lr: %v must be a positive number", pf.LR)
	}
	return ntk, times, nil
}

// ReadTargets reads --train-y for n training samples: the targets, n×k
// row-major, and k.
func ReadTargets(path string, n int) ([]float64, int, error) {
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

// PredictJob is a checked prediction: the inputs, targets and test inputs
// read, the architecture parsed and the setup of predict.Fit.
type PredictJob struct {
	NTK         bool
	Times       []float64
	Train, Test *Inputs
	Y           []float64 // N×K targets
	K           int
	Arch        *nn.Arch
	Setup       predict.Setup
}

// Load checks the flags, reads the arrays and parses the architecture and
// the symmetry, as eqens predict does before computing anything. progress
// becomes Setup.Progress.
func (pf *PredictFlags) Load(progress func(stage string) (func(done, total int), func())) (*PredictJob, error) {
	ntk, times, err := pf.Check()
	if err != nil {
		return nil, err
	}
	xa, err := ReadInputs("train-x", pf.XPath, nil)
	if err != nil {
		return nil, err
	}
	y, k, err := ReadTargets(pf.YPath, xa.N)
	if err != nil {
		return nil, err
	}
	ta, err := ReadInputs("test-x", pf.TPath, xa.Shape)
	if err != nil {
		return nil, err
	}
	arch, err := nn.Parse(pf.Spec, xa.Shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("--arch: %w", err)
	}
	setup := predict.Setup{LearningRate: pf.LR, Reg: pf.Reg, RegAbsolute: pf.RegAbs, Progress: progress,
		MeanOnly: pf.Cov == "", InfOnly: !slices.ContainsFunc(times, func(t float64) bool { return !math.IsInf(t, 1) })}
	if !ntk {
		setup.Regime = predict.RegimeNNGP
	}
	if setup.Symmetry, setup.Input, setup.Target, err = PredictSymmetry(pf.Augment, pf.Average, pf.Targets, xa.Shape, k); err != nil {
		return nil, err
	}
	return &PredictJob{NTK: ntk, Times: times, Train: xa, Test: ta, Y: y, K: k, Arch: arch, Setup: setup}, nil
}

// Write writes the mean (times × test points × outputs) to --out and, when
// --cov is given, the covariance (times × test points × test points), and
// says so on w.
func (pf *PredictFlags) Write(w io.Writer, job *PredictJob, p *predict.Prediction) error {
	T, m, k := len(job.Times), job.Test.N, job.K
	if err := npy.WriteFile(pf.Out, npy.FromFloat64([]int{T, m, k}, p.Mean)); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(w, "wrote %s: mean of shape (%d, %d, %d)\n", pf.Out, T, m, k)
	if pf.Cov != "" {
		if err := npy.WriteFile(pf.Cov, npy.FromFloat64([]int{T, m, m}, p.Cov)); err != nil {
			return fmt.Errorf("--cov: %w", err)
		}
		fmt.Fprintf(w, "wrote %s: covariance of shape (%d, %d, %d)\n", pf.Cov, T, m, m)
	}
	return nil
}

// PredictSymmetry parses --augment, --average and --targets for inputs of
// the given shape and k outputs.
func PredictSymmetry(augment, average, targets string, shape []int, k int) (predict.Symmetry, *group.Rep, *group.Rep, error) {
	if average != "" {
		rep, err := GroupRep("average", average, shape)
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
	rep, err := GroupRep("augment", augment, shape)
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
