package fashion

import (
	"fmt"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
)

// preparedData holds the preprocessed sets.
type preparedData struct {
	train *data.Dataset
	sets  *experiment.EvalSets
	so2   *data.Dataset
}

// loadData reads the Fashion-MNIST subsets and the OOD sets and
// preprocesses them all alike: global standardisation with the statistics
// of the training subset, then the circular mask of radius 13.5 px that
// interpolated rotations need (applied for every group, C4 included, so
// that all models see the same images and the SO(2) evaluation is defined).
func loadData(env *experiment.Env, p *params) (*preparedData, error) {
	tr, err := data.FashionMNIST("train", env.DataDir)
	if err != nil {
		return nil, err
	}
	te, err := data.FashionMNIST("test", env.DataDir)
	if err != nil {
		return nil, err
	}
	if p.TrainSize > tr.Len() || p.TestSize > te.Len() || p.SO2.Size > te.Len() {
		return nil, fmt.Errorf("experiments/fashion.yaml: sizes above the Fashion-MNIST splits (%d train, %d test)", tr.Len(), te.Len())
	}
	train := tr.Subset(tr.Shuffled(p.Seed)[:p.TrainSize])
	train.Name = "fashion-mnist/train"
	testIdx := te.Shuffled(p.Seed + 100)
	id := te.Subset(testIdx[:p.TestSize])
	id.Name = "fashion-mnist/test"
	so2 := te.Subset(testIdx[:p.SO2.Size])
	mn, err := data.MNIST("test")
	if err != nil {
		return nil, err
	}
	if p.OODSize > mn.Len() {
		return nil, fmt.Errorf("experiments/fashion.yaml: ood_size %d is above the %d MNIST test digits", p.OODSize, mn.Len())
	}
	digits := mn.Subset(mn.Shuffled(p.Seed + 101)[:p.OODSize])
	digits.Labels = nil
	digits.Name = "mnist"
	blur, err := data.BlurredNoise(p.OODSize, []int{1, 28, 28}, p.BlurSigma, p.Seed+102)
	if err != nil {
		return nil, err
	}
	blur.Classes = 10
	st := data.FitStandardizer(train, false)
	disc, err := discRep()
	if err != nil {
		return nil, err
	}
	for _, d := range []*data.Dataset{train, id, so2, digits, blur} {
		st.Apply(d)
		group.MaskInPlace(disc, d.X)
	}
	return &preparedData{
		train: train,
		sets:  &experiment.EvalSets{ID: id, OOD: []*data.Dataset{digits, blur}, OODName: []string{"mnist", "blurred-noise"}},
		so2:   so2,
	}, nil
}

// discRep is an interpolated image representation whose mask is the disc
// of radius 13.5 px on 28×28 images.
func discRep() (*group.Rep, error) {
	g, err := group.Parse("c8")
	if err != nil {
		return nil, err
	}
	return group.ImageRep(g, 1, 28, 28)
}
