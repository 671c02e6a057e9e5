package cnngcnn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "cnn-to-gcnn",
		Summary: "CNN ensembles trained with C4 augmentation approach the roto-translation GCNN ensemble, in and out of distribution (MNIST, CIFAR-10), next to the kernel identity Θ_GCNN = mean_r Θ_CNN(f, ρ(r)f')",
		Run:     run,
	})
}

// params are the parameters of experiments/cnn-to-gcnn.yaml.
type params struct {
	// Group is the rotation group (c4; any exact image group works).
	Group string `yaml:"group"`
	Seed  uint64 `yaml:"seed"`
	// Sizes are the CNN ensemble sizes of the curves.
	Sizes []int `yaml:"sizes"`
	// Datasets are run in order; registry datasets other than mnist that
	// are not installed are skipped with a note saying how to get them.
	Datasets []datasetParams `yaml:"datasets"`
}

// datasetParams is one dataset of the experiment with its models.
type datasetParams struct {
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
	Identity identityParams         `yaml:"kernel_identity"`
	NTK      ntkParams              `yaml:"ntk"`
}

// identityParams configures the kernel identity check on a few test
// images (average-pooled by Pool).
type identityParams struct {
	Inputs int    `yaml:"inputs"`
	Pool   int    `yaml:"pool"`
	CNN    string `yaml:"cnn"`
	GCNN   string `yaml:"gcnn"`
}

// ntkParams configures the infinite-ensemble comparison: the CNN NTK
// trained on the full orbit of TrainSize pooled images against the GCNN
// NTK trained on the images alone. TrainSize 0 skips it.
type ntkParams struct {
	TrainSize int     `yaml:"train_size"`
	TestSize  int     `yaml:"test_size"`
	Pool      int     `yaml:"pool"`
	CNN       string  `yaml:"cnn"`
	GCNN      string  `yaml:"gcnn"`
	Reg       float64 `yaml:"reg"`
}

// run runs the cnn-to-gcnn experiment. results.json holds
//
//	group, group_order     the rotation group
//	datasets.NAME          per dataset (datasetResult):
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
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
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
	results := map[string]*datasetResult{}
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
		res, secs, err := runDataset(ctx, env, &p, &dp, g, trainAll, test)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dp.Name, err)
		}
		results[dp.Name] = res
		order = append(order, dp.Name)
		sections = append(sections, secs...)
		writeSummary(&sum, res, g)
		kernelRows = append(kernelRows, kernelTableRows(res)...)
	}
	if len(missing) > 0 {
		sections = append(sections, missingSection(missing, &sum))
	}
	sections = append(sections, kernelsSection(kernelRows))
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
		Intro:    introText(g),
		Sections: sections,
	}
	return &experiment.Result{JSON: res, Report: r, Summary: sum.String()}, nil
}

// imageShapes are the input shapes of the image datasets the experiments
// train on, known before loading them.
var imageShapes = map[string][]int{
	"mnist":         {1, 28, 28},
	"fashion-mnist": {1, 28, 28},
	"cifar10":       {3, 32, 32},
	"pathmnist":     {3, 28, 28},
	"pathmnist64":   {3, 64, 64},
}

// check validates a dataset's model specs: the GCNN must use the group and
// have exactly the CNN's number of parameters (lift/gconv with support=e
// and the same channels per rotation).
func (dp *datasetParams) check(g *group.Group) error {
	where := "experiments/cnn-to-gcnn.yaml: datasets." + dp.Name
	shape, ok := imageShapes[dp.Name]
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
