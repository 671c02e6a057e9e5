package cnngcnn

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

const tinyConfig = `  group: c4
  seed: 1
  sizes: [1, 2]
  datasets:
    - name: mnist
      train_size: 200
      test_size: 40
      ood_size: 20
      blur: 2
      cnn:
        arch: "conv(4,k=3),relu,maxpool(2),conv(4,k=3),relu,maxpool(2),conv(10,k=7,padding=valid)"
        param: standard
        members: 2
        steps: 20
        batch_size: 16
        optimizer: {name: adam, lr: 0.003}
      noaug_members: 1
      gcnn:
        arch: "lift(c4,4,k=3),relu,maxpool(2),gconv(4,k=3,support=e),relu,maxpool(2),gconv(10,k=7,padding=valid,support=e),gpool"
        param: standard
        members: 2
        steps: 20
        batch_size: 16
        optimizer: {name: adam, lr: 0.003}
      kernel_identity:
        inputs: 3
        pool: 2
        cnn: "conv(4,k=3),relu,avgpool(2),conv(10,k=7,padding=valid)"
        gcnn: "lift(c4,4,k=3),relu,avgpool(2),gconv(10,k=7,padding=valid,support=e),gpool"
      ntk:
        train_size: 6
        test_size: 10
        pool: 4
        cnn: "conv(4,k=3),relu,conv(10,k=7,padding=valid)"
        gcnn: "lift(c4,4,k=3),relu,gconv(10,k=7,padding=valid,support=e),gpool"
        reg: 0.0001
    - name: cifar10
      train_size: 200
      test_size: 40
      ood_size: 20
      cnn:
        arch: "conv(4,k=3),relu,maxpool(2),conv(4,k=3),relu,maxpool(2),conv(10,k=7,padding=valid),globalavgpool"
        members: 1
        steps: 2
        optimizer: {name: adam, lr: 0.003}
      gcnn:
        arch: "lift(c4,4,k=3),relu,maxpool(2),gconv(4,k=3,support=e),relu,maxpool(2),gconv(10,k=7,padding=valid,support=e),gpool"
        members: 1
        steps: 2
        optimizer: {name: adam, lr: 0.003}
      kernel_identity: {inputs: 2, pool: 4, cnn: "conv(2),relu,conv(10,k=7,padding=valid),globalavgpool", gcnn: "lift(c4,2),relu,gconv(10,k=7,padding=valid,support=e),gpool"}
`

func TestCNNToGCNNExperiment(t *testing.T) {
	dataDir := experimenttest.IsolateDataDirs(t)
	res, out := experimenttest.Run(t, "cnn-to-gcnn", tinyConfig, dataDir)
	mn := experimenttest.At(t, res, "datasets", "mnist")
	// The kernel identity and the equality of the infinite-ensemble means.
	if d := experimenttest.Num(t, mn, "kernel_identity", "max_rel_diff_ntk"); d > 1e-10 {
		t.Errorf("averaged CNN NTK differs from the GCNN NTK by %g", d)
	}
	if d := experimenttest.Num(t, mn, "kernel_identity", "max_rel_diff_nngp"); d > 1e-10 {
		t.Errorf("averaged CNN NNGP differs from the GCNN NNGP by %g", d)
	}
	if d := experimenttest.Num(t, mn, "kernel_identity", "plain_rel_diff_ntk"); d < 1e-3 {
		t.Errorf("plain CNN NTK equals the GCNN NTK (%g): the check is vacuous", d)
	}
	for _, k := range []string{"max_diff_t1", "max_diff_inf"} {
		if d := experimenttest.Num(t, mn, "ntk", k); d > 1e-8 {
			t.Errorf("ntk %s = %g: CNN trained on the orbit and GCNN disagree", k, d)
		}
	}
	if d := experimenttest.Num(t, mn, "ntk", "plain_diff_inf"); d < 1e-3 {
		t.Errorf("CNN without augmentation matches the GCNN (%g)", d)
	}
	// The GCNN ensemble is exactly invariant; agreement is a share.
	if o := experimenttest.Num(t, mn, "models", "gcnn", "osp_id"); o < 3.99 {
		t.Errorf("GCNN OSP %g, want 4", o)
	}
	for _, m := range []string{"cnn_member", "cnn_da", "cnn_noaug", "gcnn_member", "gcnn"} {
		experimenttest.Num(t, mn, "models", m, "accuracy")
		experimenttest.Num(t, mn, "models", m, "ood", "pooled", "osp", "mean")
	}
	curve := experimenttest.At(t, mn, "curve").([]any)
	if len(curve) != 2 {
		t.Fatalf("curve has %d points, want 2", len(curve))
	}
	for i := range curve {
		for _, k := range []string{"agree_id", "agree_ood"} {
			if a := experimenttest.Num(t, curve[i], k); a < 0 || a > 1 {
				t.Errorf("curve %d %s = %g", i, k, a)
			}
		}
		if d := experimenttest.Num(t, curve[i], "dist_id"); !(d >= 0) {
			t.Errorf("curve %d dist = %g", i, d)
		}
	}
	if n := len(experimenttest.At(t, mn, "noaug_curve").([]any)); n != 1 {
		t.Errorf("noaug curve has %d points, want 1", n)
	}
	if n := len(experimenttest.At(t, mn, "compare").([]any)); n != 3 {
		t.Errorf("%d comparisons, want 3", n)
	}
	// CIFAR-10 is absent: skipped with a note saying how to get it.
	if msg, _ := experimenttest.At(t, res, "missing", "cifar10").(string); !strings.Contains(msg, "eqens data fetch cifar10") {
		t.Errorf("missing note %q does not say how to get CIFAR-10", msg)
	}
	for _, f := range []string{"tables/mnist-curve.csv", "tables/mnist-compare.csv", "tables/kernels.csv", "figures/mnist-agreement.png", "figures/mnist-osp.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestGCNNMirrorsAveragedCNN checks the finite-width fact the experiment
// relies on: the GCNN with identity support and the CNN's weights is
// exactly the CNN averaged over the rotations of its input (max pooling on
// even grids included).
func TestGCNNMirrorsAveragedCNN(t *testing.T) {
	cnnSpec := "conv(3,k=3,b_std=0.3),relu,maxpool(2),conv(5,k=3,b_std=0.2),relu,maxpool(2),conv(4,k=3,padding=valid)"
	gcnnSpec := "lift(c4,3,k=3,b_std=0.3),relu,maxpool(2),gconv(5,k=3,support=e,b_std=0.2),relu,maxpool(2),gconv(4,k=3,padding=valid,support=e),gpool"
	shape := []int{2, 12, 12}
	ca, err := nn.Parse(cnnSpec, shape, nn.Standard)
	if err != nil {
		t.Fatal(err)
	}
	ga, err := nn.Parse(gcnnSpec, shape, nn.Standard)
	if err != nil {
		t.Fatal(err)
	}
	if ca.NumParams() != ga.NumParams() {
		t.Fatalf("%d vs %d parameters", ca.NumParams(), ga.NumParams())
	}
	cn := nn.New[float64](ca)
	cn.Init(3)
	gn := nn.New[float64](ga)
	copy(gn.Params, cn.Params)
	g, _ := group.Parse("c4")
	rep, _ := group.ImageRep(g, 2, 12, 12)
	d := 2 * 12 * 12
	n := 3
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Sin(float64(i)*0.37) + 0.1*math.Cos(float64(i*i)*0.01)
	}
	want := make([]float64, n*4)
	xr := make([]float64, n*d)
	for r := 0; r < 4; r++ {
		group.ApplyBatch(rep, r, xr, x)
		y := cn.Forward(xr, n)
		for i := range want {
			want[i] += y[i] / 4
		}
	}
	got := gn.Forward(x, n)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("output %d: GCNN %.15g, mean of rotated CNN %.15g", i, got[i], want[i])
		}
	}
}
