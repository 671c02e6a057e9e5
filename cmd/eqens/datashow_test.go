package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runDataShow runs "show" with args under a parent that, like "eqens data",
// has a persistent --data-dir flag, and returns its output.
func runDataShow(t *testing.T, args ...string) (string, error) {
	t.Helper()
	parent := &cobra.Command{Use: "data", SilenceUsage: true, SilenceErrors: true}
	parent.PersistentFlags().String("data-dir", "", "")
	parent.AddCommand(newDataShowCmd())
	var out bytes.Buffer
	parent.SetOut(&out)
	parent.SetErr(&out)
	parent.SetArgs(args)
	err := parent.Execute()
	return out.String(), err
}

func TestDataShow(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		group      string
		extra      []string
		cols, rows int
	}{
		{"c4", nil, 4, 1},
		{"d4", []string{"--cols", "4"}, 4, 2},
		{"c16", nil, 8, 2},
	} {
		out := filepath.Join(dir, tc.group+".png")
		args := append([]string{"show", "mnist", "--split", "test", "--index", "3", "--group", tc.group, "--out", out}, tc.extra...)
		msg, err := runDataShow(t, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.group, err)
		}
		if !strings.Contains(msg, "sample 3 of mnist/test (class ") || !strings.Contains(msg, "orbit under "+tc.group) {
			t.Errorf("%s: message %q", tc.group, msg)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.group, err)
		}
		// 28-pixel images magnified 4 times, 4-pixel gaps.
		b := img.Bounds()
		if want := tc.cols*(112+4) + 4; b.Dx() != want {
			t.Errorf("%s: width %d, want %d", tc.group, b.Dx(), want)
		}
		if min := tc.rows*(112+4) + 4; b.Dy() <= min || b.Dy() > min+tc.rows*40 {
			t.Errorf("%s: height %d, want a little over %d (labels)", tc.group, b.Dy(), min)
		}
	}
	// The identity tile of C4 and the r180 tile differ, and r0 is the
	// sample: the centre pixels of the tiles are not all equal.
	f, _ := os.Open(filepath.Join(dir, "c4.png"))
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var lit [4]int
	for k := range 4 {
		for i := range 112 {
			for j := range 112 {
				if r, _, _, _ := img.At(4+k*116+j, 4+i).RGBA(); r > 0x8000 {
					lit[k]++
				}
			}
		}
	}
	for k, n := range lit {
		if n == 0 || n != lit[0] {
			t.Errorf("tile %d has %d lit pixels, tile 0 %d; exact rotations keep the count", k, n, lit[0])
		}
	}
}

func TestDataShowErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("EQENS_DATA", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	png := filepath.Join(dir, "x.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mnist", "--split", "test", "--index", "10000", "--group", "c4", "--out", png}, "--index 10000 out of range: mnist/test has 10000 samples (0..9999)"},
		{[]string{"mnist", "--index", "-1", "--group", "c4", "--out", png}, "--index -1: must not be negative"},
		{[]string{"mnist", "--group", "oct", "--out", png}, "--group oct: group oct cannot act on 1x28x28 images"},
		{[]string{"mnist", "--group", "c5x", "--out", png}, "--group: "},
		{[]string{"mnist", "--out", png}, "--group: missing"},
		{[]string{"mnist", "--group", "c4096", "--out", png}, "--group c4096 has 4096 elements"},
		{[]string{"mnist", "--group", "c4", "--out", filepath.Join(dir, "no", "such", "dir", "x.png")}, "--out: "},
		{[]string{"mnist", "--group", "c4", "--out", filepath.Join(dir, "x.jpg")}, "not a .png file name"},
		{[]string{"mnist", "--group", "c4"}, "--out: missing"},
		{[]string{"mnist", "--split", "val", "--group", "c4", "--out", png}, `--split "val": mnist has splits train, test`},
		{[]string{"qm9", "--group", "c4", "--out", png}, "--group c4: does not apply to qm9"},
		{[]string{"qm9", "--out", png, "--data-dir", dir}, "dsgdb9nsd.xyz.tar.bz2"},
		{[]string{"nosuch", "--group", "c4", "--out", png}, `unknown dataset "nosuch"`},
		{[]string{"cifar10", "--group", "c4", "--out", png, "--data-dir", dir}, "--data-dir (" + filepath.Join(dir, "cifar10") + ")"},
	} {
		_, err := runDataShow(t, append([]string{"show"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(png); !os.IsNotExist(err) {
		t.Errorf("a failed command wrote %s", png)
	}
	// --data-dir given to the parent command reaches show.
	_, err := runDataShow(t, "--data-dir", dir, "show", "cifar10", "--group", "c4", "--out", png)
	if err == nil || !strings.Contains(err.Error(), "--data-dir ("+filepath.Join(dir, "cifar10")+")") {
		t.Errorf("parent --data-dir: error %v", err)
	}
}

func TestOrbitColumns(t *testing.T) {
	for n, want := range map[int]int{1: 1, 4: 4, 8: 8, 9: 5, 12: 6, 16: 8, 17: 6, 24: 8, 60: 8} {
		if got := orbitColumns(n); got != want {
			t.Errorf("orbitColumns(%d) = %d, want %d", n, got, want)
		}
	}
}

// methaneXYZ is the first molecule of QM9 (dsgdb9nsd_000001.xyz), in the
// published format.
const methaneXYZ = "5\n" +
	"gdb 1\t157.7118\t157.70997\t157.70699\t0.\t13.21\t-0.3877\t0.1171\t0.5048\t35.3641\t0.044749\t-40.47893\t-40.476062\t-40.475117\t-40.498597\t6.469\t\n" +
	"C\t-0.0126981359\t 1.0858041578\t 0.0080009958\t-0.535689\n" +
	"H\t 0.002150416\t-0.0060313176\t 0.0019761204\t 0.133921\n" +
	"H\t 1.0117308433\t 1.4637511618\t 0.0002765748\t 0.133922\n" +
	"H\t-0.540815069\t 1.4475266138\t-0.8766437152\t 0.133923\n" +
	"H\t-0.5238136345\t 1.4379326443\t 0.9063972942\t 0.133923\n" +
	"1341.307\t1341.3284\t1341.365\t1562.6731\t1562.7453\t3038.3205\t3151.6034\t3151.6788\t3151.7078\n" +
	"C\tC\t\n" +
	"InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4\n"

// TestDataShowQM9 draws the spherical signals of methane's atoms from a
// directory of .xyz files and checks the errors of the qm9 flags.
func TestDataShowQM9(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsgdb9nsd_000001.xyz"), []byte(methaneXYZ), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "signals.png")
	msg, err := runDataShow(t, "show", "qm9", "--file", dir, "--index", "0", "--atom", "0", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "atom 0 (C) of QM9 molecule 1 (C H H H H)") {
		t.Errorf("message %q", msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Two columns (r^-2, r^-6) of 90×45 maps magnified twice, five rows.
	if b := img.Bounds(); b.Dx() < 2*180 || b.Dy() < 5*90 {
		t.Errorf("image %v, want at least 2×5 tiles of 180×90", b)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--index", "1"}, "--index 1 out of range: qm9 has 1 molecules"},
		{[]string{"--atom", "5"}, "--atom 5 out of range: molecule 1 has 5 atoms"},
		{[]string{"--atom", "-1"}, "must not be negative"},
	} {
		args := append([]string{"show", "qm9", "--file", dir, "--out", out}, tc.args...)
		if _, err := runDataShow(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
