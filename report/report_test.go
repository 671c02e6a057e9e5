package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testImages returns n RGB images 3×h×w of a letter-like shape, each
// rotated a further quarter turn, so that a grid of them shows an orbit.
func testImages(n, h, w int) [][]float32 {
	base := make([]float32, 3*h*w)
	for i := range h {
		for j := range w {
			// An "L" with a colour gradient on a dark background.
			on := (j >= w/4 && j < w/4+w/6 && i >= h/6 && i < 5*h/6) || (i >= 5*h/6-h/6 && i < 5*h/6 && j >= w/4 && j < 3*w/4)
			if on {
				base[i*w+j] = float32(i) / float32(h)
				base[h*w+i*w+j] = 0.8
				base[2*h*w+i*w+j] = float32(j) / float32(w)
			} else {
				base[i*w+j], base[h*w+i*w+j], base[2*h*w+i*w+j] = 0.05, 0.05, 0.1
			}
		}
	}
	out := [][]float32{base}
	for k := 1; k < n; k++ {
		prev := out[k-1]
		next := make([]float32, len(prev))
		for ch := range 3 {
			for i := range h {
				for j := range w {
					// rotate by 90 degrees (square images)
					next[ch*h*w+i*w+j] = prev[ch*h*w+j*w+(w-1-i)]
				}
			}
		}
		out = append(out, next)
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// sampleReport returns a report with every kind of content.
func sampleReport() *Report {
	// Equivariance error of ensembles against ensemble size: log-log, with
	// a band, a dashed reference and a NaN gap.
	sizes := []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000}
	var da, daLo, daHi, nn, nnLo, nnHi, theory []float64
	for i, m := range sizes {
		v := 0.4 / math.Sqrt(m) * (1 + 0.05*math.Sin(float64(i)))
		da = append(da, v)
		daLo = append(daLo, v*0.75)
		daHi = append(daHi, v*1.3)
		u := 0.5 / math.Pow(m, 0.3)
		nn = append(nn, u)
		nnLo = append(nnLo, u*0.85)
		nnHi = append(nnHi, u*1.15)
		theory = append(theory, 0.4/math.Sqrt(m))
	}
	nn[6] = math.NaN() // a failed run: drawn as a gap
	nnLo[6], nnHi[6] = math.NaN(), math.NaN()

	cats := []string{"C4", "C8", "C16"}
	methods := []string{"DeepEns+DA", "only DA", "E2CNN", "Canon"}
	ours := [][]float64{{0.97, 0.91, 0.84}, {0.88, 0.79, 0.70}, {1.0, 0.95, 0.90}, {1.0, 1.0, 1.0}}
	paper := [][]float64{{0.96, 0.92, 0.86}, {0.85, 0.80, 0.71}, {1.0, 0.94, 0.91}, {1.0, 1.0, 1.0}}
	var barSeries []Series
	for m, name := range methods {
		var lo, hi []float64
		for _, v := range ours[m] {
			lo = append(lo, v-0.02)
			hi = append(hi, math.Min(1, v+0.02))
		}
		barSeries = append(barSeries,
			Series{Name: name + " (ours)", Y: ours[m], Lo: lo, Hi: hi, Labels: cats, Color: m + 1},
			Series{Name: name + " (paper)", Y: paper[m], Dashed: true, Color: m + 1},
		)
	}

	var sx, sy, slo, shi, sx2, sy2 []float64
	for i := range 24 {
		x := 0.05 + 0.9*float64(i)/23
		sx = append(sx, x)
		y := x + 0.04*math.Sin(7*x)
		sy = append(sy, y)
		slo = append(slo, y-0.03)
		shi = append(shi, y+0.03)
		sx2 = append(sx2, x)
		sy2 = append(sy2, x*x+0.02*math.Cos(11*x))
	}

	imgs := testImages(4, 16, 16)
	return &Report{
		Title: "Emergent equivariance of deep ensembles (test report)",
		Intro: "This report is written by the **report** package's tests. It shows every element a report can hold:\n\n" +
			"- a log-log line plot with bands, a dashed series and a gap where a run failed;\n" +
			"- a grouped bar chart with error bars, *ours* solid and the paper's values dashed;\n" +
			"- a scatter plot, a table and an image grid.\n\n" +
			"Run it with `go test ./report/` and see [the Go site](https://go.dev/).",
		Meta: map[string]string{
			"command":  "eqens demo --members 1000 --group c4",
			"version":  "v0.1.0-test",
			"backend":  "pure Go",
			"date":     "2025-01-01",
			"run time": "1m2s",
			"seed":     "1",
		},
		Sections: []Section{
			{
				Heading: "Convergence with ensemble size",
				Text:    "The orbit variance of the augmented ensemble falls like 1/√M.",
				Figures: []Figure{{
					Name:    "convergence",
					Caption: "Equivariance error against ensemble size M (mean and 95% interval over 5 seeds).",
					Plot: &Plot{
						Title:  "Equivariance error vs ensemble size",
						XLabel: "ensemble size M",
						YLabel: "orbit variance of logits",
						LogX:   true,
						LogY:   true,
						Series: []Series{
							{Name: "DeepEns+DA", X: sizes, Y: da, Lo: daLo, Hi: daHi, Points: true},
							{Name: "no augmentation", X: sizes, Y: nn, Lo: nnLo, Hi: nnHi},
							{Name: "theory: 0.4/√M", X: sizes, Y: theory, Dashed: true, Color: 7},
						},
						HLines: []RefLine{{Y: 0.01, Label: "float32 noise floor"}},
					},
				}},
			},
			{
				Heading: "Out-of-distribution orbit same predictions",
				Text:    "Fraction of the orbit with the same prediction as the untransformed input, on out-of-distribution images.",
				Tables: []Table{{
					Name:    "osp_ood",
					Caption: "OSP out of distribution, ours vs paper.",
					Columns: []string{"group", "method", "ours", "paper", "Δ"},
					Rows: [][]string{
						{"C4", "DeepEns+DA", "0.97 ± 0.02", "0.96", "+0.01"},
						{"C4", "only DA", "0.88 ± 0.02", "0.85", "+0.03"},
						{"C8", "E2CNN", "0.95 ± 0.02", "0.94", "+0.01"},
						{"C16", "Canon", "1.00", "1.00", "0.00"},
						{"C16", "only | pipe", "n/a", "0.71", "—"},
					},
					Notes: "± is the standard deviation over 5 ensembles; paper values from Table 2.",
				}},
				Figures: []Figure{{
					Name:    "osp_ood",
					Caption: "OSP out of distribution by group and method; error bars ±1 s.d.",
					Plot: &Plot{
						Title:  "OSP out of distribution",
						YLabel: "OSP (fraction of the orbit)",
						Kind:   KindBar,
						Series: barSeries,
						YMin:   ptr(0),
						YMax:   ptr(1.08),
						HLines: []RefLine{{Y: 1, Label: "max = |G|"}, {Y: 0.25, Label: "chance"}},
					},
				}},
			},
			{
				Heading: "Kernel prediction",
				Text:    "NTK predictions against the trained ensemble.",
				Figures: []Figure{
					{
						Name:    "ntk_scatter",
						Caption: "Ensemble mean against NTK prediction, per test point.",
						Plot: &Plot{
							XLabel: "NTK prediction",
							YLabel: "ensemble mean",
							Kind:   KindScatter,
							Series: []Series{
								{Name: "C4 ensemble", X: sx, Y: sy, Lo: slo, Hi: shi},
								{Name: "trivial group", X: sx2, Y: sy2},
							},
						},
					},
					{
						Name:    "orbit",
						Caption: "An input and its orbit under C4.",
						Image:   ImageGrid(imgs, 3, 16, 16, 4, []string{"r0", "r90", "r180", "r270"}, 6),
					},
				},
			},
		},
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("EQENS_REPORT_DIR"); d != "" {
		// Keep a copy to look at.
		if err := r.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"convergence", "osp_ood", "ntk_scatter"} {
		checkPNG(t, filepath.Join(dir, "figures", name+".png"), 1050, 675)
		checkSVG(t, filepath.Join(dir, "figures", name+".svg"))
	}
	checkPNG(t, filepath.Join(dir, "figures", "orbit.png"), 4*(16*6+4)+4, 0)
	if _, err := os.Stat(filepath.Join(dir, "figures", "orbit.svg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("raster figure got an SVG file (err %v)", err)
	}

	// CSV.
	f, err := os.Open(filepath.Join(dir, "tables", "osp_ood.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || recs[0][4] != "Δ" || recs[5][1] != "only | pipe" {
		t.Errorf("CSV records: %q", recs)
	}

	// Markdown.
	md := readString(t, filepath.Join(dir, "report.md"))
	for _, want := range []string{
		"# Emergent equivariance of deep ensembles (test report)\n",
		"- **command:** `eqens demo --members 1000 --group c4`\n",
		"| group | method | ours | paper | Δ |\n| --- | --- | ---: | ---: | ---: |\n",
		"| C16 | only \\| pipe | n/a | 0.71 | — |\n",
		"![Equivariance error against ensemble size M (mean and 95% interval over 5 seeds).](figures/convergence.png)",
		"*Figure 4.* An input and its orbit under C4.",
		"*Table 1.* OSP out of distribution, ours vs paper. ([CSV](tables/osp_ood.csv))",
		"## Kernel prediction\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Meta keys in the documented order.
	order := []string{"**command:**", "**version:**", "**backend:**", "**date:**", "**run time:**", "**seed:**"}
	last := -1
	for _, k := range order {
		i := strings.Index(md, k)
		if i <= last {
			t.Errorf("meta key %s out of order in report.md", k)
		}
		last = i
	}

	// HTML: every figure embedded, the table present, numbers right-aligned.
	h := readString(t, filepath.Join(dir, "report.html"))
	if n := strings.Count(h, `src="data:image/png;base64,`); n != 4 {
		t.Errorf("report.html embeds %d images, want 4", n)
	}
	for _, name := range []string{"convergence", "osp_ood", "ntk_scatter", "orbit"} {
		png := readString(t, filepath.Join(dir, "figures", name+".png"))
		if !strings.Contains(h, base64Of(png)) {
			t.Errorf("report.html does not embed figures/%s.png", name)
		}
	}
	for _, want := range []string{
		`<th class="num">ours</th>`,
		`<td class="num">0.97 ± 0.02</td>`,
		`<td>only | pipe</td>`,
		`<span class="label">Table 1.</span> OSP out of distribution, ours vs paper.`,
		`<dt>Command</dt><dd><code>eqens demo --members 1000 --group c4</code></dd>`,
		`<strong>report</strong>`,
		`<a href="https://go.dev/">the Go site</a>`,
		`<code>go test ./report/</code>`,
		"<li>a scatter plot, a table and an image grid.</li>",
		`<p class="notes">± is the standard deviation`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(h, "<script") {
		t.Error("report.html contains a script")
	}
}

// TestDeterministic checks that writing a report twice gives the same
// bytes in every file.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := sampleReport().Write(a); err != nil {
		t.Fatal(err)
	}
	if err := sampleReport().Write(b); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two writes", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// report.md, report.html, 4 PNG, 3 SVG, 1 CSV
	if n != 10 {
		t.Errorf("wrote %d files, want 10", n)
	}
}

func TestRewriteReplaces(t *testing.T) {
	dir := t.TempDir()
	r := &Report{Title: "first", Sections: []Section{{Heading: "s", Tables: []Table{{Name: "t", Columns: []string{"a"}, Rows: [][]string{{"1"}}}}}}}
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	r.Title = "second"
	r.Sections[0].Tables[0].Rows[0][0] = "2"
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	if md := readString(t, filepath.Join(dir, "report.md")); !strings.HasPrefix(md, "# second\n") || !strings.Contains(md, "| 2 |") {
		t.Errorf("report.md not replaced:\n%s", md)
	}
	if got := readString(t, filepath.Join(dir, "tables", "t.csv")); got != "a\n2\n" {
		t.Errorf("t.csv = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestInvalid(t *testing.T) {
	line := func(s ...Series) *Plot { return &Plot{Series: s} }
	fig := func(p *Plot) *Report {
		return &Report{Title: "t", Sections: []Section{{Heading: "h", Figures: []Figure{{Name: "f", Plot: p}}}}}
	}
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		r    *Report
		want string
	}{
		{"no title", &Report{}, "empty title"},
		{"no heading", &Report{Title: "t", Sections: []Section{{}}}, "empty heading"},
		{"empty plot", fig(&Plot{}), "plot has no series"},
		{"mismatched", fig(line(Series{Name: "acc", X: []float64{1, 2, 3}, Y: []float64{1, 2}})), `series 1 ("acc"): 3 X values for 2 Y values`},
		{"no Y", fig(line(Series{})), "series 1 has no Y values"},
		{"lo without hi", fig(line(Series{X: []float64{1}, Y: []float64{1}, Lo: []float64{0}})), "Lo and Hi must be set together"},
		{"band length", fig(line(Series{X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0}, Hi: []float64{2}})), "1 Lo and 1 Hi values for 2 Y values"},
		{"lo above hi", fig(line(Series{X: []float64{1}, Y: []float64{1}, Lo: []float64{2}, Hi: []float64{0}})), "Lo[0] = 2 is above Hi[0] = 0"},
		{"all NaN", fig(line(Series{X: []float64{1, 2}, Y: []float64{nan, nan}})), "no finite values to plot"},
		{"log non-positive", fig(&Plot{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0, -1}}}}), "no finite positive (log axis) values"},
		{"kind", fig(&Plot{Kind: "pie", Series: []Series{{Y: []float64{1}}}}), `unknown plot kind "pie"`},
		{"bar categories", fig(&Plot{Kind: KindBar, Series: []Series{{Y: []float64{1, 2}}, {Y: []float64{1}}}}), "one value per category"},
		{"bar logx", fig(&Plot{Kind: KindBar, LogX: true, Series: []Series{{Y: []float64{1}}}}), "LogX is not allowed"},
		{"labels on line", fig(line(Series{X: []float64{1}, Y: []float64{1}, Labels: []string{"a"}})), "Labels are for bar charts"},
		{"ymin ymax", fig(&Plot{YMin: ptr(2), YMax: ptr(1), Series: []Series{{X: []float64{1}, Y: []float64{1}}}}), "YMin = 2 is not below YMax = 1"},
		{"log ymin", fig(&Plot{LogY: true, YMin: ptr(0), Series: []Series{{X: []float64{1}, Y: []float64{1}}}}), "a log axis needs positive limits"},
		{"hline nan", fig(&Plot{HLines: []RefLine{{Y: nan, Label: "x"}}, Series: []Series{{X: []float64{1}, Y: []float64{1}}}}), `reference line 1 ("x"): non-finite`},
		{"no content", &Report{Title: "t", Sections: []Section{{Heading: "h", Figures: []Figure{{Name: "f"}}}}}, "neither Plot nor Image"},
		{"both", &Report{Title: "t", Sections: []Section{{Heading: "h", Figures: []Figure{{Name: "f", Plot: line(), Image: image.NewGray(image.Rect(0, 0, 1, 1))}}}}}, "both Plot and Image"},
		{"bad name", &Report{Title: "t", Sections: []Section{{Heading: "h", Figures: []Figure{{Name: "../x", Image: image.NewGray(image.Rect(0, 0, 1, 1))}}}}}, `name "../x" starts with '.'`},
		{"slash", &Report{Title: "t", Sections: []Section{{Heading: "h", Tables: []Table{{Name: "a/b", Columns: []string{"x"}}}}}}, `'/' is not allowed`},
		{"dup table", &Report{Title: "t", Sections: []Section{{Heading: "h", Tables: []Table{{Name: "a", Columns: []string{"x"}}, {Name: "a", Columns: []string{"x"}}}}}}, `table "a": another table has that name`},
		{"row length", &Report{Title: "t", Sections: []Section{{Heading: "h", Tables: []Table{{Name: "a", Columns: []string{"x", "y"}, Rows: [][]string{{"1"}}}}}}}, "row 1 has 1 cells, want 2"},
		{"no columns", &Report{Title: "t", Sections: []Section{{Heading: "h", Tables: []Table{{Name: "a"}}}}}, `table "a": no columns`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			err := tc.r.Write(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an invalid report created the output directory (%v)", err)
			}
		})
	}
}

// TestGaps checks documented behaviour for values that cannot be drawn:
// NaN, ±Inf and non-positive values on log axes are skipped, not errors.
func TestGaps(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, p := range []*Plot{
		{Series: []Series{{X: []float64{0, 1, 2, 3, 4}, Y: []float64{1, nan, 3, inf, 2}, Lo: []float64{0, 0, nan, 0, 1}, Hi: []float64{2, 2, 4, 5, 3}}}},
		{LogX: true, LogY: true, Series: []Series{{X: []float64{0, 1, 10, 100}, Y: []float64{1, -2, 3, 0.5}, Points: true}}},
		{Kind: KindBar, LogY: true, Series: []Series{{Y: []float64{1, 0, nan, 100}, Lo: []float64{0.5, 0, 1, 90}, Hi: []float64{2, 1, 1, 110}}}},
		{Kind: KindBar, Series: []Series{{Y: []float64{-1, 2, nan}, X: []float64{4, 8, 16}}, {Y: []float64{1, nan, 3}}}},
		{Kind: KindScatter, Series: []Series{{X: []float64{nan, 1, 2}, Y: []float64{1, inf, 3}, Lo: []float64{0, 0, 2}, Hi: []float64{2, 2, 4}}}},
		// One point, and data outside a fixed range.
		{Series: []Series{{X: []float64{5}, Y: []float64{5}}}},
		{YMin: ptr(0), YMax: ptr(1), Series: []Series{{X: []float64{0, 1, 2}, Y: []float64{-5, 0.5, 7}, Lo: []float64{-6, 0, 6}, Hi: []float64{-4, 1, 8}}}},
		{Kind: KindBar, YMax: ptr(1), Series: []Series{{Y: []float64{3, 0.5}, Lo: []float64{2, 0.4}, Hi: []float64{4, 0.6}}}},
		{YMin: ptr(10), Series: []Series{{X: []float64{0, 1}, Y: []float64{1, 2}}}},
	} {
		if _, _, _, _, err := p.render(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestNumericCell(t *testing.T) {
	for s, want := range map[string]cellKind{
		"0.93": cellNumber, "-1.2e-3": cellNumber, "87.5%": cellNumber, "0.91 ± 0.02": cellNumber,
		"1,024": cellNumber, "+3": cellNumber, "−2": cellNumber, ".5": cellNumber, "×2.5": cellNumber,
		"": cellBlank, "—": cellBlank, "n/a": cellBlank, "NaN": cellBlank,
		"C4": cellText, "1e": cellText, "1.2.3": cellText, "abc": cellText, "1 ± x": cellText, ",5": cellText,
	} {
		if got := numericCell(s); got != want {
			t.Errorf("numericCell(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestInlineHTML(t *testing.T) {
	for in, want := range map[string]string{
		"a <b> & c":                   "a &lt;b&gt; &amp; c",
		"**bold** and *it*":           "<strong>bold</strong> and <em>it</em>",
		"`x < 1` and `**raw**`":       "<code>x &lt; 1</code> and <code>**raw**</code>",
		"an unmatched ` tick":         "an unmatched ` tick",
		"[go](https://go.dev/?a=1&b)": `<a href="https://go.dev/?a=1&amp;b">go</a>`,
		"[x](javascript:alert(1))":    "[x](javascript:alert(1))",
		"[rel](figures/a.png)":        `<a href="figures/a.png">rel</a>`,
		"2 * 3 * 4":                   "2 * 3 * 4",
	} {
		if got := inlineHTML(in); got != want {
			t.Errorf("inlineHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestImageGrid(t *testing.T) {
	imgs := testImages(5, 8, 8)
	g := ImageGrid(imgs, 3, 8, 8, 3, []string{"r0", "r90", "r180", "r270", "a very long label indeed"}, 4)
	b := g.Bounds()
	gap := 4
	if want := 3*(8*4+gap) + gap; b.Dx() != want {
		t.Errorf("width %d, want %d", b.Dx(), want)
	}
	if b.Dy() <= 2*(8*4+gap) {
		t.Errorf("height %d leaves no room for labels", b.Dy())
	}
	// The top-left pixel of the first tile is background (0.05, 0.05,
	// 0.1) normalised over the grid's shared range [0.05, 0.8].
	r, gg, bb, _ := g.At(gap, gap).RGBA()
	if r>>8 != 0 || gg>>8 != 0 || bb>>8 != 17 {
		t.Errorf("first pixel %d %d %d, want 0 0 17", r>>8, gg>>8, bb>>8)
	}
	// Separators are white.
	if r, gg, bb, _ := g.At(0, 0).RGBA(); r>>8 != 255 || gg>>8 != 255 || bb>>8 != 255 {
		t.Errorf("separator not white")
	}

	// Greyscale without labels, constant image, NaN pixel.
	flat := []float32{2, 2, 2, float32(math.NaN())}
	g = ImageGrid([][]float32{flat}, 1, 2, 2, 0, nil, 1)
	if got := g.Bounds(); got.Dx() != 2+2*2 || got.Dy() != 2+2*2 {
		t.Errorf("bounds %v", got)
	}
	if r, _, _, _ := g.At(2, 2).RGBA(); r>>8 != 128 {
		t.Errorf("constant image drawn at %d, want mid-grey 128", r>>8)
	}
	if r, gg, bb, _ := g.At(3, 3).RGBA(); r>>8 != 255 || gg>>8 != 0 || bb>>8 != 255 {
		t.Errorf("NaN pixel not magenta")
	}

	for name, f := range map[string]func(){
		"empty":    func() { ImageGrid(nil, 1, 2, 2, 1, nil, 1) },
		"channels": func() { ImageGrid([][]float32{{1, 2}}, 2, 1, 1, 1, nil, 1) },
		"size":     func() { ImageGrid([][]float32{{1, 2}}, 1, 2, 2, 1, nil, 1) },
		"labels":   func() { ImageGrid([][]float32{{1}}, 1, 1, 1, 1, []string{"a", "b"}, 1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if !strings.HasPrefix(r.(string), "report: ImageGrid: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			f()
		}()
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || h > 0 && b.Dy() != h {
		t.Errorf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", path, root)
	}
	if !bytes.Contains(data, []byte("<text")) {
		t.Errorf("%s: no text", path)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func base64Of(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDrawable(t *testing.T) {
	fix := drawable()
	for in, want := range map[string]string{
		"∝ 1/√width":      "~ 1/√width",
		"10⁻⁶ and x₁₂":    "10-6 and x12",
		"Δ ± α ≤ ∞ 0.5 ×": "Δ ± α ≤ ∞ 0.5 ×",
		"plain":           "plain",
		"emoji 😀":         "emoji ?",
	} {
		if got := fix(in); got != want {
			t.Errorf("drawable(%q) = %q, want %q", in, got, want)
		}
	}
}
