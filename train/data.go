package train

import (
	"github.com/eqens/eqens/data"
)

// Names of the datasets a config can name besides the image sets of the
// data registry (data.Sets lists them all).
const (
	// CrossProductName is the synthetic regression set of
	// data.CrossProduct (data.CrossProductName).
	CrossProductName = data.CrossProductName
	// NPZName reads a NumPy .npz file named by data.path (data.NPZName).
	NPZName = data.NPZName
)

// DataNames lists the dataset names a config accepts in data.name
// (data.SetNames).
func DataNames() []string { return data.SetNames() }

// LoadData reads one split ("" means "train") of the dataset that c names,
// in full, with data.Open: no subset, standardisation or masking (Train
// applies those). Registry image sets are read from c.Dir first; the
// synthetic cross-product set has c.Size samples (default
// data.DefaultSyntheticSize) drawn from c.Seed; npz reads the file c.Path.
func LoadData(c DataConfig, split string) (*data.Dataset, error) {
	return data.Open(c.Name, split, data.OpenOptions{Dir: c.Dir, Path: c.Path, Size: c.Size, Seed: c.Seed})
}
