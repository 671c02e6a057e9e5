package cnngcnn

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// identityResult is the result of the kernel identity check.
type identityResult struct {
	Inputs int    `json:"inputs"`
	Shape  []int  `json:"shape"`
	CNN    string `json:"cnn"`
	GCNN   string `json:"gcnn"`
	// MaxRelDiffNTK and MaxRelDiffNNGP are max_ij |k_avg - k_GCNN| /
	// max_ij |k_GCNN| for the group-averaged CNN kernel.
	MaxRelDiffNTK  float64 `json:"max_rel_diff_ntk"`
	MaxRelDiffNNGP float64 `json:"max_rel_diff_nngp"`
	// PlainRelDiffNTK is the same for the CNN kernel without averaging.
	PlainRelDiffNTK float64 `json:"plain_rel_diff_ntk"`
	Seconds         float64 `json:"seconds"`
}

// ntkResult is the result of the infinite-ensemble comparison.
type ntkResult struct {
	TrainSize int    `json:"train_size"`
	TestSize  int    `json:"test_size"`
	Shape     []int  `json:"shape"`
	CNN       string `json:"cnn"`
	GCNN      string `json:"gcnn"`
	// Reg is the absolute ridge added to the augmented CNN kernel (and
	// Reg/|G| to the GCNN kernel, which makes the two predictions equal).
	Reg float64 `json:"reg"`
	// T1 is the finite training time compared (GD steps at learning rate
	// 1): one unit of the kernel's mean diagonal, eta t mean(diag)/N = 1.
	T1 float64 `json:"t1"`
	// MaxDiffT1 and MaxDiffInf are max |mu_CNN+DA - mu_GCNN| / max |mu_GCNN|
	// at T1 and at t = infinity.
	MaxDiffT1  float64 `json:"max_diff_t1"`
	MaxDiffInf float64 `json:"max_diff_inf"`
	// PlainDiffInf compares the CNN trained without augmentation with the
	// GCNN in the same way.
	PlainDiffInf float64 `json:"plain_diff_inf"`
	// Accuracies at t = infinity on the pooled test images.
	AccuracyCNNAug   float64 `json:"accuracy_cnn_aug"`
	AccuracyGCNN     float64 `json:"accuracy_gcnn"`
	AccuracyCNNPlain float64 `json:"accuracy_cnn_plain"`
	Seconds          float64 `json:"seconds"`
}

// parseArchs parses the NTK architectures of the CNN and the GCNN; where
// names their config section in errors.
func parseArchs(cnn, gcnn string, shape []int, where string) (ca, ga *nn.Arch, err error) {
	if ca, err = nn.Parse(cnn, shape, nn.NTK); err != nil {
		return nil, nil, fmt.Errorf("%s.cnn: %w", where, err)
	}
	if ga, err = nn.Parse(gcnn, shape, nn.NTK); err != nil {
		return nil, nil, fmt.Errorf("%s.gcnn: %w", where, err)
	}
	return ca, ga, nil
}

// kernelIdentity compares the group-averaged CNN kernel with the GCNN
// kernel on the first ip.Inputs images of test, pooled.
func kernelIdentity(ctx context.Context, ip identityParams, g *group.Group, test *data.Dataset) (*identityResult, error) {
	start := time.Now()
	x, shape, err := experiment.AvgPool(test.Head(ip.Inputs), ip.Pool)
	if err != nil {
		return nil, err
	}
	n := len(x) / (shape[0] * shape[1] * shape[2])
	rep, err := group.ImageRep(g, shape[0], shape[1], shape[2])
	if err != nil {
		return nil, err
	}
	ca, ga, err := parseArchs(ip.CNN, ip.GCNN, shape, "kernel_identity")
	if err != nil {
		return nil, err
	}
	avg, err := ca.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true, Average: rep})
	if err != nil {
		return nil, err
	}
	gk, err := ga.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	plain, err := ca.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	return &identityResult{
		Inputs: n, Shape: shape, CNN: ca.Spec, GCNN: ga.Spec,
		MaxRelDiffNTK:   experiment.MaxRelDiff(avg.Theta, gk.Theta),
		MaxRelDiffNNGP:  experiment.MaxRelDiff(avg.K, gk.K),
		PlainRelDiffNTK: experiment.MaxRelDiff(plain.Theta, gk.Theta),
		Seconds:         experiment.Round3(time.Since(start).Seconds()),
	}, nil
}

// meanDiag is the mean diagonal of the n×n kernel k.
func meanDiag(k []float64, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s += k[i*n+i]
	}
	return s / float64(n)
}

// firstColumns returns the first n columns of the rows×width matrix k.
func firstColumns(k []float64, rows, width, n int) []float64 {
	out := make([]float64, rows*n)
	for i := 0; i < rows; i++ {
		copy(out[i*n:(i+1)*n], k[i*width:i*width+n])
	}
	return out
}

// ntkPredict compares infinite ensembles: the CNN NTK trained on the
// whole orbit of the pooled training images with ridge r against the GCNN
// NTK trained on the images alone with ridge r/|G|, which the theory says
// give the same mean at every training time, and the CNN trained without
// augmentation, which does not. The CNN regressions reuse the kernels
// against the orbit (its mean diagonal sets r and the time unit; its
// identity blocks are the plain CNN's kernels); the GCNN is a plain
// predict.Fit.
func ntkPredict(ctx context.Context, np ntkParams, g *group.Group, trainSet, test *data.Dataset, classes int) (*ntkResult, error) {
	start := time.Now()
	ps, err := experiment.PoolHeads(trainSet, test, np.TrainSize, np.TestSize, np.Pool)
	if err != nil {
		return nil, err
	}
	x, xt, shape := ps.X, ps.XT, ps.Shape
	n, m := ps.Train.Len(), ps.Test.Len()
	rep, err := group.ImageRep(g, shape[0], shape[1], shape[2])
	if err != nil {
		return nil, err
	}
	G := g.Order()
	ca, ga, err := parseArchs(np.CNN, np.GCNN, shape, "ntk")
	if err != nil {
		return nil, err
	}
	xo := group.OrbitBatch(rep, x[:n*rep.Dim()])
	kAug, err := kernelWithProgress(ctx, ca, "NTK predictions: CNN kernel of the orbits", xo, G*n, nil, 0)
	if err != nil {
		return nil, err
	}
	kAugT, err := kernelWithProgress(ctx, ca, "NTK predictions: CNN kernel, test images against the orbits", xt, m, xo, G*n)
	if err != nil {
		return nil, err
	}
	k := classes
	y := experiment.CentredOneHot(ps.Train.Labels, k)
	yAug := make([]float64, 0, G*n*k)
	for a := 0; a < G; a++ {
		yAug = append(yAug, y...)
	}
	md := meanDiag(kAug.Theta, G*n)
	r := np.Reg * md
	pAug, err := predict.NewRegressor(G*n, kAug.Theta, yAug, k, predict.Options{Reg: r, RegAbsolute: true})
	if err != nil {
		return nil, err
	}
	gcnn, err := predict.Fit(ctx, ga, x, n, y, k, predict.Setup{Reg: predict.AveragedReg(r, G), RegAbsolute: true, Progress: gcnnProgress})
	if err != nil {
		return nil, err
	}
	// The plain CNN: the identity blocks of the augmented kernels.
	kP := firstColumns(kAug.Theta, n, G*n, n)
	kPT := firstColumns(kAugT.Theta, m, G*n, n)
	pP, err := predict.NewRegressor(n, kP, y, k, predict.Options{Reg: np.Reg * meanDiag(kP, n), RegAbsolute: true})
	if err != nil {
		return nil, err
	}
	t1 := float64(G*n) / md
	times := []float64{t1, math.Inf(1)}
	muAug, err := pAug.Mean(kAugT.Theta, m, times)
	if err != nil {
		return nil, err
	}
	predG, err := gcnn.Predict(ctx, xt, m, times, false)
	if err != nil {
		return nil, err
	}
	muG := predG.Mean
	muP, err := pP.Mean(kPT, m, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	mk := m * k
	labels := ps.Test.Labels
	return &ntkResult{
		TrainSize: n, TestSize: m, Shape: shape, CNN: ca.Spec, GCNN: ga.Spec,
		Reg: r, T1: t1,
		MaxDiffT1:        experiment.MaxRelDiff(muAug[:mk], muG[:mk]),
		MaxDiffInf:       experiment.MaxRelDiff(muAug[mk:], muG[mk:]),
		PlainDiffInf:     experiment.MaxRelDiff(muP, muG[mk:]),
		AccuracyCNNAug:   experiment.Accuracy(muAug[mk:], labels, k),
		AccuracyGCNN:     experiment.Accuracy(muG[mk:], labels, k),
		AccuracyCNNPlain: experiment.Accuracy(muP, labels, k),
		Seconds:          experiment.Round3(time.Since(start).Seconds()),
	}, nil
}

// kernelWithProgress is the NTK of x1 against x2 (nil: x1) with progress
// lines on stderr (long at full size: minutes per kernel).
func kernelWithProgress(ctx context.Context, a *nn.Arch, label string, x1 []float64, n1 int, x2 []float64, n2 int) (*nn.KernelResult, error) {
	report, finish := progress.Counter(os.Stderr, label, 15*time.Second)
	defer finish()
	return a.Kernel(ctx, x1, n1, x2, n2, nn.KernelOptions{NTK: true, Progress: report})
}

// gcnnProgress reports the GCNN's kernels in the NTK predictions.
func gcnnProgress(stage string) (func(done, total int), func()) {
	return progress.Counter(os.Stderr, "NTK predictions: GCNN "+stage, 15*time.Second)
}
