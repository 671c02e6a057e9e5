package eqntk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "equivariant-ntk",
		Summary: "full-size MNIST: kernel regression with the CNN NTK against its C4 and D4 averages (the GCNN NTKs), learning curves and orbit same predictions",
		Run:     run,
	})
}

// params are the parameters of experiments/equivariant-ntk.yaml.
type params struct {
	// Dataset is mnist (embedded) or fashion-mnist.
	Dataset string `yaml:"dataset"`
	// Groups are the exact image groups, e.g. [c4, d4].
	Groups []string `yaml:"groups"`
	// Orientation is upright (the digits as written) or random: every
	// image transformed by a random element of the largest group, so that
	// the digits have no preferred orientation, like histology tiles.
	Orientation string `yaml:"orientation"`
	// Seed shuffles the training and test splits before their first
	// images are taken (and draws the random orientations).
	Seed uint64                    `yaml:"seed"`
	NTK  experiment.OrbitNTKParams `yaml:"ntk"`
}

const where = "experiments/equivariant-ntk.yaml"

// run runs equivariant-ntk. results.json holds dataset, group_names and
// ntk (experiment.OrbitNTKResult: test accuracy by kernel — cnn and
// gcnn-GROUP — and training size, the OSP of each kernel's predictor
// under each group, the identity check and the invariance of the CNN
// NTK), params. Tables: ntk-curve, ntk-osp; figure: ntk-accuracy.
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p params
	if err := experiment.DecodeParams("equivariant-ntk", node, &p); err != nil {
		return nil, err
	}
	groups, err := parseGroups(&p)
	if err != nil {
		return nil, err
	}
	if err := p.NTK.Check(where + ": ntk"); err != nil {
		return nil, err
	}
	train, test, err := loadData(env, &p)
	if err != nil {
		return nil, err
	}
	if p.Orientation == "random" {
		if err := randomOrientations(groups, p.Seed, train, test); err != nil {
			return nil, err
		}
	}
	ntk, err := experiment.OrbitNTK(ctx, env, &p.NTK, where+": ntk", groups, train, test)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Name())
	}
	var sum strings.Builder
	sec := experiment.OrbitNTKSection(&p.NTK, groups, ntk, p.Dataset, train.Classes, &sum)
	orient := "upright, as written"
	if p.Orientation == "random" {
		orient = "each transformed by a random rotation or reflection of the largest group, so that they have no preferred orientation"
	}
	intro := fmt.Sprintf("Handwritten digits (%s, %s) at %dx%d: kernel regression with the NTK of a CNN and with its averages over the rotations (C4) and the rotations and reflections (D4) of the square grid, which are the NTKs of the corresponding group-convolutional networks (Misof, Kessel & Gerken 2025). Upright digits have a preferred orientation (and 6 and 9 differ by a rotation), so there the invariant kernels discard information; with random orientations the labels are invariant (up to 6/9) and the invariant kernels see every orientation of every training image.", p.Dataset, orient, ntk.Shape[1], ntk.Shape[2])
	res := map[string]any{"dataset": p.Dataset, "group_names": names, "ntk": ntk, "params": p}
	rep := &report.Report{Title: "Equivariant NTKs on full-size digits", Intro: intro, Sections: []report.Section{sec}}
	return &experiment.Result{JSON: res, Report: rep, Summary: sum.String()}, nil
}

// parseGroups checks the dataset name and parses the groups.
func parseGroups(p *params) ([]*group.Group, error) {
	if p.Dataset != "mnist" && p.Dataset != "fashion-mnist" {
		return nil, fmt.Errorf("%s: dataset %q: want mnist or fashion-mnist", where, p.Dataset)
	}
	if p.Orientation != "upright" && p.Orientation != "random" {
		return nil, fmt.Errorf("%s: orientation %q: want upright or random", where, p.Orientation)
	}
	return experiment.ParseGroups(where, p.Groups)
}

// loadData returns the training and test splits shuffled by the seed,
// cut to the sizes the kernels need and standardised with the mean and
// standard deviation of the training images' pixels (one pair for all
// pixels, which keeps the group's action on the inputs).
func loadData(env *experiment.Env, p *params) (train, test *data.Dataset, err error) {
	load := func(split string) (*data.Dataset, error) {
		if p.Dataset == "fashion-mnist" {
			return data.FashionMNIST(split, env.DataDir)
		}
		return data.MNIST(split)
	}
	if train, err = load("train"); err != nil {
		return nil, nil, err
	}
	if test, err = load("test"); err != nil {
		return nil, nil, err
	}
	n := slices.Max(p.NTK.TrainSizes)
	train = train.Subset(train.Shuffled(p.Seed)[:min(n, train.Len())])
	test = test.Subset(test.Shuffled(p.Seed + 100)[:min(p.NTK.TestSize, test.Len())])
	st := data.FitStandardizer(train, false)
	st.Apply(train)
	st.Apply(test)
	return train, test, nil
}

// randomOrientations transforms every image of the sets by an element of
// the largest group drawn with the seed.
func randomOrientations(groups []*group.Group, seed uint64, sets ...*data.Dataset) error {
	big := experiment.LargestGroup(groups)
	sh := sets[0].Shape
	rep, err := group.ImageRep(big, sh[0], sh[1], sh[2])
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6f7269656e74))
	for _, d := range sets {
		out := make([]float32, rep.Dim())
		for i := range d.Len() {
			x := d.Input(i)
			group.Apply(rep, rng.IntN(big.Order()), out, x)
			copy(x, out)
		}
	}
	return nil
}
