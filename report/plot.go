package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"
)

// The kinds of Plot.
const (
	KindLine    = "line"    // lines through the points, optional bands
	KindBar     = "bar"     // grouped bars per category, optional error bars
	KindScatter = "scatter" // markers, optional error bars
)

// A Plot is a declarative chart: what to show, not how to draw it.
//
// Values that are NaN or ±Inf, and values ≤ 0 on a log axis, are skipped:
// a line is broken there (an isolated remaining point is shown as a
// marker), a band is interrupted, a bar or error bar is left out. A plot
// with no drawable value at all is an error.
type Plot struct {
	// Title is drawn above the chart (may be empty).
	Title string
	// XLabel and YLabel name the axes, with units.
	XLabel, YLabel string
	// LogX and LogY use logarithmic axes. LogX is not allowed for bar
	// charts, whose X axis holds categories.
	LogX, LogY bool
	// Kind is KindLine (the default when empty), KindBar or KindScatter.
	Kind string
	// Series are the data, drawn in order (later ones on top). Each
	// series with a Name gets a legend entry; the legend goes above the
	// chart, or in a column to its right when it would take more than two
	// rows there.
	Series []Series
	// YMin and YMax, when set, fix the ends of the Y axis; otherwise the
	// axis covers the data, the bands and error bars and the reference
	// lines, with a small margin (bar charts on a linear axis always
	// include 0).
	YMin, YMax *float64
	// HLines are horizontal reference lines drawn behind the data, dashed
	// and labelled at their right end.
	HLines []RefLine
}

// A Series is one set of values in a Plot.
type Series struct {
	// Name labels the series in the legend (unnamed series have no entry).
	Name string
	// X and Y are the coordinates, of equal length. For bar charts Y holds
	// one value per category and X is optional: without Labels, X values
	// (if given) label the categories, as in "4", "8", "16".
	X, Y []float64
	// Lo and Hi, when set (both, of len(Y)), are the lower and upper ends
	// of an interval around each value, in data units (not offsets): a
	// shaded band for line plots, error bars for bar and scatter plots
	// (drawn only where the value itself is).
	Lo, Hi []float64
	// Dashed draws a line series dashed, or a bar series as a lighter bar
	// with a dashed outline (for reference values, e.g. a paper's
	// numbers next to ours).
	Dashed bool
	// Points adds a marker at every point of a line series.
	Points bool
	// Labels names the categories of a bar chart, one per Y value. The
	// first series that has Labels names them for the whole chart.
	Labels []string
	// Color picks the series colour from Palette, counting from 1 (1 is
	// blue, 2 orange, ...); 0 means the colour of the series' position,
	// so that series i gets Palette()[i mod 8] (line series past the
	// eighth are then dashed). Setting it lets related series share a
	// colour, e.g. ours solid and the paper's dashed.
	Color int
}

// A RefLine is a horizontal reference line, such as "chance" or
// "max = |G|".
type RefLine struct {
	// Y is where the line is drawn, in data units.
	Y float64
	// Label is written above the right end of the line (may be empty).
	Label string
}

// Palette returns the colours series are drawn with, in order: the
// Okabe–Ito palette (blue, orange, bluish green, vermillion, reddish
// purple, sky blue, black, yellow), chosen to stay distinct under the
// common forms of colour blindness. Yellow, hard to see on white, comes
// last.
func Palette() []color.Color {
	return []color.Color{
		color.RGBA{0x00, 0x72, 0xb2, 0xff}, // blue
		color.RGBA{0xe6, 0x9f, 0x00, 0xff}, // orange
		color.RGBA{0x00, 0x9e, 0x73, 0xff}, // bluish green
		color.RGBA{0xd5, 0x5e, 0x00, 0xff}, // vermillion
		color.RGBA{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
		color.RGBA{0x56, 0xb4, 0xe9, 0xff}, // sky blue
		color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
		color.RGBA{0xf0, 0xe4, 0x42, 0xff}, // yellow
	}
}

// kind returns the plot kind with the default applied.
func (p *Plot) kind() string {
	if p.Kind == "" {
		return KindLine
	}
	return p.Kind
}

// seriesColor returns the colour of series i.
func (p *Plot) seriesColor(i int) color.Color {
	pal := Palette()
	if c := p.Series[i].Color; c > 0 {
		return pal[(c-1)%len(pal)]
	}
	return pal[i%len(pal)]
}

// seriesLabel names series i in error messages.
func seriesLabel(s *Series, i int) string {
	if s.Name != "" {
		return fmt.Sprintf("series %d (%q)", i+1, s.Name)
	}
	return fmt.Sprintf("series %d", i+1)
}

// validate checks the plot's structure. It does not look at the values
// themselves beyond what makes the plot meaningless: non-finite values are
// gaps, not errors.
func (p *Plot) validate() error {
	kind := p.kind()
	switch kind {
	case KindLine, KindBar, KindScatter:
	default:
		return fmt.Errorf("unknown plot kind %q (want %q, %q or %q)", p.Kind, KindLine, KindBar, KindScatter)
	}
	if len(p.Series) == 0 {
		return errors.New("plot has no series")
	}
	if kind == KindBar && p.LogX {
		return errors.New("LogX is not allowed for a bar chart (its X axis holds categories)")
	}
	ncat := -1
	for i := range p.Series {
		s := &p.Series[i]
		name := seriesLabel(s, i)
		if len(s.Y) == 0 {
			return fmt.Errorf("%s has no Y values", name)
		}
		if s.Color < 0 {
			return fmt.Errorf("%s: negative Color %d", name, s.Color)
		}
		if kind == KindBar {
			if ncat >= 0 && len(s.Y) != ncat {
				return fmt.Errorf("%s has %d values but %s has %d; every bar series needs one value per category", name, len(s.Y), seriesLabel(&p.Series[0], 0), ncat)
			}
			ncat = len(s.Y)
			if len(s.X) != 0 && len(s.X) != len(s.Y) {
				return fmt.Errorf("%s: %d X values for %d Y values", name, len(s.X), len(s.Y))
			}
			if len(s.Labels) != 0 && len(s.Labels) != len(s.Y) {
				return fmt.Errorf("%s: %d Labels for %d categories", name, len(s.Labels), len(s.Y))
			}
		} else {
			if len(s.X) != len(s.Y) {
				return fmt.Errorf("%s: %d X values for %d Y values", name, len(s.X), len(s.Y))
			}
			if len(s.Labels) != 0 {
				return fmt.Errorf("%s: Labels are for bar charts; this is a %s plot", name, kind)
			}
		}
		if (s.Lo == nil) != (s.Hi == nil) {
			return fmt.Errorf("%s: Lo and Hi must be set together", name)
		}
		if s.Lo != nil && (len(s.Lo) != len(s.Y) || len(s.Hi) != len(s.Y)) {
			return fmt.Errorf("%s: %d Lo and %d Hi values for %d Y values", name, len(s.Lo), len(s.Hi), len(s.Y))
		}
		for j := range s.Lo {
			if s.Lo[j] > s.Hi[j] {
				return fmt.Errorf("%s: Lo[%d] = %g is above Hi[%d] = %g", name, j, s.Lo[j], j, s.Hi[j])
			}
		}
	}
	for i, h := range p.HLines {
		if math.IsNaN(h.Y) || math.IsInf(h.Y, 0) {
			return fmt.Errorf("reference line %d (%q): non-finite Y %g", i+1, h.Label, h.Y)
		}
		if p.LogY && h.Y <= 0 {
			return fmt.Errorf("reference line %d (%q): Y = %g cannot be shown on a log axis", i+1, h.Label, h.Y)
		}
	}
	for _, e := range []struct {
		name string
		v    *float64
	}{{"YMin", p.YMin}, {"YMax", p.YMax}} {
		if e.v == nil {
			continue
		}
		if math.IsNaN(*e.v) || math.IsInf(*e.v, 0) {
			return fmt.Errorf("%s = %g is not finite", e.name, *e.v)
		}
		if p.LogY && *e.v <= 0 {
			return fmt.Errorf("%s = %g with LogY: a log axis needs positive limits", e.name, *e.v)
		}
	}
	if p.YMin != nil && p.YMax != nil && *p.YMin >= *p.YMax {
		return fmt.Errorf("YMin = %g is not below YMax = %g", *p.YMin, *p.YMax)
	}
	return nil
}

// categories returns the category labels of a bar chart.
func (p *Plot) categories() []string {
	for _, s := range p.Series {
		if len(s.Labels) > 0 {
			return s.Labels
		}
	}
	n := len(p.Series[0].Y)
	out := make([]string, n)
	for _, s := range p.Series {
		if len(s.X) > 0 {
			for i, x := range s.X {
				out[i] = strconv.FormatFloat(x, 'g', -1, 64)
			}
			return out
		}
	}
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

// okX and okY report whether a value can be drawn on the X or Y axis.
func (p *Plot) okX(v float64) bool { return finite(v) && (!p.LogX || v > 0) }
func (p *Plot) okY(v float64) bool { return finite(v) && (!p.LogY || v > 0) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// span accumulates a range of values.
type span struct{ min, max float64 }

func emptySpan() span { return span{math.Inf(1), math.Inf(-1)} }

func (s *span) add(v float64) {
	s.min = math.Min(s.min, v)
	s.max = math.Max(s.max, v)
}

func (s span) empty() bool { return s.min > s.max }

// ranges returns the axis ranges of the plot, with margins, or an error if
// nothing can be drawn.
func (p *Plot) ranges() (x, y span, err error) {
	x, y = emptySpan(), emptySpan()
	kind := p.kind()
	points := 0
	for i := range p.Series {
		s := &p.Series[i]
		for j, v := range s.Y {
			xok := kind == KindBar || p.okX(s.X[j])
			if !xok {
				continue
			}
			if p.okY(v) {
				points++
				y.add(v)
				if kind != KindBar {
					x.add(s.X[j])
				}
			}
			if s.Lo != nil && p.okY(s.Lo[j]) && p.okY(s.Hi[j]) {
				points++
				y.add(s.Lo[j])
				y.add(s.Hi[j])
				if kind != KindBar {
					x.add(s.X[j])
				}
			}
		}
	}
	if points == 0 {
		what := "finite"
		if p.LogX || p.LogY {
			what = "finite positive (log axis)"
		}
		return x, y, fmt.Errorf("no %s values to plot", what)
	}
	for _, h := range p.HLines {
		y.add(h.Y)
	}
	if kind == KindBar {
		x = span{-0.5, float64(len(p.Series[0].Y)) - 0.5}
		if !p.LogY {
			y.add(0)
		}
	} else {
		x = pad(x, p.LogX, 0.03, 0.03)
	}
	lo, hi := 0.05, 0.05
	if kind == KindBar && !p.LogY {
		lo, hi = 0, 0.08
		if y.min < 0 {
			lo = 0.05
		}
		if y.max <= 0 {
			hi = 0
		}
	}
	y = pad(y, p.LogY, lo, hi)
	if p.YMin != nil {
		y.min = *p.YMin
	}
	if p.YMax != nil {
		y.max = *p.YMax
	}
	if y.min >= y.max {
		// Only one limit was given and the data lie beyond it.
		if p.YMin != nil {
			y.max = widen(y.min, p.LogY, 1)
		} else {
			y.min = widen(y.max, p.LogY, -1)
		}
	}
	return x, y, nil
}

// pad widens s by the fractions lo and hi of its extent (in log space for
// log axes); a single value gets a span of its own.
func pad(s span, log bool, lo, hi float64) span {
	if s.min == s.max {
		return span{widen(s.min, log, -1), widen(s.max, log, 1)}
	}
	if log {
		a, b := math.Log10(s.min), math.Log10(s.max)
		d := b - a
		return span{math.Pow(10, a-lo*d), math.Pow(10, b+hi*d)}
	}
	d := s.max - s.min
	return span{s.min - lo*d, s.max + hi*d}
}

// widen returns a value on side dir (±1) of v, far enough to give an axis
// a visible extent.
func widen(v float64, log bool, dir float64) float64 {
	if log {
		return v * math.Pow(2, dir)
	}
	d := math.Abs(v) * 0.1
	if d == 0 {
		d = 1
	}
	return v + dir*d
}

// legendName shortens over-long legend names.
func legendName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 48
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
