package nn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	cases := []struct {
		spec, want string
		shape      []int
		out        int
	}{
		{"dense(512),relu,dense(512),relu,dense(10)", "dense(512),relu,dense(512),relu,dense(10)", []int{1, 28, 28}, 10},
		{"Dense(8, w_std=1.4, b_std=0.1), ReLU, dense(3)", "dense(8,w_std=1.4,b_std=0.1),relu,dense(3)", []int{5}, 3},
		{"lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(10)", "lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(10)", []int{1, 28, 28}, 10},
		{"conv(4),relu,conv(8,k=5,padding=valid),gelu,globalavgpool,dense(2)", "conv(4,k=3),relu,conv(8,k=5,padding=valid),gelu,globalavgpool,dense(2)", []int{3, 9, 9}, 2},
		{"conv(4,padding=circular),erf(a=2),avgpool(2),flatten,dense(1)", "conv(4,k=3,padding=circular),erf(a=2,b=1,c=0),avgpool(2),flatten,dense(1)", []int{1, 4, 4}, 1},
		{"liftdense(d4,8),tanh,gconv(8,k=1,support=e),relu,gpool,dense(2)", "liftdense(d4,8),tanh,gconv(8,k=1,support=e),relu,gpool,dense(2)", []int{1, 6, 6}, 2},
	}
	for _, tc := range cases {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if a.Spec != tc.want {
			t.Errorf("canonical spec %q, want %q", a.Spec, tc.want)
		}
		if a.OutputDim() != tc.out {
			t.Errorf("%s: output dim %d, want %d", tc.spec, a.OutputDim(), tc.out)
		}
		// The canonical form parses to itself.
		b, err := Parse(a.Spec, tc.shape, NTK)
		if err != nil || b.Spec != a.Spec || b.NumParams() != a.NumParams() {
			t.Errorf("canonical spec %q does not round-trip: %v", a.Spec, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		spec  string
		shape []int
		index int    // 1-based bad token, 0 for global
		msg   string // substring of the message
	}{
		{"", []int{3}, 0, "empty architecture"},
		{"dense(10),", []int{3}, 0, "trailing comma"},
		{"dense(10) relu", []int{3}, 0, "expected ','"},
		{"dense(10", []int{3}, 0, "unclosed parenthesis"},
		{"dense(x)", []int{3}, 1, "expected an integer"},
		{"dense(0)", []int{3}, 1, "width must be between 1 and"},
		{"dense(100000000000),relu,dense(2)", []int{3}, 1, "width must be between 1 and"},
		{"dense(1048576),dense(1048576)", []int{3}, 2, "too many parameters"},
		{"conv(1,k=20001)", []int{1, 8, 8}, 1, "is larger than 15"},
		{"lift(c4,1),gconv(1,k=666661)", []int{1, 8, 8}, 2, "is larger than"},
		{"lift(c4096,1,k=255)", []int{1, 200, 200}, 1, "too large"},
		{"dense(2)", []int{1 << 13, 1 << 13, 1 << 13}, 0, "values per sample"},
		{"dense(4),relu,dense(3,w_std=-1)", []int{3}, 3, "w_std must be a positive number"},
		{"dense(4),softmax", []int{3}, 2, `unknown layer "softmax"`},
		{"dense(4,foo=1)", []int{3}, 1, "unknown keyword foo"},
		{"dense(4,5)", []int{3}, 1, "too many positional"},
		{"relu,dense(3)", []int{3}, 1, "cannot start with an activation"},
		{"lift(c5x,4)", []int{1, 8, 8}, 1, "c5x"},
		{"lift(c4,4,k=2)", []int{1, 8, 8}, 1, "must be odd"},
		{"conv(4),relu,gconv(4)", []int{1, 8, 8}, 3, "needs group features"},
		{"lift(c4,4),relu,conv(4)", []int{1, 8, 8}, 3, "use gconv"},
		{"conv(4,k=9,padding=valid)", []int{1, 4, 8}, 1, "leaves no output"},
		{"conv(4,padding=reflect)", []int{1, 8, 8}, 1, "unknown padding"},
		{"lift(c4,4),gconv(4,support=half)", []int{1, 8, 8}, 2, "support must be all or e"},
		{"dense(4),avgpool(2)", []int{3}, 2, "needs spatial"},
		{"conv(4),avgpool(3)", []int{1, 8, 8}, 2, "divisible by 3"},
		{"dense(4,w_std=1,w_std=2)", []int{3}, 0, "given twice"},
		{"dense(8),relu,conv(1)", []int{1, 4, 4}, 3, "needs image features"},
		{"conv(4),flatten,relu,gpool", []int{1, 4, 4}, 4, "needs spatial or group"},
		{"conv(4)", []int{16}, 1, "needs image features"},
		{"dense(4)", []int{0, 3}, 0, "non-positive"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.spec, tc.shape, NTK)
		if err == nil {
			t.Errorf("%q: accepted", tc.spec)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %q does not mention %q", tc.spec, err, tc.msg)
		}
		var se *SpecError
		if errors.As(err, &se) && se.Index != tc.index {
			t.Errorf("%q: error points at layer %d, want %d (%v)", tc.spec, se.Index, tc.index, err)
		}
	}
}

func TestSpecErrorCaret(t *testing.T) {
	_, err := Parse("dense(4),relu,gconv(16,k=x)", []int{1, 4, 4}, NTK)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("want message, spec and caret lines, got %q", err)
	}
	col := strings.Index(lines[1], "gconv")
	if strings.Index(lines[2], "^") != col || !strings.HasSuffix(lines[2], strings.Repeat("^", len("gconv(16,k=x)"))) {
		t.Fatalf("caret does not underline the token:\n%s", err)
	}
}

// FuzzParse checks that no spec makes the parser panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"dense(512),relu,dense(10)", "lift(c4,16,k=3),relu,gconv(16,k=3),relu,gpool,dense(10)",
		"conv(4,padding=valid),erf(a=1,b=2,c=3),avgpool(2),flatten,dense(1)", "liftdense(d4,8),tanh,gconv(8,k=1,support=e),gpool,dense(2)",
		"dense(", "((((", "dense(1,,2)", "lift(so3:24,4)", "gconv(=)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if len(spec) > 200 {
			return
		}
		a, err := Parse(spec, []int{1, 6, 6}, NTK)
		if err == nil && a.NumParams() > 1<<26 {
			// Huge widths are legal specs; do not build them.
			return
		}
	})
}
