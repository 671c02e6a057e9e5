package qm9

import (
	"context"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// avgKernel returns the n1×n2 NTK averaged over the rotations of rep's
// group (nil rep: the plain kernel), one pair of elements at a time so that
// memory stays O(n1·n2). For a closed group G it is
// (1/|G|) Σ_a Θ(x1, ρ(a) x2), the kernel of the G-averaged network and the
// infinite-ensemble limit of training with G-augmentation. A sample S of
// SO(3) is not a group and its single average is not positive definite,
// so for samples it is the NTK of the network averaged over the sample,
// f̄(x) = (1/|S|) Σ_R f(Rx): (1/|S|²) Σ_{R,R'} Θ(R x1, R' x2), at |S|²
// kernel evaluations.
//
// The experiment regresses with predict.NewRegressor on these matrices
// (and on their leading blocks), not with predict.Fit: the sample average
// is its own, and predict.Fit has no leading blocks.
func avgKernel(ctx context.Context, arch *nn.Arch, rep *group.Rep, x1 []float64, n1 int, x2 []float64, n2 int) ([]float64, error) {
	D := arch.InputSize()
	if rep == nil {
		k, err := arch.Kernel(ctx, x1, n1, x2, n2, nn.KernelOptions{NTK: true})
		if err != nil {
			return nil, err
		}
		return k.Theta, nil
	}
	g := rep.Group()
	left := []int{g.Identity()}
	if !g.Closed() {
		left = experiment.Indices(g.Order())
	}
	w := 1 / float64(len(left)*g.Order())
	out := make([]float64, n1*n2)
	buf1 := make([]float64, n1*D)
	buf2 := make([]float64, n2*D)
	for _, a := range left {
		rotate(rep, a, buf1, x1, n1, D)
		for b := 0; b < g.Order(); b++ {
			rotate(rep, b, buf2, x2, n2, D)
			k, err := arch.Kernel(ctx, buf1, n1, buf2, n2, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, err
			}
			for i, v := range k.Theta {
				out[i] += v * w
			}
		}
	}
	return out, nil
}

// symmetrize replaces the n×n matrix by (k + kᵀ)/2 (averages over rotation
// samples that are not closed under inversion are only nearly symmetric).
func symmetrize(k []float64, n int) {
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := (k[i*n+j] + k[j*n+i]) / 2
			k[i*n+j], k[j*n+i] = v, v
		}
	}
}

// prefixCols returns the first n columns of the rows×stride matrix k.
func prefixCols(k []float64, rows, stride, n int) []float64 {
	out := make([]float64, rows*n)
	for i := 0; i < rows; i++ {
		copy(out[i*n:(i+1)*n], k[i*stride:i*stride+n])
	}
	return out
}
