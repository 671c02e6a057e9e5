package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestKernelTilesMerge computes kernels whole and as tiles through the
// command line, merges the tiles and checks that the files are identical
// byte for byte: the kernel of --x with itself (tiles on and off the
// diagonal) with C4 averaging, and between --x and --x2.
func TestKernelTilesMerge(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	writeNpy(t, p("x.npy"), []int{7, 1, 5, 5}, 1, 1)
	writeNpy(t, p("x2.npy"), []int{3, 1, 5, 5}, 2, 1)
	arch := "conv(4,k=3),relu,globalavgpool,dense(1)"
	for _, tc := range []struct {
		name  string
		extra []string
		tiles [][2]string
	}{
		{"self-average", []string{"--average", "c4"}, [][2]string{{"0:3", "0:3"}, {"0:3", "3:7"}, {"3:7", "0:2"}, {"3:7", "2:7"}}},
		{"cross", []string{"--x2", p("x2.npy"), "--kind", "nngp"}, [][2]string{{"0:7", "0:1"}, {"0:4", "1:3"}, {"4:7", "1:3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append([]string{"kernel", "--arch", arch, "--x", p("x.npy")}, tc.extra...)
			whole := p(tc.name + "-whole.npy")
			if out, code := runCLI(append(base, "--out", whole)...); code != 0 {
				t.Fatal(out)
			}
			var tiles []string
			for i, tl := range tc.tiles {
				f := p(tc.name + "-tile" + string(rune('a'+i)) + ".npy")
				if out, code := runCLI(append(base, "--rows", tl[0], "--cols", tl[1], "--out", f)...); code != 0 {
					t.Fatal(out)
				}
				tiles = append(tiles, f)
			}
			merged := p(tc.name + "-merged.npy")
			if out, code := runCLI(append([]string{"kernel", "merge", "--out", merged}, tiles...)...); code != 0 {
				t.Fatal(out)
			}
			a, _ := os.ReadFile(whole)
			b, _ := os.ReadFile(merged)
			if !bytes.Equal(a, b) {
				t.Fatal("merged tiles differ from the whole kernel")
			}
		})
	}
}

// TestKernelMergeRejects checks that merge refuses overlaps, gaps, tiles
// of different kernels and files without a description.
func TestKernelMergeRejects(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	writeNpy(t, p("x.npy"), []int{4, 3}, 1, 1)
	writeNpy(t, p("y.npy"), []int{4, 3}, 2, 1)
	tile := func(name, rows, cols string, extra ...string) string {
		f := p(name + ".npy")
		args := append([]string{"kernel", "--arch", "dense(8),relu,dense(1)", "--x", p("x.npy"), "--rows", rows, "--cols", cols, "--out", f}, extra...)
		if out, code := runCLI(args...); code != 0 {
			t.Fatal(out)
		}
		return f
	}
	top, bottom := tile("top", "0:2", "0:4"), tile("bottom", "2:4", "0:4")
	over := tile("over", "1:3", "0:4")
	nngp := tile("nngp", "2:4", "0:4", "--kind", "nngp")
	other := p("other.npy")
	if out, code := runCLI("kernel", "--arch", "dense(8),relu,dense(1)", "--x", p("y.npy"), "--rows", "2:4", "--cols", "0:4", "--out", other); code != 0 {
		t.Fatal(out)
	}
	if out, code := runCLI("kernel", "merge", "--out", p("k.npy"), top, bottom); code != 0 {
		t.Fatalf("a proper cover was refused: %s", out)
	}
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{top, over, bottom}, "overlap at entry (1, 0)"},
		{[]string{top}, "do not cover the 4×4 kernel: nothing covers entry (2, 0)"},
		{[]string{top, nngp}, "tile of another kernel than " + top + " (kind nngp against ntk)"},
		{[]string{top, other}, "(other inputs)"},
		{[]string{top, p("x.npy")}, "no tile description beside it"},
	} {
		out, code := runCLI(append([]string{"kernel", "merge", "--out", p("k.npy")}, tc.files...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("merge %v: exit %d, output %q, want an error containing %q", tc.files, code, out, tc.want)
		}
	}
	for _, bad := range []string{"3:2", "0:5", "x", "1"} {
		out, code := runCLI("kernel", "--arch", "dense(8),relu,dense(1)", "--x", p("x.npy"), "--rows", bad, "--out", p("t.npy"))
		if code == 0 || !strings.Contains(out, "--rows: ") {
			t.Errorf("--rows %s: exit %d, output %q", bad, code, out)
		}
	}
}

// TestSlurmKernelTiles runs deploy/slurm-kernel.sbatch once per array task
// (with the environment Slurm gives each task; this test binary acts as
// eqens), merges the tiles and requires the kernel computed at once, byte
// for byte; a second pass over the array must find every tile and compute
// nothing.
func TestSlurmKernelTiles(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../deploy/slurm-kernel.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	writeNpy(t, p("x.npy"), []int{7, 1, 5, 5}, 3, 1)
	arch := "conv(4,k=3),relu,globalavgpool,dense(1)"
	if out, code := runCLI("kernel", "--arch", arch, "--x", p("x.npy"), "--average", "c4", "--out", p("whole.npy")); code != 0 {
		t.Fatal(out)
	}
	const T = 3
	for pass := 0; pass < 2; pass++ {
		for id := 0; id < T*T; id++ {
			cmd := exec.Command(bash, script, arch, p("x.npy"), "7", strconv.Itoa(T), p("tiles"))
			cmd.Env = append(os.Environ(), childEnv+"=1", "EQENS="+exe, "KERNEL_FLAGS=--average c4",
				"SLURM_ARRAY_TASK_ID="+strconv.Itoa(id), "SLURM_CPUS_PER_TASK=1")
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("array task %d: %v\n%s", id, err, b)
			}
			if pass == 1 && !strings.Contains(string(b), "exists") {
				t.Errorf("second pass, task %d computed its tile again:\n%s", id, b)
			}
		}
	}
	tiles, _ := filepath.Glob(p("tiles/tile-*.npy"))
	if len(tiles) != T*T {
		t.Fatalf("%d tiles, want %d", len(tiles), T*T)
	}
	if out, code := runCLI(append([]string{"kernel", "merge", "--out", p("merged.npy")}, tiles...)...); code != 0 {
		t.Fatal(out)
	}
	a, _ := os.ReadFile(p("whole.npy"))
	b, _ := os.ReadFile(p("merged.npy"))
	if !bytes.Equal(a, b) {
		t.Fatal("the merged Slurm tiles differ from the whole kernel")
	}
}
