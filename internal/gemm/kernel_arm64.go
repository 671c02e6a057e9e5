//go:build arm64 && !purego

package gemm

import "unsafe"

//go:noescape
func sgemmNEON(k int, a *float32, aRow, aK int, b *float32, bK int, c *float32, ldc int, coef *[2]float32, useBeta int)

//go:noescape
func dgemmNEON(k int, a *float64, aRow, aK int, b *float64, bK int, c *float64, ldc int, coef *[2]float64, useBeta int)

// isa reports the micro-kernel family: every arm64 CPU has NEON (ASIMD).
func isa() string { return "neon" }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// asmKernel returns the NEON kernel for T (8×12 in float32, 8×6 in
// float64; the same kernel serves as the narrow one).
func asmKernel[T Float](family string, _ bool) (kernel[T], bool) {
	if family != "neon" {
		return kernel[T]{}, false
	}
	var zero T
	if _, f32 := any(zero).(float32); f32 {
		return kernel[T]{name: "neon", mr: 8, nr: 12, mc: 8 * 16, nc: 12 * 85, run: func(k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool) {
			sgemmNEON(k, (*float32)(unsafe.Pointer(&a[0])), aRow, aK, (*float32)(unsafe.Pointer(&b[0])), bK, (*float32)(unsafe.Pointer(&c[0])), ldc, (*[2]float32)(unsafe.Pointer(coef)), b2i(useBeta))
		}}, true
	}
	return kernel[T]{name: "neon", mr: 8, nr: 6, mc: 8 * 16, nc: 6 * 85, run: func(k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool) {
		dgemmNEON(k, (*float64)(unsafe.Pointer(&a[0])), aRow, aK, (*float64)(unsafe.Pointer(&b[0])), bK, (*float64)(unsafe.Pointer(&c[0])), ldc, (*[2]float64)(unsafe.Pointer(coef)), b2i(useBeta))
	}}, true
}
