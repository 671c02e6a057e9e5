//go:build !unix

package atomicfile

// isInvalid reports whether err says the platform cannot sync a directory;
// outside Unix every directory sync error is tolerated.
func isInvalid(err error) bool { return err != nil }
