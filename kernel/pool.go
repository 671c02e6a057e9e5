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
// be divisible by k): every output entry is the mean of the k²×k² input
// entries of its pair of cells. Each output row first sums its cell's k²
// input rows (vec.AxpyF64 on whole rows, which reads each input row once,
// in order), then every output column sums its cell's k² entries of that
// row and scales by 1/k⁴.
func (s *State) AvgPool(k int) {
	g, h, w := s.G, s.H, s.W
	oh, ow := h/k, w/k
	p, c := s.P(), s.Cols()
	hw, ohw := h*w, oh*ow
	po := g * ohw
	co := po
	if s.Slab {
		co = ohw
	}
	inv := 1 / float64(k*k*k*k)
	sum := make([]float64, c)
	apply := func(in []float64) []float64 {
		out := s.Scratch(s.Pairs * po * co)
		for a := 0; a < s.Pairs; a++ {
			m := in[a*p*c : (a+1)*p*c]
			o := out[a*po*co : (a+1)*po*co]
			for oi := range po {
				r, ci, cj := oi/ohw, oi%ohw/ow, oi%ow
				for d := range k * k {
					pi := r*hw + (ci*k+d/k)*w + cj*k + d%k
					if d == 0 {
						copy(sum, m[pi*c:(pi+1)*c])
					} else {
						vec.AxpyF64(sum, m[pi*c:(pi+1)*c], 1)
					}
				}
				orow := o[oi*co : (oi+1)*co]
				if k == 2 {
					pool2Row(orow, sum, oh, ow, w, inv)
					continue
				}
				oq := 0
				for r2 := 0; r2 < co/ohw; r2++ {
					for qi := range oh {
						for qj := range ow {
							base := r2*hw + qi*k*w + qj*k
							var t float64
							for di := range k {
								for _, v := range sum[base+di*w : base+di*w+k] {
									t += v
								}
							}
							orow[oq] = t * inv
							oq++
						}
					}
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

// pool2Row sets out[(r2, qi, qj)] to inv times the sum of the 2×2 cell
// (2qi, 2qj) of block r2 of the row sum (blocks of 2oh rows of w entries).
func pool2Row(out, sum []float64, oh, ow, w int, inv float64) {
	oq := 0
	for off := 0; off < len(sum); off += 2 * oh * w {
		for qi := range oh {
			r0 := sum[off+2*qi*w : off+2*qi*w+w]
			r1 := sum[off+(2*qi+1)*w : off+(2*qi+2)*w]
			vec.Pool2F64(out[oq:oq+ow], r0, r1, inv)
			oq += ow
		}
	}
}
