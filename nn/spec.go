package nn

import (
	"fmt"
	"strconv"
	"strings"
)

// token is one layer of an architecture spec: name(pos..., key=value...).
type token struct {
	name       string
	pos        []string
	kw         map[string]string
	kwOrder    []string
	start, end int // byte offsets in the spec
	used       map[string]bool
}

// SpecError reports a problem with one token of an architecture spec. Its
// message quotes the spec and points at the bad token with a caret line.
type SpecError struct {
	Spec       string
	Start, End int
	Index      int // 1-based token index, 0 if not token-specific
	Msg        string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	if e.Index > 0 {
		fmt.Fprintf(&b, "arch: layer %d %q: %s", e.Index, e.Spec[e.Start:e.End], e.Msg)
	} else {
		fmt.Fprintf(&b, "arch: %s", e.Msg)
	}
	if e.Spec != "" {
		fmt.Fprintf(&b, "\n  %s\n  %s%s", e.Spec, strings.Repeat(" ", e.Start), strings.Repeat("^", max(1, e.End-e.Start)))
	}
	return b.String()
}

// tokenize splits a serial spec into layer tokens.
func tokenize(spec string) ([]*token, error) {
	var toks []*token
	i := 0
	n := len(spec)
	skip := func() {
		for i < n && (spec[i] == ' ' || spec[i] == '\t' || spec[i] == '\n') {
			i++
		}
	}
	fail := func(s, e int, msg string, args ...any) error {
		return &SpecError{Spec: spec, Start: s, End: min(max(e, s+1), n), Msg: fmt.Sprintf(msg, args...)}
	}
	skip()
	if i == n {
		return nil, &SpecError{Spec: spec, Msg: "empty architecture (e.g. dense(512),relu,dense(10))"}
	}
	for i < n {
		skip()
		start := i
		for i < n && (isIdent(spec[i])) {
			i++
		}
		if i == start {
			return nil, fail(start, start+1, "expected a layer name at %q", string(spec[start]))
		}
		t := &token{name: strings.ToLower(spec[start:i]), start: start, kw: map[string]string{}, used: map[string]bool{}}
		skip()
		if i < n && spec[i] == '(' {
			open := i
			depth := 0
			j := i
			for ; j < n; j++ {
				if spec[j] == '(' {
					depth++
				} else if spec[j] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j == n {
				return nil, fail(start, n, "unclosed parenthesis")
			}
			inner := spec[open+1 : j]
			if strings.TrimSpace(inner) != "" {
				for _, a := range strings.Split(inner, ",") {
					a = strings.TrimSpace(a)
					if a == "" {
						return nil, fail(start, j+1, "empty argument")
					}
					if k, v, ok := strings.Cut(a, "="); ok {
						k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
						if k == "" || v == "" {
							return nil, fail(start, j+1, "malformed keyword argument %q", a)
						}
						if _, dup := t.kw[k]; dup {
							return nil, fail(start, j+1, "keyword %s given twice", k)
						}
						t.kw[k] = v
						t.kwOrder = append(t.kwOrder, k)
					} else {
						if len(t.kw) > 0 {
							return nil, fail(start, j+1, "positional argument %q after keyword arguments", a)
						}
						t.pos = append(t.pos, a)
					}
				}
			}
			i = j + 1
		}
		t.end = i
		toks = append(toks, t)
		skip()
		if i < n {
			if spec[i] != ',' {
				return nil, fail(i, i+1, "expected ',' between layers, got %q", string(spec[i]))
			}
			i++
			skip()
			if i == n {
				return nil, fail(i-1, i, "trailing comma")
			}
		}
	}
	return toks, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// args gives typed access to a token's arguments, recording the first error.
type args struct {
	t   *token
	err string
}

func (a *args) fail(format string, v ...any) {
	if a.err == "" {
		a.err = fmt.Sprintf(format, v...)
	}
}

// value returns positional argument i or keyword key, and whether present.
func (a *args) value(i int, key string) (string, bool) {
	if v, ok := a.t.kw[key]; ok {
		a.t.used[key] = true
		if i >= 0 && i < len(a.t.pos) {
			a.fail("%s given both by position and as %s=", key, key)
		}
		return v, true
	}
	if i >= 0 && i < len(a.t.pos) {
		return a.t.pos[i], true
	}
	return "", false
}

func (a *args) int(i int, key string, def int, required bool) int {
	v, ok := a.value(i, key)
	if !ok {
		if required {
			a.fail("missing %s (an integer)", key)
		}
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		a.fail("%s: expected an integer, got %q", key, v)
		return def
	}
	return n
}

func (a *args) float(i int, key string, def float64) float64 {
	v, ok := a.value(i, key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		a.fail("%s: expected a number, got %q", key, v)
		return def
	}
	return f
}

func (a *args) str(i int, key string, def string, required bool) string {
	v, ok := a.value(i, key)
	if !ok {
		if required {
			a.fail("missing %s", key)
		}
		return def
	}
	return strings.ToLower(v)
}

// done checks that every argument was consumed.
func (a *args) done(npos int) {
	if len(a.t.pos) > npos {
		a.fail("too many positional arguments (%d given, at most %d)", len(a.t.pos), npos)
	}
	for _, k := range a.t.kwOrder {
		if !a.t.used[k] {
			a.fail("unknown keyword %s", k)
		}
	}
}
