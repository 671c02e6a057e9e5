package report

import (
	"bytes"
	"image/color"
	"math"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Size and resolution of rendered plots.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
	plotDPI    = 150
)

// Colours of the chart furniture, as 0xRRGGBB.
const (
	inkColor   rgb = 0x222222 // text
	axisColor  rgb = 0x555555 // axis lines and ticks
	gridMajor  rgb = 0xe2e2e2
	gridMinor  rgb = 0xf1f1f1
	refColor   rgb = 0x444444 // reference lines
	whiteColor rgb = 0xffffff
)

// rgb is an opaque colour written 0xRRGGBB.
type rgb uint32

// RGBA implements color.Color.
func (c rgb) RGBA() (r, g, b, a uint32) {
	return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 0xff}.RGBA()
}

// render draws the plot as PNG and SVG and returns the PNG size in pixels.
func (p *Plot) render() (pngData, svgData []byte, width, height int, err error) {
	if err := p.validate(); err != nil {
		return nil, nil, 0, 0, err
	}
	xr, yr, err := p.ranges()
	if err != nil {
		return nil, nil, 0, 0, err
	}
	p = p.withDrawableText()

	img := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	p.draw(draw.New(img), xr, yr)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, nil, 0, 0, err
	}
	pngData = buf.Bytes()
	width, height = img.Image().Bounds().Dx(), img.Image().Bounds().Dy()

	svg := vgsvg.New(plotWidth, plotHeight)
	p.draw(draw.New(svg), xr, yr)
	var sbuf bytes.Buffer
	if _, err := svg.WriteTo(&sbuf); err != nil {
		return nil, nil, 0, 0, err
	}
	// vgsvg names the font family alone; add metric-compatible fallbacks
	// so that viewers without the Liberation fonts keep the layout.
	svgData = bytes.ReplaceAll(sbuf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;"))
	return pngData, svgData, width, height, nil
}

// sans returns the Liberation Sans font at the given size.
func sans(size vg.Length, bold, italic bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	if italic {
		f.Style = xfont.StyleItalic
	}
	return f
}

// textStyle returns a text style in the given font and colour.
func textStyle(f font.Font, c color.Color, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{Color: c, Font: f, XAlign: xa, YAlign: ya, Handler: plot.DefaultTextHandler}
}

// legendItem is one legend entry.
type legendItem struct {
	name   string
	thumbs []plot.Thumbnailer
}

// draw lays out the title, the legend and the chart on c.
func (p *Plot) draw(c draw.Canvas, xr, yr span) {
	c.SetColor(whiteColor)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, 8, -14, 6, -10)

	if p.Title != "" {
		sty := textStyle(sans(13, true, false), inkColor, draw.XCenter, draw.YTop)
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y}, p.Title)
		c.Max.Y -= sty.Height(p.Title) + 6
	}

	gp, items := p.build(xr, yr)
	// The legend goes above the data area, or, when that would take more
	// than two rows and one column is narrow enough, in a column to the
	// right of it; either way it never hides data.
	var right *legend
	if len(items) > 0 {
		top := newLegend(items, c.Size().X, len(items))
		if col := newLegend(items, 0, 1); top.rows() > 2 && col.width <= 0.38*c.Size().X {
			right = col
			c.Max.X -= col.width + 14
		} else {
			top.draw(c, c.Center().X-top.width/2, c.Max.Y)
			c.Max.Y -= top.height() + 6
		}
	}

	// The axis labels are drawn here rather than by gonum/plot, which
	// reserves room for them as if the axes were linear and so leaves
	// odd gaps around log axes; here they are centred on the data area.
	lab := textStyle(sans(11, false, false), inkColor, draw.XCenter, draw.YBottom)
	outer := c
	if p.XLabel != "" {
		c.Min.Y += lab.Height(p.XLabel) + 5
	}
	if p.YLabel != "" {
		c.Min.X += lab.Height(p.YLabel) + 5
	}
	if p.kind() == KindBar && gp.X.Tick.Label.Rotation != 0 {
		// Tilted category labels hang left of their ticks; make room
		// for the first one.
		da := gp.DataCanvas(c)
		first := p.categories()[0]
		tick := da.Min.X + da.Size().X/vg.Length(2*len(p.Series[0].Y))
		need := gp.X.Tick.Label.Width(first)*vg.Length(math.Cos(gp.X.Tick.Label.Rotation)) + 4
		if avail := tick - outer.Min.X; need > avail {
			c.Min.X += need - avail
		}
	}
	gp.Draw(c)
	da := gp.DataCanvas(c)
	if right != nil {
		right.draw(c, c.Max.X+14, da.Max.Y)
	}
	if p.XLabel != "" {
		c.FillText(lab, vg.Point{X: da.Center().X, Y: outer.Min.Y + lab.FontExtents().Descent}, p.XLabel)
	}
	if p.YLabel != "" {
		ylab := lab
		ylab.Rotation = math.Pi / 2
		ylab.YAlign = draw.YTop
		c.FillText(ylab, vg.Point{X: outer.Min.X, Y: da.Center().Y}, p.YLabel)
	}
}

// legend lays out legend entries in aligned columns, filled row by row.
type legend struct {
	items []legendItem
	sty   text.Style
	cols  []vg.Length // column widths
	width vg.Length   // total width
	rowH  vg.Length
}

// Legend geometry.
const (
	legendThumbW = 24 // thumbnail width
	legendGap    = 5  // between thumbnail and text
	legendSep    = 18 // between columns
)

// newLegend arranges items in as many columns as fit in width (at most
// maxCols; at least one).
func newLegend(items []legendItem, width vg.Length, maxCols int) *legend {
	l := &legend{items: items, sty: textStyle(sans(10, false, false), inkColor, draw.XLeft, draw.YCenter)}
	l.rowH = l.sty.Height("Mg") * 1.45
	widths := make([]vg.Length, len(items))
	for i, it := range items {
		widths[i] = legendThumbW + legendGap + l.sty.Width(it.name)
	}
	for ncol := min(len(items), maxCols); ncol >= 1; ncol-- {
		l.cols = make([]vg.Length, ncol)
		for i, w := range widths {
			l.cols[i%ncol] = max(l.cols[i%ncol], w)
		}
		l.width = legendSep * vg.Length(ncol-1)
		for _, w := range l.cols {
			l.width += w
		}
		if l.width <= width {
			break
		}
	}
	return l
}

// rows returns the number of rows.
func (l *legend) rows() int { return (len(l.items) + len(l.cols) - 1) / len(l.cols) }

// height returns the height of the legend.
func (l *legend) height() vg.Length { return l.rowH * vg.Length(l.rows()) }

// draw draws the legend with its top left corner at (x0, top).
func (l *legend) draw(c draw.Canvas, x0, top vg.Length) {
	ncol := len(l.cols)
	for i, it := range l.items {
		x := x0
		for j := range i % ncol {
			x += l.cols[j] + legendSep
		}
		y := top - l.rowH/2 - l.rowH*vg.Length(i/ncol)
		th := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y - l.rowH*0.32},
			Max: vg.Point{X: x + legendThumbW, Y: y + l.rowH*0.32},
		}}
		for _, t := range it.thumbs {
			t.Thumbnail(&th)
		}
		c.FillText(l.sty, vg.Point{X: x + legendThumbW + legendGap, Y: y}, it.name)
	}
}

// build makes the gonum plot (without title and legend) and the legend
// entries.
func (p *Plot) build(xr, yr span) (*plot.Plot, []legendItem) {
	gp := plot.New()
	gp.BackgroundColor = nil
	styleAxis(&gp.X)
	styleAxis(&gp.Y)
	gp.X.Min, gp.X.Max = xr.min, xr.max
	gp.Y.Min, gp.Y.Max = yr.min, yr.max
	if p.LogX {
		gp.X.Scale = plot.LogScale{}
		gp.X.Tick.Marker = logTicks{}
	}
	if p.LogY {
		gp.Y.Scale = plot.LogScale{}
		gp.Y.Tick.Marker = logTicks{}
	}
	kind := p.kind()
	if kind == KindBar {
		cats := p.categories()
		ticks := make([]plot.Tick, len(cats))
		for i, l := range cats {
			ticks[i] = plot.Tick{Value: float64(i), Label: l}
		}
		gp.X.Tick.Marker = plot.ConstantTicks(ticks)
		gp.X.Tick.Length = 0
		// Tilt the category labels when they would collide.
		var total vg.Length
		for _, l := range cats {
			total += gp.X.Tick.Label.Width(l) + 8
		}
		if total > plotWidth-1.3*vg.Inch {
			gp.X.Tick.Label.Rotation = math.Pi / 6
			gp.X.Tick.Label.XAlign = draw.XRight
			gp.X.Tick.Label.YAlign = draw.YTop
		}
	}

	gp.Add(&grid{vertical: kind != KindBar, logX: p.LogX, logY: p.LogY})
	for _, h := range p.HLines {
		gp.Add(&refLine{RefLine: h})
	}

	var items []legendItem
	add := func(name string, thumbs ...plot.Thumbnailer) {
		if name != "" {
			items = append(items, legendItem{legendName(name), thumbs})
		}
	}
	switch kind {
	case KindLine:
		// Bands first, so that every line is drawn over every band.
		bands := make([]*band, len(p.Series))
		for i := range p.Series {
			s := &p.Series[i]
			if s.Lo != nil {
				bands[i] = &band{p: p, s: s, color: withAlpha(p.seriesColor(i), 0.2)}
				gp.Add(bands[i])
			}
		}
		for i := range p.Series {
			s := &p.Series[i]
			// Past the palette's eight colours, default-coloured lines
			// repeat them dashed.
			dashed := s.Dashed || s.Color == 0 && i >= len(Palette())
			l := &line{p: p, s: s, style: lineStyle(p.seriesColor(i), dashed)}
			if s.Points {
				l.glyph = &draw.GlyphStyle{Color: p.seriesColor(i), Radius: 2.6, Shape: draw.CircleGlyph{}}
			}
			gp.Add(l)
			if bands[i] != nil {
				add(s.Name, bands[i], l)
			} else {
				add(s.Name, l)
			}
		}
	case KindScatter:
		for i := range p.Series {
			s := &p.Series[i]
			col := p.seriesColor(i)
			if s.Lo != nil {
				gp.Add(&errorBars{p: p, s: s, color: col})
			}
			m := &markers{p: p, s: s, glyph: draw.GlyphStyle{Color: col, Radius: 3.2, Shape: glyphShape(i)}}
			gp.Add(m)
			add(s.Name, m)
		}
	case KindBar:
		n := len(p.Series)
		var ebs []*errorBars
		for i := range p.Series {
			s := &p.Series[i]
			b := &bars{p: p, s: s, color: p.seriesColor(i), offset: barOffset(i, n), width: barSlot(n) * 0.88}
			gp.Add(b)
			add(s.Name, b)
			if s.Lo != nil {
				ebs = append(ebs, &errorBars{p: p, s: s, color: inkColor, offset: b.offset, bar: true})
			}
		}
		for _, eb := range ebs {
			gp.Add(eb)
		}
	}
	for _, h := range p.HLines {
		if h.Label != "" {
			gp.Add(&refLabel{RefLine: h})
		}
	}
	// gp.Add widened the axes to the data ranges of gonum's own types;
	// none is used, but keep the computed ranges regardless.
	gp.X.Min, gp.X.Max = xr.min, xr.max
	gp.Y.Min, gp.Y.Max = yr.min, yr.max
	return gp, items
}

// styleAxis gives an axis the report's look.
func styleAxis(a *plot.Axis) {
	a.Tick.Marker = linearTicks{}
	a.Tick.Label.Font = sans(9.5, false, false)
	a.Tick.Label.Color = inkColor
	a.LineStyle = draw.LineStyle{Color: axisColor, Width: 0.8}
	a.Tick.LineStyle = draw.LineStyle{Color: axisColor, Width: 0.8}
	a.Tick.Length = 4
	a.Padding = 0
}

// lineStyle returns the style of a data line.
func lineStyle(c color.Color, dashed bool) draw.LineStyle {
	s := draw.LineStyle{Color: c, Width: 1.8}
	if dashed {
		s.Dashes = []vg.Length{6, 3.5}
	}
	return s
}

// withAlpha returns c with opacity a in [0, 1].
func withAlpha(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(math.Round(a * 255))}
}

// lighten mixes c with white; f = 1 gives white.
func lighten(c color.Color, f float64) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8(math.Round(float64(v>>8)*(1-f) + 255*f)) }
	return color.RGBA{mix(r), mix(g), mix(b), 0xff}
}

// glyphShape returns the marker shape of scatter series i; shapes vary
// with colour so that series stay apart in grey print.
func glyphShape(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, diamondGlyph{},
		draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	}
	return shapes[(i/len(Palette())+i)%len(shapes)]
}

// barSlot is the width, in category units, of one bar of a group of n.
func barSlot(n int) float64 { return 0.8 / float64(n) }

// barOffset is the centre of bar i of n relative to its category.
func barOffset(i, n int) float64 { return -0.4 + (float64(i)+0.5)*barSlot(n) }

// diamondGlyph is a filled diamond.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.25
	var path vg.Path
	path.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	path.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	path.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	path.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	path.Close()
	c.Fill(path)
}

// grid draws light grid lines at the major ticks, and at the minor ticks
// of log axes.
type grid struct {
	vertical   bool
	logX, logY bool
}

// Plot implements plot.Plotter.
func (g *grid) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	major := draw.LineStyle{Color: gridMajor, Width: 0.7}
	minor := draw.LineStyle{Color: gridMinor, Width: 0.5}
	if g.vertical {
		for _, t := range plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max) {
			if t.IsMinor() && !g.logX || t.Value < plt.X.Min || t.Value > plt.X.Max {
				continue
			}
			sty := major
			if t.IsMinor() {
				sty = minor
			}
			x := trX(t.Value)
			c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		}
	}
	for _, t := range plt.Y.Tick.Marker.Ticks(plt.Y.Min, plt.Y.Max) {
		if t.IsMinor() && !g.logY || t.Value < plt.Y.Min || t.Value > plt.Y.Max {
			continue
		}
		sty := major
		if t.IsMinor() {
			sty = minor
		}
		y := trY(t.Value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}

// refLine draws a horizontal reference line, behind the data.
type refLine struct{ RefLine }

// Plot implements plot.Plotter.
func (r *refLine) Plot(c draw.Canvas, plt *plot.Plot) {
	if r.Y < plt.Y.Min || r.Y > plt.Y.Max {
		return
	}
	_, trY := plt.Transforms(&c)
	y := trY(r.Y)
	c.StrokeLine2(draw.LineStyle{Color: refColor, Width: 1, Dashes: []vg.Length{4, 3}}, c.Min.X, y, c.Max.X, y)
}

// refLabel writes the label of a reference line at its right end, over
// the data.
type refLabel struct{ RefLine }

// Plot implements plot.Plotter.
func (r *refLabel) Plot(c draw.Canvas, plt *plot.Plot) {
	if r.Y < plt.Y.Min || r.Y > plt.Y.Max {
		return
	}
	_, trY := plt.Transforms(&c)
	y := trY(r.Y)
	sty := textStyle(sans(9, false, true), refColor, draw.XRight, draw.YBottom)
	ty := y + 2
	if ty+sty.Height(r.Label) > c.Max.Y {
		sty.YAlign = draw.YTop
		ty = y - 2
	}
	// A white halo keeps the label readable over the grid and data.
	w, h := sty.Width(r.Label), sty.Height(r.Label)
	x := c.Max.X - 3
	box := vg.Rectangle{Min: vg.Point{X: x - w - 2, Y: ty}, Max: vg.Point{X: x + 2, Y: ty + h}}
	if sty.YAlign == draw.YTop {
		box.Min.Y, box.Max.Y = ty-h, ty
	}
	c.SetColor(withAlpha(whiteColor, 0.8))
	c.Fill(box.Path())
	c.FillText(sty, vg.Point{X: x, Y: ty}, r.Label)
}

// segments returns the runs of consecutive indices i for which ok(i).
func segments(n int, ok func(i int) bool) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= n; i++ {
		if i < n && ok(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

// line draws a line series, broken at values that cannot be drawn.
type line struct {
	p     *Plot
	s     *Series
	style draw.LineStyle
	glyph *draw.GlyphStyle // markers at the points, if not nil
}

// Plot implements plot.Plotter.
func (l *line) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	s := l.s
	ok := func(i int) bool { return l.p.okX(s.X[i]) && l.p.okY(s.Y[i]) }
	isolated := draw.GlyphStyle{Color: l.style.Color, Radius: 2.6, Shape: draw.CircleGlyph{}}
	for _, seg := range segments(len(s.Y), ok) {
		pts := make([]vg.Point, 0, seg[1]-seg[0])
		for i := seg[0]; i < seg[1]; i++ {
			pts = append(pts, vg.Point{X: trX(s.X[i]), Y: trY(s.Y[i])})
		}
		if len(pts) == 1 {
			if l.glyph == nil {
				c.DrawGlyph(isolated, pts[0])
			}
			continue
		}
		c.StrokeLines(l.style, c.ClipLinesXY(pts)...)
	}
	if l.glyph != nil {
		for i := range s.Y {
			if ok(i) {
				c.DrawGlyph(*l.glyph, vg.Point{X: trX(s.X[i]), Y: trY(s.Y[i])})
			}
		}
	}
}

// Thumbnail implements plot.Thumbnailer.
func (l *line) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
	if l.glyph != nil {
		c.DrawGlyphNoClip(*l.glyph, c.Center())
	}
}

// band shades the interval [Lo, Hi] of a line series.
type band struct {
	p     *Plot
	s     *Series
	color color.Color
}

// Plot implements plot.Plotter.
func (b *band) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	s := b.s
	ok := func(i int) bool { return b.p.okX(s.X[i]) && b.p.okY(s.Lo[i]) && b.p.okY(s.Hi[i]) }
	c.SetColor(b.color)
	for _, seg := range segments(len(s.Y), ok) {
		if seg[1]-seg[0] < 2 {
			// A lone interval: draw it as a thin bar.
			i := seg[0]
			x := trX(s.X[i])
			c.StrokeLines(draw.LineStyle{Color: b.color, Width: 4}, c.ClipLinesXY([]vg.Point{{X: x, Y: trY(s.Lo[i])}, {X: x, Y: trY(s.Hi[i])}})...)
			continue
		}
		var pts []vg.Point
		for i := seg[0]; i < seg[1]; i++ {
			pts = append(pts, vg.Point{X: trX(s.X[i]), Y: trY(s.Hi[i])})
		}
		for i := seg[1] - 1; i >= seg[0]; i-- {
			pts = append(pts, vg.Point{X: trX(s.X[i]), Y: trY(s.Lo[i])})
		}
		pts = c.ClipPolygonXY(pts)
		if len(pts) < 3 {
			continue
		}
		var path vg.Path
		path.Move(pts[0])
		for _, q := range pts[1:] {
			path.Line(q)
		}
		path.Close()
		c.SetColor(b.color)
		c.Fill(path)
	}
}

// Thumbnail implements plot.Thumbnailer.
func (b *band) Thumbnail(c *draw.Canvas) {
	c.SetColor(b.color)
	c.Fill(c.Rectangle.Path())
}

// markers draws a scatter series.
type markers struct {
	p     *Plot
	s     *Series
	glyph draw.GlyphStyle
}

// Plot implements plot.Plotter.
func (m *markers) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for i, y := range m.s.Y {
		if m.p.okX(m.s.X[i]) && m.p.okY(y) {
			c.DrawGlyph(m.glyph, vg.Point{X: trX(m.s.X[i]), Y: trY(y)})
		}
	}
}

// Thumbnail implements plot.Thumbnailer.
func (m *markers) Thumbnail(c *draw.Canvas) { c.DrawGlyphNoClip(m.glyph, c.Center()) }

// GlyphBoxes implements plot.GlyphBoxer, so that markers at the edge of
// the data area are not cut.
func (m *markers) GlyphBoxes(plt *plot.Plot) []plot.GlyphBox {
	var out []plot.GlyphBox
	for i, y := range m.s.Y {
		if m.p.okX(m.s.X[i]) && m.p.okY(y) {
			out = append(out, plot.GlyphBox{
				X:         plt.X.Norm(m.s.X[i]),
				Y:         plt.Y.Norm(y),
				Rectangle: m.glyph.Rectangle(),
			})
		}
	}
	return out
}

// bars draws one series of a grouped bar chart.
type bars struct {
	p      *Plot
	s      *Series
	color  color.Color
	offset float64 // from the category centre, in category units
	width  float64 // in category units
}

// fill returns the fill colour and outline of the bars.
func (b *bars) look() (fill color.Color, outline draw.LineStyle) {
	if b.s.Dashed {
		return lighten(b.color, 0.72), draw.LineStyle{Color: b.color, Width: 1.1, Dashes: []vg.Length{3, 2}}
	}
	return b.color, draw.LineStyle{}
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	fill, outline := b.look()
	base := c.Min.Y
	if !b.p.LogY {
		base = clampY(&c, trY(0))
	}
	for i, y := range b.s.Y {
		if !b.p.okY(y) {
			continue
		}
		x0 := trX(float64(i) + b.offset - b.width/2)
		x1 := trX(float64(i) + b.offset + b.width/2)
		top := clampY(&c, trY(y))
		lo, hi := min(base, top), max(base, top)
		if hi-lo < 0.01 {
			continue
		}
		r := vg.Rectangle{Min: vg.Point{X: x0, Y: lo}, Max: vg.Point{X: x1, Y: hi}}
		c.SetColor(fill)
		c.Fill(r.Path())
		if outline.Color != nil {
			c.StrokeLines(outline, []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}, r.Min})
		}
	}
}

// clampY limits y to the vertical extent of c.
func clampY(c *draw.Canvas, y vg.Length) vg.Length { return max(c.Min.Y, min(c.Max.Y, y)) }

// Thumbnail implements plot.Thumbnailer.
func (b *bars) Thumbnail(c *draw.Canvas) {
	fill, outline := b.look()
	r := c.Rectangle
	r.Min.X += 5
	r.Max.X -= 5
	c.SetColor(fill)
	c.Fill(r.Path())
	if outline.Color != nil {
		c.StrokeLines(outline, []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}, r.Min})
	}
}

// errorBars draws vertical intervals [Lo, Hi] with caps, at the series' X
// values or, for bar charts, at the bars' centres; only where the value
// itself is drawn.
type errorBars struct {
	p      *Plot
	s      *Series
	color  color.Color
	offset float64
	bar    bool
}

// Plot implements plot.Plotter.
func (e *errorBars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	sty := draw.LineStyle{Color: e.color, Width: 1.1}
	const capHalf = 3.5
	for i := range e.s.Y {
		var xv float64
		if e.bar {
			xv = float64(i) + e.offset
		} else {
			xv = e.s.X[i]
			if !e.p.okX(xv) {
				continue
			}
		}
		if !e.p.okY(e.s.Y[i]) || !e.p.okY(e.s.Lo[i]) || !e.p.okY(e.s.Hi[i]) {
			continue
		}
		x := trX(xv)
		lo, hi := trY(e.s.Lo[i]), trY(e.s.Hi[i])
		if hi < c.Min.Y || lo > c.Max.Y || x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(sty, x, clampY(&c, lo), x, clampY(&c, hi))
		for _, y := range []vg.Length{lo, hi} {
			if c.ContainsY(y) {
				c.StrokeLine2(sty, x-capHalf, y, x+capHalf, y)
			}
		}
	}
}
