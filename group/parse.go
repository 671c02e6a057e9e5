package group

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse returns the group named by a command-line spec:
//
//	c<n>     cyclic group C_n of rotations of the plane (c4, c8, c16)
//	d<n>     dihedral group D_n (d4)
//	z2       the reflection x -> -x of the real line (toy regression)
//	trivial  the group with one element
//
// Names are case-insensitive.
func Parse(spec string) (*Group, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "" {
		return nil, fmt.Errorf("empty group name (try c4, d4, c16, so2:32, so3:24, ising:8)")
	}
	switch s {
	case "trivial", "e", "none":
		return Trivial(), nil
	case "z2":
		return Reflection1D(), nil
	}
	if n, ok := suffixInt(s, "c"); ok {
		return Cyclic(n)
	}
	if n, ok := suffixInt(s, "d"); ok {
		return Dihedral(n)
	}
	return nil, fmt.Errorf("unknown group %q (known: c<n>, d<n>, z2, trivial; e.g. c4, d4, c16)", spec)
}

func suffixInt(s, prefix string) (int, bool) {
	if !strings.HasPrefix(s, prefix) {
		return 0, false
	}
	n, err := strconv.Atoi(s[len(prefix):])
	if err != nil || n < 1 || n > 1<<16 {
		return 0, false
	}
	return n, true
}
