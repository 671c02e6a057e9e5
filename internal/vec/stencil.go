package vec

import "math"

// The kernel maps of 3×3 convolutions are separable (kernel/conv.go): a
// sum of three rows shifted by one position, with the positions that fall
// off an image row masked out, then a sum of three rows shifted by one
// image row, scaled and with the affine map applied. Sum3Mask and
// Sum3Affine are those two passes; the assembly and the Go loops perform
// the same operations in the same order and give the same bits.

// Sum3Mask sets dst[i] = ((a[i] & ma[i]) + b[i]) + (c[i] & mc[i]) for
// i < len(dst), where x & m keeps the bits of x where the mask m is all
// ones and gives +0 where it is zero (masks must be all ones or zero).
// a, b, c, ma and mc must be at least as long as dst.
func Sum3Mask(dst, a, b, c []float64, ma, mc []uint64) {
	n := len(dst)
	a, b, c, ma, mc = a[:n], b[:n], c[:n], ma[:n], mc[:n]
	i := sum3MaskBulk(dst, a, b, c, ma, mc)
	for ; i < n; i++ {
		x := math.Float64frombits(math.Float64bits(a[i]) & ma[i])
		y := math.Float64frombits(math.Float64bits(c[i]) & mc[i])
		dst[i] = (x + b[i]) + y
	}
}

// Sum3Affine sets dst[i] = nw·((a[i] + b[i]) + c[i]) + add[i] for
// i < len(dst), or + add0 where add is nil, with nw = norm·w (rounded)
// and one fused multiply-add per entry (math.FMA): the scaling and the
// affine map cost one vector instruction, which shortened the fused
// convolution kernels' dependency chains (vec.Sum3MaskAffineReLU about
// 8 % faster). a, b, c and add (if not nil) must be at least as long as
// dst.
func Sum3Affine(dst, a, b, c []float64, norm, w float64, add []float64, add0 float64) {
	n := len(dst)
	a, b, c = a[:n], b[:n], c[:n]
	if add != nil {
		add = add[:n]
	}
	nw := float64(norm * w)
	i := sum3AffineBulk(dst, a, b, c, nw, add, add0)
	for ; i < n; i++ {
		x := (a[i] + b[i]) + c[i]
		if add != nil {
			dst[i] = math.FMA(nw, x, add[i])
		} else {
			dst[i] = math.FMA(nw, x, add0)
		}
	}
}

// SumF64 returns the sum of x accumulated in 16 interleaved partial sums
// (value i of the first len(x) &^ 15 into sum i mod 16), which are then
// added pairwise (sum j += sum j+8, then j+4, j+2, j+1), followed by the
// remaining values in order: the same bits in every build, and about 16
// times less latency-bound than one running sum.
func SumF64(x []float64) float64 {
	var lanes [16]float64
	n := len(x) &^ 15
	if !sumLanesBulk(x[:n], &lanes) {
		addLanes(x[:n], &lanes)
	}
	return sumLanes(x, n, &lanes)
}

// SumF64Pair returns SumF64(x) and SumF64(y) (of equal lengths), with
// their bits; the two sums' chains of additions run interleaved, which
// halves the time their latency takes.
func SumF64Pair(x, y []float64) (float64, float64) {
	var lx, ly [16]float64
	n := len(x) &^ 15
	y = y[:len(x)]
	if !sumLanesPairBulk(x[:n], y[:n], &lx, &ly) {
		addLanes(x[:n], &lx)
		addLanes(y[:n], &ly)
	}
	return sumLanes(x, n, &lx), sumLanes(y, n, &ly)
}

// addLanes adds value i of x (a multiple of 16 values) to lanes[i mod 16],
// in order.
func addLanes(x []float64, lanes *[16]float64) {
	for i := 0; i < len(x); i += 16 {
		for j := range lanes {
			lanes[j] += x[i+j]
		}
	}
}

// sumLanes adds the lanes pairwise and then x's values from n on, in
// order (SumF64).
func sumLanes(x []float64, n int, lanes *[16]float64) float64 {
	for w := 8; w >= 1; w /= 2 {
		for j := range w {
			lanes[j] += lanes[j+w]
		}
	}
	t := lanes[0]
	for _, v := range x[n:] {
		t += v
	}
	return t
}
