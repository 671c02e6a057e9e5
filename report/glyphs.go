package report

import (
	"strings"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot/font/liberation"
)

// textFont returns the parsed Liberation Sans regular font, or nil.
func textFont() *sfnt.Font {
	for _, f := range liberation.Collection() {
		if f.Font.Variant == "Sans" && f.Font.Weight == xfont.WeightNormal && f.Font.Style == xfont.StyleNormal {
			return f.Face
		}
	}
	return nil
}

// scriptPlain returns the ordinary character for a superscript or
// subscript digit or sign.
func scriptPlain(r rune) (rune, bool) {
	switch {
	case r >= '⁰' && r <= '⁹':
		return '0' + (r - '⁰'), true
	case r >= '₀' && r <= '₉':
		return '0' + (r - '₀'), true
	}
	switch r {
	case '¹':
		return '1', true
	case '²':
		return '2', true
	case '³':
		return '3', true
	case '⁺', '₊':
		return '+', true
	case '⁻', '₋':
		return '-', true
	}
	return 0, false
}

// glyphFallback maps characters Liberation Sans lacks to text it has.
func glyphFallback(r rune) (string, bool) {
	switch r {
	case '∝', '∼':
		return "~", true
	case '⋅', '∙':
		return "·", true
	case '≲':
		return "<~", true
	case '≳':
		return ">~", true
	}
	if p, ok := scriptPlain(r); ok {
		return string(p), true
	}
	return "", false
}

// drawable returns a function that rewrites text so that every character
// can be drawn with Liberation Sans: characters it lacks are replaced by
// a plain equivalent (∝ by ~, superscript and subscript digits and signs
// by ordinary ones) or, failing that, by '?'. When a superscript or
// subscript is replaced, all of them in the text are, so that "10⁻⁶"
// becomes "10-6" rather than a mixture.
func drawable() func(string) string {
	f := textFont()
	var buf sfnt.Buffer
	has := func(r rune) bool {
		if f == nil || r < 0x80 {
			return true
		}
		i, err := f.GlyphIndex(&buf, r)
		return err == nil && i != 0
	}
	return func(s string) string {
		ok, plainScripts := true, false
		for _, r := range s {
			if !has(r) {
				ok = false
				if _, script := scriptPlain(r); script {
					plainScripts = true
				}
			}
		}
		if ok {
			return s
		}
		var b strings.Builder
		for _, r := range s {
			p, script := scriptPlain(r)
			switch {
			case script && plainScripts:
				b.WriteRune(p)
			case has(r):
				b.WriteRune(r)
			default:
				if alt, found := glyphFallback(r); found && allHave(alt, has) {
					b.WriteString(alt)
				} else {
					b.WriteByte('?')
				}
			}
		}
		return b.String()
	}
}

func allHave(s string, has func(rune) bool) bool {
	for _, r := range s {
		if !has(r) {
			return false
		}
	}
	return true
}

// withDrawableText returns a copy of p whose text can all be drawn.
func (p *Plot) withDrawableText() *Plot {
	fix := drawable()
	q := *p
	q.Title, q.XLabel, q.YLabel = fix(p.Title), fix(p.XLabel), fix(p.YLabel)
	q.Series = make([]Series, len(p.Series))
	for i, s := range p.Series {
		s.Name = fix(s.Name)
		if s.Labels != nil {
			labels := make([]string, len(s.Labels))
			for j, l := range s.Labels {
				labels[j] = fix(l)
			}
			s.Labels = labels
		}
		q.Series[i] = s
	}
	q.HLines = make([]RefLine, len(p.HLines))
	for i, h := range p.HLines {
		h.Label = fix(h.Label)
		q.HLines[i] = h
	}
	return &q
}
