package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eqens/eqens/internal/atomicfile"
)

// A Report is a document describing one run: a title, an introduction,
// sections of text, tables and figures, and metadata about the run.
type Report struct {
	// Title heads the document.
	Title string
	// Intro is Markdown-like text shown below the title: paragraphs
	// separated by blank lines, "- " bullet lists, fenced code blocks,
	// `code`, **bold**, *italic* and [links](url). The Markdown file holds
	// it verbatim; the HTML file renders that subset.
	Intro string
	// Sections follow the introduction in order.
	Sections []Section
	// Meta describes the run, e.g. "command", "version", "backend", "date"
	// and "run time". Those five keys come first, in that order, followed
	// by any others sorted by name. Empty values are left out.
	Meta map[string]string
}

// A Section is a heading followed by text, tables and figures, in that
// order.
type Section struct {
	// Heading is the section title.
	Heading string
	// Text is Markdown-like text, as for Report.Intro.
	Text string
	// Tables and Figures follow the text. They are numbered through the
	// whole report (Table 1, Table 2, ...; Figure 1, ...).
	Tables  []Table
	Figures []Figure
}

// A Table is a grid of text cells. Columns whose cells all look like
// numbers ("0.93", "-1.2e-3", "87.5%", "0.91 ± 0.02"; empty cells, "-",
// "—" and "n/a" do not count either way) are right-aligned.
type Table struct {
	// Name is the file stem of the CSV copy, tables/NAME.csv. It must be
	// unique among the report's tables and made of letters, digits, '.',
	// '_' and '-', not starting with '.' or '-'.
	Name string
	// Caption describes the table.
	Caption string
	// Columns are the column headings; every row has one cell per column.
	Columns []string
	// Rows are the cells, row by row.
	Rows [][]string
	// Notes, if not empty, are shown in small print below the table
	// (sources, footnotes, what ± means).
	Notes string
}

// A Figure is a chart or a raster image. Exactly one of Plot and Image is
// set.
type Figure struct {
	// Name is the file stem of figures/NAME.png (and figures/NAME.svg for
	// plots). The same rules as for Table.Name apply, among figures.
	Name string
	// Caption describes the figure.
	Caption string
	// Plot is a chart, rendered at 7×4.5 inches (PNG at 150 dpi, and SVG).
	Plot *Plot
	// Image is a raster figure, such as a grid of images made by
	// ImageGrid; it is written as PNG only and shown at its pixel size
	// (scaled down to the page width if wider).
	Image image.Image
}

// Write renders the report into dir, creating it and its figures and
// tables subdirectories as needed:
//
//	dir/report.md, dir/report.html
//	dir/figures/NAME.png (every figure), dir/figures/NAME.svg (every plot)
//	dir/tables/NAME.csv (every table)
//
// The whole report is validated and rendered before anything is written, so
// an invalid report leaves dir untouched. Every file is replaced
// atomically. Other files already in dir are left alone.
func (r *Report) Write(dir string) error {
	if dir == "" {
		return errors.New("report: empty output directory")
	}
	files, err := r.render()
	if err != nil {
		return err
	}
	made := map[string]bool{}
	for _, f := range files {
		d := filepath.Join(dir, filepath.Dir(f.name))
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			made[d] = true
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, atomicfile.DefaultPerm); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// outFile is one rendered file, its name relative to the report directory.
type outFile struct {
	name string
	data []byte
}

// renderedFigure is a figure with its encoded images.
type renderedFigure struct {
	*Figure
	num      int
	png, svg []byte
	width    int // PNG size in pixels
	height   int
	raster   bool
}

// renderedTable is a table with its number.
type renderedTable struct {
	*Table
	num     int
	numeric []bool // right-align column i
}

// rendered is a validated report with its figures drawn.
type rendered struct {
	*Report
	tables  [][]renderedTable  // per section
	figures [][]renderedFigure // per section
	meta    [][2]string        // ordered key, value pairs
}

// render validates the report and produces every output file in memory.
func (r *Report) render() ([]outFile, error) {
	rr := &rendered{Report: r, meta: orderedMeta(r.Meta)}
	if strings.TrimSpace(r.Title) == "" {
		return nil, errors.New("report: empty title")
	}
	tableNames, figNames := map[string]bool{}, map[string]bool{}
	var files []outFile
	nt, nf := 0, 0
	for si := range r.Sections {
		s := &r.Sections[si]
		where := fmt.Sprintf("report: section %d (%q)", si+1, s.Heading)
		if strings.TrimSpace(s.Heading) == "" {
			return nil, fmt.Errorf("%s: empty heading", where)
		}
		var ts []renderedTable
		for ti := range s.Tables {
			t := &s.Tables[ti]
			if err := t.validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if tableNames[t.Name] {
				return nil, fmt.Errorf("%s: table %q: another table has that name", where, t.Name)
			}
			tableNames[t.Name] = true
			nt++
			ts = append(ts, renderedTable{Table: t, num: nt, numeric: numericColumns(t)})
			b, err := t.csv()
			if err != nil {
				return nil, fmt.Errorf("%s: table %q: %w", where, t.Name, err)
			}
			files = append(files, outFile{"tables/" + t.Name + ".csv", b})
		}
		var fs []renderedFigure
		for fi := range s.Figures {
			f := &s.Figures[fi]
			if err := checkName(f.Name); err != nil {
				return nil, fmt.Errorf("%s: figure %d: %w", where, fi+1, err)
			}
			if figNames[f.Name] {
				return nil, fmt.Errorf("%s: figure %q: another figure has that name", where, f.Name)
			}
			figNames[f.Name] = true
			nf++
			rf, err := renderFigure(f)
			if err != nil {
				return nil, fmt.Errorf("%s: figure %q: %w", where, f.Name, err)
			}
			rf.num = nf
			fs = append(fs, rf)
			files = append(files, outFile{"figures/" + f.Name + ".png", rf.png})
			if rf.svg != nil {
				files = append(files, outFile{"figures/" + f.Name + ".svg", rf.svg})
			}
		}
		rr.tables = append(rr.tables, ts)
		rr.figures = append(rr.figures, fs)
	}
	files = append(files,
		outFile{"report.md", rr.markdown()},
		outFile{"report.html", rr.html()},
	)
	return files, nil
}

// renderFigure draws a figure's plot or encodes its image.
func renderFigure(f *Figure) (renderedFigure, error) {
	rf := renderedFigure{Figure: f}
	switch {
	case f.Plot != nil && f.Image != nil:
		return rf, errors.New("both Plot and Image are set; a figure holds one of them")
	case f.Plot != nil:
		pngData, svgData, w, h, err := f.Plot.render()
		if err != nil {
			return rf, err
		}
		rf.png, rf.svg, rf.width, rf.height = pngData, svgData, w, h
	case f.Image != nil:
		b := f.Image.Bounds()
		if b.Empty() {
			return rf, errors.New("empty image")
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, f.Image); err != nil {
			return rf, err
		}
		rf.png, rf.width, rf.height, rf.raster = buf.Bytes(), b.Dx(), b.Dy(), true
	default:
		return rf, errors.New("neither Plot nor Image is set")
	}
	return rf, nil
}

// checkName reports whether s is usable as a file stem.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if s[0] == '.' || s[0] == '-' {
		return fmt.Errorf("name %q starts with %q", s, s[0])
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("name %q: %q is not allowed in a file name (use letters, digits, '.', '_' and '-')", s, c)
		}
	}
	return nil
}

// validate checks the table's name and shape.
func (t *Table) validate() error {
	if err := checkName(t.Name); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("table %q: no columns", t.Name)
	}
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("table %q: row %d has %d cells, want %d (one per column)", t.Name, i+1, len(row), len(t.Columns))
		}
	}
	return nil
}

// csv encodes the table as CSV with a header row.
func (t *Table) csv() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(t.Columns); err != nil {
		return nil, err
	}
	if err := w.WriteAll(t.Rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// metaOrder returns the metadata keys shown first, in this order.
func metaOrder() []string { return []string{"command", "version", "backend", "date", "run time"} }

// orderedMeta returns the non-empty metadata in display order: the keys of
// metaOrder first, then the others sorted.
func orderedMeta(m map[string]string) [][2]string {
	var out [][2]string
	first := metaOrder()
	for _, k := range first {
		if v := m[k]; strings.TrimSpace(v) != "" {
			out = append(out, [2]string{k, v})
		}
	}
	var rest []string
	for k, v := range m {
		if !slices.Contains(first, k) && strings.TrimSpace(v) != "" {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// numericColumns reports, per column, whether its cells look numeric.
func numericColumns(t *Table) []bool {
	out := make([]bool, len(t.Columns))
	for j := range t.Columns {
		seen := false
		ok := true
		for _, row := range t.Rows {
			switch numericCell(row[j]) {
			case cellNumber:
				seen = true
			case cellText:
				ok = false
			}
		}
		out[j] = seen && ok
	}
	return out
}

type cellKind int

const (
	cellBlank cellKind = iota
	cellNumber
	cellText
)

// numericCell classifies a table cell: a number (optionally signed, with
// a trailing % or unit-less "± err" part), a blank or placeholder, or
// text.
func numericCell(s string) cellKind {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "-", "—", "–", "n/a", "na", "nan", "inf", "+inf", "-inf":
		return cellBlank
	}
	for part := range strings.SplitSeq(s, "±") {
		part = strings.TrimSpace(part)
		part = strings.TrimSuffix(part, "%")
		part = strings.TrimPrefix(part, "+")
		part = strings.TrimPrefix(part, "−") // U+2212 minus sign
		part = strings.TrimPrefix(part, "-")
		part = strings.TrimPrefix(part, "×")
		part = strings.TrimPrefix(part, "x")
		if !isNumber(part) {
			return cellText
		}
	}
	return cellNumber
}

// isNumber reports whether s is an unsigned decimal number, possibly with
// thousands separators and an exponent.
func isNumber(s string) bool {
	digits := 0
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == ',' && digits > 0) {
		if s[i] != ',' {
			digits++
		}
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			digits++
			i++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			exp++
			i++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
