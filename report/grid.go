package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// ImageGrid renders images stored as C×H×W float32 arrays (c = 1 for
// greyscale, 3 for RGB, channel-major as eqens and NumPy store them) as a
// grid with cols tiles per row, each magnified scale times (nearest
// neighbour), on white with a thin grey frame around each tile, with
// labels[i] (if labels is not nil) centred under tile i.
//
// Intensities are normalised with one minimum and maximum shared by all
// images of the grid, mapped to black and white: tiles of an orbit or a
// batch stay comparable, so a transform that changes contrast or blurs
// (interpolated rotations) shows as such. RGB images use the same range
// for all three channels. When all finite values are equal they are
// drawn mid-grey. NaN and ±Inf pixels are drawn magenta, to stand out.
//
// cols < 1 puts all images on one row; scale < 1 means 1. Labels are set
// in Liberation Sans (characters it lacks are replaced as in Plot); those
// too wide for their tile are shortened with "…".
//
// ImageGrid panics if images is empty, c is not 1 or 3, h or w is not
// positive, an image does not hold c*h*w values, or labels is not nil and
// its length differs from that of images.
func ImageGrid(images [][]float32, c, h, w int, cols int, labels []string, scale int) image.Image {
	n := len(images)
	switch {
	case n == 0:
		panic("report: ImageGrid: no images")
	case c != 1 && c != 3:
		panic(fmt.Sprintf("report: ImageGrid: %d channels; want 1 (greyscale) or 3 (RGB)", c))
	case h <= 0 || w <= 0:
		panic(fmt.Sprintf("report: ImageGrid: invalid image size %dx%d", h, w))
	case labels != nil && len(labels) != n:
		panic(fmt.Sprintf("report: ImageGrid: %d labels for %d images", len(labels), n))
	}
	for i, im := range images {
		if len(im) != c*h*w {
			panic(fmt.Sprintf("report: ImageGrid: image %d has %d values; want %d×%d×%d = %d", i, len(im), c, h, w, c*h*w))
		}
	}
	if scale < 1 {
		scale = 1
	}
	if cols < 1 || cols > n {
		cols = n
	}
	rows := (n + cols - 1) / cols

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, im := range images {
		for _, v := range im {
			if f := float64(v); finite(f) {
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
		}
	}
	level := func(v float32) (uint8, bool) {
		f := float64(v)
		if !finite(f) {
			return 0, false
		}
		if hi <= lo {
			return 128, true
		}
		return uint8(math.Round(255 * (f - lo) / (hi - lo))), true
	}

	tw, th := w*scale, h*scale
	gap := min(4, max(2, scale))
	var face xfont.Face
	var labelH int
	fix := drawable()
	if hasText(labels) {
		size := math.Max(11, math.Min(18, float64(tw)/7))
		face = labelFace(size)
		if face != nil {
			m := face.Metrics()
			labelH = (m.Ascent + m.Descent).Ceil() + gap + 2
		}
	}
	cellW, cellH := tw+gap, th+labelH+gap
	img := image.NewRGBA(image.Rect(0, 0, cols*cellW+gap, rows*cellH+gap))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	magenta := color.RGBA{0xff, 0x00, 0xff, 0xff}
	frame := image.NewUniform(color.RGBA{0xc8, 0xc8, 0xc8, 0xff})
	plane := h * w
	for k, im := range images {
		x0 := gap + (k%cols)*cellW
		y0 := gap + (k/cols)*cellH
		// A hairline frame in the gap keeps tiles apart whatever their
		// background.
		draw.Draw(img, image.Rect(x0-1, y0-1, x0+tw+1, y0+th+1), frame, image.Point{}, draw.Src)
		for i := range h {
			for j := range w {
				var px color.RGBA
				if c == 1 {
					v, ok := level(im[i*w+j])
					px = color.RGBA{v, v, v, 0xff}
					if !ok {
						px = magenta
					}
				} else {
					r, rok := level(im[i*w+j])
					g, gok := level(im[plane+i*w+j])
					b, bok := level(im[2*plane+i*w+j])
					px = color.RGBA{r, g, b, 0xff}
					if !rok || !gok || !bok {
						px = magenta
					}
				}
				r := image.Rect(x0+j*scale, y0+i*scale, x0+(j+1)*scale, y0+(i+1)*scale)
				draw.Draw(img, r, image.NewUniform(px), image.Point{}, draw.Src)
			}
		}
		if face != nil && labels[k] != "" {
			drawLabel(img, face, fix(labels[k]), x0, tw, y0+th+gap/2+1+face.Metrics().Ascent.Ceil())
		}
	}
	return img
}

// hasText reports whether any label is not empty.
func hasText(labels []string) bool {
	for _, l := range labels {
		if l != "" {
			return true
		}
	}
	return false
}

// labelFace returns Liberation Sans at size pixels, or nil if the font
// cannot be loaded (then labels are left out).
func labelFace(size float64) xfont.Face {
	f := textFont()
	if f == nil {
		return nil
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: xfont.HintingFull})
	if err != nil {
		return nil
	}
	return face
}

// drawLabel writes s centred over [x0, x0+width) with its baseline at y,
// shortened to fit.
func drawLabel(img draw.Image, face xfont.Face, s string, x0, width, y int) {
	d := &xfont.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{0x22, 0x22, 0x22, 0xff}), Face: face}
	if d.MeasureString(s).Ceil() > width {
		r := []rune(s)
		for len(r) > 0 && d.MeasureString(string(r)+"…").Ceil() > width {
			r = r[:len(r)-1]
		}
		s = string(r) + "…"
	}
	adv := d.MeasureString(s)
	d.Dot = fixed.Point26_6{X: fixed.I(x0) + (fixed.I(width)-adv)/2, Y: fixed.I(y)}
	d.DrawString(s)
}
