package report

import (
	"bytes"
	"fmt"
	"strings"
)

// markdown renders the report as GitHub-flavoured Markdown.
func (r *rendered) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", oneLine(r.Title))
	if len(r.meta) > 0 {
		for _, kv := range r.meta {
			fmt.Fprintf(&b, "- **%s:** %s\n", mdEscape(kv[0]), mdMetaValue(kv[0], kv[1]))
		}
		b.WriteString("\n")
	}
	writeText(&b, r.Intro)
	for si, s := range r.Sections {
		fmt.Fprintf(&b, "## %s\n\n", oneLine(s.Heading))
		writeText(&b, s.Text)
		for _, t := range r.tables[si] {
			writeMarkdownTable(&b, t)
		}
		for _, f := range r.figures[si] {
			fmt.Fprintf(&b, "![%s](figures/%s.png)\n\n", mdEscape(altText(f)), f.Name)
			fmt.Fprintf(&b, "*Figure %d.* %s", f.num, oneLine(f.Caption))
			if f.svg != nil {
				fmt.Fprintf(&b, " ([SVG](figures/%s.svg))", f.Name)
			}
			b.WriteString("\n\n")
		}
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n')
}

// writeText writes Markdown-like text verbatim, normalising blank lines.
func writeText(b *bytes.Buffer, s string) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s != "" {
		b.WriteString(s)
		b.WriteString("\n\n")
	}
}

// writeMarkdownTable writes a caption line, the table, its notes and a
// link to its CSV copy.
func writeMarkdownTable(b *bytes.Buffer, t renderedTable) {
	fmt.Fprintf(b, "*Table %d.* %s ([CSV](tables/%s.csv))\n\n", t.num, oneLine(t.Caption), t.Name)
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" ")
			b.WriteString(cellEscape(c))
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	row(t.Columns)
	b.WriteString("|")
	for _, num := range t.numeric {
		if num {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	b.WriteString("\n")
	if n := strings.TrimSpace(t.Notes); n != "" {
		fmt.Fprintf(b, "<sub>%s</sub>\n\n", oneLine(n))
	}
}

// altText is the alternative text of a figure: its caption, else its
// plot title, else its name.
func altText(f renderedFigure) string {
	for _, s := range []string{f.Caption, plotTitle(f.Figure)} {
		if s = oneLine(s); s != "" {
			return s
		}
	}
	return f.Name
}

func plotTitle(f *Figure) string {
	if f.Plot != nil {
		return f.Plot.Title
	}
	return ""
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cellEscape makes s safe inside a Markdown table cell.
func cellEscape(s string) string {
	s = oneLine(s)
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "|", `\|`)
}

// mdEscape escapes the characters that would start Markdown syntax in
// short inline text.
func mdEscape(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdMetaValue formats a metadata value; commands are shown as code.
func mdMetaValue(key, v string) string {
	v = oneLine(v)
	if key == "command" {
		fence := "`"
		for strings.Contains(v, fence) {
			fence += "`"
		}
		pad := ""
		if strings.HasPrefix(v, "`") || strings.HasSuffix(v, "`") {
			pad = " "
		}
		return fence + pad + v + pad + fence
	}
	return mdEscape(v)
}
