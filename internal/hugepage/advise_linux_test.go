package hugepage

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestAdviseLinux checks that the pages advise marks carry the huge page
// flag in the process's memory map (VmFlags "hg" in /proc/self/smaps),
// read at the range's first and last page, where the system records the
// advice at all: a control mapping advised directly must show the flag
// (under qemu-user emulation it does not, and the test is skipped).
func TestAdviseLinux(t *testing.T) {
	ctl, err := syscall.Mmap(-1, 0, 2*Size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(ctl)
	if err := syscall.Madvise(ctl, syscall.MADV_HUGEPAGE); err != nil {
		t.Skip("no transparent huge pages in this kernel: ", err)
	}
	if flags, ok := vmFlags(t, uintptr(unsafe.Pointer(&ctl[0]))); !ok || !strings.Contains(" "+flags+" ", " hg ") {
		t.Skipf("the system does not record huge page advice (a directly advised mapping has VmFlags %q)", flags)
	}
	b := make([]float64, 3*Size/8)
	if err := advise(b); errors.Is(err, syscall.EINVAL) {
		t.Skip("no transparent huge pages in this kernel")
	} else if err != nil {
		t.Fatal(err)
	}
	off, n := inner(b)
	p := uintptr(unsafe.Pointer(&b[0]))
	for _, at := range []uintptr{p + off, p + off + n - 1} {
		flags, ok := vmFlags(t, at)
		if !ok {
			t.Skip("/proc/self/smaps has no VmFlags")
		}
		if !strings.Contains(" "+flags+" ", " hg ") {
			t.Errorf("address %#x: VmFlags %q lack hg", at, flags)
		}
	}
	b[0] = 1 // b is live until here
}

// vmFlags returns the VmFlags line of the mapping that holds address at.
func vmFlags(t *testing.T, at uintptr) (string, bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(at) >= l && uint64(at) < h
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), true
		}
	}
	return "", false
}
