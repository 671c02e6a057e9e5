package histology

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// ntkParams configures kernel regression with the CNN NTK and its
// group averages (the NTKs of the mirrored GCNNs) on pooled images.
type ntkParams struct {
	// Pool average-pools the images (28 px by 4: 7x7).
	Pool int `yaml:"pool"`
	// Arch is the CNN; its average over a group is the NTK of the GCNN
	// given by GCNN with {group} replaced by the group's name.
	Arch string `yaml:"arch"`
	GCNN string `yaml:"gcnn"`
	// CheckInputs test images verify that identity (0: skip).
	CheckInputs int `yaml:"check_inputs"`
	// TrainSizes is the learning curve (nested subsets of the training
	// subset); TestSize the number of test images.
	TrainSizes []int   `yaml:"train_sizes"`
	TestSize   int     `yaml:"test_size"`
	Reg        float64 `yaml:"reg"`
}

// ntkPoint is the test accuracy of one kernel at one training size.
type ntkPoint struct {
	Kernel    string  `json:"kernel"`
	TrainSize int     `json:"train_size"`
	Accuracy  float64 `json:"accuracy"`
}

// ntkResult holds the kernel-regression results.
type ntkResult struct {
	Shape    []int   `json:"shape"`
	Arch     string  `json:"arch"`
	TestSize int     `json:"test_size"`
	Reg      float64 `json:"reg"`
	// Kernels names them: "cnn" and "gcnn-GROUP".
	Kernels []string `json:"kernels"`
	// Curve is the test accuracy by kernel and training size.
	Curve []ntkPoint `json:"curve"`
	// OSP[kernel][group] is the mean orbit-same-predictions count of the
	// kernel's predictor (largest training size) on the test orbits.
	OSP map[string]map[string]float64 `json:"osp"`
	// Identity[group] is max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| on
	// CheckInputs test images: the group-averaged CNN NTK against the
	// GCNN spec's own.
	Identity map[string]float64 `json:"identity,omitempty"`
	Seconds  float64            `json:"seconds"`
}

// subgroupIndex returns, for each element of h, the index of the element
// of big with the same matrix, or an error if h is not inside big.
func subgroupIndex(h, big *group.Group) ([]int, error) {
	if h.Dim() != big.Dim() || h.Dim() == 0 {
		return nil, fmt.Errorf("%s and %s do not act on the same space", h.Name(), big.Name())
	}
	out := make([]int, h.Order())
	for a := 0; a < h.Order(); a++ {
		ma := h.Matrix(a)
		out[a] = -1
		for b := 0; b < big.Order(); b++ {
			mb := big.Matrix(b)
			same := true
			for i := range ma {
				if math.Abs(ma[i]-mb[i]) > 1e-9 {
					same = false
					break
				}
			}
			if same {
				out[a] = b
				break
			}
		}
		if out[a] < 0 {
			return nil, fmt.Errorf("%s is not a subgroup of %s", h.Name(), big.Name())
		}
	}
	return out, nil
}

// blockAverage returns the r×n matrix (1/|S|) Σ_{b∈S} K[:, b, :n] of a
// kernel k with rows r and columns ordered (block b, sample j < stride).
func blockAverage(k []float64, r, stride, n int, blocks []int) []float64 {
	nb := len(k) / (r * stride)
	out := make([]float64, r*n)
	inv := 1 / float64(len(blocks))
	for i := 0; i < r; i++ {
		row := k[i*nb*stride:]
		for _, b := range blocks {
			src := row[b*stride : b*stride+n]
			dst := out[i*n : (i+1)*n]
			for j, v := range src {
				dst[j] += v * inv
			}
		}
	}
	return out
}

// kernelRegression runs kernel regression with the CNN NTK and its averages
// over the groups on pooled images. One kernel evaluation against the
// orbit of the training images under the largest group gives every kernel
// at every training size and the predictions on every test orbit:
// Θ(ρ(a)t, ρ(h)x) = Θ(t, ρ(a⁻¹h)x).
func kernelRegression(ctx context.Context, env *experiment.Env, np *ntkParams, groups []*group.Group, trainSet, test *data.Dataset) (*ntkResult, error) {
	start := time.Now()
	nmax := slices.Max(np.TrainSizes)
	if nmax > trainSet.Len() {
		return nil, fmt.Errorf("experiments/histology.yaml: ntk.train_sizes: %d images asked for, the training subset has %d", nmax, trainSet.Len())
	}
	ps, err := experiment.PoolHeads(trainSet, test, nmax, np.TestSize, np.Pool)
	if err != nil {
		return nil, err
	}
	ks, err := newOrbitKernels(groups, ps)
	if err != nil {
		return nil, err
	}
	arch, err := nn.Parse(np.Arch, ps.Shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("experiments/histology.yaml: ntk.arch: %w", err)
	}
	if err := ks.compute(ctx, env, arch); err != nil {
		return nil, err
	}
	res := &ntkResult{Shape: ps.Shape, Arch: arch.Spec, TestSize: ks.m, Reg: np.Reg, OSP: map[string]map[string]float64{}}
	// The CNN kernel is the identity block; the GCNN kernel of a group
	// averages the blocks of its elements.
	kdefs := []kernelDef{{"cnn", []int{ks.big.Identity()}}}
	for i, g := range groups {
		kdefs = append(kdefs, kernelDef{"gcnn-" + g.Name(), ks.sub[i]})
	}
	y := experiment.CentredOneHot(ps.Train.Labels, ks.k)
	sizes := slices.Clone(np.TrainSizes)
	slices.Sort(sizes)
	for _, kd := range kdefs {
		res.Kernels = append(res.Kernels, kd.name)
		pred, err := ks.learningCurve(res, kd, y, sizes, np.Reg)
		if err != nil {
			return nil, err
		}
		if res.OSP[kd.name], err = ks.orbitOSP(pred, kd, groups); err != nil {
			return nil, err
		}
	}
	if np.CheckInputs > 0 && np.GCNN != "" {
		if res.Identity, err = ks.identity(ctx, np, arch, groups); err != nil {
			return nil, err
		}
	}
	res.Seconds = experiment.Round3(time.Since(start).Seconds())
	return res, nil
}

// kernelDef is a kernel of the regression: the average of the blocks
// (elements of the largest group) of the orbit kernels.
type kernelDef struct {
	name   string
	blocks []int
}

// orbitKernels are the CNN NTKs of the pooled training and test images
// against the orbit of the training images under the largest group.
type orbitKernels struct {
	ps *experiment.PooledSets
	// big is the largest group, sub[i] the indices in big of the elements
	// of group i, repB the action of big on the pooled images.
	big  *group.Group
	sub  [][]int
	repB *group.Rep
	// n training and m test images, k classes; B = |big|.
	n, m, k, B int
	// ktr (n × B·n) and kte (m × B·n) are Θ against the orbit of the
	// training images, block b holding ρ(b)x.
	ktr, kte []float64
}

// newOrbitKernels finds the largest group, which must contain the others.
func newOrbitKernels(groups []*group.Group, ps *experiment.PooledSets) (*orbitKernels, error) {
	ks := &orbitKernels{ps: ps, n: ps.Train.Len(), m: ps.Test.Len(), k: ps.Train.Classes}
	ks.big = groups[0]
	for _, g := range groups {
		if g.Order() > ks.big.Order() {
			ks.big = g
		}
	}
	ks.sub = make([][]int, len(groups))
	for i, g := range groups {
		var err error
		if ks.sub[i], err = subgroupIndex(g, ks.big); err != nil {
			return nil, fmt.Errorf("ntk: the kernels are computed on the orbits of the largest group: %w", err)
		}
	}
	var err error
	shape := ps.Shape
	if ks.repB, err = group.ImageRep(ks.big, shape[0], shape[1], shape[2]); err != nil {
		return nil, err
	}
	ks.B = ks.big.Order()
	return ks, nil
}

// compute evaluates the kernels of arch.
func (ks *orbitKernels) compute(ctx context.Context, env *experiment.Env, arch *nn.Arch) error {
	ps, shape := ks.ps, ks.ps.Shape
	xo := group.OrbitBatch(ks.repB, ps.X[:ks.n*ks.repB.Dim()])
	env.Logf("histology: NTK of %s on %d training images × %d elements of %s and %d test images (%dx%dx%d)", arch.Spec, ks.n, ks.B, ks.big.Name(), ks.m, shape[0], shape[1], shape[2])
	ktr, err := arch.Kernel(ctx, ps.X, ks.n, xo, ks.B*ks.n, nn.KernelOptions{NTK: true})
	if err != nil {
		return err
	}
	kte, err := arch.Kernel(ctx, ps.XT, ks.m, xo, ks.B*ks.n, nn.KernelOptions{NTK: true})
	if err != nil {
		return err
	}
	ks.ktr, ks.kte = ktr.Theta, kte.Theta
	return nil
}

// learningCurve fits the kernel kd on the first ns training images for
// each of the sorted sizes, adds the test accuracies at t = ∞ to res and
// returns the regressor of the largest size.
func (ks *orbitKernels) learningCurve(res *ntkResult, kd kernelDef, y []float64, sizes []int, reg float64) (*predict.Regressor, error) {
	n, m, k, B := ks.n, ks.m, ks.k, ks.B
	var pred *predict.Regressor
	for _, ns := range sizes {
		ktrain := blockAverage(ks.ktr[:ns*B*n], ns, n, ns, kd.blocks)
		p, err := predict.NewRegressor(ns, ktrain, y[:ns*k], k, predict.Options{Reg: reg})
		if err != nil {
			return nil, fmt.Errorf("ntk %s, %d images: %w", kd.name, ns, err)
		}
		ktest := blockAverage(ks.kte, m, n, ns, kd.blocks)
		mu, err := p.Mean(ktest, m, []float64{math.Inf(1)})
		if err != nil {
			return nil, err
		}
		res.Curve = append(res.Curve, ntkPoint{Kernel: kd.name, TrainSize: ns, Accuracy: experiment.Accuracy(mu, ks.ps.Test.Labels, k)})
		pred = p
	}
	return pred, nil
}

// orbitOSP returns, per group, the mean OSP of the predictor pred (kernel
// kd, all n training images) on the orbits of the test images: block
// a⁻¹h for test element a and kernel element h.
func (ks *orbitKernels) orbitOSP(pred *predict.Regressor, kd kernelDef, groups []*group.Group) (map[string]float64, error) {
	n, m, k, big := ks.n, ks.m, ks.k, ks.big
	out := map[string]float64{}
	for i, g := range groups {
		o := metrics.NewOrbit(g.Order(), m, k)
		for a := 0; a < g.Order(); a++ {
			ai := big.Inv(ks.sub[i][a])
			blocks := make([]int, len(kd.blocks))
			for j, hb := range kd.blocks {
				blocks[j] = big.Mul(ai, hb)
			}
			ktest := blockAverage(ks.kte, m, n, n, blocks)
			mu, err := pred.Mean(ktest, m, []float64{math.Inf(1)})
			if err != nil {
				return nil, err
			}
			copy(o.Out[a*m*k:(a+1)*m*k], mu)
		}
		out[g.Name()] = metrics.Mean(metrics.OSP(o))
	}
	return out, nil
}

// identity returns, per group, max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| on the
// first np.CheckInputs test images: the CNN NTK averaged over the group
// against the NTK of the GCNN spec.
func (ks *orbitKernels) identity(ctx context.Context, np *ntkParams, arch *nn.Arch, groups []*group.Group) (map[string]float64, error) {
	out := map[string]float64{}
	m, xt := ks.m, ks.ps.XT
	nc := min(np.CheckInputs, m)
	xc := xt[:nc*len(xt)/m]
	kc, err := arch.Kernel(ctx, xc, nc, group.OrbitBatch(ks.repB, xc[:nc*ks.repB.Dim()]), ks.B*nc, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	for i, g := range groups {
		spec := strings.ReplaceAll(np.GCNN, "{group}", g.Name())
		ga, err := nn.Parse(spec, ks.ps.Shape, nn.NTK)
		if err != nil {
			return nil, fmt.Errorf("experiments/histology.yaml: ntk.gcnn: %w", err)
		}
		gk, err := ga.Kernel(ctx, xc, nc, nil, 0, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		out[g.Name()] = experiment.MaxRelDiff(blockAverage(kc.Theta, nc, nc, nc, ks.sub[i]), gk.Theta)
	}
	return out, nil
}
