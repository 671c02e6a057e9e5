//go:build amd64 && !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func sgemmAVX2(k int, a *float32, aRow, aK int, b *float32, bK int, c *float32, ldc int, coef *[2]float32, useBeta int)

//go:noescape
func dgemmAVX2(k int, a *float64, aRow, aK int, b *float64, bK int, c *float64, ldc int, coef *[2]float64, useBeta int)

//go:noescape
func sgemmAVX512(k int, a *float32, aRow, aK int, b *float32, bK int, c *float32, ldc int, coef *[2]float32, useBeta int)

//go:noescape
func dgemmAVX512(k int, a *float64, aRow, aK int, b *float64, bK int, c *float64, ldc int, coef *[2]float64, useBeta int)

//go:noescape
func sgemmAVX2N(k int, a *float32, aRow, aK int, b *float32, bK int, c *float32, ldc int, coef *[2]float32, useBeta int)

//go:noescape
func dgemmAVX2N(k int, a *float64, aRow, aK int, b *float64, bK int, c *float64, ldc int, coef *[2]float64, useBeta int)

//go:noescape
func sgemmAVX512N(k int, a *float32, aRow, aK int, b *float32, bK int, c *float32, ldc int, coef *[2]float32, useBeta int)

//go:noescape
func dgemmAVX512N(k int, a *float64, aRow, aK int, b *float64, bK int, c *float64, ldc int, coef *[2]float64, useBeta int)

// isa reports the best micro-kernel family this CPU runs
// (GODEBUG=cpu.avx512f=off selects the AVX2 one on an AVX-512 machine).
func isa() string {
	switch {
	case cpu.X86.HasAVX512F:
		return "avx512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "avx2"
	}
	return "go"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ncBytes is the size of B's packed block.
var ncBytes = 1 << 20

// asmKernel returns the assembly kernel of the given family for T (narrow:
// the one with one vector per row), or false when there is none.
func asmKernel[T Float](family string, narrow bool) (kernel[T], bool) {
	var zero T
	_, f32 := any(zero).(float32)
	type fn = func(k int, a unsafe.Pointer, aRow, aK int, b unsafe.Pointer, bK int, c unsafe.Pointer, ldc int, coef unsafe.Pointer, useBeta int)
	type entry struct {
		mr, nr, mc, nc int
		f32, f64       fn
	}
	s32 := func(f func(int, *float32, int, int, *float32, int, *float32, int, *[2]float32, int)) fn {
		return func(k int, a unsafe.Pointer, aRow, aK int, b unsafe.Pointer, bK int, c unsafe.Pointer, ldc int, coef unsafe.Pointer, u int) {
			f(k, (*float32)(a), aRow, aK, (*float32)(b), bK, (*float32)(c), ldc, (*[2]float32)(coef), u)
		}
	}
	s64 := func(f func(int, *float64, int, int, *float64, int, *float64, int, *[2]float64, int)) fn {
		return func(k int, a unsafe.Pointer, aRow, aK int, b unsafe.Pointer, bK int, c unsafe.Pointer, ldc int, coef unsafe.Pointer, u int) {
			f(k, (*float64)(a), aRow, aK, (*float64)(b), bK, (*float64)(c), ldc, (*[2]float64)(coef), u)
		}
	}
	var e entry
	switch {
	case family == "avx512" && !narrow && f32:
		e = entry{14, 32, 14 * 8, 32 * 128, s32(sgemmAVX512), nil}
	case family == "avx512" && !narrow:
		e = entry{14, 16, 14 * 8, 16 * 128, nil, s64(dgemmAVX512)}
	case family == "avx512" && f32:
		e = entry{28, 16, 28 * 4, 16 * 256, s32(sgemmAVX512N), nil}
	case family == "avx512":
		e = entry{28, 8, 28 * 4, 8 * 256, nil, s64(dgemmAVX512N)}
	case family == "avx2" && !narrow && f32:
		e = entry{6, 16, 6 * 16, 16 * 256, s32(sgemmAVX2), nil}
	case family == "avx2" && !narrow:
		e = entry{6, 8, 6 * 16, 8 * 256, nil, s64(dgemmAVX2)}
	case family == "avx2" && f32:
		e = entry{12, 8, 12 * 8, 8 * 512, s32(sgemmAVX2N), nil}
	case family == "avx2":
		e = entry{12, 4, 12 * 8, 4 * 512, nil, s64(dgemmAVX2N)}
	default:
		return kernel[T]{}, false
	}
	f := e.f64
	if f32 {
		f = e.f32
	}
	// B's packed block (KC×nc) is sized to stay in a 1 MiB share of L2.
	e.nc = max(e.nr, ncBytes/(KC*int(unsafe.Sizeof(zero)))/e.nr*e.nr)
	return kernel[T]{name: family, mr: e.mr, nr: e.nr, mc: e.mc, nc: e.nc, run: func(k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool) {
		f(k, unsafe.Pointer(&a[0]), aRow, aK, unsafe.Pointer(&b[0]), bK, unsafe.Pointer(&c[0]), ldc, unsafe.Pointer(coef), b2i(useBeta))
	}}, true
}
