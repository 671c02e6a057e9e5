package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// HartreeEV is the Hartree energy in electronvolts (CODATA 2018). The QM9
// files give energies in Hartree.
const HartreeEV = 27.211386245988

// QM9Property indexes the 15 scalar properties on the second line of a QM9
// .xyz file, in file order.
type QM9Property int

// The QM9 properties and their units in the files.
const (
	QM9A     QM9Property = iota // rotational constant A, GHz
	QM9B                        // rotational constant B, GHz
	QM9C                        // rotational constant C, GHz
	QM9Mu                       // dipole moment, Debye
	QM9Alpha                    // isotropic polarizability, Bohr³
	QM9HOMO                     // energy of the highest occupied orbital, Hartree
	QM9LUMO                     // energy of the lowest unoccupied orbital, Hartree
	QM9Gap                      // LUMO - HOMO gap, Hartree
	QM9R2                       // electronic spatial extent, Bohr²
	QM9ZPVE                     // zero point vibrational energy, Hartree
	QM9U0                       // internal energy at 0 K, Hartree
	QM9U                        // internal energy at 298.15 K, Hartree
	QM9H                        // enthalpy at 298.15 K, Hartree
	QM9G                        // free energy at 298.15 K, Hartree
	QM9Cv                       // heat capacity at 298.15 K, cal/(mol K)

	// NumQM9Properties is the number of properties.
	NumQM9Properties = 15
)

var qm9PropNames = [NumQM9Properties]string{"A", "B", "C", "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "Cv"}
var qm9PropUnits = [NumQM9Properties]string{"GHz", "GHz", "GHz", "D", "Bohr^3", "Ha", "Ha", "Ha", "Bohr^2", "Ha", "Ha", "Ha", "Ha", "Ha", "cal/(mol K)"}

// String returns the property's name as the QM9 paper writes it, e.g. "U0".
func (p QM9Property) String() string {
	if p < 0 || p >= NumQM9Properties {
		return fmt.Sprintf("QM9Property(%d)", int(p))
	}
	return qm9PropNames[p]
}

// Unit returns the unit of the property in the files, e.g. "Ha".
func (p QM9Property) Unit() string {
	if p < 0 || p >= NumQM9Properties {
		return ""
	}
	return qm9PropUnits[p]
}

// IsEnergy reports whether the property is an energy (given in Hartree).
func (p QM9Property) IsEnergy() bool { return p.Unit() == "Ha" }

// ParseQM9Property returns the property with the given name, ignoring case
// ("U0", "u0", "gap", ...).
func ParseQM9Property(name string) (QM9Property, error) {
	for i, n := range qm9PropNames {
		if strings.EqualFold(n, name) {
			return QM9Property(i), nil
		}
	}
	return 0, fmt.Errorf("unknown QM9 property %q (known: %s)", name, strings.Join(qm9PropNames[:], ", "))
}

// Molecule is one molecule of QM9: its atoms, their positions and the
// computed properties.
type Molecule struct {
	// ID is the molecule's index in the database (the N of "gdb N").
	ID int
	// Z holds the atomic numbers.
	Z []int
	// Pos holds the atom positions in Ångström.
	Pos [][3]float64
	// Charges holds the Mulliken partial charges in units of e.
	Charges []float64
	// Props holds the 15 properties in file units (see QM9Property).
	Props [NumQM9Properties]float64
	// Frequencies holds the harmonic vibrational frequencies in cm⁻¹.
	Frequencies []float64
	// SMILES holds the SMILES from GDB-17 and from the relaxed geometry.
	SMILES [2]string
	// InChI holds the InChI from GDB-17 and from the relaxed geometry.
	InChI [2]string
}

// qm9Elements lists element symbols by atomic number (index 0 unused); QM9
// uses only H, C, N, O and F.
var qm9Elements = [...]string{"", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar"}

// Symbols returns the element symbols of the atoms.
func (m *Molecule) Symbols() []string {
	s := make([]string, len(m.Z))
	for i, z := range m.Z {
		if z > 0 && z < len(qm9Elements) {
			s[i] = qm9Elements[z]
		}
	}
	return s
}

// atomicNumber returns the atomic number of an element symbol.
func atomicNumber(sym string) (int, bool) {
	for z, s := range qm9Elements {
		if z > 0 && s == sym {
			return z, true
		}
	}
	return 0, false
}

// Limits on the QM9 input, far above the real data (at most 29 atoms and
// about 3 KB per file).
const (
	qm9MaxAtoms     = 1000
	qm9MaxFileBytes = 1 << 20
)

// ParseXYZ parses one QM9 .xyz file: the atom count; "gdb N" and the 15
// properties; one line per atom with the element, x, y, z and the Mulliken
// charge; the frequencies; the two SMILES; the two InChI. Numbers may use
// Mathematica's notation for exponents (1.2*^-6). name prefixes errors.
func ParseXYZ(r io.Reader, name string) (*Molecule, error) {
	b, err := io.ReadAll(io.LimitReader(r, qm9MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > qm9MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a QM9 .xyz file", name, qm9MaxFileBytes)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	lineErr := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s: line %d: %s", name, i+1, fmt.Sprintf(format, args...))
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || n < 1 || n > qm9MaxAtoms {
		return nil, lineErr(0, "atom count %q is not a number between 1 and %d", strings.TrimSpace(lines[0]), qm9MaxAtoms)
	}
	if len(lines) < n+5 {
		return nil, fmt.Errorf("%s: truncated: %d atoms need %d lines, file has %d", name, n, n+5, len(lines))
	}
	if len(lines) > n+5 {
		return nil, lineErr(n+5, "unexpected extra line after the InChI")
	}
	m := &Molecule{Z: make([]int, n), Pos: make([][3]float64, n), Charges: make([]float64, n)}

	f := strings.Fields(lines[1])
	if len(f) != 2+NumQM9Properties || f[0] != "gdb" {
		return nil, lineErr(1, "want \"gdb\", the molecule index and %d properties, got %d fields", NumQM9Properties, len(f))
	}
	if m.ID, err = strconv.Atoi(f[1]); err != nil || m.ID < 1 {
		return nil, lineErr(1, "molecule index %q is not a positive integer", f[1])
	}
	for i := range NumQM9Properties {
		if m.Props[i], err = parseQM9Float(f[2+i]); err != nil {
			return nil, lineErr(1, "property %s: %v", QM9Property(i), err)
		}
	}
	for a := range n {
		li := 2 + a
		f := strings.Fields(lines[li])
		if len(f) != 5 {
			return nil, lineErr(li, "want element, x, y, z and charge, got %d fields", len(f))
		}
		z, ok := atomicNumber(f[0])
		if !ok {
			return nil, lineErr(li, "unknown element %q", f[0])
		}
		m.Z[a] = z
		for k := range 3 {
			if m.Pos[a][k], err = parseQM9Float(f[1+k]); err != nil {
				return nil, lineErr(li, "coordinate: %v", err)
			}
		}
		if m.Charges[a], err = parseQM9Float(f[4]); err != nil {
			return nil, lineErr(li, "charge: %v", err)
		}
	}
	fl := 2 + n
	for _, s := range strings.Fields(lines[fl]) {
		v, err := parseQM9Float(s)
		if err != nil {
			return nil, lineErr(fl, "frequency: %v", err)
		}
		m.Frequencies = append(m.Frequencies, v)
	}
	for k, dst := range []*[2]string{&m.SMILES, &m.InChI} {
		li := fl + 1 + k
		f := strings.Fields(lines[li])
		if len(f) != 2 {
			return nil, lineErr(li, "want two %s strings, got %d fields", [2]string{"SMILES", "InChI"}[k], len(f))
		}
		dst[0], dst[1] = f[0], f[1]
	}
	return m, nil
}

// parseQM9Float parses a finite number, accepting Mathematica's "*^" for
// the exponent.
func parseQM9Float(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.Replace(s, "*^", "e", 1), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return v, nil
}

// QM9Set is a set of QM9 molecules, sorted by ID.
type QM9Set struct {
	Molecules []Molecule
}

// Target returns one property of every molecule. unit "" (or the
// property's own unit) keeps the file units; energies (Hartree) may also be
// asked for in "eV" or "meV".
func (q *QM9Set) Target(p QM9Property, unit string) ([]float64, error) {
	if p < 0 || p >= NumQM9Properties {
		return nil, fmt.Errorf("qm9: no property %d", int(p))
	}
	scale := 1.0
	switch {
	case unit == "" || unit == p.Unit():
	case p.IsEnergy() && unit == "eV":
		scale = HartreeEV
	case p.IsEnergy() && unit == "meV":
		scale = 1000 * HartreeEV
	case p.IsEnergy():
		return nil, fmt.Errorf("qm9: cannot express %s in %q (want Ha, eV or meV)", p, unit)
	default:
		return nil, fmt.Errorf("qm9: %s is in %s and cannot be converted to %q", p, p.Unit(), unit)
	}
	out := make([]float64, len(q.Molecules))
	for i := range q.Molecules {
		out[i] = q.Molecules[i].Props[p] * scale
	}
	return out, nil
}

// LoadQM9 reads the QM9 archive dsgdb9nsd.xyz.tar.bz2, looked up like
// every registry dataset (see Spec.Locations) and verified against its
// published MD5 first.
func LoadQM9(dataDir string) (*QM9Set, error) {
	paths, err := locateVerified("qm9", dataDir, "dsgdb9nsd.xyz.tar.bz2")
	if err != nil {
		return nil, err
	}
	return ReadQM9(paths[0])
}

// ReadQM9 reads QM9 molecules from path without checking its checksum:
// a tar archive of .xyz files, compressed with bzip2 (as published) or gzip
// or not at all, or a directory of .xyz files. The molecules are returned
// sorted by ID.
func ReadQM9(p string) (*QM9Set, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		files, err := filepath.Glob(filepath.Join(p, "*.xyz"))
		if err != nil {
			return nil, err
		}
		q := &QM9Set{}
		for _, fn := range files {
			f, err := os.Open(fn)
			if err != nil {
				return nil, err
			}
			m, err := ParseXYZ(f, fn)
			f.Close()
			if err != nil {
				return nil, err
			}
			q.Molecules = append(q.Molecules, *m)
		}
		return q, sortQM9(q, p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readQM9Archive(f, p)
}

// readQM9Archive reads the .xyz members of a tar stream, compressed with
// bzip2 or gzip or not at all.
func readQM9Archive(r io.Reader, name string) (*QM9Set, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	magic, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(magic, []byte("BZh")):
		src = bzip2.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: corrupt gzip data: %w", name, err)
		}
		defer zr.Close()
		src = zr
	}
	tr := tar.NewReader(src)
	q := &QM9Set{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: corrupt archive after %d molecules: %w", name, len(q.Molecules), err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".xyz") {
			continue
		}
		if h.Size > qm9MaxFileBytes {
			return nil, fmt.Errorf("%s: %s claims %d bytes; not a QM9 .xyz file", name, h.Name, h.Size)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			var se bzip2.StructuralError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s: corrupt bzip2 data in %s: %w", name, h.Name, se)
			}
			return nil, fmt.Errorf("%s: corrupt archive: %s: %w", name, h.Name, err)
		}
		m, err := ParseXYZ(bytes.NewReader(b), name+": "+path.Base(h.Name))
		if err != nil {
			return nil, err
		}
		q.Molecules = append(q.Molecules, *m)
	}
	if len(q.Molecules) == 0 {
		return nil, fmt.Errorf("%s: no .xyz files in the archive", name)
	}
	return q, sortQM9(q, name)
}

// sortQM9 sorts the molecules by ID and refuses duplicates.
func sortQM9(q *QM9Set, name string) error {
	slices.SortFunc(q.Molecules, func(a, b Molecule) int { return a.ID - b.ID })
	for i := 1; i < len(q.Molecules); i++ {
		if q.Molecules[i].ID == q.Molecules[i-1].ID {
			return fmt.Errorf("%s: molecule %d appears twice", name, q.Molecules[i].ID)
		}
	}
	return nil
}
