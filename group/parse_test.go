package group

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		spec   string
		name   string
		order  int
		dim    int
		closed bool
	}{
		{"c4", "c4", 4, 2, true},
		{" C16 ", "c16", 16, 2, true},
		{"c04", "c4", 4, 2, true},
		{"d4", "d4", 8, 2, true},
		{"d1", "d1", 2, 2, true},
		{"z2", "z2", 2, 1, true},
		{"trivial", "trivial", 1, 0, true},
		{"e", "trivial", 1, 0, true},
		{"none", "trivial", 1, 0, true},
		{"so2:32", "so2:32:1", 32, 2, false},
		{"so2:32:7", "so2:32:7", 32, 2, false},
		{"so3:24", "so3:24:1", 24, 3, false},
		{"SO3:5:18446744073709551615", "so3:5:18446744073709551615", 5, 3, false},
		{"tet", "tet", 12, 3, true},
		{"tetrahedral", "tet", 12, 3, true},
		{"oct", "oct", 24, 3, true},
		{"octahedral", "oct", 24, 3, true},
		{"ico", "ico", 60, 3, true},
		{"icosahedral", "ico", 60, 3, true},
		{"ising:8", "ising:8", 512, 0, true},
		{"ising:8:flip", "ising:8:flip", 1024, 0, true},
		{"c4xz2", "c4xz2", 8, 3, true},
		{"c4 x z2", "c4xz2", 8, 3, true},
		{"d4xc2xz2", "d4xc2xz2", 32, 5, true},
		{"ising:4xc4", "ising:4xc4", 512, 2, true},
		{"so2:3:5xz2", "so2:3:5xz2", 6, 3, false},
		{"c4096", "c4096", 4096, 2, true},
		{"ising:128:flip", "ising:128:flip", 262144, 0, true},
	} {
		g, err := Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		if g.Name() != c.name || g.Order() != c.order || g.Dim() != c.dim || g.Closed() != c.closed {
			t.Errorf("Parse(%q) = %s dim %d closed %v, want %s order %d dim %d closed %v",
				c.spec, g, g.Dim(), g.Closed(), c.name, c.order, c.dim, c.closed)
		}
		if h := mustParse(t, g.Name()); h.Name() != g.Name() || h.Order() != g.Order() {
			t.Errorf("Parse(%q).Name() = %q does not parse back", c.spec, g.Name())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"", "empty"},
		{"q7", `unknown group "q7"`},
		{"c0", "at least 1"},
		{"c-4", "not a decimal"},
		{"c+4", "not a decimal"},
		{"c4097", "limit 4096"},
		{"d2049", "limit 2048"},
		{"c99999999999999999999999", "limit"},
		{"so2", "unknown"},
		{"so2:", "not a decimal"},
		{"so2:0", "at least 1"},
		{"so3:100001", "limit 100000"},
		{"so3:5:0x10", `factor 2: unknown group "10"`}, // seeds are decimal: x splits
		{"so3:5:-1", "seed"},
		{"so3:5:99999999999999999999", "64 bits"},
		{"ising:2", "below 3"},
		{"ising:129", "limit 128"},
		{"ising:8:flop", `unknown option "flop"`},
		{"ising:8:flip:flip", "unknown option"},
		{"c4x", "factor 2: empty factor"},
		{"xc4", "factor 1: empty factor"},
		{"c4xq", `factor 2: unknown group "q"`},
		{"ising:128:flipxz2", "order above the limit"},
		{"c4096xc4096", "order above the limit"},
		{":", "unknown"},
		{"c1xc1xc1xc1xc1xc1xc1xc1xc1", "9 factors"},
		{"icoxicoxc72", "above the limit of 8388608 entries"},
	} {
		_, err := Parse(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): error %v, want one containing %q", c.spec, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "unknown group") && !strings.Contains(err.Error(), "so3:<n>[:<seed>]") {
			t.Errorf("Parse(%q): error %q does not list the valid forms", c.spec, err)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is a
// sensible group within the size limits, and that names parse back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"c4", "d4", "c16", "z2", "trivial", "so2:32", "so3:24:7", "oct", "tet", "ico",
		"ising:8", "ising:4:flip", "c4xz2", "d4xc2xz2", "so2:3:5xz2", "x", "c", "ising:", "so3::", "c4096xc64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		g, err := Parse(spec)
		if err != nil {
			if g != nil {
				t.Fatalf("Parse(%q) returned a group and an error", spec)
			}
			return
		}
		if g.Order() < 1 || g.Order() > maxParseOrder {
			t.Fatalf("Parse(%q): order %d", spec, g.Order())
		}
		if g.Dim() > 0 && len(g.Matrix(g.Order()-1)) != g.Dim()*g.Dim() {
			t.Fatalf("Parse(%q): matrices of the wrong size", spec)
		}
		if g.Closed() {
			a := g.Order() - 1
			if g.Mul(a, g.Inv(a)) != 0 {
				t.Fatalf("Parse(%q): %d∘Inv(%d) != identity", spec, a, a)
			}
		}
		h, err := Parse(g.Name())
		if err != nil || h.Order() != g.Order() || h.Name() != g.Name() {
			t.Fatalf("Parse(%q).Name() = %q parses to %v, %v", spec, g.Name(), h, err)
		}
	})
}
