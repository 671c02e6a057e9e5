package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment/qm9"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/report"
)

// maxOrbitTiles bounds the size of the grid "eqens data show" draws.
const maxOrbitTiles = 256

// dataShowFlags are the flags of eqens data show.
type dataShowFlags struct {
	index, atom                          int
	groupSpec, out, split, dataDir, file string
	cols, scale                          int
}

// imageSetNames lists the registered image datasets (those with splits).
func imageSetNames() []string {
	var imageSets []string
	for _, s := range data.Registry() {
		if s.Splits != nil {
			imageSets = append(imageSets, s.Name)
		}
	}
	return imageSets
}

// newDataShowCmd returns "eqens data show", which draws one sample of a
// dataset and its orbit under a group as a PNG image grid.
func newDataShowCmd() *cobra.Command {
	var sf dataShowFlags
	imageSets := imageSetNames()
	cmd := &cobra.Command{
		Use:   "show NAME --index I --group G --out FILE.png",
		Short: "Draw a sample and its orbit under a group (or a QM9 atom's spherical signals) as a PNG image grid",
		Long: `Show loads sample --index of dataset NAME (` + strings.Join(imageSets, ", ") + `),
applies every element of the group --group to it, exactly as augmentation and
the equivariance metrics do, and writes the transformed images side by side,
labelled with the group elements (r0, r90, ..., m for reflections), to --out.

The first tile is the sample itself (the identity). Groups with rotations other
than multiples of 90 degrees (c8, c16, so2:N) rotate by interpolation and mask
the pixels outside the inscribed circle, so the masked sample is shown. All
tiles share one intensity scale, so interpolation blur shows as such.

For qm9, show draws the spherical signals that atom --atom of molecule --index
(0-based, molecules sorted by their QM9 number) sees, as the qm9 experiment
builds them: 10 equirectangular maps, one per element (H, C, N, O, F) and
power of the distance (r^-2, r^-6), each scaled to its own maximum. The
molecules come from the checksum-verified archive, or from --file (an archive
or a directory of .xyz files, not verified).`,
		Example: `  eqens data show mnist --index 7 --group c4 --out seven-c4.png
  eqens data show mnist --split test --index 0 --group d4 --out zero-d4.png
  eqens data show cifar10 --index 3 --group c16 --out cat-c16.png --data-dir /srv/datasets
  eqens data show qm9 --index 20 --atom 0 --out signals.png`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: append(slices.Clone(imageSets), "qm9"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.run(cmd, args[0], imageSets)
		},
	}
	f := cmd.Flags()
	f.IntVar(&sf.index, "index", 0, "index of the sample in the split")
	f.StringVar(&sf.groupSpec, "group", "", "group acting on the images, e.g. c4, d4, c8, c16, so2:12")
	f.StringVar(&sf.out, "out", "", "PNG file to write")
	f.StringVar(&sf.split, "split", "train", "split to take the sample from: train or test (pathmnist: also val)")
	// The same flag as the data command's persistent one, which it
	// shadows, so that the command also works on its own.
	f.StringVar(&sf.dataDir, "data-dir", "", "directory searched first for datasets (as DIR/NAME)")
	f.IntVar(&sf.cols, "cols", 0, "tiles per row (0: at most 8, rows balanced)")
	f.IntVar(&sf.scale, "scale", 0, "magnification of each pixel (0: tiles about 112 pixels wide)")
	f.IntVar(&sf.atom, "atom", 0, "qm9: the atom (0-based, file order) whose spherical signals are drawn")
	f.StringVar(&sf.file, "file", "", "qm9: read the molecules from this archive or directory of .xyz files (not checksum-verified)")
	return cmd
}

// check validates the flags that need no data, in the order the error
// catalogue lists them, and returns the group.
func (sf *dataShowFlags) check() (*group.Group, error) {
	if sf.out == "" {
		return nil, fmt.Errorf("--out: missing (the .png file to write)")
	}
	if !strings.EqualFold(filepath.Ext(sf.out), ".png") {
		return nil, fmt.Errorf("--out %s: not a .png file name", sf.out)
	}
	if sf.groupSpec == "" {
		return nil, fmt.Errorf("--group: missing (e.g. c4, d4, c16)")
	}
	g, err := group.Parse(sf.groupSpec)
	if err != nil {
		return nil, fmt.Errorf("--group: %w", err)
	}
	if g.Order() > maxOrbitTiles {
		return nil, fmt.Errorf("--group %s has %d elements; an orbit grid shows at most %d", g.Name(), g.Order(), maxOrbitTiles)
	}
	if sf.index < 0 {
		return nil, fmt.Errorf("--index %d: must not be negative", sf.index)
	}
	if sf.cols < 0 || sf.scale < 0 {
		return nil, fmt.Errorf("--cols and --scale must not be negative")
	}
	return g, nil
}

// readDataset loads split --split of the image dataset name and checks that
// it holds sample --index.
func (sf *dataShowFlags) readDataset(name string, imageSets []string) (*data.Dataset, error) {
	spec, err := data.Lookup(name)
	if err != nil {
		return nil, err
	}
	if spec.Splits == nil {
		return nil, fmt.Errorf("%s is not an image dataset (image datasets: %s)", name, strings.Join(imageSets, ", "))
	}
	if !slices.Contains(spec.Splits, sf.split) {
		return nil, fmt.Errorf("--split %q: %s has splits %s", sf.split, name, strings.Join(spec.Splits, ", "))
	}
	d, err := data.Load(name, sf.split, sf.dataDir)
	if err != nil {
		return nil, err
	}
	if sf.index >= d.Len() {
		return nil, fmt.Errorf("--index %d out of range: %s has %d samples (0..%d)", sf.index, d.Name, d.Len(), d.Len()-1)
	}
	return d, nil
}

// imageDims returns the channels, height and width of the samples of d,
// which must be greyscale or RGB images.
func imageDims(d *data.Dataset) (c, h, w int, err error) {
	switch len(d.Shape) {
	case 2:
		c, h, w = 1, d.Shape[0], d.Shape[1]
	case 3:
		c, h, w = d.Shape[0], d.Shape[1], d.Shape[2]
	}
	if c != 1 && c != 3 {
		return 0, 0, 0, fmt.Errorf("%s: samples of shape %v are not greyscale or RGB images", d.Name, d.Shape)
	}
	return c, h, w, nil
}

// run loads the sample, draws its orbit and writes the PNG file.
func (sf *dataShowFlags) run(cmd *cobra.Command, name string, imageSets []string) error {
	if name == "qm9" {
		return sf.runQM9(cmd)
	}
	g, err := sf.check()
	if err != nil {
		return err
	}
	d, err := sf.readDataset(name, imageSets)
	if err != nil {
		return err
	}
	c, h, w, err := imageDims(d)
	if err != nil {
		return err
	}
	rep, err := group.InputRep(g, d.Shape)
	if err != nil {
		return fmt.Errorf("--group %s: %w", sf.groupSpec, err)
	}
	x := slices.Clone(d.Input(sf.index))
	group.MaskInPlace(rep, x)
	orbit := group.Orbit(rep, x)
	labels := make([]string, len(orbit))
	for a := range labels {
		labels[a] = g.Label(a)
	}
	if sf.cols == 0 {
		sf.cols = orbitColumns(len(orbit))
	}
	if sf.scale == 0 {
		sf.scale = max(1, int(math.Round(112/float64(max(h, w)))))
	}
	if err := sf.writePNG(report.ImageGrid(orbit, c, h, w, sf.cols, labels, sf.scale)); err != nil {
		return err
	}
	what := ""
	if d.IsClassification() {
		what = fmt.Sprintf(" (class %d)", d.Labels[sf.index])
	}
	note := ""
	if rep.Masked() {
		note = "; interpolated, masked to the inscribed circle"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: sample %d of %s%s and its orbit under %s (%d elements%s)\n",
		sf.out, sf.index, d.Name, what, g.Name(), g.Order(), note)
	return nil
}

// runQM9 draws the spherical signals of atom --atom of molecule --index
// of QM9.
func (sf *dataShowFlags) runQM9(cmd *cobra.Command) error {
	switch {
	case sf.out == "":
		return fmt.Errorf("--out: missing (the .png file to write)")
	case !strings.EqualFold(filepath.Ext(sf.out), ".png"):
		return fmt.Errorf("--out %s: not a .png file name", sf.out)
	case sf.groupSpec != "":
		return fmt.Errorf("--group %s: does not apply to qm9 (show draws an atom's spherical signals)", sf.groupSpec)
	case sf.index < 0 || sf.atom < 0:
		return fmt.Errorf("--index %d, --atom %d: must not be negative", sf.index, sf.atom)
	}
	var q *data.QM9Set
	var err error
	if sf.file != "" {
		if q, err = data.ReadQM9(sf.file); err != nil {
			return fmt.Errorf("--file: %w", err)
		}
	} else if q, err = data.LoadQM9(sf.dataDir); err != nil {
		return err
	}
	if sf.index >= len(q.Molecules) {
		return fmt.Errorf("--index %d out of range: qm9 has %d molecules (0..%d)", sf.index, len(q.Molecules), len(q.Molecules)-1)
	}
	m := &q.Molecules[sf.index]
	if sf.atom >= len(m.Z) {
		return fmt.Errorf("--atom %d out of range: molecule %d has %d atoms (0..%d)", sf.atom, m.ID, len(m.Z), len(m.Z)-1)
	}
	img, err := qm9.SignalsImage(m, sf.atom)
	if err != nil {
		return err
	}
	if err := sf.writePNG(img); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: spherical signals of atom %d (%s) of QM9 molecule %d (%s)\n",
		sf.out, sf.atom, m.Symbols()[sf.atom], m.ID, strings.Join(m.Symbols(), " "))
	return nil
}

// writePNG encodes img as PNG and writes it to --out atomically.
func (sf *dataShowFlags) writePNG(img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("--out %s: %w", sf.out, err)
	}
	if err := atomicfile.WriteFile(sf.out, buf.Bytes(), atomicfile.DefaultPerm); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// orbitColumns returns the number of columns for n tiles: all on one row
// up to 8, else at most 8 per row with the rows as even as possible.
func orbitColumns(n int) int {
	if n <= 8 {
		return n
	}
	rows := (n + 7) / 8
	return (n + rows - 1) / rows
}

func init() { dataSubcommands = append(dataSubcommands, newDataShowCmd) }
