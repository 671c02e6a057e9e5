package demo

import (
	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
)

// loadSets loads the in-distribution test set and the out-of-distribution
// sets: Fashion-MNIST when installed, MNIST digits with their pixels
// shuffled by one fixed permutation, and Gaussian noise images. It returns
// the sets, the names of the out-of-distribution ones and notes for the
// report.
func loadSets(env *experiment.Env, p *params) (*data.Dataset, []*data.Dataset, []string, []string, error) {
	test, err := data.MNIST("test")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	id := test.Subset(test.Shuffled(p.Seed + 100)[:p.TestSize])
	var notes []string
	var ood []*data.Dataset
	var names []string
	fm, err := data.FashionMNIST("test", env.DataDir)
	if err == nil {
		fm = fm.Subset(fm.Shuffled(p.Seed + 101)[:p.OODSize])
		fm.Labels = nil
		ood = append(ood, fm)
		names = append(names, "fashion-mnist")
	} else {
		notes = append(notes, "Fashion-MNIST was not found (apt install dataset-fashion-mnist, or eqens data fetch fashion-mnist), so it is missing from the out-of-distribution sets.")
	}
	sh, err := data.PixelShuffled(test.Subset(test.Shuffled(p.Seed + 102)[:p.OODSize]), p.Seed+103)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ood = append(ood, sh)
	names = append(names, "shuffled-mnist")
	noise, err := data.NoiseImages(p.OODSize, []int{1, 28, 28}, p.Seed+104)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ood = append(ood, noise)
	names = append(names, "noise")
	return id, ood, names, notes, nil
}
