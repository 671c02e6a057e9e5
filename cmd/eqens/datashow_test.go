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
		{[]string{"qm9", "--group", "c4", "--out", png}, "qm9 is not an image dataset"},
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
