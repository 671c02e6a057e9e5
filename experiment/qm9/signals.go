package qm9

import (
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/sphere"
)

// Size of the equirectangular maps of the signals figure.
const (
	mapRows = 45
	mapCols = 90
)

// signalMaps returns the 10 spherical signals of atom a of m on an
// equirectangular map (mapRows polar angles θ = π(i + ½)/mapRows from the
// north pole, mapCols longitudes φ = 2π j/mapCols), each normalised to
// its largest value (all-zero channels stay zero), and their labels.
func signalMaps(m *data.Molecule, a int) ([][]float32, []string, error) {
	el, err := elements(m)
	if err != nil {
		return nil, nil, err
	}
	if a < 0 || a >= len(m.Z) {
		return nil, nil, fmt.Errorf("qm9: molecule %d has %d atoms, no atom %d", m.ID, len(m.Z), a+1)
	}
	dirs := make([][3]float64, mapRows*mapCols)
	for i := range mapRows {
		for j := range mapCols {
			dirs[i*mapCols+j] = sphere.UnitVector(math.Pi*(float64(i)+0.5)/mapRows, 2*math.Pi*float64(j)/mapCols)
		}
	}
	row := make([]float64, sphericalChannels*len(dirs))
	if err := atomSignals(m, el, a, dirs, sphericalBeta(sphericalCutoff), row); err != nil {
		return nil, nil, err
	}
	syms := []string{"H", "C", "N", "O", "F"}
	var maps [][]float32
	var labels []string
	for c := range sphericalChannels {
		ch := row[c*len(dirs) : (c+1)*len(dirs)]
		var top float64
		for _, v := range ch {
			top = math.Max(top, v)
		}
		img := make([]float32, len(ch))
		for p, v := range ch {
			if top > 0 {
				img[p] = float32(v / top)
			}
		}
		maps = append(maps, img)
		labels = append(labels, fmt.Sprintf("%s r^-%g  max %.3g", syms[c/len(sphericalPowers)], sphericalPowers[c%len(sphericalPowers)], top))
	}
	return maps, labels, nil
}

// SignalsImage draws the spherical signals that atom a (0-based) of m sees
// as a grid of equirectangular maps, one per channel (element H, C, N, O,
// F by row; r⁻² left, r⁻⁶ right): polar angle θ from 0 (top) to π, longitude
// φ from 0 (left) to 2π, each map scaled to its own maximum (printed in its
// label). The signals are evaluated from their formula (see the qm9
// experiment's report), not sampled on the model's grid.
func SignalsImage(m *data.Molecule, a int) (image.Image, error) {
	maps, labels, err := signalMaps(m, a)
	if err != nil {
		return nil, err
	}
	return report.ImageGrid(maps, 1, mapRows, mapCols, len(sphericalPowers), labels, 2), nil
}

// showcase returns the first of the (at most 50 first) molecules whose
// first atom sees the most elements, to show its signals.
func showcase(mols []data.Molecule) data.Molecule {
	best, most := 0, -1
	for i := range min(len(mols), 50) {
		seen := map[int]bool{}
		for _, z := range mols[i].Z[1:] {
			seen[z] = true
		}
		if len(seen) > most {
			best, most = i, len(seen)
		}
	}
	return mols[best]
}

// signalsSection returns the report section with the spherical signals of
// the first atom of m, described by text.
func signalsSection(m data.Molecule, text string) report.Section {
	sec := report.Section{Heading: "Spherical signals", Text: text}
	img, err := SignalsImage(&m, 0)
	if err != nil {
		sec.Text += "\n\nThe figure could not be drawn: " + err.Error()
		return sec
	}
	syms := strings.Join(m.Symbols(), " ")
	sec.Figures = []report.Figure{{Name: "signals", Image: img, Caption: fmt.Sprintf("The 10 spherical signals of atom 1 (%s) of test molecule %d (atoms %s), one row per element (H, C, N, O, F), r⁻² left and r⁻⁶ right, on equirectangular maps (polar angle θ from 0 at the top to π at the bottom, longitude φ from 0 to 2π left to right), evaluated from the formula at %d×%d directions (the model sees them on the %s grid), each map scaled to its own maximum (printed; black is 0, white the maximum; channels of absent elements are black).", m.Symbols()[0], m.ID, syms, mapRows, mapCols, "band-limit-L Gauss–Legendre")}}
	return sec
}
