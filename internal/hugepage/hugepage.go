// Package hugepage allocates the large float64 buffers of the kernel
// engine — the planes of kernel states, 4.9 MB per 28×28 pair for each
// of K and Theta — so that Linux may back them with transparent huge
// pages. A layer's map streams through its planes a row at a time, and
// with 4 KB pages a pair's planes take more TLB entries than a core
// has; Linux's default ("madvise") gives huge pages only to memory that
// asks for them (madvise MADV_HUGEPAGE), which Go's heap does not.
// Floats asks for the 2 MiB pages that lie wholly inside a buffer; the
// contents, and so every result, are those of make.
package hugepage

// Size is the huge page size that Floats aligns its advice to.
const Size = 2 << 20

// Floats returns a zeroed slice of n float64s (as make does); the Size
// pages that lie wholly inside it are advised for huge pages where the
// system supports it (Linux; elsewhere nothing is done). Buffers shorter
// than Size contain no such page.
func Floats(n int) []float64 {
	b := make([]float64, n)
	if 8*n >= Size {
		_ = advise(b)
	}
	return b
}
