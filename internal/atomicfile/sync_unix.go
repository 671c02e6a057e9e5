//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// isInvalid reports whether err says the file system cannot sync a
// directory (EINVAL on some network and FUSE file systems).
func isInvalid(err error) bool { return errors.Is(err, syscall.EINVAL) }
