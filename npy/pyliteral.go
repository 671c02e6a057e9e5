package npy

import (
	"fmt"
	"math"
)

// The header of a .npy file is a Python dictionary literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//
// The parser below accepts the subset of Python literal syntax NumPy
// writes: dictionaries, tuples, lists, strings in single or double quotes,
// non-negative or negative integers (with Python 2's trailing L), True,
// False and None. It never evaluates anything.

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 16

type (
	pyDict []pyKV
	pyKV   struct {
		key string
		val any
	}
	pyTuple []any
	pyList  []any
	pyNone  struct{}
)

type parser struct {
	s []byte
	i int
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.i++
		default:
			return
		}
	}
}

// errorf reports a syntax error at the current position.
func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) peek() (byte, bool) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return 0, false
	}
	return p.s[p.i], true
}

// parseValue parses one literal.
func (p *parser) parseValue(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested more than %d levels deep", maxDepth)
	}
	c, ok := p.peek()
	if !ok {
		return nil, p.errorf("unexpected end of header")
	}
	switch {
	case c == '{':
		return p.parseDict(depth)
	case c == '(':
		items, err := p.parseSeq(depth, ')')
		return pyTuple(items), err
	case c == '[':
		items, err := p.parseSeq(depth, ']')
		return pyList(items), err
	case c == '\'' || c == '"':
		return p.parseString()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.parseInt()
	case isIdentStart(c):
		start := p.i
		for p.i < len(p.s) && isIdentPart(p.s[p.i]) {
			p.i++
		}
		switch w := string(p.s[start:p.i]); w {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return pyNone{}, nil
		default:
			p.i = start
			return nil, p.errorf("unexpected name %q", w)
		}
	}
	return nil, p.errorf("unexpected %q", c)
}

func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || (c >= '0' && c <= '9') }

// parseSeq parses the items of a tuple or list up to the closing bracket.
func (p *parser) parseSeq(depth int, end byte) ([]any, error) {
	p.i++ // opening bracket
	items := []any{}
	for {
		c, ok := p.peek()
		if !ok {
			return nil, p.errorf("unterminated %s", seqName(end))
		}
		if c == end {
			p.i++
			return items, nil
		}
		if len(items) > maxDims {
			return nil, p.errorf("%s has more than %d items", seqName(end), maxDims)
		}
		v, err := p.parseValue(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		c, ok = p.peek()
		switch {
		case !ok:
			return nil, p.errorf("unterminated %s", seqName(end))
		case c == ',':
			p.i++
		case c != end:
			return nil, p.errorf("unexpected %q in %s", c, seqName(end))
		}
	}
}

func seqName(end byte) string {
	if end == ')' {
		return "tuple"
	}
	return "list"
}

// parseDict parses a dictionary with string keys.
func (p *parser) parseDict(depth int) (pyDict, error) {
	p.i++ // '{'
	var d pyDict
	for {
		c, ok := p.peek()
		if !ok {
			return nil, p.errorf("unterminated dictionary")
		}
		if c == '}' {
			p.i++
			return d, nil
		}
		if c != '\'' && c != '"' {
			return nil, p.errorf("dictionary key is not a string")
		}
		k, err := p.parseString()
		if err != nil {
			return nil, err
		}
		for _, kv := range d {
			if kv.key == k {
				return nil, p.errorf("duplicate key %q", k)
			}
		}
		if c, ok := p.peek(); !ok || c != ':' {
			return nil, p.errorf("expected ':' after key %q", k)
		}
		p.i++
		v, err := p.parseValue(depth + 1)
		if err != nil {
			return nil, err
		}
		if len(d) >= 16 {
			return nil, p.errorf("dictionary has too many keys")
		}
		d = append(d, pyKV{k, v})
		c, ok = p.peek()
		switch {
		case !ok:
			return nil, p.errorf("unterminated dictionary")
		case c == ',':
			p.i++
		case c != '}':
			return nil, p.errorf("unexpected %q in dictionary", c)
		}
	}
}

// parseString parses a quoted string with the simple backslash escapes.
func (p *parser) parseString() (string, error) {
	q := p.s[p.i]
	p.i++
	var b []byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return string(b), nil
		case c == '\n':
			return "", p.errorf("newline in string")
		case c == '\\':
			if p.i >= len(p.s) {
				return "", p.errorf("unterminated string")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '\\', '\'', '"':
				b = append(b, e)
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			default:
				return "", p.errorf("unsupported escape \\%c in string", e)
			}
		default:
			b = append(b, c)
		}
	}
	return "", p.errorf("unterminated string")
}

// parseInt parses a decimal integer, allowing Python 2's L suffix.
func (p *parser) parseInt() (int, error) {
	neg := false
	if c := p.s[p.i]; c == '-' || c == '+' {
		neg = c == '-'
		p.i++
	}
	start := p.i
	n := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		d := int(p.s[p.i] - '0')
		if n > (math.MaxInt-d)/10 {
			return 0, p.errorf("integer too large")
		}
		n = n*10 + d
		p.i++
	}
	if p.i == start {
		return 0, p.errorf("sign without digits")
	}
	if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') {
		p.i++
	}
	if p.i < len(p.s) && (isIdentPart(p.s[p.i]) || p.s[p.i] == '.') {
		return 0, p.errorf("not an integer")
	}
	if neg {
		n = -n
	}
	return n, nil
}

// describe names the Python type of a parsed value for error messages.
func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int:
		return "an integer"
	case bool:
		return "a boolean"
	case pyNone:
		return "None"
	case pyTuple:
		return "a tuple"
	case pyList:
		return "a list"
	case pyDict:
		return "a dictionary"
	}
	return "an unknown value"
}
