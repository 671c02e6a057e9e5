package nn

import (
	"context"
	"testing"
)

// qm9Spec is the per-atom network of the synthetic-molecule experiment
// (experiments/qm9-synthetic.yaml) on its input shape.
const qm9Spec = "s2conv(16,3),erf,so3conv(16,3),erf,so3pool,dense(1)"

var qm9Shape = []int{10, 6, 11}

// setSphereReference switches the spherical layers of a to the
// pair-by-pair kernel maps of the original implementation.
func setSphereReference(a *Arch, on bool) {
	for _, l := range a.Layers {
		if c, ok := l.(*SphereConv); ok {
			c.reference = on
		}
	}
}

// BenchmarkSphereKernel times the NTK between 100 random per-atom inputs
// of the qm9 network and the same 100 (10⁴ entries, all of them computed,
// all workers) and reports µs per entry: the tabulated maps (fast) and
// the pair-by-pair maps of the original implementation (reference).
func BenchmarkSphereKernel(b *testing.B) {
	for _, ref := range []bool{false, true} {
		name := "fast"
		if ref {
			name = "reference"
		}
		b.Run(name, func(b *testing.B) {
			a, err := Parse(qm9Spec, qm9Shape, NTK)
			if err != nil {
				b.Fatal(err)
			}
			setSphereReference(a, ref)
			const n = 100
			x := randInputs(7, n, sizeOf(qm9Shape))
			ctx := context.Background()
			for b.Loop() {
				if _, err := a.Kernel(ctx, x, n, x, n, KernelOptions{NTK: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n*n), "µs/entry")
		})
	}
}
