package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// htmlStyle is the report's style sheet.
const htmlStyle = `
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --soft: #f6f8fa; --accent: #0072b2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
.page { max-width: 64rem; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; }
header { border-bottom: 1px solid var(--rule); padding-bottom: 1rem; margin-bottom: 1.5rem; }
h1 { font-size: 2rem; line-height: 1.25; margin: 0 0 .75rem; letter-spacing: -.01em; }
h2 { font-size: 1.4rem; line-height: 1.3; margin: 2.75rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
p, ul, ol { margin: 0 0 1rem; }
p, li { max-width: 46rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: .875em; }
code { background: var(--soft); border-radius: 4px; padding: .1em .35em; }
pre { background: var(--soft); border-radius: 6px; padding: .8rem 1rem; overflow-x: auto; line-height: 1.45; }
pre code { background: none; padding: 0; font-size: 1em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; font-size: .9rem; color: var(--muted); }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; color: var(--ink); overflow-wrap: anywhere; }
nav.toc { font-size: .95rem; margin: 0 0 1.5rem; }
nav.toc ol { margin: .25rem 0 0; padding-left: 1.5rem; }
figure { margin: 1.75rem 0 2rem; }
figure.table { display: table; max-width: 100%; margin-left: auto; margin-right: auto; }
figure.plot img, figure.image img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure.image img { image-rendering: pixelated; image-rendering: crisp-edges; }
figcaption, caption { font-size: .9rem; color: var(--muted); line-height: 1.45; }
figcaption { margin-top: .6rem; text-align: center; }
figcaption .label, caption .label { font-weight: 600; color: var(--ink); }
a.file { font-size: .8rem; border: 1px solid var(--rule); border-radius: 4px; padding: 0 .35em; margin-left: .3em; white-space: nowrap; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0 auto; font-size: .9rem; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; padding-bottom: .5rem; }
th, td { padding: .4rem .8rem; text-align: left; vertical-align: top; }
thead th { border-top: 2px solid var(--ink); border-bottom: 1px solid var(--ink); font-weight: 600; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 2px solid var(--ink); }
tbody tr:nth-child(even) td { background: var(--soft); }
th.num, td.num { text-align: right; white-space: nowrap; }
p.notes { font-size: .8rem; color: var(--muted); margin: .5rem 0 0; }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--rule); font-size: .8rem; color: var(--muted); }
@media print { .page { max-width: none; padding: 0; } a.file { display: none; } figure, table { break-inside: avoid; } }
`

// html renders the report as one self-contained HTML page.
func (r *rendered) html() []byte {
	var b bytes.Buffer
	esc := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<meta name=\"generator\" content=\"eqens report\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<div class=\"page\">\n", esc(oneLine(r.Title)), htmlStyle)

	b.WriteString("<header>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(oneLine(r.Title)))
	if len(r.meta) > 0 {
		b.WriteString("<dl class=\"meta\">\n")
		for _, kv := range r.meta {
			v := esc(kv[1])
			if kv[0] == "command" {
				v = "<code>" + v + "</code>"
			}
			fmt.Fprintf(&b, "<dt>%s</dt><dd>%s</dd>\n", esc(capitalize(kv[0])), v)
		}
		b.WriteString("</dl>\n")
	}
	b.WriteString("</header>\n<main>\n")
	b.WriteString(blocksHTML(r.Intro))
	if len(r.Sections) >= 3 {
		b.WriteString("<nav class=\"toc\"><strong>Contents</strong>\n<ol>\n")
		for i, s := range r.Sections {
			fmt.Fprintf(&b, "<li><a href=\"#s%d\">%s</a></li>\n", i+1, esc(oneLine(s.Heading)))
		}
		b.WriteString("</ol>\n</nav>\n")
	}
	for si, s := range r.Sections {
		fmt.Fprintf(&b, "<section id=\"s%d\">\n<h2>%s</h2>\n", si+1, esc(oneLine(s.Heading)))
		b.WriteString(blocksHTML(s.Text))
		for _, t := range r.tables[si] {
			writeHTMLTable(&b, t)
		}
		for _, f := range r.figures[si] {
			writeHTMLFigure(&b, f)
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</main>\n<footer>Figures are in <code>figures/</code> (PNG")
	b.WriteString(", SVG for charts), tables in <code>tables/</code> (CSV), next to this file.</footer>\n")
	b.WriteString("</div>\n</body>\n</html>\n")
	return b.Bytes()
}

// writeHTMLTable writes a table with its caption and notes.
func writeHTMLTable(b *bytes.Buffer, t renderedTable) {
	esc := html.EscapeString
	fmt.Fprintf(b, "<figure class=\"table\" id=\"table-%s\">\n<div class=\"table-wrap\">\n<table>\n", t.Name)
	fmt.Fprintf(b, "<caption><span class=\"label\">Table %d.</span> %s <a class=\"file\" href=\"tables/%s.csv\">CSV</a></caption>\n",
		t.num, inlineHTML(oneLine(t.Caption)), t.Name)
	cls := func(j int) string {
		if t.numeric[j] {
			return ` class="num"`
		}
		return ""
	}
	b.WriteString("<thead><tr>")
	for j, c := range t.Columns {
		fmt.Fprintf(b, "<th%s>%s</th>", cls(j), esc(c))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for j, c := range row {
			fmt.Fprintf(b, "<td%s>%s</td>", cls(j), esc(c))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</div>\n")
	if n := strings.TrimSpace(t.Notes); n != "" {
		fmt.Fprintf(b, "<p class=\"notes\">%s</p>\n", inlineHTML(oneLine(n)))
	}
	b.WriteString("</figure>\n")
}

// writeHTMLFigure writes a figure with its PNG embedded.
func writeHTMLFigure(b *bytes.Buffer, f renderedFigure) {
	class := "plot"
	if f.raster {
		class = "image"
	}
	fmt.Fprintf(b, "<figure class=\"%s\" id=\"fig-%s\">\n", class, f.Name)
	fmt.Fprintf(b, "<img width=\"%d\" height=\"%d\" alt=\"%s\" src=\"data:image/png;base64,", f.width, f.height, html.EscapeString(altText(f)))
	b.WriteString(base64.StdEncoding.EncodeToString(f.png))
	b.WriteString("\">\n")
	fmt.Fprintf(b, "<figcaption><span class=\"label\">Figure %d.</span> %s", f.num, inlineHTML(oneLine(f.Caption)))
	if f.svg != nil {
		fmt.Fprintf(b, " <a class=\"file\" href=\"figures/%s.svg\">SVG</a>", f.Name)
	}
	fmt.Fprintf(b, " <a class=\"file\" href=\"figures/%s.png\">PNG</a></figcaption>\n</figure>\n", f.Name)
}

// blocksHTML renders Markdown-like text: paragraphs separated by blank
// lines, "- " or "* " bullet lists, "#" headings (as h3), and fenced code
// blocks. Everything else is escaped.
func blocksHTML(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	var para []string
	var items []string
	flushPara := func() {
		if len(para) > 0 {
			fmt.Fprintf(&b, "<p>%s</p>\n", inlineHTML(strings.Join(para, " ")))
			para = nil
		}
	}
	flushList := func() {
		if len(items) > 0 {
			b.WriteString("<ul>\n")
			for _, it := range items {
				fmt.Fprintf(&b, "<li>%s</li>\n", inlineHTML(it))
			}
			b.WriteString("</ul>\n")
			items = nil
		}
	}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case trim == "":
			flushPara()
			flushList()
		case strings.HasPrefix(trim, "```"):
			flushPara()
			flushList()
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				code = append(code, lines[i])
			}
			fmt.Fprintf(&b, "<pre><code>%s</code></pre>\n", html.EscapeString(strings.Join(code, "\n")))
		case strings.HasPrefix(trim, "- ") || strings.HasPrefix(trim, "* "):
			flushPara()
			items = append(items, strings.TrimSpace(trim[2:]))
		case strings.HasPrefix(trim, "#"):
			flushPara()
			flushList()
			fmt.Fprintf(&b, "<h3>%s</h3>\n", inlineHTML(strings.TrimSpace(strings.TrimLeft(trim, "#"))))
		case len(items) > 0 && line != trim:
			// An indented line continues the list item.
			items[len(items)-1] += " " + trim
		default:
			flushList()
			para = append(para, trim)
		}
	}
	flushPara()
	flushList()
	return b.String()
}

// inlineHTML escapes s and renders `code`, **bold**, *italic* and
// [text](url) links (http, https, mailto, relative and #fragment URLs
// only).
func inlineHTML(s string) string {
	bold := regexp.MustCompile(`\*\*([^*]+)\*\*`)
	italic := regexp.MustCompile(`\*([^*\s](?:[^*]*[^*\s])?)\*`)
	link := regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			if i == strings.Count(s, "`") && strings.Count(s, "`")%2 == 1 {
				// An unmatched backtick is literal.
				b.WriteString("`" + html.EscapeString(part))
				continue
			}
			fmt.Fprintf(&b, "<code>%s</code>", html.EscapeString(part))
			continue
		}
		t := html.EscapeString(part)
		t = link.ReplaceAllStringFunc(t, func(m string) string {
			sm := link.FindStringSubmatch(m)
			if !safeURL(html.UnescapeString(sm[2])) {
				return m
			}
			return fmt.Sprintf(`<a href="%s">%s</a>`, sm[2], sm[1])
		})
		t = bold.ReplaceAllString(t, "<strong>$1</strong>")
		t = italic.ReplaceAllString(t, "<em>$1</em>")
		b.WriteString(t)
	}
	return b.String()
}

// safeURL reports whether a link target is harmless: http(s), mailto, or
// a URL without a scheme.
func safeURL(u string) bool {
	lower := strings.ToLower(u)
	for _, p := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	colon := strings.IndexByte(u, ':')
	return colon < 0 || strings.ContainsAny(u[:colon], "/?#")
}

// capitalize returns s with its first letter in upper case.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
