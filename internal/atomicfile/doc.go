// Package atomicfile writes files so that readers see either the old
// contents or the complete new contents, never a partial write.
//
// Data goes to a temporary file in the destination's directory; Commit
// flushes it to stable storage, closes it and renames it onto the
// destination, then syncs the directory so that the rename itself survives
// a crash. A process that dies before Commit leaves the destination
// untouched (and at worst a stray hidden temporary file named
// ".NAME.tmp-*" beside it).
//
// Every result and checkpoint eqens writes goes through this package.
package atomicfile
