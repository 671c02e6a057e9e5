package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/predict"
)

// OrbitNTKParams configures kernel regression with a CNN NTK and its
// averages over image groups, which are the NTKs of the mirrored
// roto-translation GCNNs (the YAML block `ntk` of the histology and
// equivariant-ntk experiments).
type OrbitNTKParams struct {
	// Pool average-pools the images (28 px by 4: 7x7; 1: full size).
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

// Check validates the parameters; where names the YAML block in errors
// (e.g. "experiments/histology.yaml: ntk").
func (np *OrbitNTKParams) Check(where string) error {
	switch {
	case len(np.TrainSizes) == 0:
		return fmt.Errorf("%s.train_sizes: want at least one size", where)
	case slices.Min(np.TrainSizes) < 1:
		return fmt.Errorf("%s.train_sizes: sizes must be positive, got %v", where, np.TrainSizes)
	case np.TestSize < 1:
		return fmt.Errorf("%s.test_size: want a positive number of test images, got %d", where, np.TestSize)
	case np.Pool < 1:
		return fmt.Errorf("%s.pool: want a positive pooling factor (1: full size), got %d", where, np.Pool)
	case np.Reg < 0:
		return fmt.Errorf("%s.reg: want a ridge >= 0, got %g", where, np.Reg)
	case np.Arch == "":
		return fmt.Errorf("%s.arch: missing (the CNN spec)", where)
	}
	return nil
}

// CheckNetworks checks the parameters and parses the CNN and, for every
// group, the GCNN for images of shape (C, H, W) pooled by np.Pool, so that
// an experiment can refuse a network that does not fit its images before
// it trains anything.
func (np *OrbitNTKParams) CheckNetworks(where string, shape []int, groups []*group.Group) error {
	if err := np.Check(where); err != nil {
		return err
	}
	if len(shape) != 3 || shape[1]%np.Pool != 0 || shape[2]%np.Pool != 0 {
		return fmt.Errorf("%s.pool: %d does not divide the images' height and width (shape %v)", where, np.Pool, shape)
	}
	ps := []int{shape[0], shape[1] / np.Pool, shape[2] / np.Pool}
	if _, err := nn.Parse(np.Arch, ps, nn.NTK); err != nil {
		return fmt.Errorf("%s.arch: %w", where, err)
	}
	if np.GCNN == "" {
		return nil
	}
	for _, g := range groups {
		if _, err := nn.Parse(np.gcnnSpec(g), ps, nn.NTK); err != nil {
			return fmt.Errorf("%s.gcnn: %w", where, err)
		}
	}
	return nil
}

// gcnnSpec is the GCNN spec with {group} replaced by the group's name.
func (np *OrbitNTKParams) gcnnSpec(g *group.Group) string {
	return strings.ReplaceAll(np.GCNN, "{group}", g.Name())
}

// NTKPoint is the test accuracy of one kernel at one training size.
type NTKPoint struct {
	Kernel    string  `json:"kernel"`
	TrainSize int     `json:"train_size"`
	Accuracy  float64 `json:"accuracy"`
}

// OrbitNTKResult holds the kernel-regression results.
type OrbitNTKResult struct {
	Shape    []int   `json:"shape"`
	Arch     string  `json:"arch"`
	TestSize int     `json:"test_size"`
	Reg      float64 `json:"reg"`
	// Kernels names them: "cnn" and "gcnn-GROUP".
	Kernels []string `json:"kernels"`
	// Curve is the test accuracy by kernel and training size.
	Curve []NTKPoint `json:"curve"`
	// OSP[kernel][group] is the mean orbit-same-predictions count of the
	// kernel's predictor (largest training size) on the test orbits.
	OSP map[string]map[string]float64 `json:"osp"`
	// Identity[group] is max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| on
	// CheckInputs test images: the group-averaged CNN NTK against the
	// GCNN spec's own.
	Identity map[string]float64 `json:"identity,omitempty"`
	// Invariance is max |Θ(x, ρ(g)x') − Θ(ρ(g⁻¹)x, x')| / max |Θ| over the
	// largest group on the first training images: the invariance of the
	// CNN NTK under the simultaneous action that lets the training kernel
	// be computed for half of the group (OrbitNTK).
	Invariance float64 `json:"invariance"`
	Seconds    float64 `json:"seconds"`
}

// OrbitNTK runs kernel regression with the CNN NTK and its averages over
// the groups on the first images of trainSet and test, pooled. One kernel
// evaluation against the orbit of the training images under the largest
// group gives every kernel at every training size and the predictions on
// every test orbit: Θ(ρ(a)t, ρ(h)x) = Θ(t, ρ(a⁻¹h)x). where names the YAML
// block in errors.
func OrbitNTK(ctx context.Context, env *Env, np *OrbitNTKParams, where string, groups []*group.Group, trainSet, test *data.Dataset) (*OrbitNTKResult, error) {
	start := time.Now()
	if err := np.Check(where); err != nil {
		return nil, err
	}
	nmax := slices.Max(np.TrainSizes)
	if nmax > trainSet.Len() {
		return nil, fmt.Errorf("%s.train_sizes: %d images asked for, the training subset has %d", where, nmax, trainSet.Len())
	}
	ps, err := PoolHeads(trainSet, test, nmax, np.TestSize, np.Pool)
	if err != nil {
		return nil, err
	}
	ks, err := newOrbitKernels(groups, ps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	arch, err := nn.Parse(np.Arch, ps.Shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("%s.arch: %w", where, err)
	}
	res := &OrbitNTKResult{Shape: ps.Shape, Arch: arch.Spec, TestSize: ks.m, Reg: np.Reg, OSP: map[string]map[string]float64{}}
	if res.Invariance, err = ks.invariance(ctx, arch); err != nil {
		return nil, err
	}
	if res.Invariance > 1e-9 {
		return nil, fmt.Errorf("%s.arch: the NTK of %s changes by %.2g (relative) when both inputs are transformed by the same element of %s; kernel regression on orbits needs a CNN whose kernel is invariant (square filters, same or valid padding, pools that commute with the group)", where, arch.Spec, res.Invariance, ks.big.Name())
	}
	if err := ks.compute(ctx, env, arch); err != nil {
		return nil, err
	}
	// The CNN kernel is the identity block; the GCNN kernel of a group
	// averages the blocks of its elements.
	kdefs := []kernelDef{{"cnn", []int{ks.big.Identity()}}}
	for i, g := range groups {
		kdefs = append(kdefs, kernelDef{"gcnn-" + g.Name(), ks.sub[i]})
	}
	y := CentredOneHot(ps.Train.Labels, ks.k)
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
		if res.Identity, err = ks.identity(ctx, np, where, arch, groups); err != nil {
			return nil, err
		}
	}
	res.Seconds = Round3(time.Since(start).Seconds())
	return res, nil
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

// kernelDef is a kernel of the regression: the average of the blocks
// (elements of the largest group) of the orbit kernels.
type kernelDef struct {
	name   string
	blocks []int
}

// orbitKernels are the CNN NTKs of the pooled training and test images
// against the orbit of the training images under the largest group.
type orbitKernels struct {
	ps *PooledSets
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

// ParseGroups parses the names of the `groups` list of the config where
// (e.g. "experiments/histology.yaml"), which must not be empty.
func ParseGroups(where string, names []string) ([]*group.Group, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: groups: want at least one group, e.g. [c4, d4]", where)
	}
	groups := make([]*group.Group, len(names))
	for i, name := range names {
		g, err := group.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("%s: groups: %w", where, err)
		}
		groups[i] = g
	}
	return groups, nil
}

// LargestGroup returns the group of largest order (the first of those).
func LargestGroup(groups []*group.Group) *group.Group {
	big := groups[0]
	for _, g := range groups {
		if g.Order() > big.Order() {
			big = g
		}
	}
	return big
}

// newOrbitKernels finds the largest group, which must contain the others
// and act exactly on the images.
func newOrbitKernels(groups []*group.Group, ps *PooledSets) (*orbitKernels, error) {
	ks := &orbitKernels{ps: ps, n: ps.Train.Len(), m: ps.Test.Len(), k: ps.Train.Classes, big: LargestGroup(groups)}
	ks.sub = make([][]int, len(groups))
	for i, g := range groups {
		var err error
		if ks.sub[i], err = subgroupIndex(g, ks.big); err != nil {
			return nil, fmt.Errorf("the kernels are computed on the orbits of the largest group: %w", err)
		}
	}
	var err error
	shape := ps.Shape
	if ks.repB, err = group.ImageRep(ks.big, shape[0], shape[1], shape[2]); err != nil {
		return nil, err
	}
	if !ks.repB.Exact() {
		return nil, fmt.Errorf("group %s acts by interpolation; use exact groups (c4, d4)", ks.big.Name())
	}
	ks.B = ks.big.Order()
	return ks, nil
}

// compute evaluates the kernels of arch. The training kernel block of an
// element b, Θ(x_i, ρ(b)x_j), is computed for half of the group: the
// kernel is invariant under the simultaneous action (checked by
// invariance), so the block of b⁻¹ is the transpose of the block of b,
// and the block of an involution is symmetric. Every block (training
// images against ρ(b) of them, test images against them) is kept in
// env.Out/kernels/orbit-ntk-HASH as it is done, HASH naming the network
// and the images, so that a run killed in a long computation resumes from
// its last block; a block has the bits of the whole kernel's (nn's tiles),
// so resumed runs give the same results.
func (ks *orbitKernels) compute(ctx context.Context, env *Env, arch *nn.Arch) error {
	ps, shape, n, m, B := ks.ps, ks.ps.Shape, ks.n, ks.m, ks.B
	d := ks.repB.Dim()
	xo := group.OrbitBatch(ks.repB, ps.X[:n*d])
	dir := filepath.Join(env.Out, "kernels", "orbit-ntk-"+ks.hash(arch))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	env.Logf("NTK of %s on %d training images × %d elements of %s and %d test images (%dx%dx%d); blocks kept in %s", arch.Spec, n, B, ks.big.Name(), m, shape[0], shape[1], shape[2], dir)
	ks.ktr = make([]float64, n*B*n)
	done := make([]bool, B)
	for b := range B {
		if done[b] {
			continue
		}
		bi := ks.big.Inv(b)
		var x2 []float64
		if b != ks.big.Identity() {
			x2 = xo[b*n*d : (b+1)*n*d]
		}
		label := fmt.Sprintf("training kernel, element %d (and its inverse %d) of %s", b, bi, ks.big.Name())
		opts := nn.KernelOptions{NTK: true, ThetaOnly: true, Symmetric: bi == b && x2 != nil}
		kb, err := kernelBlock(ctx, env, filepath.Join(dir, fmt.Sprintf("train-%d.npy", b)), label, arch, ps.X[:n*d], n, x2, n, opts)
		if err != nil {
			return err
		}
		for i := range n {
			for j := range n {
				ks.ktr[i*B*n+b*n+j] = kb[i*n+j]
				ks.ktr[j*B*n+bi*n+i] = kb[i*n+j]
			}
		}
		done[b], done[bi] = true, true
	}
	ks.kte = make([]float64, m*B*n)
	for b := range B {
		label := fmt.Sprintf("test kernel, element %d of %s", b, ks.big.Name())
		kb, err := kernelBlock(ctx, env, filepath.Join(dir, fmt.Sprintf("test-%d.npy", b)), label, arch, ps.XT, m, xo[b*n*d:(b+1)*n*d], n, nn.KernelOptions{NTK: true, ThetaOnly: true})
		if err != nil {
			return err
		}
		for i := range m {
			copy(ks.kte[i*B*n+b*n:i*B*n+(b+1)*n], kb[i*n:(i+1)*n])
		}
	}
	return nil
}

// kernelBlock returns the NTK of x1 (n1 inputs) against x2 (n2, nil: x1)
// from the file path if an earlier run left it there, else computes it
// with progress lines and writes it to path (atomically).
func kernelBlock(ctx context.Context, env *Env, path, label string, arch *nn.Arch, x1 []float64, n1 int, x2 []float64, n2 int, opts nn.KernelOptions) ([]float64, error) {
	if a, err := npy.ReadFile(path); err == nil {
		if k, err := a.Float64(); err == nil && slices.Equal(a.Shape, []int{n1, n2}) {
			env.Logf("  %s: reused %s", label, path)
			return k, nil
		}
	}
	t0 := time.Now()
	report, finish := progress.Counter(os.Stderr, label, 15*time.Second)
	opts.Progress = report
	kb, err := arch.Kernel(ctx, x1, n1, x2, n2, opts)
	finish()
	if err != nil {
		return nil, err
	}
	if err := npy.WriteFile(path, npy.FromFloat64([]int{n1, n2}, kb.Theta)); err != nil {
		return nil, err
	}
	env.Logf("  %s: %.0f s", label, time.Since(t0).Seconds())
	return kb.Theta, nil
}

// hash names the kernels of arch on these images: the network, the
// group, the image shape and the images' bits.
func (ks *orbitKernels) hash(arch *nn.Arch) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%v\n%d %d\n", arch.Spec, ks.big.Name(), ks.ps.Shape, ks.n, ks.m)
	d := ks.repB.Dim()
	for _, x := range [][]float64{ks.ps.X[:ks.n*d], ks.ps.XT[:ks.m*d]} {
		buf := make([]byte, 8*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// invariance returns max_{i,j,b} |Θ(x_i, ρ(b)x_j) − Θ(x_j, ρ(b⁻¹)x_i)| /
// max |Θ| on the first (at most) three training images: zero up to
// round-off exactly when Θ is invariant under the simultaneous action,
// which compute relies on.
func (ks *orbitKernels) invariance(ctx context.Context, arch *nn.Arch) (float64, error) {
	nc, d, B := min(3, ks.n), ks.repB.Dim(), ks.B
	xc := ks.ps.X[:nc*d]
	kc, err := arch.Kernel(ctx, xc, nc, group.OrbitBatch(ks.repB, xc), B*nc, nn.KernelOptions{NTK: true, ThetaOnly: true})
	if err != nil {
		return 0, err
	}
	var diff, scale float64
	for i := range nc {
		for j := range nc {
			for b := range B {
				v := kc.Theta[i*B*nc+b*nc+j]
				w := kc.Theta[j*B*nc+ks.big.Inv(b)*nc+i]
				diff, scale = max(diff, math.Abs(v-w)), max(scale, math.Abs(v))
			}
		}
	}
	if scale == 0 {
		return 0, nil
	}
	return diff / scale, nil
}

// learningCurve fits the kernel kd on the first ns training images for
// each of the sorted sizes, adds the test accuracies at t = ∞ to res and
// returns the regressor of the largest size.
func (ks *orbitKernels) learningCurve(res *OrbitNTKResult, kd kernelDef, y []float64, sizes []int, reg float64) (*predict.Regressor, error) {
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
		res.Curve = append(res.Curve, NTKPoint{Kernel: kd.name, TrainSize: ns, Accuracy: Accuracy(mu, ks.ps.Test.Labels, k)})
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
func (ks *orbitKernels) identity(ctx context.Context, np *OrbitNTKParams, where string, arch *nn.Arch, groups []*group.Group) (map[string]float64, error) {
	out := map[string]float64{}
	m, xt := ks.m, ks.ps.XT
	nc := min(np.CheckInputs, m)
	xc := xt[:nc*len(xt)/m]
	kc, err := arch.Kernel(ctx, xc, nc, group.OrbitBatch(ks.repB, xc[:nc*ks.repB.Dim()]), ks.B*nc, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	for i, g := range groups {
		ga, err := nn.Parse(np.gcnnSpec(g), ks.ps.Shape, nn.NTK)
		if err != nil {
			return nil, fmt.Errorf("%s.gcnn: %w", where, err)
		}
		gk, err := ga.Kernel(ctx, xc, nc, nil, 0, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		out[g.Name()] = MaxRelDiff(blockAverage(kc.Theta, nc, nc, nc, ks.sub[i]), gk.Theta)
	}
	return out, nil
}
