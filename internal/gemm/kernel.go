package gemm

import "math"

// kernel computes one mr×nr tile: see asm_gen.go for the contract.
type kernel[T Float] struct {
	name   string
	mr, nr int
	// run computes the tile into c (leading dimension ldc) from A's
	// element (i, p) at a[i*aRow+p*aK] and B's (p, j) at b[p*bK+j]; packed
	// panels have aRow = 1, aK = mr and bK = nr. coef holds alpha and beta.
	run func(k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool)
	// mc and nc are the cache blocks of A rows and B columns (multiples of
	// mr and nr); they do not change results.
	mc, nc int
}

// Float is the set of element types of the product.
type Float interface{ float32 | float64 }

// KC is the block of the k dimension. It is fixed for every kernel because
// it fixes the order of summation.
const KC = 256

// goKernel returns the portable kernel with an mr×nr tile.
func goKernel[T Float](mr, nr int) kernel[T] {
	return kernel[T]{name: "go", mr: mr, nr: nr, mc: 16 * mr, nc: 512 * nr, run: func(k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool) {
		goTile(mr, nr, k, a, aRow, aK, b, bK, c, ldc, coef, useBeta)
	}}
}

// goTile is the reference micro-kernel: acc[i][j] = fma chain over p.
func goTile[T Float](mr, nr, k int, a []T, aRow, aK int, b []T, bK int, c []T, ldc int, coef *[2]T, useBeta bool) {
	var acc [32 * 32]T // tiles up to 32×32
	for p := 0; p < k; p++ {
		bp := b[p*bK : p*bK+nr]
		for i := 0; i < mr; i++ {
			av := a[i*aRow+p*aK]
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] = fma(av, bv, row[j])
			}
		}
	}
	writeBack(mr, nr, acc[:mr*nr], nr, c, ldc, coef, useBeta)
}

// writeBack stores c = alpha*acc (+ beta*c) for an m×n tile of acc with
// leading dimension lda. The conversions keep each product rounded on its
// own (no fused multiply-add), as the assembly kernels do.
func writeBack[T Float](m, n int, acc []T, lda int, c []T, ldc int, coef *[2]T, useBeta bool) {
	alpha, beta := coef[0], coef[1]
	for i := 0; i < m; i++ {
		src, dst := acc[i*lda:i*lda+n], c[i*ldc:i*ldc+n]
		if useBeta {
			for j, v := range src {
				dst[j] = T(alpha*v) + T(beta*dst[j])
			}
		} else {
			for j, v := range src {
				dst[j] = T(alpha * v)
			}
		}
	}
}

// fma returns x*y+z rounded once, in the precision of T.
func fma[T Float](x, y, z T) T {
	switch any(x).(type) {
	case float32:
		return T(fma32(float32(x), float32(y), float32(z)))
	default:
		return T(math.FMA(float64(x), float64(y), float64(z)))
	}
}

// fma32 returns x*y+z rounded once to float32. The product of two float32
// values is exact in float64, so math.FMA's float64 result differs from the
// exact sum only by its own rounding; rounding that again to float32 is
// correct except when it lands exactly on a midpoint between two float32
// values, where the sign of the first rounding's error decides.
func fma32(x, y, z float32) float32 {
	r := math.FMA(float64(x), float64(y), float64(z))
	const midMask = 1<<29 - 1 // float64 mantissa bits below float32's
	if a := math.Abs(r); a >= 0x1p-126 && a <= math.MaxFloat32 && math.Float64bits(r)&midMask != 1<<28 {
		return float32(r)
	}
	return fma32Slow(x, y, z)
}

// fma32Slow rounds x*y+z to float32 through an exact two-term sum.
func fma32Slow(x, y, z float32) float32 {
	p := float64(float64(x) * float64(y)) // exact
	q := float64(z)
	s := p + q
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	bv := s - p
	e := (p - (s - bv)) + (q - bv) // s + e == p + q exactly
	r := float32(s)
	if e == 0 || float64(r) == s || math.IsInf(float64(r), 0) {
		return r
	}
	lo, hi := r, r
	if float64(r) > s {
		lo = math.Nextafter32(r, float32(math.Inf(-1)))
	} else {
		hi = math.Nextafter32(r, float32(math.Inf(1)))
	}
	if mid := (float64(lo) + float64(hi)) / 2; s != mid {
		return r
	}
	if e > 0 {
		return hi
	}
	return lo
}
