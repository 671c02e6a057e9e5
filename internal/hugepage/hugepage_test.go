package hugepage

import (
	"testing"
	"unsafe"
)

// TestInner checks the advised range of buffers of several lengths: whole
// Size-aligned pages inside the buffer, and at least one wherever the
// buffer is long enough to hold one whatever its start.
func TestInner(t *testing.T) {
	for _, n := range []int{0, 1, Size/8 - 1, Size / 8, Size/8 + 1, 2*Size/8 - 1, 2 * Size / 8, 5 << 20, 614656} {
		b := make([]float64, n)
		off, m := inner(b)
		if m == 0 {
			if 8*n >= 2*Size {
				t.Errorf("%d floats: no page advised", n)
			}
			continue
		}
		p := uintptr(unsafe.Pointer(&b[0]))
		switch {
		case (p+off)%Size != 0 || m%Size != 0:
			t.Errorf("%d floats: range at offset %d, %d bytes, not whole aligned pages", n, off, m)
		case off >= Size || off+m > uintptr(8*n) || uintptr(8*n)-(off+m) >= Size:
			t.Errorf("%d floats: range at offset %d, %d bytes, not the pages inside %d bytes", n, off, m, 8*n)
		}
	}
}

// TestFloats checks that Floats returns zeroed slices of the length asked
// for.
func TestFloats(t *testing.T) {
	for _, n := range []int{0, 7, 3 * Size / 8} {
		b := Floats(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("Floats(%d): len %d, cap %d", n, len(b), cap(b))
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("Floats(%d)[%d] = %v", n, i, v)
			}
		}
	}
}
