package experiment

import "github.com/eqens/eqens/data"

// PooledSets are the first images of a training and a test set,
// average-pooled (AvgPool) for kernel computations, which cost
// O((|G|HW)²) per pair.
type PooledSets struct {
	// Train and Test are the first images, unpooled (labels and sizes).
	Train, Test *data.Dataset
	// X and XT are the pooled images of Train and Test (dataset layout)
	// and Shape their shape.
	X, XT []float64
	Shape []int
}

// PoolHeads takes the first n images of train and the first m of test and
// average-pools them by the factor pool.
func PoolHeads(train, test *data.Dataset, n, m, pool int) (*PooledSets, error) {
	ps := &PooledSets{Train: train.Head(n), Test: test.Head(m)}
	var err error
	if ps.X, ps.Shape, err = AvgPool(ps.Train, pool); err != nil {
		return nil, err
	}
	if ps.XT, _, err = AvgPool(ps.Test, pool); err != nil {
		return nil, err
	}
	return ps, nil
}
