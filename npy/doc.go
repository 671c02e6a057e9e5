// Package npy reads and writes NumPy's .npy array files (format versions
// 1.0, 2.0 and 3.0) and .npz archives (zip files of .npy members, stored or
// deflated).
//
// It handles the dtypes eqens exchanges with NumPy users: float32 ("<f4"),
// float64 ("<f8"), int32 ("<i4"), int64 ("<i8") and uint8 ("|u1"). The
// big-endian forms (">f4", ">f8", ">i4", ">i8") are read and converted to
// native values; files are always written little-endian. Only C-ordered
// arrays are supported.
//
// The reader is written for untrusted input: it parses the header
// dictionary as a small Python literal, refuses headers longer than
// MaxHeaderLen, refuses shapes whose size overflows or exceeds the bytes
// actually available before allocating anything, and never panics on
// malformed files. Errors name the file and say what is wrong, e.g.
//
//	x.npy: shape (3, 4) needs 48 bytes of float32 data, file has 20
//
// Writes through WriteFile, WriteNPZ and WriteNPZCompressed are atomic: the
// destination holds either its old contents or the complete new file.
package npy
