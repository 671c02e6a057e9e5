package qm9

import (
	"fmt"
	"math"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/sphere"
)

// sphericalCutoff is the cutoff angle of the angular weight of the
// spherical signals: the weight falls to 5% at this angle from the
// direction of the neighbour (Misof, Kessel & Gerken; the reference code's
// molecules example uses π/4).
const sphericalCutoff = math.Pi / 4

// sphericalText documents the spherical signals.
const sphericalText = "Each atom i of a molecule sees the other atoms as signals on the sphere of directions x, one channel per element e (H, C, N, O, F) and power p (r⁻², r⁻⁶), channel c = 2e + p: f_i,c(x) = Σ_{j≠i, element(j)=e} Z_i Z_j r_ij^−p exp(−(r̂_ij·x − 1)²/β), with r_ij the distance in Å, r̂_ij the unit vector from atom i to atom j, Z the atomic numbers and β = −(cos(π/4) − 1)²/ln 0.05, so that the Gaussian angular weight falls to 5% at the cutoff angle π/4 (the formula of the reference code's molecules example). The signals are sampled on the sphere grid of band limit L (L Gauss–Legendre rings in cos θ × 2L−1 longitudes, the s2conv input layout [10, L, 2L−1]; the reference samples the Driscoll–Healy grid, 2L × 2L−1). Rotating the molecule rotates every atom's signals; the sampled signals are not band-limited, so the grid sees a rotated signal only up to aliasing."

// sphericalDescription returns sphericalText and says how the signals of a
// run were put on the grid (band limit L, quadrature lq, see
// sphericalFeatures).
func sphericalDescription(L, lq int) string {
	if lq > L {
		return sphericalText + fmt.Sprintf(" Here L = %d, and each signal is band-limited first: its coefficients of degree l < %d are computed by the quadrature of the grid of band limit %d and synthesised on the grid of band limit %d, so that the network sees a band-limited signal and a rotation of the molecule rotates it exactly (up to the quadrature error of the coefficients).", L, L, lq, L)
	}
	return sphericalText + fmt.Sprintf(" Here L = %d, and the signals are sampled as they are, like the reference code does (signal_quadrature 0).", L)
}

// sphericalPowers are the powers of the distance in the signal channels.
var sphericalPowers = [2]float64{2, 6}

// sphericalChannels is the number of signal channels (elements × powers).
const sphericalChannels = 5 * len(sphericalPowers)

// sphericalBeta returns the width β of the Gaussian angular weight
// exp(−(cos α − 1)²/β) that falls to 5% at the angle cutoff.
func sphericalBeta(cutoff float64) float64 {
	c := math.Cos(cutoff) - 1
	return -c * c / math.Log(0.05)
}

// atomSet holds the spherical signals of the atoms of n molecules, one row
// of 10·L(2L−1) values per atom (layout [10, L, 2L−1]); the atoms of
// molecule i are the rows off[i] to off[i+1]−1.
type atomSet struct {
	x   []float64
	off []int
	dim int
}

// atoms returns the number of atoms of the set.
func (s *atomSet) atoms() int { return s.off[len(s.off)-1] }

// rows returns the signals of the atoms of molecules i0 to i1−1.
func (s *atomSet) rows(i0, i1 int) []float64 {
	return s.x[s.off[i0]*s.dim : s.off[i1]*s.dim]
}

// sphericalFeatures returns the spherical signals of the atoms of mols on
// the grid of band limit L (see sphericalText). With lq > L each signal is
// first band-limited: its coefficients of degree l < L are computed by the
// quadrature of the grid of band limit lq (exact for signals of band limit
// lq − L + 1 or less, and the closer the larger lq) and synthesised on the
// grid of band limit L, so that the network sees a band-limited signal
// (rotating the molecule then rotates the sampled signal exactly, up to the
// quadrature error of the coefficients). lq <= L samples the signals
// themselves, as the reference code does.
func sphericalFeatures(mols []data.Molecule, L, lq int) (*atomSet, error) {
	g := sphere.NewS2Grid(L)
	s := &atomSet{off: make([]int, len(mols)+1), dim: sphericalChannels * g.Len()}
	for i := range mols {
		s.off[i+1] = s.off[i] + len(mols[i].Z)
	}
	s.x = make([]float64, s.atoms()*s.dim)
	sample := g
	if lq > L {
		sample = sphere.NewS2Grid(lq)
	}
	dirs := make([][3]float64, sample.Len())
	for p := range dirs {
		dirs[p] = sample.Point(p)
	}
	fine := make([]float64, sphericalChannels*sample.Len())
	coef := make([]float64, sample.L*sample.L)
	beta := sphericalBeta(sphericalCutoff)
	for i := range mols {
		m := &mols[i]
		el, err := elements(m)
		if err != nil {
			return nil, err
		}
		for a := range m.Z {
			row := s.x[(s.off[i]+a)*s.dim : (s.off[i]+a+1)*s.dim]
			if sample == g {
				if err := atomSignals(m, el, a, dirs, beta, row); err != nil {
					return nil, err
				}
				continue
			}
			clear(fine)
			if err := atomSignals(m, el, a, dirs, beta, fine); err != nil {
				return nil, err
			}
			for c := range sphericalChannels {
				sample.Forward(fine[c*sample.Len():(c+1)*sample.Len()], coef)
				g.Inverse(coef[:L*L], row[c*g.Len():(c+1)*g.Len()])
			}
		}
	}
	return s, nil
}

// elements returns the feature index (H, C, N, O, F) of every atom of m.
func elements(m *data.Molecule) ([]int, error) {
	el := make([]int, len(m.Z))
	for a, z := range m.Z {
		el[a] = -1
		for e, fz := range featZ {
			if z == fz {
				el[a] = e
			}
		}
		if el[a] < 0 {
			return nil, fmt.Errorf("qm9: molecule %d has element Z = %d (want H, C, N, O, F)", m.ID, z)
		}
	}
	return el, nil
}

// atomSignals adds the signals that atom a of m sees at the directions
// dirs into row (layout [10, len(dirs)]).
func atomSignals(m *data.Molecule, el []int, a int, dirs [][3]float64, beta float64, row []float64) error {
	np := len(dirs)
	for b := range m.Z {
		if b == a {
			continue
		}
		var u [3]float64
		var r2 float64
		for k := range 3 {
			u[k] = m.Pos[b][k] - m.Pos[a][k]
			r2 += u[k] * u[k]
		}
		r := math.Sqrt(r2)
		if !(r > 1e-6) {
			return fmt.Errorf("qm9: molecule %d: atoms %d and %d are at the same position", m.ID, a+1, b+1)
		}
		zz := float64(m.Z[a] * m.Z[b])
		for k := range 3 {
			u[k] /= r
		}
		for pi, pw := range sphericalPowers {
			amp := zz * math.Pow(r, -pw)
			ch := row[(len(sphericalPowers)*el[b]+pi)*np : (len(sphericalPowers)*el[b]+pi+1)*np]
			for p, x := range dirs {
				c := u[0]*x[0] + u[1]*x[1] + u[2]*x[2] - 1
				ch[p] += amp * math.Exp(-c*c/beta)
			}
		}
	}
	return nil
}
