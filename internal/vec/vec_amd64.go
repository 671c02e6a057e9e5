//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// hasFMA enables the kernels that use fused multiply-adds.
var hasFMA = cpu.X86.HasFMA

// hasAVX512 enables the AVX-512 kernels (GODEBUG=cpu.avx512f=off turns them
// off, to measure the AVX2 path on the same machine).
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

//go:noescape
func reluAVX2(x, y *float32, n int)

//go:noescape
func maskAVX2(m, d, o *float32, n int)

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func addRowsAVX2(y, b *float32, rows, nc int)

//go:noescape
func sumRowsAVX2(db, dy *float32, rows, nc int)

// addRowsBulk adds b to every row of y with AVX2 when the row length is
// a multiple of 8, and reports whether it did.
func addRowsBulk(y, b []float32) bool {
	nc := len(b)
	if !hasAVX2 || nc%8 != 0 || len(y) < nc {
		return false
	}
	addRowsAVX2(&y[0], &b[0], len(y)/nc, nc)
	return true
}

// sumRowsBulk adds the rows of dy to db with AVX2 when the row length is a
// multiple of 8, and reports whether it did.
func sumRowsBulk(db, dy []float32) bool {
	nc := len(db)
	if !hasAVX2 || nc%8 != 0 || len(dy) < nc {
		return false
	}
	sumRowsAVX2(&db[0], &dy[0], len(dy)/nc, nc)
	return true
}

// reluBulk, maskBulk and addBulk run their kernel on the largest
// multiple of 8 elements and return how many they did (0 without AVX2).
func reluBulk(x, y []float32) int {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	reluAVX2(&x[0], &y[0], n)
	return n
}

func maskBulk(m, d, o []float32) int {
	n := len(m) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	maskAVX2(&m[0], &d[0], &o[0], n)
	return n
}

func addBulk(dst, src []float32) int {
	n := len(src) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	addAVX2(&dst[0], &src[0], n)
	return n
}

//go:noescape
func copyBlocksAVX2(dst, src *float32, rows, n, ds, ss int)

//go:noescape
func addBlocksAVX2(dst, src *float32, rows, n, ds, ss int)

// copyBlocksBulk and addBlocksBulk run their kernel when the block length
// is a multiple of 8, and report whether they did.
func copyBlocksBulk(dst, src []float32, rows, n, ds, ss int) bool {
	if !hasAVX2 || n%8 != 0 {
		return false
	}
	copyBlocksAVX2(&dst[0], &src[0], rows, n, ds, ss)
	return true
}

func addBlocksBulk(dst, src []float32, rows, n, ds, ss int) bool {
	if !hasAVX2 || n%8 != 0 {
		return false
	}
	addBlocksAVX2(&dst[0], &src[0], rows, n, ds, ss)
	return true
}

//go:noescape
func axpyF64AVX2(dst, src *float64, w float64, n int)

//go:noescape
func scaleF64AVX2(dst, src *float64, w float64, n int)

// axpyF64Bulk and scaleF64Bulk run the AVX2 kernels of AxpyF64 and
// ScaleF64 on the largest multiple of 4 elements and return how many
// they did (0 without AVX2).
func axpyF64Bulk(dst, src []float64, w float64) int  { return bulkF64(axpyF64AVX2, dst, src, w) }
func scaleF64Bulk(dst, src []float64, w float64) int { return bulkF64(scaleF64AVX2, dst, src, w) }

func bulkF64(kernel func(dst, src *float64, w float64, n int), dst, src []float64, w float64) int {
	n := len(dst) &^ 3
	if !hasAVX2 || n == 0 {
		return 0
	}
	kernel(&dst[0], &src[0], w, n)
	return n
}

// atanConst4 holds every constant of atanConst four times, so that the
// AVX2 kernel can use them as 256-bit memory operands.
var atanConst4 = func() (c [len(atanConst) * 4]float64) {
	for i, v := range atanConst {
		for l := range 4 {
			c[4*i+l] = v
		}
	}
	return c
}()

//go:noescape
func reluArcCosAVX2(k, t, v1 *float64, v1step int, v2 *float64, n int, scale float64, c *float64)

//go:noescape
func reluArcCosAVX512(k, t, v1 *float64, v1step int, v2 *float64, n int, scale float64, c *float64)

// reluArcCosBulk runs the vector kernels (AVX-512 on blocks of 8, then
// AVX2 on a block of 4) on the largest multiple of 4 entries and returns
// how many they did (0 without AVX2). v1 has one variance per entry, or a
// single one for all entries when v1step is 0.
func reluArcCosBulk(k, t, v1 []float64, v1step int, v2 []float64, scale float64) int {
	if !hasAVX2 || !hasFMA {
		return 0
	}
	done := 0
	if n := len(k) &^ 7; hasAVX512 && n > 0 {
		reluArcCosAVX512(&k[0], ptrOrNil(t), &v1[0], v1step, &v2[0], n, scale, &atanConst[0])
		done = n
	}
	if n := (len(k) - done) &^ 3; n > 0 {
		var tp *float64
		if t != nil {
			tp = &t[done]
		}
		reluArcCosAVX2(&k[done], tp, &v1[done*v1step], v1step, &v2[done], n, scale, &atanConst4[0])
		done += n
	}
	return done
}

// asinConst4 holds every constant of asinConst four times, for the AVX2
// kernel's 256-bit memory operands.
var asinConst4 = func() (c [len(asinConst) * 4]float64) {
	for i, v := range asinConst {
		for l := range 4 {
			c[4*i+l] = v
		}
	}
	return c
}()

//go:noescape
func reluArcCosRAVX2(k, t, v1, r1 *float64, step int, v2, r2 *float64, n int, scale float64, c *float64)

//go:noescape
func reluArcCosRAVX512(k, t, v1, r1 *float64, step int, v2, r2 *float64, n int, scale float64, c *float64)

func init() {
	if hasAVX2 && hasFMA {
		reluArcCosRBulk = reluArcCosRVec
	}
}

// reluArcCosRVec runs the division-free map's vector kernels (AVX-512 on
// blocks of 8, then AVX2 on a block of 4) on the largest multiple of 4
// entries and returns how many they did; the arguments are those of
// reluArcCosR (v1 and r1 per entry, or v1s and r1s for all entries where v1
// is nil).
func reluArcCosRVec(k, t, v1, r1 []float64, v1s, r1s float64, v2, r2 []float64, scale float64) int {
	if len(k) < 4 {
		return 0
	}
	pv, pr, step := &v1s, &r1s, 0
	if v1 != nil {
		pv, pr, step = &v1[0], &r1[0], 1
	}
	done := 0
	if n := len(k) &^ 7; hasAVX512 && n > 0 {
		reluArcCosRAVX512(&k[0], ptrOrNil(t), pv, pr, step, &v2[0], &r2[0], n, scale, &asinConst[0])
		done = n
	}
	if n := (len(k) - done) &^ 3; n > 0 {
		var tp *float64
		if t != nil {
			tp = &t[done]
		}
		if v1 != nil {
			pv, pr = &v1[done], &r1[done]
		}
		reluArcCosRAVX2(&k[done], tp, pv, pr, step, &v2[done], &r2[done], n, scale, &asinConst4[0])
		done += n
	}
	return done
}

func ptrOrNil(t []float64) *float64 {
	if t == nil {
		return nil
	}
	return &t[0]
}

//go:noescape
func axpyRowsF64AVX2(dst, src *float64, w float64, rows, n, ds, ss int)

// axpyRowsF64Bulk runs AxpyRowsF64 in one AVX2 call (vector blocks of 4,
// then scalar tails with the same rounding) and reports whether it did.
func axpyRowsF64Bulk(dst, src []float64, w float64, rows, n, ds, ss int) bool {
	if !hasAVX2 {
		return false
	}
	axpyRowsF64AVX2(&dst[0], &src[0], w, rows, n, ds, ss)
	return true
}

//go:noescape
func sum3MaskAVX2(dst, a, b, c *float64, ma, mc *uint64, n int)

//go:noescape
func sum3AffineAVX2(dst, a, b, c *float64, n int, nw float64, add *float64, add0 float64)

// sum3MaskBulk and sum3AffineBulk run their AVX2 kernel on the largest
// multiple of 4 elements and return how many they did (0 without AVX2).
func sum3MaskBulk(dst, a, b, c []float64, ma, mc []uint64) int {
	n := len(dst) &^ 3
	if !hasAVX2 || n == 0 {
		return 0
	}
	sum3MaskAVX2(&dst[0], &a[0], &b[0], &c[0], &ma[0], &mc[0], n)
	return n
}

func sum3AffineBulk(dst, a, b, c []float64, nw float64, add []float64, add0 float64) int {
	n := len(dst) &^ 3
	if !hasAVX2 || !hasFMA || n == 0 {
		return 0
	}
	sum3AffineAVX2(&dst[0], &a[0], &b[0], &c[0], n, nw, ptrOrNil(add), add0)
	return n
}

//go:noescape
func sumLanesAVX2(x *float64, n int, lanes *[16]float64)

// sumLanesBulk accumulates x (a multiple of 16 values) into the 16 lanes
// with AVX2 and reports whether it did.
func sumLanesBulk(x []float64, lanes *[16]float64) bool {
	if !hasAVX2 {
		return false
	}
	if len(x) > 0 {
		sumLanesAVX2(&x[0], len(x), lanes)
	}
	return true
}

//go:noescape
func sumLanesPairAVX2(x, y *float64, n int, lx, ly *[16]float64)

// sumLanesPairBulk is sumLanesBulk for two rows of equal length at once.
func sumLanesPairBulk(x, y []float64, lx, ly *[16]float64) bool {
	if !hasAVX2 {
		return false
	}
	if len(x) > 0 {
		sumLanesPairAVX2(&x[0], &y[0], len(x), lx, ly)
	}
	return true
}

// erfConst4 holds every constant of erfConst four times, for the AVX2
// kernel's 256-bit memory operands.
var erfConst4 = func() (c [len(erfConst) * 4]float64) {
	for i, v := range erfConst {
		for l := range 4 {
			c[4*i+l] = v
		}
	}
	return c
}()

// erfBulk runs the vector kernels (AVX-512 on blocks of 8, then AVX2 on a
// block of 4) on the largest multiple of 4 entries and returns how many
// they did (0 without AVX2 and FMA).
func erfBulk(k, t, v1 []float64, v1step int, v2 []float64, m *ErfMap) int {
	if !hasAVX2 || !hasFMA {
		return 0
	}
	done := 0
	if n := len(k) &^ 7; hasAVX512 && n > 0 {
		erfAVX512(&k[0], ptrOrNil(t), &v1[0], v1step, &v2[0], n, m, &erfConst[0])
		done = n
	}
	if n := (len(k) - done) &^ 3; n > 0 {
		var tp *float64
		if t != nil {
			tp = &t[done]
		}
		erfAVX2(&k[done], tp, &v1[done*v1step], v1step, &v2[done], n, m, &erfConst4[0])
		done += n
	}
	return done
}

//go:noescape
func erfAVX2(k, t, v1 *float64, v1step int, v2 *float64, n int, m *ErfMap, c *float64)

//go:noescape
func erfAVX512(k, t, v1 *float64, v1step int, v2 *float64, n int, m *ErfMap, c *float64)

//go:noescape
func signBitsAVX2(x *float32, bits *uint8, n int)

//go:noescape
func maskBitsAVX2(bits *uint8, d, o *float32, n int)

// signBitsBulk and maskBitsBulk run their kernel on the largest multiple
// of 8 values and return how many they did (0 without AVX2).
func signBitsBulk(x []float32, bits []uint8) int {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	signBitsAVX2(&x[0], &bits[0], n)
	return n
}

func maskBitsBulk(bits []uint8, d, o []float32) int {
	n := len(d) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	maskBitsAVX2(&bits[0], &d[0], &o[0], n)
	return n
}

//go:noescape
func pool2F64AVX2(out, r0, r1 *float64, inv float64, n int)

// pool2F64Bulk runs the AVX2 kernel of Pool2F64 on the largest multiple
// of 4 outputs and returns how many it did (0 without AVX2).
func pool2F64Bulk(out, r0, r1 []float64, inv float64) int {
	n := len(out) &^ 3
	if !hasAVX2 || n == 0 {
		return 0
	}
	pool2F64AVX2(&out[0], &r0[0], &r1[0], inv, n)
	return n
}
