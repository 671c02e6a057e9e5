package hugepage

import (
	"syscall"
	"unsafe"
)

// advise applies madvise(MADV_HUGEPAGE) to the Size-aligned pages inside
// b and reports the system's error, if any (EINVAL where the kernel has
// no transparent huge pages).
func advise(b []float64) error {
	off, n := inner(b)
	if n == 0 {
		return nil
	}
	// Bytes b's backing array holds: b[off/8 : (off+n)/8].
	return syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&b[0]), off)), n), syscall.MADV_HUGEPAGE)
}
