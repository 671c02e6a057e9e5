// Package progress shows progress bars for long work: a bar with rate and
// ETA when the output is a terminal, nothing (or an occasional log line)
// otherwise, so that logs and CI output stay clean.
package progress
