package qm9

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/nn"
)

// atomBlock is the number of atoms whose kernels with another block of
// atoms one call of nn.Arch.Kernel computes.
const atomBlock = 192

// sumKernel returns the n1×n2 NTK of the molecules of s1 and s2 for the
// network that applies arch (one output) to every atom's signals and sums
// the outputs over the atoms:
//
//	Θ(M, M') = Σ_{a∈M} Σ_{b∈M'} Θ_arch(x_a, x'_b).
//
// The per-atom network is shared by all atoms, so the gradients of the sum
// are the sums of the per-atom gradients and the NTK (and the NNGP) of the
// molecule is the sum of the per-atom kernels over all pairs of atoms. A
// dense readout after the sum adds nothing: arch ends in it already. With
// s2 == s1 the matrix is symmetric and only its lower triangle of blocks is
// computed. The atoms are taken in blocks of whole molecules of about
// atomBlock atoms; desc names the progress bar.
func sumKernel(ctx context.Context, arch *nn.Arch, s1, s2 *atomSet, desc string) ([]float64, error) {
	n1, n2 := len(s1.off)-1, len(s2.off)-1
	sym := s1 == s2
	b1, b2 := molBlocks(s1), molBlocks(s2)
	var total int64
	for bi := 0; bi+1 < len(b1); bi++ {
		for bj := 0; bj+1 < len(b2) && (!sym || bj <= bi); bj++ {
			total += int64(s1.off[b1[bi+1]]-s1.off[b1[bi]]) * int64(s2.off[b2[bj+1]]-s2.off[b2[bj]])
		}
	}
	bar := progress.New(os.Stderr, total, desc, 30*time.Second)
	defer bar.Finish()
	out := make([]float64, n1*n2)
	for bi := 0; bi+1 < len(b1); bi++ {
		for bj := 0; bj+1 < len(b2) && (!sym || bj <= bi); bj++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			i0, i1, j0, j1 := b1[bi], b1[bi+1], b2[bj], b2[bj+1]
			na, nb := s1.off[i1]-s1.off[i0], s2.off[j1]-s2.off[j0]
			var x2 []float64
			if !sym || bi != bj {
				x2 = s2.rows(j0, j1)
			}
			k, err := arch.Kernel(ctx, s1.rows(i0, i1), na, x2, nb, nn.KernelOptions{NTK: true})
			if err != nil {
				return nil, fmt.Errorf("%s: atoms %d-%d × %d-%d: %w", desc, s1.off[i0], s1.off[i1], s2.off[j0], s2.off[j1], err)
			}
			addMolPairs(out, n2, k.Theta, nb, s1, i0, i1, s2, j0, j1)
			if sym && bi != bj {
				for i := i0; i < i1; i++ {
					for j := j0; j < j1; j++ {
						out[j*n2+i] = out[i*n2+j]
					}
				}
			}
			bar.Add(na * nb)
		}
	}
	return out, nil
}

// addMolPairs adds the na×nb atom kernel k of the atoms of molecules i0 to
// i1−1 of s1 and j0 to j1−1 of s2 into the molecule kernel out (row
// stride n2), summing over the pairs of atoms of each pair of molecules.
func addMolPairs(out []float64, n2 int, k []float64, nb int, s1 *atomSet, i0, i1 int, s2 *atomSet, j0, j1 int) {
	for i := i0; i < i1; i++ {
		for a := s1.off[i] - s1.off[i0]; a < s1.off[i+1]-s1.off[i0]; a++ {
			row := k[a*nb : (a+1)*nb]
			for j := j0; j < j1; j++ {
				var s float64
				for _, v := range row[s2.off[j]-s2.off[j0] : s2.off[j+1]-s2.off[j0]] {
					s += v
				}
				out[i*n2+j] += s
			}
		}
	}
}

// molBlocks splits the molecules of s into consecutive blocks of about
// atomBlock atoms (at least one molecule each) and returns the block
// boundaries, from 0 to the number of molecules.
func molBlocks(s *atomSet) []int {
	b := []int{0}
	n := len(s.off) - 1
	for i := 1; i <= n; i++ {
		if i == n || s.off[i]-s.off[b[len(b)-1]] >= atomBlock {
			b = append(b, i)
		}
	}
	return b
}
