package qm9

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/sphere"
)

// syntheticParams describe the molecules of qm9-synthetic.
type syntheticParams struct {
	// Molecules is the number of molecules generated.
	Molecules int `yaml:"molecules"`
	// MinAtoms and MaxAtoms bound the atoms per molecule (uniform).
	MinAtoms int    `yaml:"min_atoms"`
	MaxAtoms int    `yaml:"max_atoms"`
	Seed     uint64 `yaml:"seed"`
}

// The synthetic chemistry: element probabilities (H, C, N, O, F), the
// QM9 reference energies of the free atoms (U0, Hartree), covalent radii
// (Å) and the Morse parameters.
var (
	synthProb   = [5]float64{0.4, 0.3, 0.1, 0.15, 0.05}
	synthAtomE  = [5]float64{-0.500273, -37.846772, -54.583861, -75.064579, -99.718730}
	synthRadius = [5]float64{0.31, 0.76, 0.71, 0.66, 0.57}
)

const (
	morseDepth = 0.01 // Hartree, times sqrt(Z_i Z_j)
	morseWidth = 1.8  // 1/Å
	// synthMinDist and synthMaxDist bound the distance of a new atom from
	// the atom it is attached to; no two atoms are closer than
	// synthMinDist.
	synthMinDist = 0.95
	synthMaxDist = 1.6
)

// syntheticText describes the synthetic molecules.
const syntheticText = "Synthetic molecules replace QM9: random point clouds of H, C, N, O, F atoms (probabilities 0.4, 0.3, 0.1, 0.15, 0.05; the first atom is C), grown atom by atom, each new atom at a uniform distance of 0.95–1.6 Å in a uniform direction from a random earlier atom and at least 0.95 Å from all others. The target U0 (Hartree, reported in meV) is an exactly rotation- and translation-invariant sum of the free atoms' QM9 reference energies and Morse pair potentials over all pairs, V_ij(r) = D_ij[(1 − e^{−a(r − r_ij)})² − 1] with D_ij = 0.01 Ha·sqrt(Z_i Z_j), a = 1.8/Å and r_ij the sum of the covalent radii (H 0.31, C 0.76, N 0.71, O 0.66, F 0.57 Å)."

// check validates the parameters.
func (sp *syntheticParams) check() error {
	switch {
	case sp.Molecules < 1:
		return fmt.Errorf("molecules: %d, want at least 1", sp.Molecules)
	case sp.MinAtoms < 2 || sp.MaxAtoms < sp.MinAtoms:
		return fmt.Errorf("min_atoms %d, max_atoms %d: want 2 <= min_atoms <= max_atoms", sp.MinAtoms, sp.MaxAtoms)
	case sp.MaxAtoms > 29:
		return errors.New("max_atoms: at most 29 (the size of QM9's molecules)")
	}
	return nil
}

// describe says what the molecules are, for the report.
func (sp *syntheticParams) describe() string {
	return fmt.Sprintf("%d synthetic molecules of %d to %d atoms (seed %d)", sp.Molecules, sp.MinAtoms, sp.MaxAtoms, sp.Seed)
}

// syntheticMolecules generates the molecules of sp (syntheticText), with
// U0 set in Props.
func syntheticMolecules(sp *syntheticParams) ([]data.Molecule, error) {
	if err := sp.check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(sp.Seed, 0x6d6f6c))
	mols := make([]data.Molecule, sp.Molecules)
	for i := range mols {
		n := sp.MinAtoms + rng.IntN(sp.MaxAtoms-sp.MinAtoms+1)
		m := &mols[i]
		m.ID = i + 1
		m.Z = make([]int, n)
		m.Pos = make([][3]float64, n)
		el := make([]int, n)
		for a := range n {
			el[a] = 1
			if a > 0 {
				el[a] = drawElement(rng)
				m.Pos[a] = placeAtom(rng, m.Pos[:a])
			}
			m.Z[a] = featZ[el[a]]
		}
		m.Props[data.QM9U0] = syntheticEnergy(el, m.Pos)
	}
	return mols, nil
}

// drawElement draws an element index with the probabilities synthProb.
func drawElement(rng *rand.Rand) int {
	u := rng.Float64()
	for e, p := range synthProb {
		if u < p {
			return e
		}
		u -= p
	}
	return len(synthProb) - 1
}

// placeAtom returns a position next to a random atom of pos, at least
// synthMinDist from all of them (rejection sampling).
func placeAtom(rng *rand.Rand, pos [][3]float64) [3]float64 {
	for {
		c := pos[rng.IntN(len(pos))]
		u := sphere.Random(rng).Apply([3]float64{0, 0, 1})
		r := synthMinDist + (synthMaxDist-synthMinDist)*rng.Float64()
		x := [3]float64{c[0] + r*u[0], c[1] + r*u[1], c[2] + r*u[2]}
		ok := true
		for _, q := range pos {
			if dist(x, q) < synthMinDist {
				ok = false
				break
			}
		}
		if ok {
			return x
		}
	}
}

// syntheticEnergy returns U0 (Hartree) of atoms el at pos: the free atoms'
// energies plus the Morse potentials of all pairs.
func syntheticEnergy(el []int, pos [][3]float64) float64 {
	var u float64
	for i, e := range el {
		u += synthAtomE[e]
		for j := i + 1; j < len(el); j++ {
			f := el[j]
			d := morseDepth * math.Sqrt(float64(featZ[e]*featZ[f]))
			x := 1 - math.Exp(-morseWidth*(dist(pos[i], pos[j])-synthRadius[e]-synthRadius[f]))
			u += d * (x*x - 1)
		}
	}
	return u
}

// dist returns the Euclidean distance of x and y.
func dist(x, y [3]float64) float64 {
	var s float64
	for k := range 3 {
		s += (x[k] - y[k]) * (x[k] - y[k])
	}
	return math.Sqrt(s)
}
