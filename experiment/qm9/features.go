package qm9

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
)

// The elements of QM9 (H, C, N, O, F) in feature order, with their
// standard atomic weights (for the centre of mass).
var (
	featZ    = []int{1, 6, 7, 8, 9}
	featMass = []float64{1.008, 12.011, 14.007, 15.999, 18.998}
)

// representation documents the input representation.
const representation = "Each molecule is a vector of 8·A numbers (A = max_atoms = 29 for QM9): the atoms are centred at their centre of mass (standard atomic weights) and sorted by a rotation-invariant key (atomic number descending, then distance from the centre of mass ascending, then file order); the first 3·A entries are their coordinates x, y, z in Å divided by coord_scale, atom after atom, the last 5·A their one-hot elements (H, C, N, O, F); absent atoms are zeros. A rotation R acts on the coordinate block only, as R on each atom's 3-vector (group.VectorRep with A copies), and leaves the order and the one-hot block unchanged, so the representation is exactly rotation covariant."

// features returns the representation of the molecules (n × 8A, see
// representation) and their element counts (n × 5).
func features(mols []data.Molecule, maxAtoms int, scale float64) ([]float64, [][5]float64, error) {
	A := maxAtoms
	D := 8 * A
	x := make([]float64, len(mols)*D)
	counts := make([][5]float64, len(mols))
	for i := range mols {
		m := &mols[i]
		if len(m.Z) > A {
			return nil, nil, fmt.Errorf("qm9: molecule %d has %d atoms, more than max_atoms = %d", m.ID, len(m.Z), A)
		}
		el, pos, err := centred(m, &counts[i])
		if err != nil {
			return nil, nil, err
		}
		row := x[i*D : (i+1)*D]
		for s, a := range atomOrder(m, pos) {
			for k := range 3 {
				row[3*s+k] = pos[a][k] / scale
			}
			row[3*A+5*s+el[a]] = 1
		}
	}
	return x, counts, nil
}

// centred returns the feature index of the element of each atom of m and
// the atoms' positions relative to the centre of mass, and adds the
// element counts to counts.
func centred(m *data.Molecule, counts *[5]float64) ([]int, [][3]float64, error) {
	el := make([]int, len(m.Z))
	var com [3]float64
	var mass float64
	for a, z := range m.Z {
		el[a] = slices.Index(featZ, z)
		if el[a] < 0 {
			return nil, nil, fmt.Errorf("qm9: molecule %d has element Z = %d (want H, C, N, O, F)", m.ID, z)
		}
		w := featMass[el[a]]
		for k := range 3 {
			com[k] += w * m.Pos[a][k]
		}
		mass += w
		counts[el[a]]++
	}
	for k := range 3 {
		com[k] /= mass
	}
	pos := make([][3]float64, len(m.Z))
	for a := range m.Z {
		for k := range 3 {
			pos[a][k] = m.Pos[a][k] - com[k]
		}
	}
	return el, pos, nil
}

// atomOrder returns the atoms of m in the rotation-invariant order of the
// representation: atomic number descending, then distance from the centre
// of mass (pos are centred positions) ascending, then file order.
func atomOrder(m *data.Molecule, pos [][3]float64) []int {
	dist := make([]float64, len(m.Z))
	for a := range m.Z {
		dist[a] = math.Sqrt(pos[a][0]*pos[a][0] + pos[a][1]*pos[a][1] + pos[a][2]*pos[a][2])
	}
	order := experiment.Indices(len(m.Z))
	sort.SliceStable(order, func(p, q int) bool {
		a, b := order[p], order[q]
		if m.Z[a] != m.Z[b] {
			return m.Z[a] > m.Z[b]
		}
		return dist[a] < dist[b]
	})
	return order
}

// rotate applies element a of rep (acting on the 3A coordinates) to the n
// molecules of x (each D values), leaving the other features.
func rotate(rep *group.Rep, a int, dst, src []float64, n, D int) {
	c := rep.Dim()
	for i := 0; i < n; i++ {
		s, d := src[i*D:(i+1)*D], dst[i*D:(i+1)*D]
		group.Apply(rep, a, d[:c], s[:c])
		copy(d[c:], s[c:])
	}
}
