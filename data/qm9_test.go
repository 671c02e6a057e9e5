package data

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// QM9 files in the published format (tabs, trailing tabs, Mathematica
// exponents). The first is molecule 1, methane, as published.
const (
	xyzMethane = "5\n" +
		"gdb 1\t157.7118\t157.70997\t157.70699\t0.\t13.21\t-0.3877\t0.1171\t0.5048\t35.3641\t0.044749\t-40.47893\t-40.476062\t-40.475117\t-40.498597\t6.469\t\n" +
		"C\t-0.0126981359\t 1.0858041578\t 0.0080009958\t-0.535689\n" +
		"H\t 0.002150416\t-0.0060313176\t 0.0019761204\t 0.133921\n" +
		"H\t 1.0117308433\t 1.4637511618\t 0.0002765748\t 0.133922\n" +
		"H\t-0.540815069\t 1.4475266138\t-0.8766437152\t 0.133923\n" +
		"H\t-0.5238136345\t 1.4379326443\t 0.9063972942\t 0.133923\n" +
		"1341.307\t1341.3284\t1341.365\t1562.6731\t1562.7453\t3038.3205\t3151.6034\t3151.6788\t3151.7078\n" +
		"C\tC\t\n" +
		"InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4\n"
	xyzWater = "3\r\n" +
		"gdb 3\t799.58812\t437.90386\t282.94545\t1.8511\t6.31\t-0.2928\t0.0687\t0.3615\t19.0002\t0.021375\t-76.404702\t-76.401867\t-76.400922\t-76.422349\t6.002\t\r\n" +
		"O\t-0.0343604951\t 0.9775395708\t 0.0076015923\t-0.589706\r\n" +
		"H\t 0.0647664923\t 0.0205721989\t 0.0015346341\t 0.294853\r\n" +
		"H\t 0.8717903737\t 1.3008924594\t 3.4*^-6\t 0.294853\r\n" +
		"1684.7661\t3843.7416\t3950.7195\r\n" +
		"O\tO\t\r\n" +
		"InChI=1S/H2O/h1H2\tInChI=1S/H2O/h1H2\r\n"
)

func TestParseXYZ(t *testing.T) {
	m, err := ParseXYZ(strings.NewReader(xyzMethane), "dsgdb9nsd_000001.xyz")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 1 || !equalInts(m.Z, []int{6, 1, 1, 1, 1}) || strings.Join(m.Symbols(), "") != "CHHHH" {
		t.Fatalf("ID %d, Z %v", m.ID, m.Z)
	}
	if m.Pos[1] != [3]float64{0.002150416, -0.0060313176, 0.0019761204} || m.Charges[0] != -0.535689 {
		t.Errorf("atom data: %v %v", m.Pos[1], m.Charges)
	}
	if m.Props[QM9U0] != -40.47893 || m.Props[QM9A] != 157.7118 || m.Props[QM9Cv] != 6.469 || m.Props[QM9Mu] != 0 {
		t.Errorf("properties %v", m.Props)
	}
	if len(m.Frequencies) != 9 || m.Frequencies[8] != 3151.7078 {
		t.Errorf("frequencies %v", m.Frequencies)
	}
	if m.SMILES != [2]string{"C", "C"} || m.InChI[1] != "InChI=1S/CH4/h1H4" {
		t.Errorf("SMILES %v InChI %v", m.SMILES, m.InChI)
	}
	w, err := ParseXYZ(strings.NewReader(xyzWater), "water")
	if err != nil {
		t.Fatal(err)
	}
	if w.Pos[2][2] != 3.4e-6 || w.ID != 3 {
		t.Errorf("Mathematica exponent: %v", w.Pos[2])
	}
}

func TestParseXYZErrors(t *testing.T) {
	lines := strings.Split(xyzMethane, "\n")
	edit := func(i int, s string) string {
		l := append([]string(nil), lines...)
		l[i] = s
		return strings.Join(l, "\n")
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "empty file"},
		{"count", edit(0, "five"), `line 1: atom count "five" is not a number`},
		{"zero", edit(0, "0"), "line 1: atom count"},
		{"huge", edit(0, "99999999999"), "line 1: atom count"},
		{"truncated", strings.Join(lines[:6], "\n"), "truncated: 5 atoms need 10 lines, file has 6"},
		{"extra", xyzMethane + "junk\n", "line 11: unexpected extra line"},
		{"gdb", edit(1, "xyz 1 2 3"), `line 2: want "gdb"`},
		{"id", edit(1, strings.Replace(lines[1], "gdb 1", "gdb -4", 1)), "molecule index"},
		{"prop", edit(1, strings.Replace(lines[1], "-40.47893", "-40.4x", 1)), `line 2: property U0: "-40.4x" is not a number`},
		{"nan", edit(1, strings.Replace(lines[1], "6.469", "NaN", 1)), "property Cv: \"NaN\" is not finite"},
		{"element", edit(3, "Xx\t0\t0\t0\t0"), `line 4: unknown element "Xx"`},
		{"fields", edit(3, "H\t0\t0\t0"), "line 4: want element, x, y, z and charge, got 4 fields"},
		{"coordinate", edit(3, "H\t0\t1.2*^*\t0\t0"), "line 4: coordinate"},
		{"frequency", edit(7, "12 abc"), "line 8: frequency"},
		{"smiles", edit(8, "C"), "line 9: want two SMILES strings, got 1 fields"},
		{"inchi", edit(9, "a b c"), "line 10: want two InChI strings"},
	} {
		_, err := ParseXYZ(strings.NewReader(tc.src), "m.xyz")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "m.xyz: ") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseXYZ(strings.NewReader(strings.Repeat("x", qm9MaxFileBytes+1)), "big"); err == nil {
		t.Error("oversized file accepted")
	}
}

// qm9Tar returns a tar of the two fixture molecules (water first, to show
// the result is sorted) plus a non-.xyz member.
func qm9Tar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range []struct{ name, body string }{
		{"dsgdb9nsd_000003.xyz", xyzWater},
		{"README", "not a molecule"},
		{"dsgdb9nsd_000001.xyz", xyzMethane},
	} {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(m.body))
	}
	tw.Close()
	return buf.Bytes()
}

func checkQM9(t *testing.T, q *QM9Set, src string) {
	t.Helper()
	if len(q.Molecules) != 2 || q.Molecules[0].ID != 1 || q.Molecules[1].ID != 3 {
		t.Fatalf("%s: molecules %+v", src, q.Molecules)
	}
	u0, err := q.Target(QM9U0, "eV")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(u0[0]-(-40.47893*27.211386245988)) > 1e-9 {
		t.Errorf("%s: U0 in eV = %v", src, u0[0])
	}
	gap, _ := q.Target(QM9Gap, "meV")
	if math.Abs(gap[1]-0.3615*27211.386245988) > 1e-6 {
		t.Errorf("%s: gap in meV = %v", src, gap[1])
	}
}

func TestReadQM9(t *testing.T) {
	dir := t.TempDir()
	raw := qm9Tar(t)
	sources := map[string][]byte{"qm9.tar": raw, "qm9.tar.gz": gzipBytes(raw)}
	for name, b := range sources {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		q, err := ReadQM9(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkQM9(t, q, name)
	}
	xyzDir := filepath.Join(dir, "xyz")
	os.MkdirAll(xyzDir, 0o755)
	os.WriteFile(filepath.Join(xyzDir, "dsgdb9nsd_000001.xyz"), []byte(xyzMethane), 0o644)
	os.WriteFile(filepath.Join(xyzDir, "dsgdb9nsd_000003.xyz"), []byte(xyzWater), 0o644)
	q, err := ReadQM9(xyzDir)
	if err != nil {
		t.Fatal(err)
	}
	checkQM9(t, q, "directory")

	t.Run("bzip2", func(t *testing.T) {
		bz, err := exec.LookPath("bzip2")
		if err != nil {
			t.Skip("bzip2 command not found")
		}
		p := filepath.Join(dir, "dsgdb9nsd.xyz.tar")
		os.WriteFile(p, raw, 0o644)
		if out, err := exec.Command(bz, "-k", "-f", p).CombinedOutput(); err != nil {
			t.Fatalf("bzip2: %v\n%s", err, out)
		}
		q, err := ReadQM9(p + ".bz2")
		if err != nil {
			t.Fatal(err)
		}
		checkQM9(t, q, "tar.bz2")
		// Corrupt the bzip2 stream.
		b, _ := os.ReadFile(p + ".bz2")
		b[len(b)/2] ^= 0xff
		os.WriteFile(p+".bz2", b, 0o644)
		if _, err := ReadQM9(p + ".bz2"); err == nil {
			t.Error("corrupt bzip2 accepted")
		}
	})
}

func TestReadQM9Errors(t *testing.T) {
	dir := t.TempDir()
	dup := func() []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, n := range []string{"a.xyz", "b.xyz"} {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(xyzMethane)), Typeflag: tar.TypeReg})
			tw.Write([]byte(xyzMethane))
		}
		tw.Close()
		return buf.Bytes()
	}()
	bad := bytes.Replace(qm9Tar(t), []byte("InChI=1S/H2O/h1H2\tInChI"), []byte("InChI=1S/H2O/h1H2 x InChI"), 1)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"dup.tar", dup, "molecule 1 appears twice"},
		{"empty.tar", tarBytes("x", map[string][]byte{"batches.meta.txt": nil}, false), "no .xyz files in the archive"},
		{"bad.tar", bad, "dsgdb9nsd_000003.xyz: line 8: want two InChI strings, got 3 fields"},
		{"cut.tar", qm9Tar(t)[:700], "corrupt archive"},
		{"badgz.tar.gz", []byte{0x1f, 0x8b, 0}, "corrupt gzip"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, err := ReadQM9(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestQM9Target(t *testing.T) {
	q := &QM9Set{Molecules: []Molecule{{Props: [NumQM9Properties]float64{QM9Mu: 1.5, QM9U0: -1}}}}
	for _, tc := range []struct {
		p    QM9Property
		unit string
		want float64
		err  bool
	}{
		{QM9U0, "", -1, false},
		{QM9U0, "Ha", -1, false},
		{QM9U0, "eV", -HartreeEV, false},
		{QM9U0, "meV", -1000 * HartreeEV, false},
		{QM9U0, "kcal/mol", 0, true},
		{QM9Mu, "D", 1.5, false},
		{QM9Mu, "eV", 0, true},
		{QM9Property(99), "", 0, true},
	} {
		got, err := q.Target(tc.p, tc.unit)
		if (err != nil) != tc.err || (err == nil && got[0] != tc.want) {
			t.Errorf("Target(%v, %q) = %v, %v", tc.p, tc.unit, got, err)
		}
	}
	for i := range QM9Property(NumQM9Properties) {
		p, err := ParseQM9Property(strings.ToLower(i.String()))
		if err != nil || p != i {
			t.Errorf("ParseQM9Property(%q) = %v, %v", i.String(), p, err)
		}
	}
	if _, err := ParseQM9Property("energy"); err == nil {
		t.Error("ParseQM9Property accepted energy")
	}
	if fmt.Sprint(QM9Property(-1)) != "QM9Property(-1)" || !QM9G.IsEnergy() || QM9Alpha.IsEnergy() {
		t.Error("String or IsEnergy is wrong")
	}
}

func TestLoadQM9Registry(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "qm9"), 0o755)
	os.WriteFile(filepath.Join(dir, "qm9", "dsgdb9nsd.xyz.tar.bz2"), qm9Tar(t), 0o644)
	if _, err := LoadQM9(dir); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("LoadQM9 on a fixture: %v, want a checksum mismatch", err)
	}
}

func FuzzParseXYZ(f *testing.F) {
	f.Add([]byte(xyzMethane))
	f.Add([]byte(xyzWater))
	f.Add([]byte("1\ngdb 1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\nH 0 0 0 0\n\nH H\nI I\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseXYZ(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		if len(m.Z) != len(m.Pos) || len(m.Z) != len(m.Charges) || len(m.Z) == 0 {
			t.Fatalf("inconsistent molecule %+v", m)
		}
		for _, s := range m.Symbols() {
			if s == "" {
				t.Fatal("atom without a symbol")
			}
		}
	})
}
