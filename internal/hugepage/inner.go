package hugepage

import "unsafe"

// inner returns the byte offset in b of the Size-aligned pages that lie
// wholly inside it and their length in bytes (0: none).
func inner(b []float64) (off, n uintptr) {
	if len(b) == 0 {
		return 0, 0
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	lo := (p + Size - 1) &^ (Size - 1)
	hi := (p + uintptr(8*len(b))) &^ (Size - 1)
	if hi <= lo {
		return 0, 0
	}
	return lo - p, hi - lo
}
