package kernel

// collapse replaces each pair's P×P matrix by the value f computes from it,
// leaving a single position.
func (s *State) collapse(f func(m []float64, p int) float64) {
	p := s.P()
	for a := 0; a < s.Pairs; a++ {
		s.K[a] = f(s.K[a*p*p:(a+1)*p*p], p)
		if s.NTK {
			s.Theta[a] = f(s.Theta[a*p*p:(a+1)*p*p], p)
		}
	}
	s.K = s.K[:s.Pairs]
	if s.NTK {
		s.Theta = s.Theta[:s.Pairs]
	}
	s.G, s.H, s.W = 1, 1, 1
	s.V1 = s.V1[:s.Pairs]
	s.V2 = s.V2[:s.Pairs]
}

// DiagMean collapses the positions by averaging the diagonal p = q: the
// kernel of a dense layer applied to the flattened features (without its
// weight and bias variances).
func (s *State) DiagMean() {
	if s.P() == 1 {
		return
	}
	s.collapse(func(m []float64, p int) float64 {
		var t float64
		for i := 0; i < p; i++ {
			t += m[i*p+i]
		}
		return t / float64(p)
	})
}

// MeanAll collapses the positions by averaging all P×P entries: global
// average pooling over every position (group pooling of GCNN features,
// or global average pooling of CNN features).
func (s *State) MeanAll() {
	if s.P() == 1 {
		return
	}
	s.collapse(func(m []float64, p int) float64 {
		var t float64
		for _, v := range m {
			t += v
		}
		return t / float64(p*p)
	})
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
	p := s.P()
	pout := g
	out := s.Scratch(s.Pairs * pout * pout)
	s.spatialMeanInto(s.K, out, p, g, hw)
	old := s.K
	s.K = out
	s.Recycle(old)
	if s.NTK {
		tout := s.Scratch(s.Pairs * pout * pout)
		s.spatialMeanInto(s.Theta, tout, p, g, hw)
		old := s.Theta
		s.Theta = tout
		s.Recycle(old)
	}
	s.H, s.W = 1, 1
	s.V1 = s.V1[:s.Pairs*g]
	s.V2 = s.V2[:s.Pairs*g]
}

func (s *State) spatialMeanInto(in, out []float64, p, g, hw int) {
	inv := 1 / float64(hw*hw)
	for a := 0; a < s.Pairs; a++ {
		m := in[a*p*p : (a+1)*p*p]
		o := out[a*g*g : (a+1)*g*g]
		for r := 0; r < g; r++ {
			for r2 := 0; r2 < g; r2++ {
				var t float64
				for i := 0; i < hw; i++ {
					row := m[(r*hw+i)*p+r2*hw : (r*hw+i)*p+(r2+1)*hw]
					for _, v := range row {
						t += v
					}
				}
				o[r*g+r2] = t * inv
			}
		}
	}
}

// AvgPool applies k×k average pooling with stride k (the spatial size must
// be divisible by k).
func (s *State) AvgPool(k int) {
	g, h, w := s.G, s.H, s.W
	oh, ow := h/k, w/k
	p := s.P()
	po := g * oh * ow
	inv := 1 / float64(k*k*k*k)
	apply := func(in []float64) []float64 {
		out := s.Scratch(s.Pairs * po * po)
		clear(out)
		for a := 0; a < s.Pairs; a++ {
			m := in[a*p*p : (a+1)*p*p]
			o := out[a*po*po : (a+1)*po*po]
			for pi := 0; pi < p; pi++ {
				r, rem := pi/(h*w), pi%(h*w)
				oi := r*oh*ow + (rem/w/k)*ow + (rem%w)/k
				row := m[pi*p : (pi+1)*p]
				orow := o[oi*po : (oi+1)*po]
				for qi, v := range row {
					r2, rem2 := qi/(h*w), qi%(h*w)
					orow[r2*oh*ow+(rem2/w/k)*ow+(rem2%w)/k] += v * inv
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
