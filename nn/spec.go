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

// layerNames lists the layer names the spec parser knows.
func layerNames() []string {
	names := []string{"dense", "conv", "flatten", "globalavgpool", "avgpool", "maxpool"}
	for _, d := range activations {
		names = append(names, d.name)
	}
	return append(names, "lift", "gconv", "gpool", "liftdense", "canon", "s2conv", "so3conv", "so3pool")
}

// makeLayer turns a token into a layer description: the parse function of
// the layer kind reads the arguments.
func makeLayer(t *token, ctx *buildCtx) (Layer, error) {
	a := &args{t: t}
	var l Layer
	var err error
	switch t.name {
	case "dense":
		l = parseDense(a)
	case "flatten":
		l = parseFlatten(a)
	case "globalavgpool", "gap", "gpool", "avgpool", "maxpool":
		l = parsePool(t.name, a)
	case "conv", "lift", "gconv":
		l, err = parseConv(t.name, a, ctx)
	case "liftdense":
		l, err = parseLiftDense(a)
	case "canon":
		return parseCanon(a)
	case "s2conv", "so3conv":
		l = parseSphereConv(t.name, a)
	case "so3pool":
		l = parseSO3Pool(a)
	default:
		d := activationNamed(t.name)
		if d == nil {
			return nil, fmt.Errorf("unknown layer %q (known: %s)", t.name, strings.Join(layerNames(), ", "))
		}
		l = parseActivation(d, a)
	}
	if err != nil {
		return nil, err
	}
	if a.err != "" {
		return nil, fmt.Errorf("%s", a.err)
	}
	return l, nil
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
			if msg := t.addArgs(spec[open+1 : j]); msg != "" {
				return nil, fail(start, j+1, "%s", msg)
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

// addArgs adds the comma-separated arguments between a token's
// parentheses, returning a message for the first malformed one.
func (t *token) addArgs(inner string) string {
	if strings.TrimSpace(inner) == "" {
		return ""
	}
	for _, a := range strings.Split(inner, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return "empty argument"
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			if k == "" || v == "" {
				return fmt.Sprintf("malformed keyword argument %q", a)
			}
			if _, dup := t.kw[k]; dup {
				return fmt.Sprintf("keyword %s given twice", k)
			}
			t.kw[k] = v
			t.kwOrder = append(t.kwOrder, k)
		} else {
			if len(t.kw) > 0 {
				return fmt.Sprintf("positional argument %q after keyword arguments", a)
			}
			t.pos = append(t.pos, a)
		}
	}
	return ""
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
