package kernel

import "github.com/eqens/eqens/internal/vec"

// collapse replaces each pair's matrix by the value f computes from it,
// leaving a single position.
func (s *State) collapse(f func(m []float64) float64) {
	n := s.P() * s.Cols()
	for a := 0; a < s.Pairs; a++ {
		s.K[a] = f(s.K[a*n : (a+1)*n])
		if s.NTK {
			s.Theta[a] = f(s.Theta[a*n : (a+1)*n])
		}
	}
	s.K = s.K[:s.Pairs]
	if s.NTK {
		s.Theta = s.Theta[:s.Pairs]
	}
	s.G, s.H, s.W, s.Slab = 1, 1, 1, false
	s.V1 = s.V1[:s.Pairs]
	s.V2 = s.V2[:s.Pairs]
}

// DiagMean collapses the positions by averaging the diagonal p = q: the
// kernel of a dense layer applied to the flattened features (without its
// weight and bias variances). For a slab the diagonal of every group
// element equals that of the identity.
func (s *State) DiagMean() {
	p, c := s.P(), s.Cols()
	if p == 1 {
		return
	}
	d := c // the diagonal entries are the first c rows' (t, t) entries
	s.collapse(func(m []float64) float64 {
		var t float64
		for i := 0; i < d; i++ {
			t += m[i*c+i]
		}
		return t / float64(d)
	})
}

// MeanAll collapses the positions by averaging all entries: global average
// pooling over every position (group pooling of GCNN features, or global
// average pooling of CNN features). A slab holds every full entry the same
// number of times, so its mean is the full mean. The entries are summed
// block by block (the rows of one group element, vec.SumF64), the block
// sums in order (MeanBlocks).
func (s *State) MeanAll() {
	if s.P() == 1 {
		return
	}
	g := s.G
	s.collapse(func(m []float64) float64 {
		return MeanBlocks(m, g)
	})
}

// MeanBlocks is the mean of m as MeanAll computes it: the sums of g equal
// consecutive blocks (vec.SumF64), added in order, over len(m).
func MeanBlocks(m []float64, g int) float64 {
	n := len(m) / g
	var t float64
	for r := range g {
		t += vec.SumF64(m[r*n : (r+1)*n])
	}
	return t / float64(len(m))
}

// SpatialMean averages over the spatial positions but keeps the group axis:
// global average pooling of GCNN features that leaves them indexed by the
// group.
func (s *State) SpatialMean() {
	hw := s.H * s.W
	if hw == 1 {
		return
	}
	g := s.G
	gc := g // group blocks among the columns
	if s.Slab {
		gc = 1
	}
	p, c := s.P(), s.Cols()
	out := s.Scratch(s.Pairs * g * gc)
	s.spatialMeanInto(s.K, out, p, c, g, gc, hw)
	old := s.K
	s.K = out
	s.Recycle(old)
	if s.NTK {
		tout := s.Scratch(s.Pairs * g * gc)
		s.spatialMeanInto(s.Theta, tout, p, c, g, gc, hw)
		old := s.Theta
		s.Theta = tout
		s.Recycle(old)
	}
	s.H, s.W = 1, 1
	s.V1 = s.V1[:s.Pairs*g]
	s.V2 = s.V2[:s.Pairs*g]
}

func (s *State) spatialMeanInto(in, out []float64, p, c, g, gc, hw int) {
	inv := 1 / float64(hw*hw)
	for a := 0; a < s.Pairs; a++ {
		m := in[a*p*c : (a+1)*p*c]
		o := out[a*g*gc : (a+1)*g*gc]
		for r := 0; r < g; r++ {
			for r2 := 0; r2 < gc; r2++ {
				var t float64
				for i := 0; i < hw; i++ {
					t += vec.SumF64(m[(r*hw+i)*c+r2*hw : (r*hw+i)*c+(r2+1)*hw])
				}
				o[r*gc+r2] = t * inv
			}
		}
	}
}

// AvgPool applies k×k average pooling with stride k (the spatial size must
// be divisible by k).
func (s *State) AvgPool(k int) {
	g, h, w := s.G, s.H, s.W
	oh, ow := h/k, w/k
	p, c := s.P(), s.Cols()
	po := g * oh * ow
	co := po
	if s.Slab {
		co = oh * ow
	}
	inv := 1 / float64(k*k*k*k)
	cell := func(q int) int {
		r, rem := q/(h*w), q%(h*w)
		return r*oh*ow + (rem/w/k)*ow + (rem%w)/k
	}
	colCell := make([]int, c)
	for q := range colCell {
		colCell[q] = cell(q)
	}
	apply := func(in []float64) []float64 {
		out := s.Scratch(s.Pairs * po * co)
		clear(out)
		for a := 0; a < s.Pairs; a++ {
			m := in[a*p*c : (a+1)*p*c]
			o := out[a*po*co : (a+1)*po*co]
			for pi := 0; pi < p; pi++ {
				row := m[pi*c : (pi+1)*c]
				orow := o[cell(pi)*co : (cell(pi)+1)*co]
				for qi, v := range row {
					orow[colCell[qi]] += v * inv
				}
			}
		}
		return out
	}
	out := apply(s.K)
	s.Recycle(s.K)
	s.K = out
	if s.NTK {
		out := apply(s.Theta)
		s.Recycle(s.Theta)
		s.Theta = out
	}
	s.H, s.W = oh, ow
	s.V1 = grow(s.V1, s.Pairs*po)
	s.V2 = grow(s.V2, s.Pairs*po)
}
