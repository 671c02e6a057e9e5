// Package vec holds the element-wise float32 kernels of the training hot
// path (rectifier, masks, sums of rows), with AVX2 assembly on amd64 and a
// pure-Go version everywhere else (build tag purego forces it). Both give
// bit-identical results: every output element is computed by the same
// float32 operations in the same order.
package vec
