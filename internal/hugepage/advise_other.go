//go:build !linux

package hugepage

func advise([]float64) error { return nil }
