package group

import (
	"strings"
	"testing"
)

func TestInputRepLayout(t *testing.T) {
	for _, tc := range []struct {
		group  string
		shape  []int
		layout string
		kind   string
		err    string // a part of the error, "" for none
	}{
		{"c4", []int{1, 8, 8}, "auto", "image", ""},
		{"c8", []int{3, 8, 8}, "", "image", ""},
		{"c4", []int{8, 8}, "image", "image", ""},
		{"so3:4", []int{6}, "auto", "vector", ""},
		{"ising:4", []int{1, 4, 4}, "auto", "", ""},
		{"c4", []int{1, 4, 4}, "lattice", "lattice", ""},
		{"c4", []int{4}, "vector", "vector", ""},
		{"ising:4", []int{6}, "auto", "", "cannot act on vectors of length 6"},
		{"c4", []int{6}, "image", "", "are not images (want [C H W])"},
		{"c4", []int{2, 4, 4}, "lattice", "", "acts on 1×L×L lattices"},
		{"c4", []int{5}, "vector", "", "not a multiple of 2"},
		{"ising:4", []int{16}, "vector", "", "has no geometry to act on vectors"},
		{"c4", []int{1, 4, 4}, "sphere", "", `unknown input layout "sphere" (want auto, image, lattice or vector)`},
	} {
		g := mustParse(t, tc.group)
		r, err := InputRepLayout(g, tc.shape, tc.layout)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("InputRepLayout(%s, %v, %q) = %v, want an error with %q", tc.group, tc.shape, tc.layout, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("InputRepLayout(%s, %v, %q): %v", tc.group, tc.shape, tc.layout, err)
			continue
		}
		if tc.kind != "" && r.Kind() != tc.kind {
			t.Errorf("InputRepLayout(%s, %v, %q) kind %s, want %s", tc.group, tc.shape, tc.layout, r.Kind(), tc.kind)
		}
		if tc.layout == "" || tc.layout == "auto" {
			auto, err := InputRep(g, tc.shape)
			if err != nil || auto.Kind() != r.Kind() || auto.Dim() != r.Dim() {
				t.Errorf("InputRepLayout(%s, %v, %q) differs from InputRep: %v", tc.group, tc.shape, tc.layout, err)
			}
		}
	}
}

func TestOutputRep(t *testing.T) {
	for _, tc := range []struct {
		group string
		kind  string
		dim   int
		want  string // the Rep's kind, or a part of the error
		ok    bool
	}{
		{"c4", "", 10, "trivial", true},
		{"c4", "trivial", 10, "trivial", true},
		{"so3:4", "vector", 3, "vector", true},
		{"so3:4", "vector", 6, "vector", true},
		{"so3:4", "vector", 4, "acts on 3-vectors, but targets have dimension 4", false},
		{"ising:4", "vector", 3, "has no geometry to act on vector targets", false},
		{"c4", "tensor", 4, `unknown output representation "tensor" (want trivial or vector)`, false},
	} {
		g := mustParse(t, tc.group)
		r, err := OutputRep(g, tc.kind, tc.dim)
		switch {
		case !tc.ok:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OutputRep(%s, %q, %d) = %v, want an error with %q", tc.group, tc.kind, tc.dim, err, tc.want)
			}
		case err != nil:
			t.Errorf("OutputRep(%s, %q, %d): %v", tc.group, tc.kind, tc.dim, err)
		case r.Kind() != tc.want || r.Dim() != tc.dim:
			t.Errorf("OutputRep(%s, %q, %d): kind %s dim %d, want %s %d", tc.group, tc.kind, tc.dim, r.Kind(), r.Dim(), tc.want, tc.dim)
		}
	}
}
