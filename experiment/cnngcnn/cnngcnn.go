package cnngcnn

import (
	"context"
	"errors"
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
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "cnn-to-gcnn",
		Summary: "CNN ensembles trained with C4 augmentation approach the roto-translation GCNN ensemble, in and out of distribution (MNIST, CIFAR-10), next to the kernel identity Θ_GCNN = mean_r Θ_CNN(f, ρ(r)f')",
		Run:     runCNNGCNN,
	})
}

// cgParams are the parameters of experiments/cnn-to-gcnn.yaml.
type cgParams struct {
	// Group is the rotation group (c4; any exact image group works).
	Group string `yaml:"group"`
	Seed  uint64 `yaml:"seed"`
	// Sizes are the CNN ensemble sizes of the curves.
	Sizes []int `yaml:"sizes"`
	// Datasets are run in order; registry datasets other than mnist that
	// are not installed are skipped with a note saying how to get them.
	Datasets []cgDataset `yaml:"datasets"`
}

// cgDataset is one dataset of the experiment with its models.
type cgDataset struct {
	Name      string  `yaml:"name"`
	TrainSize int     `yaml:"train_size"`
	TestSize  int     `yaml:"test_size"`
	OODSize   int     `yaml:"ood_size"` // per out-of-distribution set
	Blur      float64 `yaml:"blur"`     // sigma (pixels) of the blurred-noise set
	// CNN is trained with random augmentation by the group.
	CNN experiment.ModelParams `yaml:"cnn"`
	// NoAugMembers, if positive, trains a control ensemble of the same CNN
	// without augmentation.
	NoAugMembers int `yaml:"noaug_members"`
	// GCNN is trained without augmentation; it must mirror the CNN
	// (lift/gconv with support=e and the same channels per rotation).
	GCNN     experiment.ModelParams `yaml:"gcnn"`
	Identity cgIdentityParams       `yaml:"kernel_identity"`
	NTK      cgNTKParams            `yaml:"ntk"`
}

// cgIdentityParams configures the kernel identity check on a few test
// images (average-pooled by Pool).
type cgIdentityParams struct {
	Inputs int    `yaml:"inputs"`
	Pool   int    `yaml:"pool"`
	CNN    string `yaml:"cnn"`
	GCNN   string `yaml:"gcnn"`
}

// cgNTKParams configures the infinite-ensemble comparison: the CNN NTK
// trained on the full orbit of TrainSize pooled images against the GCNN
// NTK trained on the images alone. TrainSize 0 skips it.
type cgNTKParams struct {
	TrainSize int     `yaml:"train_size"`
	TestSize  int     `yaml:"test_size"`
	Pool      int     `yaml:"pool"`
	CNN       string  `yaml:"cnn"`
	GCNN      string  `yaml:"gcnn"`
	Reg       float64 `yaml:"reg"`
}

// cgPoint is one point of the curves against CNN ensemble size: means
// over up to 8 member subsets of that size. Agreement and distance compare
// the CNN ensemble mean with the mean of the whole GCNN ensemble on every
// element of every test orbit (see cgOrbitAgreement, cgOrbitDistance).
type cgPoint struct {
	Size     int     `json:"size"`
	AgreeID  float64 `json:"agree_id"`
	AgreeOOD float64 `json:"agree_ood"`
	DistID   float64 `json:"dist_id"`
	DistOOD  float64 `json:"dist_ood"`
	OSPID    float64 `json:"osp_id"`
	OSPOOD   float64 `json:"osp_ood"`
	Accuracy float64 `json:"accuracy"`
}

// cgComparison compares two ensembles with 95% bootstrap intervals over
// test images.
type cgComparison struct {
	// A and B name the ensembles, e.g. "cnn_da" and "gcnn".
	A, B     string
	AMembers int              `json:"a_members"`
	BMembers int              `json:"b_members"`
	AgreeID  metrics.Estimate `json:"agree_id"`
	AgreeOOD metrics.Estimate `json:"agree_ood"`
	DistID   metrics.Estimate `json:"dist_id"`
	DistOOD  metrics.Estimate `json:"dist_ood"`
}

// cgIdentity is the result of the kernel identity check.
type cgIdentity struct {
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

// cgNTK is the result of the infinite-ensemble comparison.
type cgNTK struct {
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

// cgDatasetResult is everything measured on one dataset.
type cgDatasetResult struct {
	Name      string                           `json:"name"`
	Shape     []int                            `json:"shape"`
	TrainSize int                              `json:"train_size"`
	OODSets   []string                         `json:"ood_sets"`
	Models    map[string]experiment.ModelStats `json:"models"`
	Labels    map[string]string                `json:"labels"`
	// Curve is CNN+DA against the GCNN ensemble by CNN ensemble size,
	// NoAugCurve the same for the CNN ensemble without augmentation.
	Curve      []cgPoint      `json:"curve"`
	NoAugCurve []cgPoint      `json:"noaug_curve"`
	Compare    []cgComparison `json:"compare"`
	Identity   *cgIdentity    `json:"kernel_identity"`
	NTK        *cgNTK         `json:"ntk,omitempty"`
}

// runCNNGCNN runs the cnn-to-gcnn experiment. results.json holds
//
//	group, group_order     the rotation group
//	datasets.NAME          per dataset (cgDatasetResult):
//	  models               ModelStats of cnn_member, cnn_da, cnn_noaug,
//	                       gcnn_member, gcnn: accuracy, OSP in and out of
//	                       distribution (per OOD set and pooled), chance OSP
//	  curve, noaug_curve   by CNN ensemble size: agreement (share of orbit
//	                       points where the argmax matches) and relative
//	                       distance ||f_CNN - f_GCNN|| / ||f_GCNN|| of the
//	                       ensemble-mean logits against the whole GCNN
//	                       ensemble, in and out of distribution; OSP and
//	                       accuracy of the CNN ensemble
//	  compare              the full ensembles with 95% intervals, and two
//	                       halves of the GCNN ensemble against each other
//	  kernel_identity      max relative difference between the C4-averaged
//	                       CNN kernel and the GCNN kernel (NTK and NNGP)
//	  ntk                  infinite ensembles: CNN NTK trained on the orbit
//	                       of the images vs GCNN NTK on the images alone
//	missing                dataset -> why it was skipped and how to get it
//	params                 the parameters of the scale
//
// Tables (tables/*.csv): per dataset NAME-models, NAME-curve,
// NAME-compare, and kernels.
func runCNNGCNN(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p cgParams
	if err := experiment.DecodeParams("cnn-to-gcnn", node, &p); err != nil {
		return nil, err
	}
	g, err := group.Parse(p.Group)
	if err != nil {
		return nil, fmt.Errorf("experiments/cnn-to-gcnn.yaml: group: %w", err)
	}
	if len(p.Datasets) == 0 {
		return nil, errors.New("experiments/cnn-to-gcnn.yaml: no datasets")
	}
	results := map[string]*cgDatasetResult{}
	missing := map[string]string{}
	var order []string
	var sections []report.Section
	var sum strings.Builder
	var kernelRows [][]string
	for _, dp := range p.Datasets {
		if err := dp.check(g); err != nil {
			return nil, err
		}
	}
	for _, dp := range p.Datasets {
		test, err := data.Load(dp.Name, "test", env.DataDir)
		if err != nil {
			if dp.Name == "mnist" {
				return nil, err
			}
			missing[dp.Name] = err.Error()
			env.Logf("cnn-to-gcnn: skipping %s: %v", dp.Name, err)
			continue
		}
		trainAll, err := data.Load(dp.Name, "train", env.DataDir)
		if err != nil {
			return nil, err
		}
		res, secs, err := runCGDataset(ctx, env, &p, &dp, g, trainAll, test)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dp.Name, err)
		}
		results[dp.Name] = res
		order = append(order, dp.Name)
		sections = append(sections, secs...)
		writeCGSummary(&sum, res, g)
		kernelRows = append(kernelRows, cgKernelRows(res)...)
	}
	var intro strings.Builder
	fmt.Fprintf(&intro, "A CNN trained on %s-rotated images is, as an infinite ensemble of infinitely wide networks, the same function as the roto-translation GCNN trained without augmentation whose kernel is the group average of the CNN's, Θ_GCNN(f, f') = (1/|G|) Σ_r Θ_CNN(f, ρ(r) f') (Gerken & Kessel 2024, THEORY.md). ", g.Name())
	intro.WriteString("Here finite ensembles of CNNs trained with random rotations are compared with an ensemble of the GCNN that mirrors the CNN layer by layer (lift and group convolutions with identity support and the same channels per rotation, which is exactly the CNN averaged over the rotations of its input): how often the ensemble means predict the same class and how far apart their logits are, on every rotation of test images and of out-of-distribution images, as the CNN ensemble grows. A CNN ensemble trained without augmentation is the control. The kernel section checks the identity between the analytic kernels and the equality of the infinite-ensemble predictions.")
	if len(missing) > 0 {
		var names []string
		for n := range missing {
			names = append(names, n)
		}
		slices.Sort(names)
		var lines []string
		for _, n := range names {
			lines = append(lines, fmt.Sprintf("%s was skipped: %s", n, missing[n]))
		}
		sections = append(sections, report.Section{Heading: "Missing datasets", Text: strings.Join(lines, "\n\n")})
		for _, l := range lines {
			fmt.Fprintf(&sum, "%s\n", l)
		}
	}
	kt := report.Table{Name: "kernels", Caption: "Kernel identity: max |k_avg − k_GCNN| / max |k_GCNN| between the analytic kernel of the CNN averaged over the group and that of the mirrored GCNN, and the same for the unaveraged CNN kernel (how far it is without averaging). NTK rows: infinite-ensemble predictions of the CNN trained on the whole orbit of the training images against the GCNN trained on the images alone.",
		Columns: []string{"dataset", "check", "inputs", "result"}, Rows: kernelRows}
	sections = append(sections, report.Section{Heading: "Kernels", Text: "The CNN kernels here use average pooling (max pooling has no infinite-width kernel) on test images average-pooled further, to keep the O((|G|HW)²) cost per pair small; the GCNN mirrors each CNN as above. The NTK rows compare the means of infinite ensembles of infinitely wide networks trained by gradient flow on the MSE with centred one-hot targets: the CNN on all |G| rotations of N images with ridge r, the GCNN on the N images with ridge r/|G|, which makes the two means equal at every training time t (t counts gradient-descent steps at learning rate 1 with the normalisation of docs/predict.md; the finite t shown is one unit of the kernel's mean diagonal). The CNN trained on the N images alone is the control.", Tables: []report.Table{kt}})
	res := map[string]any{
		"group":       g.Name(),
		"group_order": g.Order(),
		"datasets":    results,
		"order":       order,
		"missing":     missing,
		"params":      p,
	}
	r := &report.Report{
		Title:    "Augmented CNN ensembles converge to GCNNs",
		Intro:    intro.String(),
		Sections: sections,
	}
	return &experiment.Result{JSON: res, Report: r, Summary: sum.String()}, nil
}

// cgImageShapes are the input shapes of the image datasets the experiments
// train on, known before loading them.
var cgImageShapes = map[string][]int{
	"mnist":         {1, 28, 28},
	"fashion-mnist": {1, 28, 28},
	"cifar10":       {3, 32, 32},
	"pathmnist":     {3, 28, 28},
	"pathmnist64":   {3, 64, 64},
}

// check validates a dataset's model specs: the GCNN must use the group and
// have exactly the CNN's number of parameters (lift/gconv with support=e
// and the same channels per rotation).
func (dp *cgDataset) check(g *group.Group) error {
	where := "experiments/cnn-to-gcnn.yaml: datasets." + dp.Name
	shape, ok := cgImageShapes[dp.Name]
	if !ok {
		return fmt.Errorf("%s: unknown dataset (want mnist, fashion-mnist or cifar10)", where)
	}
	ca, err := nn.Parse(dp.CNN.Arch, shape, nn.Standard)
	if err != nil {
		return fmt.Errorf("%s.cnn.arch: %w", where, err)
	}
	ga, err := nn.Parse(dp.GCNN.Arch, shape, nn.Standard)
	if err != nil {
		return fmt.Errorf("%s.gcnn.arch: %w", where, err)
	}
	if ga.Group() == nil || ga.Group().Name() != g.Name() {
		return fmt.Errorf("%s.gcnn.arch: want a %s GCNN (lift(%s,...)), got %s", where, g.Name(), g.Name(), ga.Spec)
	}
	if ca.NumParams() != ga.NumParams() {
		return fmt.Errorf("%s: the GCNN (%d parameters) does not mirror the CNN (%d): use lift/gconv(support=e) with the CNN's channel counts", where, ga.NumParams(), ca.NumParams())
	}
	if dp.CNN.Members < 1 || dp.GCNN.Members < 1 {
		return fmt.Errorf("%s: cnn.members and gcnn.members must be at least 1", where)
	}
	if dp.TestSize < 1 || dp.OODSize < 1 {
		return fmt.Errorf("%s: test_size and ood_size must be positive", where)
	}
	if dp.Identity.Inputs < 1 || dp.Identity.Pool < 1 {
		return fmt.Errorf("%s.kernel_identity: inputs and pool must be positive", where)
	}
	if dp.NTK.TrainSize > 0 && (dp.NTK.TestSize < 1 || dp.NTK.Pool < 1) {
		return fmt.Errorf("%s.ntk: test_size and pool must be positive", where)
	}
	return nil
}

// runCGDataset trains and evaluates the models of one dataset. The
// training split is loaded once by the caller and handed to every run
// (train selects the same subset from it as it would from the named set).
func runCGDataset(ctx context.Context, env *experiment.Env, p *cgParams, dp *cgDataset, g *group.Group, trainAll, testAll *data.Dataset) (*cgDatasetResult, []report.Section, error) {
	rep, err := group.ImageRep(g, testAll.Shape[0], testAll.Shape[1], testAll.Shape[2])
	if err != nil {
		return nil, nil, err
	}
	if !rep.Exact() {
		return nil, nil, fmt.Errorf("group %s acts on %v images by interpolation; this experiment needs exact rotations (c4, d4)", g.Name(), testAll.Shape)
	}
	id := testAll.Subset(testAll.Shuffled(p.Seed + 100)[:min(dp.TestSize, testAll.Len())])
	ood, oodNames, notes, err := experiment.OODSets(env, dp.Name, testAll, dp.OODSize, dp.Blur, p.Seed)
	if err != nil {
		return nil, nil, err
	}
	sets := &experiment.EvalSets{ID: id, OOD: ood, OODName: oodNames}
	aug := train.AugConfig{Mode: "random", Group: p.Group}
	none := train.AugConfig{Mode: "none"}
	cfgDA := dp.CNN.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, aug)
	cfgG := dp.GCNN.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, none)
	ensDA, err := experiment.TrainEnsemble(ctx, env, dp.Name+"-cnn_da", cfgDA, trainAll, train.Options{})
	if err != nil {
		return nil, nil, err
	}
	ensG, err := experiment.TrainEnsemble(ctx, env, dp.Name+"-gcnn", cfgG, trainAll, train.Options{})
	if err != nil {
		return nil, nil, err
	}
	var ensNo *train.Ensemble
	if dp.NoAugMembers > 0 {
		mp := dp.CNN
		mp.Members = dp.NoAugMembers
		cfgNo := mp.Config(dp.Name, env.DataDir, dp.TrainSize, p.Seed, none)
		if ensNo, err = experiment.TrainEnsemble(ctx, env, dp.Name+"-cnn_noaug", cfgNo, trainAll, train.Options{}); err != nil {
			return nil, nil, err
		}
	}
	env.Logf("%s: evaluating on the %d-element orbits of %d test and %d out-of-distribution images", dp.Name, g.Order(), id.Len(), len(ood)*dp.OODSize)
	daOrb, err := experiment.EvalEnsemble(ctx, ensDA, rep, id, ood)
	if err != nil {
		return nil, nil, err
	}
	gOrb, err := experiment.EvalEnsemble(ctx, ensG, rep, id, ood)
	if err != nil {
		return nil, nil, err
	}
	var noOrb []*experiment.Orbits
	if ensNo != nil {
		if noOrb, err = experiment.EvalEnsemble(ctx, ensNo, rep, id, ood); err != nil {
			return nil, nil, err
		}
	}
	gEns := experiment.Ensemble(gOrb, experiment.Indices(len(gOrb)))
	res := &cgDatasetResult{Name: dp.Name, Shape: slices.Clone(testAll.Shape), TrainSize: dp.TrainSize, OODSets: oodNames, Labels: map[string]string{}}
	res.Models = map[string]experiment.ModelStats{
		"cnn_member":  experiment.Stats(daOrb, sets, p.Seed),
		"cnn_da":      experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, experiment.Indices(len(daOrb)))}, sets, p.Seed),
		"gcnn_member": experiment.Stats(gOrb, sets, p.Seed),
		"gcnn":        experiment.Stats([]*experiment.Orbits{gEns}, sets, p.Seed),
	}
	res.Labels = map[string]string{
		"cnn_member":  fmt.Sprintf("CNN + DA, single members (mean of %d)", len(daOrb)),
		"cnn_da":      fmt.Sprintf("CNN + DA, ensemble of %d", len(daOrb)),
		"gcnn_member": fmt.Sprintf("GCNN, single members (mean of %d)", len(gOrb)),
		"gcnn":        fmt.Sprintf("GCNN, ensemble of %d", len(gOrb)),
	}
	if noOrb != nil {
		res.Models["cnn_noaug"] = experiment.Stats([]*experiment.Orbits{experiment.Ensemble(noOrb, experiment.Indices(len(noOrb)))}, sets, p.Seed)
		res.Labels["cnn_noaug"] = fmt.Sprintf("CNN, no DA, ensemble of %d", len(noOrb))
	}
	res.Curve = cgCurve(daOrb, gEns, sets, p.Sizes, p.Seed)
	if noOrb != nil {
		res.NoAugCurve = cgCurve(noOrb, gEns, sets, p.Sizes, p.Seed+1000)
	}
	res.Compare = append(res.Compare, cgCompare("cnn_da", "gcnn", experiment.Ensemble(daOrb, experiment.Indices(len(daOrb))), gEns, len(daOrb), len(gOrb), p.Seed))
	if noOrb != nil {
		res.Compare = append(res.Compare, cgCompare("cnn_noaug", "gcnn", experiment.Ensemble(noOrb, experiment.Indices(len(noOrb))), gEns, len(noOrb), len(gOrb), p.Seed))
	}
	if h := len(gOrb) / 2; h >= 1 {
		a := experiment.Ensemble(gOrb, experiment.Indices(h))
		bi := experiment.Indices(len(gOrb))[h:]
		b := experiment.Ensemble(gOrb, bi)
		res.Compare = append(res.Compare, cgCompare("gcnn_half_a", "gcnn_half_b", a, b, h, len(bi), p.Seed))
	}

	// Kernels, on the preprocessed (standardised) images of the CNN run.
	s, err := train.Prepare(cfgDA.Clone(), trainAll)
	if err != nil {
		return nil, nil, err
	}
	idPrep := experiment.CloneSet(id)
	if err := s.Preprocess.Apply(idPrep, nil); err != nil {
		return nil, nil, err
	}
	env.Logf("%s: kernel identity on %d test images pooled by %d", dp.Name, dp.Identity.Inputs, dp.Identity.Pool)
	if res.Identity, err = cgKernelIdentity(ctx, dp.Identity, g, idPrep); err != nil {
		return nil, nil, err
	}
	if dp.NTK.TrainSize > 0 {
		env.Logf("%s: NTK predictions, %d training images (CNN on their %d-element orbits) and %d test images pooled by %d", dp.Name, dp.NTK.TrainSize, g.Order(), dp.NTK.TestSize, dp.NTK.Pool)
		if res.NTK, err = cgNTKPredict(ctx, dp.NTK, g, s.Data, idPrep, testAll.Classes); err != nil {
			return nil, nil, err
		}
	}
	return res, cgSections(res, dp, g, notes, ensDA.Arch.Spec, ensG.Arch.Spec), nil
}

// cgOrbitAgreement returns, per point, the share of orbit elements g on
// which two models predict the same class for rho(g)x.
func cgOrbitAgreement(a, b *metrics.Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		for g := 0; g < a.G; g++ {
			if metrics.Argmax(a.At(g, i)) == metrics.Argmax(b.At(g, i)) {
				out[i]++
			}
		}
		out[i] /= float64(a.G)
	}
	return out
}

// cgOrbitDistance returns, per point, the mean over orbit elements g of
// ||f_a(rho(g)x) - f_b(rho(g)x)|| / ||f_b(rho(g)x)||.
func cgOrbitDistance(a, b *metrics.Orbit) []float64 {
	out := make([]float64, a.N)
	for i := 0; i < a.N; i++ {
		for g := 0; g < a.G; g++ {
			var d, n float64
			fb := b.At(g, i)
			for c, v := range a.At(g, i) {
				d += (v - fb[c]) * (v - fb[c])
				n += fb[c] * fb[c]
			}
			out[i] += math.Sqrt(d / math.Max(n, 1e-300))
		}
		out[i] /= float64(a.G)
	}
	return out
}

// cgCurve computes the curve of an ensemble family against the reference
// (GCNN) ensemble by ensemble size.
func cgCurve(members []*experiment.Orbits, ref *experiment.Orbits, sets *experiment.EvalSets, sizes []int, seed uint64) []cgPoint {
	refPool := ref.Pooled()
	var out []cgPoint
	for _, m := range sizes {
		if m > len(members) || m < 1 {
			continue
		}
		cp := cgPoint{Size: m}
		subs := metrics.Subsets(len(members), m, 8, seed+uint64(m))
		w := 1 / float64(len(subs))
		for _, sub := range subs {
			e := experiment.Ensemble(members, sub)
			st := experiment.Stats([]*experiment.Orbits{e}, sets, seed)
			ep := e.Pooled()
			cp.AgreeID += metrics.Mean(cgOrbitAgreement(e.ID, ref.ID)) * w
			cp.AgreeOOD += metrics.Mean(cgOrbitAgreement(ep, refPool)) * w
			cp.DistID += metrics.Mean(cgOrbitDistance(e.ID, ref.ID)) * w
			cp.DistOOD += metrics.Mean(cgOrbitDistance(ep, refPool)) * w
			cp.OSPID += st.OSPID * w
			cp.OSPOOD += st.OSPOOD * w
			cp.Accuracy += st.Accuracy * w
		}
		out = append(out, cp)
	}
	return out
}

// cgCompare compares two ensembles (orbits of their means) with bootstrap
// intervals over test images.
func cgCompare(an, bn string, a, b *experiment.Orbits, am, bm int, seed uint64) cgComparison {
	ap, bp := a.Pooled(), b.Pooled()
	return cgComparison{
		A: an, B: bn, AMembers: am, BMembers: bm,
		AgreeID:  metrics.Bootstrap(cgOrbitAgreement(a.ID, b.ID), 1000, 0.95, seed+21),
		AgreeOOD: metrics.Bootstrap(cgOrbitAgreement(ap, bp), 1000, 0.95, seed+22),
		DistID:   metrics.Bootstrap(cgOrbitDistance(a.ID, b.ID), 1000, 0.95, seed+23),
		DistOOD:  metrics.Bootstrap(cgOrbitDistance(ap, bp), 1000, 0.95, seed+24),
	}
}

// cgKernelIdentity compares the group-averaged CNN kernel with the GCNN
// kernel on the first ip.Inputs images of test, pooled.
func cgKernelIdentity(ctx context.Context, ip cgIdentityParams, g *group.Group, test *data.Dataset) (*cgIdentity, error) {
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
	ca, err := nn.Parse(ip.CNN, shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("kernel_identity.cnn: %w", err)
	}
	ga, err := nn.Parse(ip.GCNN, shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("kernel_identity.gcnn: %w", err)
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
	return &cgIdentity{
		Inputs: n, Shape: shape, CNN: ca.Spec, GCNN: ga.Spec,
		MaxRelDiffNTK:   experiment.MaxRelDiff(avg.Theta, gk.Theta),
		MaxRelDiffNNGP:  experiment.MaxRelDiff(avg.K, gk.K),
		PlainRelDiffNTK: experiment.MaxRelDiff(plain.Theta, gk.Theta),
		Seconds:         experiment.Round3(time.Since(start).Seconds()),
	}, nil
}

func cgMeanDiag(k []float64, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s += k[i*n+i]
	}
	return s / float64(n)
}

// cgNTKPredict compares infinite ensembles: the CNN NTK trained on the
// whole orbit of the pooled training images with ridge r against the GCNN
// NTK trained on the images alone with ridge r/|G|, which the theory says
// give the same mean at every training time, and the CNN trained without
// augmentation, which does not.
func cgNTKPredict(ctx context.Context, np cgNTKParams, g *group.Group, trainSet, test *data.Dataset, classes int) (*cgNTK, error) {
	start := time.Now()
	tr := trainSet.Head(np.TrainSize)
	te := test.Head(np.TestSize)
	x, shape, err := experiment.AvgPool(tr, np.Pool)
	if err != nil {
		return nil, err
	}
	xt, _, err := experiment.AvgPool(te, np.Pool)
	if err != nil {
		return nil, err
	}
	n, m := tr.Len(), te.Len()
	rep, err := group.ImageRep(g, shape[0], shape[1], shape[2])
	if err != nil {
		return nil, err
	}
	G := g.Order()
	ca, err := nn.Parse(np.CNN, shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("ntk.cnn: %w", err)
	}
	ga, err := nn.Parse(np.GCNN, shape, nn.NTK)
	if err != nil {
		return nil, fmt.Errorf("ntk.gcnn: %w", err)
	}
	xo := experiment.OrbitInputs(rep, x, n)
	kAug, err := ca.Kernel(ctx, xo, G*n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kAugT, err := ca.Kernel(ctx, xt, m, xo, G*n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kG, err := ga.Kernel(ctx, x, n, nil, 0, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	kGT, err := ga.Kernel(ctx, xt, m, x, n, nn.KernelOptions{NTK: true})
	if err != nil {
		return nil, err
	}
	k := classes
	y := experiment.CentredOneHot(tr.Labels, k)
	yAug := make([]float64, 0, G*n*k)
	for a := 0; a < G; a++ {
		yAug = append(yAug, y...)
	}
	md := cgMeanDiag(kAug.Theta, G*n)
	r := np.Reg * md
	pAug, err := predict.NewRegressor(G*n, kAug.Theta, yAug, k, predict.Options{Reg: r, RegAbsolute: true})
	if err != nil {
		return nil, err
	}
	pG, err := predict.NewRegressor(n, kG.Theta, y, k, predict.Options{Reg: predict.AveragedReg(r, G), RegAbsolute: true})
	if err != nil {
		return nil, err
	}
	// The plain CNN: the identity blocks of the augmented kernels.
	kP := make([]float64, n*n)
	for i := 0; i < n; i++ {
		copy(kP[i*n:(i+1)*n], kAug.Theta[i*G*n:i*G*n+n])
	}
	kPT := make([]float64, m*n)
	for i := 0; i < m; i++ {
		copy(kPT[i*n:(i+1)*n], kAugT.Theta[i*G*n:i*G*n+n])
	}
	pP, err := predict.NewRegressor(n, kP, y, k, predict.Options{Reg: np.Reg * cgMeanDiag(kP, n), RegAbsolute: true})
	if err != nil {
		return nil, err
	}
	t1 := float64(G*n) / md
	times := []float64{t1, math.Inf(1)}
	muAug, err := pAug.Mean(kAugT.Theta, m, times)
	if err != nil {
		return nil, err
	}
	muG, err := pG.Mean(kGT.Theta, m, times)
	if err != nil {
		return nil, err
	}
	muP, err := pP.Mean(kPT, m, []float64{math.Inf(1)})
	if err != nil {
		return nil, err
	}
	mk := m * k
	return &cgNTK{
		TrainSize: n, TestSize: m, Shape: shape, CNN: ca.Spec, GCNN: ga.Spec,
		Reg: r, T1: t1,
		MaxDiffT1:        experiment.MaxRelDiff(muAug[:mk], muG[:mk]),
		MaxDiffInf:       experiment.MaxRelDiff(muAug[mk:], muG[mk:]),
		PlainDiffInf:     experiment.MaxRelDiff(muP, muG[mk:]),
		AccuracyCNNAug:   experiment.Accuracy(muAug[mk:], te.Labels, k),
		AccuracyGCNN:     experiment.Accuracy(muG[mk:], te.Labels, k),
		AccuracyCNNPlain: experiment.Accuracy(muP, te.Labels, k),
		Seconds:          experiment.Round3(time.Since(start).Seconds()),
	}, nil
}

func cgSci(v float64) string { return fmt.Sprintf("%.2g", v) }

// cgKernelRows are the rows of the kernels table for one dataset.
func cgKernelRows(res *cgDatasetResult) [][]string {
	var rows [][]string
	if id := res.Identity; id != nil {
		shape := fmt.Sprintf("%d images %dx%dx%d", id.Inputs, id.Shape[0], id.Shape[1], id.Shape[2])
		rows = append(rows,
			[]string{res.Name, "NTK: averaged CNN vs GCNN", shape, cgSci(id.MaxRelDiffNTK)},
			[]string{res.Name, "NNGP: averaged CNN vs GCNN", shape, cgSci(id.MaxRelDiffNNGP)},
			[]string{res.Name, "NTK: plain CNN vs GCNN", shape, experiment.F2(id.PlainRelDiffNTK)},
		)
	}
	if nt := res.NTK; nt != nil {
		shape := fmt.Sprintf("%d train / %d test %dx%dx%d", nt.TrainSize, nt.TestSize, nt.Shape[0], nt.Shape[1], nt.Shape[2])
		rows = append(rows,
			[]string{res.Name, fmt.Sprintf("mean: CNN+full DA vs GCNN at t = %.3g", nt.T1), shape, cgSci(nt.MaxDiffT1)},
			[]string{res.Name, "mean: CNN+full DA vs GCNN at t = ∞", shape, cgSci(nt.MaxDiffInf)},
			[]string{res.Name, "mean: CNN without DA vs GCNN at t = ∞", shape, experiment.F2(nt.PlainDiffInf)},
			[]string{res.Name, "accuracy at t = ∞: CNN+DA / GCNN / CNN", shape, fmt.Sprintf("%.3f / %.3f / %.3f", nt.AccuracyCNNAug, nt.AccuracyGCNN, nt.AccuracyCNNPlain)},
		)
	}
	return rows
}

var cgOrder = []string{"cnn_member", "cnn_da", "cnn_noaug", "gcnn_member", "gcnn"}

func cgShort(name string) string {
	switch name {
	case "cnn_member":
		return "CNN+DA member"
	case "cnn_da":
		return "CNN+DA ensemble"
	case "cnn_noaug":
		return "CNN ensemble, no DA"
	case "gcnn_member":
		return "GCNN member"
	case "gcnn":
		return "GCNN ensemble"
	case "gcnn_half_a":
		return "GCNN half A"
	case "gcnn_half_b":
		return "GCNN half B"
	}
	return name
}

// cgMembers is the number of members behind an ensemble row.
func cgMembers(name string, dp *cgDataset) int {
	switch name {
	case "cnn_da":
		return dp.CNN.Members
	case "cnn_noaug":
		return dp.NoAugMembers
	}
	return dp.GCNN.Members
}

// writeCGSummary prints a dataset's main numbers.
func writeCGSummary(sum *strings.Builder, res *cgDatasetResult, g *group.Group) {
	fmt.Fprintf(sum, "\n%s (%s):\n%-34s %-15s %-15s %-15s\n", res.Name, g.Name(), "model", "accuracy", "OSP test", "OSP OOD")
	for _, name := range cgOrder {
		ms, ok := res.Models[name]
		if !ok {
			continue
		}
		fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s\n", res.Labels[name], experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2), experiment.PM(ms.OOD["pooled"].OSP, 2))
	}
	fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s %-15s\n", "comparison (ensemble means)", "agree test", "agree OOD", "dist test", "dist OOD")
	for _, c := range res.Compare {
		fmt.Fprintf(sum, "%-34s %-15s %-15s %-15s %-15s\n", fmt.Sprintf("%s(%d) vs %s(%d)", c.A, c.AMembers, c.B, c.BMembers), experiment.PM(c.AgreeID, 3), experiment.PM(c.AgreeOOD, 3), experiment.PM(c.DistID, 3), experiment.PM(c.DistOOD, 3))
	}
	fmt.Fprintf(sum, "%-10s %-10s %-10s %-10s %-10s %-8s\n", "CNN size", "agree ID", "agree OOD", "dist ID", "dist OOD", "OSP ID")
	for _, c := range res.Curve {
		fmt.Fprintf(sum, "%-10d %-10.3f %-10.3f %-10.3f %-10.3f %-8.2f\n", c.Size, c.AgreeID, c.AgreeOOD, c.DistID, c.DistOOD, c.OSPID)
	}
	if id := res.Identity; id != nil {
		fmt.Fprintf(sum, "kernel identity (%d images %v): max rel diff NTK %.2g, NNGP %.2g (unaveraged CNN: %.2f)\n", id.Inputs, id.Shape, id.MaxRelDiffNTK, id.MaxRelDiffNNGP, id.PlainRelDiffNTK)
	}
	if nt := res.NTK; nt != nil {
		fmt.Fprintf(sum, "NTK means, CNN+full DA vs GCNN: max rel diff %.2g at t=%.3g, %.2g at t=inf (CNN without DA: %.2f); accuracy %.3f / %.3f / %.3f\n", nt.MaxDiffT1, nt.T1, nt.MaxDiffInf, nt.PlainDiffInf, nt.AccuracyCNNAug, nt.AccuracyGCNN, nt.AccuracyCNNPlain)
	}
}

// cgSections builds the report sections of one dataset.
func cgSections(res *cgDatasetResult, dp *cgDataset, g *group.Group, notes []string, cnnSpec, gcnnSpec string) []report.Section {
	n := res.Name
	cols := []string{"model", "accuracy", "OSP test"}
	for _, o := range res.OODSets {
		cols = append(cols, "OSP "+o)
	}
	cols = append(cols, "chance OSP test")
	mt := report.Table{Name: n + "-models", Columns: cols}
	mt.Caption = fmt.Sprintf("%s: accuracy on %d test images and mean orbit same predictions (OSP, 1..%d) under %s; ± is the half-width of the 95%% bootstrap interval over images.", n, dp.TestSize, g.Order(), g.Name())
	for _, name := range cgOrder {
		ms, ok := res.Models[name]
		if !ok {
			continue
		}
		label := cgShort(name)
		if strings.HasSuffix(name, "member") {
			label += fmt.Sprintf(" (mean of %d)", ms.Members)
		} else {
			label += fmt.Sprintf(" (%d)", cgMembers(name, dp))
		}
		row := []string{label, experiment.PM(*ms.ID.Accuracy, 3), experiment.PM(ms.ID.OSP, 2)}
		for _, o := range res.OODSets {
			row = append(row, experiment.PM(ms.OOD[o].OSP, 2))
		}
		row = append(row, experiment.F2(ms.ID.ChanceOSP))
		mt.Rows = append(mt.Rows, row)
	}
	ct := report.Table{Name: n + "-compare", Caption: fmt.Sprintf("%s: agreement (share of orbit points with the same predicted class) and relative distance of the ensemble-mean logits, ||f_A − f_B|| / ||f_B||, on all %d rotations of each image; out of distribution pools %s.", n, g.Order(), strings.Join(res.OODSets, ", ")),
		Columns: []string{"A", "B", "agreement test", "agreement OOD", "distance test", "distance OOD"}}
	for _, c := range res.Compare {
		ct.Rows = append(ct.Rows, []string{fmt.Sprintf("%s (%d)", cgShort(c.A), c.AMembers), fmt.Sprintf("%s (%d)", cgShort(c.B), c.BMembers), experiment.PM(c.AgreeID, 3), experiment.PM(c.AgreeOOD, 3), experiment.PM(c.DistID, 3), experiment.PM(c.DistOOD, 3)})
	}
	cv := report.Table{Name: n + "-curve", Caption: fmt.Sprintf("%s: CNN ensembles of each size (means over up to 8 member subsets) against the GCNN ensemble of %d.", n, dp.GCNN.Members),
		Columns: []string{"CNN", "size", "agreement test", "agreement OOD", "distance test", "distance OOD", "OSP test", "OSP OOD", "accuracy"}}
	for _, c := range res.Curve {
		cv.Rows = append(cv.Rows, []string{"DA", fmt.Sprint(c.Size), fmt.Sprintf("%.3f", c.AgreeID), fmt.Sprintf("%.3f", c.AgreeOOD), fmt.Sprintf("%.3f", c.DistID), fmt.Sprintf("%.3f", c.DistOOD), experiment.F2(c.OSPID), experiment.F2(c.OSPOOD), fmt.Sprintf("%.3f", c.Accuracy)})
	}
	for _, c := range res.NoAugCurve {
		cv.Rows = append(cv.Rows, []string{"no DA", fmt.Sprint(c.Size), fmt.Sprintf("%.3f", c.AgreeID), fmt.Sprintf("%.3f", c.AgreeOOD), fmt.Sprintf("%.3f", c.DistID), fmt.Sprintf("%.3f", c.DistOOD), experiment.F2(c.OSPID), experiment.F2(c.OSPOOD), fmt.Sprintf("%.3f", c.Accuracy)})
	}
	xs := func(cs []cgPoint) []float64 {
		var v []float64
		for _, c := range cs {
			v = append(v, float64(c.Size))
		}
		return v
	}
	ys := func(cs []cgPoint, f func(cgPoint) float64) []float64 {
		var v []float64
		for _, c := range cs {
			v = append(v, f(c))
		}
		return v
	}
	var half *cgComparison
	for i := range res.Compare {
		if res.Compare[i].A == "gcnn_half_a" {
			half = &res.Compare[i]
		}
	}
	zero, one := 0.0, 1.0
	agree := &report.Plot{Title: fmt.Sprintf("%s: CNN ensemble vs GCNN ensemble (%d)", n, dp.GCNN.Members), XLabel: "CNN ensemble size", YLabel: "agreement with the GCNN ensemble", LogX: true, YMin: &zero, YMax: &one,
		Series: []report.Series{
			{Name: "CNN+DA, test", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.AgreeID }), Points: true, Color: 1},
			{Name: "CNN+DA, OOD", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.AgreeOOD }), Points: true, Color: 2},
		}}
	dist := &report.Plot{Title: fmt.Sprintf("%s: distance of the ensemble means", n), XLabel: "CNN ensemble size", YLabel: "||f_CNN − f_GCNN|| / ||f_GCNN||", LogX: true, YMin: &zero,
		Series: []report.Series{
			{Name: "CNN+DA, test", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.DistID }), Points: true, Color: 1},
			{Name: "CNN+DA, OOD", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.DistOOD }), Points: true, Color: 2},
		}}
	if len(res.NoAugCurve) > 0 {
		agree.Series = append(agree.Series,
			report.Series{Name: "CNN no DA, test", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.AgreeID }), Points: true, Dashed: true, Color: 1},
			report.Series{Name: "CNN no DA, OOD", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.AgreeOOD }), Points: true, Dashed: true, Color: 2})
		dist.Series = append(dist.Series,
			report.Series{Name: "CNN no DA, test", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.DistID }), Points: true, Dashed: true, Color: 1},
			report.Series{Name: "CNN no DA, OOD", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.DistOOD }), Points: true, Dashed: true, Color: 2})
	}
	if half != nil {
		agree.HLines = append(agree.HLines, report.RefLine{Y: half.AgreeOOD.Mean, Label: fmt.Sprintf("GCNN %d vs %d, OOD", half.AMembers, half.BMembers)})
		dist.HLines = append(dist.HLines, report.RefLine{Y: half.DistOOD.Mean, Label: fmt.Sprintf("GCNN %d vs %d, OOD", half.AMembers, half.BMembers)})
	}
	ymin, ymax := 1.0, float64(g.Order())+0.3
	osp := &report.Plot{Title: fmt.Sprintf("%s: orbit same predictions of CNN ensembles", n), XLabel: "CNN ensemble size", YLabel: fmt.Sprintf("mean OSP (max %d)", g.Order()), LogX: true, YMin: &ymin, YMax: &ymax,
		Series: []report.Series{
			{Name: "CNN+DA, test", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.OSPID }), Points: true, Color: 1},
			{Name: "CNN+DA, OOD", X: xs(res.Curve), Y: ys(res.Curve, func(c cgPoint) float64 { return c.OSPOOD }), Points: true, Color: 2},
		},
		HLines: []report.RefLine{{Y: float64(g.Order()), Label: fmt.Sprintf("GCNN = |G| = %d", g.Order())}}}
	if len(res.NoAugCurve) > 0 {
		osp.Series = append(osp.Series,
			report.Series{Name: "CNN no DA, test", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.OSPID }), Points: true, Dashed: true, Color: 1},
			report.Series{Name: "CNN no DA, OOD", X: xs(res.NoAugCurve), Y: ys(res.NoAugCurve, func(c cgPoint) float64 { return c.OSPOOD }), Points: true, Dashed: true, Color: 2})
	}
	text := fmt.Sprintf("Trained on %d %s images. CNN: `%s`, %d members, random %s augmentation. GCNN: `%s`, %d members, no augmentation. Both: %d steps, batch %d, %s (lr %g). Out-of-distribution sets: %s (%d images each).",
		dp.TrainSize, n, cnnSpec, dp.CNN.Members, g.Name(), gcnnSpec, dp.GCNN.Members, dp.CNN.Steps, dp.CNN.BatchSize, dp.CNN.Optimizer.Name, dp.CNN.Optimizer.LR, strings.Join(res.OODSets, ", "), dp.OODSize)
	if len(notes) > 0 {
		text += "\n\n" + strings.Join(notes, "\n\n")
	}
	return []report.Section{
		{Heading: "Models on " + n, Text: text, Tables: []report.Table{mt}},
		{Heading: "Convergence to the GCNN on " + n, Text: "The theory predicts that augmented CNN ensembles approach the GCNN as they grow (exactly for infinite ensembles of infinitely wide networks trained by gradient flow on the MSE; here finite networks, cross-entropy and Adam), out of distribution too, while CNN ensembles without augmentation do not. The dashed reference line is two halves of the GCNN ensemble compared with each other: the agreement that finite ensembles of the target model itself reach.",
			Tables:  []report.Table{ct, cv},
			Figures: []report.Figure{{Name: n + "-agreement", Caption: "Agreement of the ensemble-mean predictions with the GCNN ensemble, over all rotations of the images.", Plot: agree}, {Name: n + "-distance", Caption: "Relative distance of the ensemble-mean logits to the GCNN ensemble's.", Plot: dist}, {Name: n + "-osp", Caption: "Orbit same predictions of CNN ensembles against ensemble size; the GCNN is exactly invariant.", Plot: osp}}},
	}
}
