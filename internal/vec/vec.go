package vec

import "math"

// ReLU sets y[i] = x[i] where x[i] > 0 and 0 elsewhere, for i < len(x)
// (y may be x). The test is on the integer view of the float, so +0, -0,
// negative numbers and negative NaNs give 0 and positive NaNs pass.
func ReLU(x, y []float32) {
	y = y[:len(x)]
	i := reluBulk(x, y)
	for ; i < len(x); i++ {
		y[i] = reluOne(x[i], x[i])
	}
}

// Mask sets o[i] = d[i] where m[i] > 0 and 0 elsewhere (the ReLU's
// backward pass with m its output or input; o may be d).
func Mask(m, d, o []float32) {
	d = d[:len(m)]
	o = o[:len(m)]
	i := maskBulk(m, d, o)
	for ; i < len(m); i++ {
		o[i] = reluOne(m[i], d[i])
	}
}

// Add adds src to dst element by element (len(dst) >= len(src)).
func Add(dst, src []float32) {
	dst = dst[:len(src)]
	i := addBulk(dst, src)
	for ; i < len(src); i++ {
		dst[i] += src[i]
	}
}

// AddRows adds b to every row of len(b) values of y.
func AddRows(y, b []float32) {
	nc := len(b)
	if nc == 0 || addRowsBulk(y, b) {
		return
	}
	if nc < 8 && 8%nc == 0 && len(y)%8 == 0 {
		// Short rows (the biases of a few fields): 8/nc rows at once.
		var b8 [8]float32
		for i := 0; i < 8; i += nc {
			copy(b8[i:], b)
		}
		if addRowsBulk(y, b8[:]) {
			return
		}
	}
	for i := 0; i+nc <= len(y); i += nc {
		Add(y[i:i+nc], b)
	}
}

// CopyBlocks copies rows blocks of n values, block r from src[r*ss:] to
// dst[r*ds:] (im2col: the taps of consecutive output positions). Blocks of
// dst must not overlap those of src; strides are at least 0.
func CopyBlocks(dst, src []float32, rows, n, ds, ss int) {
	if rows <= 0 || n <= 0 {
		return
	}
	checkBlocks("CopyBlocks", len(dst), len(src), rows, n, ds, ss)
	if copyBlocksBulk(dst, src, rows, n, ds, ss) {
		return
	}
	for r := 0; r < rows; r++ {
		d := dst[r*ds : r*ds+n]
		for i, v := range src[r*ss : r*ss+n] {
			d[i] = v
		}
	}
}

// AddBlocks adds rows blocks of n values, block r of src[r*ss:] to
// dst[r*ds:], block after block (col2im: blocks of dst may overlap, and each
// sees the sums of the blocks before it).
func AddBlocks(dst, src []float32, rows, n, ds, ss int) {
	if rows <= 0 || n <= 0 {
		return
	}
	checkBlocks("AddBlocks", len(dst), len(src), rows, n, ds, ss)
	if addBlocksBulk(dst, src, rows, n, ds, ss) {
		return
	}
	for r := 0; r < rows; r++ {
		Add(dst[r*ds:r*ds+n], src[r*ss:r*ss+n])
	}
}

func checkBlocks(name string, ld, ls, rows, n, ds, ss int) {
	if ds < 0 || ss < 0 || (rows-1)*ds+n > ld || (rows-1)*ss+n > ls {
		panic(name + ": blocks out of range")
	}
}

// SumLanes is the number of independent sums SumRows keeps for short rows
// (callers that split a sum into pieces must keep its lanes to get its
// bits, as nn's pooled convolutions do).
const SumLanes = 64

// SumRows adds every row of len(db) values of dy to db. Rows shorter than
// 64 values whose length divides 64 (when dy holds a whole number of
// 64-value blocks) are summed 64/nc rows at once, into 64 lanes each summed
// in row order, and the lanes are then added to db in order (independent
// sums run in parallel; one running sum of a short row waits for each
// addition); other rows are added to db row after row.
func SumRows(db, dy []float32) {
	nc := len(db)
	if nc == 0 {
		return
	}
	if nc < SumLanes && SumLanes%nc == 0 && len(dy) >= SumLanes && len(dy)%SumLanes == 0 {
		var acc [SumLanes]float32
		SumRows(acc[:], dy)
		for i := 0; i < SumLanes; i += nc {
			for c := range db {
				db[c] += acc[i+c]
			}
		}
		return
	}
	if sumRowsBulk(db, dy) {
		return
	}
	for i := 0; i+nc <= len(dy); i += nc {
		Add(db, dy[i:i+nc])
	}
}

// reluOne returns d if the integer view of m is positive, else 0.
func reluOne(m, d float32) float32 {
	s := int32(math.Float32bits(m))
	return math.Float32frombits(math.Float32bits(d) & uint32((-s&^s)>>31))
}

// Pool2F64 sets out[j] = ((r0[2j] + r0[2j+1]) + (r1[2j] + r1[2j+1]))·inv
// for j < len(out): one row of 2×2 cells pooled from two rows (r0 and r1
// must hold 2·len(out) values), the AVX2 kernel and the Go loop with the
// same bits.
func Pool2F64(out, r0, r1 []float64, inv float64) {
	n := len(out)
	r0, r1 = r0[:2*n], r1[:2*n]
	j := pool2F64Bulk(out, r0, r1, inv)
	for ; j < n; j++ {
		out[j] = ((r0[2*j] + r0[2*j+1]) + (r1[2*j] + r1[2*j+1])) * inv
	}
}

// AxpyF64 adds w·src[i] to dst[i] for i < len(dst) (len(src) >= len(dst)),
// rounding the product and the sum separately (no fused multiply-add), so
// that the assembly and the portable code give the same bits.
func AxpyF64(dst, src []float64, w float64) {
	src = src[:len(dst)]
	i := axpyF64Bulk(dst, src, w)
	for ; i < len(dst); i++ {
		dst[i] += float64(w * src[i]) // rounded: no fused multiply-add
	}
}

// ScaleF64 sets dst[i] = w·src[i] + 0 for i < len(dst) (len(src) >=
// len(dst)): the product rounded once, a zero product as +0 — the bits of
// AxpyF64 onto a cleared dst, in one pass.
func ScaleF64(dst, src []float64, w float64) {
	src = src[:len(dst)]
	i := scaleF64Bulk(dst, src, w)
	for ; i < len(dst); i++ {
		dst[i] = float64(w*src[i]) + 0
	}
}

// AxpyRowsF64 applies AxpyF64 to rows blocks of n values: block r of
// dst[r*ds:] gets w times block r of src[r*ss:] (one call for the rows of
// a strided plane, such as a shifted image inside a row of a kernel plane).
func AxpyRowsF64(dst, src []float64, w float64, rows, n, ds, ss int) {
	if rows <= 0 || n <= 0 {
		return
	}
	checkBlocks("AxpyRowsF64", len(dst), len(src), rows, n, ds, ss)
	if axpyRowsF64Bulk(dst, src, w, rows, n, ds, ss) {
		return
	}
	for r := 0; r < rows; r++ {
		AxpyF64(dst[r*ds:r*ds+n], src[r*ss:r*ss+n], w)
	}
}
