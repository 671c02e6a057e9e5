package group

import (
	"fmt"
	"testing"
)

// BenchmarkImageRep applies one element of C4 (an exact pixel permutation)
// and of C16 (bilinear interpolation and mask) to a batch of 64 28×28
// float32 images.
func BenchmarkImageRep(b *testing.B) {
	const batch = 64
	for _, c := range []struct {
		spec string
		elem int
	}{{"c4", 1}, {"c16", 3}} {
		b.Run(fmt.Sprintf("%s/%s/batch%d", c.spec, mustParse(b, c.spec).Label(c.elem), batch), func(b *testing.B) {
			r := must2(ImageRep(mustParse(b, c.spec), 1, 28, 28))
			src := make([]float32, batch*r.Dim())
			for i := range src {
				src[i] = float32(i%97) / 97
			}
			dst := make([]float32, len(src))
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				ApplyBatch(r, c.elem, dst, src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/image")
		})
	}
}
