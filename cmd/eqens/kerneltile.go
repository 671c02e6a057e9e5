package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/spf13/cobra"
)

// tileFormat names the layout of a tile's side file.
const tileFormat = "eqens-kernel-tile/1"

// tileMeta is the side file TILE.npy.json of a kernel tile: which block of
// which kernel the .npy holds. docs/sharding.md documents it.
type tileMeta struct {
	Format string `json:"format"`
	// Rows and Cols are the half-open ranges [A, B) and [C, D) of the
	// block; N1 and N2 the size of the whole kernel.
	Rows [2]int `json:"rows"`
	Cols [2]int `json:"cols"`
	N1   int    `json:"n1"`
	N2   int    `json:"n2"`
	// Arch, Kind and Average say which kernel; X and X2 are SHA-256 hashes
	// of the inputs' float64 values (X2 empty for the kernel of --x with
	// itself).
	Arch    string `json:"arch"`
	Kind    string `json:"kind"`
	Average string `json:"average"`
	X       string `json:"x_sha256"`
	X2      string `json:"x2_sha256"`
	Version string `json:"version"`
}

// sameKernel reports whether two tiles are blocks of the same kernel.
func (m *tileMeta) sameKernel(o *tileMeta) bool {
	return m.Format == o.Format && m.N1 == o.N1 && m.N2 == o.N2 && m.Arch == o.Arch &&
		m.Kind == o.Kind && m.Average == o.Average && m.X == o.X && m.X2 == o.X2
}

// hashInputs returns the SHA-256 of the float64 values and sample shape of
// an input array.
func hashInputs(in *cli.Inputs) string {
	h := sha256.New()
	var b [8]byte
	for _, s := range append([]int{in.N}, in.Shape...) {
		binary.LittleEndian.PutUint64(b[:], uint64(s))
		h.Write(b[:])
	}
	for _, v := range in.X {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeTile writes a tile's block and its side file.
func writeTile(kf *kernelFlags, arch *nn.Arch, a, b *cli.Inputs, rows, cols nn.Span, m []float64) error {
	meta := tileMeta{Format: tileFormat, Rows: [2]int{rows.Lo, rows.Hi}, Cols: [2]int{cols.Lo, cols.Hi},
		N1: a.N, N2: a.N, Arch: arch.Spec, Kind: kf.kind, Average: kf.avg, X: hashInputs(a), Version: cli.BuildVersion(version)}
	if b != nil {
		meta.N2, meta.X2 = b.N, hashInputs(b)
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := npy.WriteFile(kf.out, npy.FromFloat64([]int{rows.Len(), cols.Len()}, m)); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := atomicfile.WriteFile(kf.out+".json", append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// readTile reads a tile and its side file and checks that they agree.
func readTile(path string) (*tileMeta, []float64, error) {
	raw, err := os.ReadFile(path + ".json")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: no tile description beside it (%s.json, written by eqens kernel --rows/--cols): %w", path, path, err)
	}
	var meta tileMeta
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil || meta.Format != tileFormat {
		return nil, nil, fmt.Errorf("%s.json: not an eqens kernel tile description (want format %q): %v", path, tileFormat, err)
	}
	if meta.Rows[0] < 0 || meta.Rows[0] >= meta.Rows[1] || meta.Rows[1] > meta.N1 || meta.Cols[0] < 0 || meta.Cols[0] >= meta.Cols[1] || meta.Cols[1] > meta.N2 {
		return nil, nil, fmt.Errorf("%s.json: rows %v and cols %v are not ranges inside the %d×%d kernel", path, meta.Rows, meta.Cols, meta.N1, meta.N2)
	}
	arr, err := npy.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	r, c := meta.Rows[1]-meta.Rows[0], meta.Cols[1]-meta.Cols[0]
	if len(arr.Shape) != 2 || arr.Shape[0] != r || arr.Shape[1] != c {
		return nil, nil, fmt.Errorf("%s: shape %v, but its description says a %d×%d block", path, arr.Shape, r, c)
	}
	v, err := arr.Float64()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return &meta, v, nil
}

func newKernelMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out K.npy TILE.npy...",
		Short: "Assemble a kernel from tiles computed with eqens kernel --rows/--cols",
		Long: `Merge reads kernel tiles (each TILE.npy with its description TILE.npy.json,
as eqens kernel --rows A:B --cols C:D writes them) and writes the whole
kernel. The tiles must be blocks of one kernel (same architecture, kind,
group and inputs) and cover it exactly once: overlaps, gaps and tiles of
another kernel are refused with an error naming the files.`,
		Example: `  eqens kernel merge --out K.npy tiles/*.npy`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out: missing (the .npy file to write)")
			}
			k, meta, err := mergeTiles(args)
			if err != nil {
				return err
			}
			if err := npy.WriteFile(out, npy.FromFloat64([]int{meta.N1, meta.N2}, k)); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d×%d %s kernel of %s from %d tiles\n", out, meta.N1, meta.N2, meta.Kind, meta.Arch, len(args))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output .npy file (n1, n2) float64")
	return cmd
}

// mergeTiles assembles tiles into the whole kernel, refusing tiles of
// different kernels, overlaps and gaps.
func mergeTiles(paths []string) ([]float64, *tileMeta, error) {
	var first *tileMeta
	var k []float64
	var owner []int32 // 1 + index of the tile that wrote an entry
	for ti, path := range paths {
		meta, v, err := readTile(path)
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first, k, owner = meta, make([]float64, meta.N1*meta.N2), make([]int32, meta.N1*meta.N2)
		} else if !first.sameKernel(meta) {
			return nil, nil, fmt.Errorf("%s is a tile of another kernel than %s (%s)", path, paths[0], tileDiff(first, meta))
		}
		c := meta.Cols[1] - meta.Cols[0]
		for i := meta.Rows[0]; i < meta.Rows[1]; i++ {
			for j := meta.Cols[0]; j < meta.Cols[1]; j++ {
				at := i*first.N2 + j
				if owner[at] != 0 {
					return nil, nil, fmt.Errorf("%s and %s overlap at entry (%d, %d)", paths[owner[at]-1], path, i, j)
				}
				owner[at] = int32(ti + 1)
				k[at] = v[(i-meta.Rows[0])*c+j-meta.Cols[0]]
			}
		}
	}
	if gaps := missingRows(owner, first.N1, first.N2); gaps != "" {
		return nil, nil, fmt.Errorf("the tiles do not cover the %d×%d kernel: %s", first.N1, first.N2, gaps)
	}
	return k, first, nil
}

// tileDiff names the first field in which two tile descriptions differ.
func tileDiff(a, b *tileMeta) string {
	switch {
	case a.N1 != b.N1 || a.N2 != b.N2:
		return fmt.Sprintf("%d×%d against %d×%d", b.N1, b.N2, a.N1, a.N2)
	case a.Arch != b.Arch:
		return fmt.Sprintf("architecture %s against %s", b.Arch, a.Arch)
	case a.Kind != b.Kind:
		return fmt.Sprintf("kind %s against %s", b.Kind, a.Kind)
	case a.Average != b.Average:
		return fmt.Sprintf("average %q against %q", b.Average, a.Average)
	}
	return "other inputs"
}

// missingRows describes the entries no tile covers (empty if none), by row
// ranges.
func missingRows(owner []int32, n1, n2 int) string {
	var parts []string
	for i := 0; i < n1 && len(parts) < 5; i++ {
		for j := 0; j < n2; j++ {
			if owner[i*n2+j] == 0 {
				parts = append(parts, fmt.Sprintf("entry (%d, %d)", i, j))
				break
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "nothing covers " + strings.Join(parts, ", ") + " (first missing entry of each row shown)"
}

// availableText returns MemAvailable in bytes, whether it could be read,
// and its text for the planned-memory lines ("unknown here" if not).
func availableText() (avail int64, known bool, text string) {
	kb, known := cli.MemInfo("MemAvailable")
	if !known {
		return 0, false, "unknown here"
	}
	return kb << 10, true, fmtBytes(kb << 10)
}
