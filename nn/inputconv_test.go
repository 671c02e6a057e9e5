package nn

import (
	"context"
	"slices"
	"testing"

	"github.com/eqens/eqens/kernel"
)

// inputConvSpecs are networks whose first layer the kernel engine computes
// from the inputs' patches (kernel.State.InputConv): first layers without
// the separable form.
var inputConvSpecs = []struct {
	spec  string
	shape []int
}{
	{"conv(4,k=5),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}},
	{"conv(4,k=3,padding=valid),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{3, 7, 7}},
	{"conv(4,k=3,padding=circular,b_std=0.3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", []int{2, 6, 6}},
	{"conv(4,k=7,padding=valid),relu,dense(1)", []int{1, 7, 7}},
	{"conv(4,k=5),conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 6, 6}},  // no rectifier after it
	{"lift(c8,4,k=3),relu,gpool,dense(1)", []int{1, 6, 6}},                   // interpolated lifting
	{"lift(c4,4,k=5),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 6, 6}}, // exact 5×5 lifting, slab
}

// TestKernelInputConv checks the kernels of networks whose first layer
// runs from the inputs' patches against the same networks run from the
// input covariances (the engine's general path), NNGP and NTK, cross and
// symmetric kernels, to 1e-12 relative; and that the engine takes the
// patch path for them and not for first layers with the separable form.
func TestKernelInputConv(t *testing.T) {
	for _, tc := range inputConvSpecs {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		e := &kernelEngine{arch: a, ntk: true, d: a.InputSize()}
		e.plan(0)
		if e.first == nil {
			t.Fatalf("%s: first layer not from patches", tc.spec)
		}
		d := sizeOf(tc.shape)
		x1, x2 := randInputs(3, 4, d), randInputs(4, 3, d)
		for _, sym := range []bool{false, true} {
			xb, nb := x2, 3
			if sym {
				xb, nb = nil, 0
			}
			got, want := kernelsAB(t, a, x1, 4, xb, nb, KernelOptions{NTK: true}, func(o *KernelOptions) { o.noInputConv = true })
			if dk, dt := maxRelDiff(got.K, want.K), maxRelDiff(got.Theta, want.Theta); dk > 1e-12 || dt > 1e-12 {
				t.Errorf("%s (symmetric %v): K %.2g, Theta %.2g from the reference path", tc.spec, sym, dk, dt)
			}
		}
	}
	for _, spec := range []string{"conv(4,k=3),relu,globalavgpool,dense(1)", "lift(d4,4,k=3),relu,gpool,dense(1)"} {
		a, err := Parse(spec, []int{1, 6, 6}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		e := &kernelEngine{arch: a, ntk: true, d: a.InputSize()}
		e.plan(0)
		if e.first != nil {
			t.Errorf("%s: a separable first layer from patches", spec)
		}
	}
}

// TestKernelPoolFusion checks that networks whose 3×3 convolutions are
// followed by a rectifier and a 2×2 or global average pooling (fused:
// kernel.State.ConvAffineReLUPool, ConvAffineReLUMean) give the bits of
// the same networks with the poolings run on their own, NNGP and NTK,
// cross and symmetric kernels.
func TestKernelPoolFusion(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
		fused int
	}{
		{"conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 12, 12}, 3},
		{"conv(4,k=3,b_std=0.2),relu,avgpool(2),dense(1)", []int{2, 6, 10}, 1},
		{"conv(4,k=5),relu,conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, 2},
		{"conv(4,k=3),relu,conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 7, 9}, 1},
	} {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		fused := 0
		for l := range len(a.Layers) - 2 {
			if c, ok := a.Layers[l].(*Conv); ok && (c.canPoolFused() && isPool2(a.Layers[l+2]) || c.canMeanFused() && isGlobalPool(a.Layers[l+2])) {
				fused++
			}
		}
		if fused != tc.fused {
			t.Fatalf("%s: %d fused poolings, want %d", tc.spec, fused, tc.fused)
		}
		d := sizeOf(tc.shape)
		x1, x2 := randInputs(5, 4, d), randInputs(6, 3, d)
		sameKernelsAB(t, tc.spec+": fused pooling", a, x1, 4, x2, 3, KernelOptions{}, func(o *KernelOptions) { o.noPoolFusion = true })
	}
}

// TestKernelThetaZero checks that the first convolution taking Theta = 0
// without its plane written (kernel.State.ThetaZero) gives the bits of the
// engine writing the zeros, for plain convolutions and a lifting run
// layer by layer or as the first layer of a block chain.
func TestKernelThetaZero(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		noChains bool
	}{
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", false},
		{"conv(4,k=3,b_std=0.2),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", false},
		{"conv(4,k=3),conv(4,k=3),relu,globalavgpool,dense(1)", false},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", true},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", false},
		{"lift(d4,4,k=3),relu,gconv(4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", false},
	} {
		a, err := Parse(tc.spec, []int{1, 8, 8}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		e := &kernelEngine{arch: a, ntk: true, d: a.InputSize(), noChains: tc.noChains}
		e.plan(0)
		if !e.zeroTheta() {
			t.Fatalf("%s: Theta's first plane written", tc.spec)
		}
		x1, x2 := randInputs(7, 3, 64), randInputs(8, 2, 64)
		got, want := kernelsAB(t, a, x1, 3, x2, 2, KernelOptions{NTK: true, noChains: tc.noChains}, func(o *KernelOptions) { o.noZeroTheta = true })
		if !slices.Equal(got.K, want.K) || !slices.Equal(got.Theta, want.Theta) {
			t.Errorf("%s: Theta = 0 unwritten changes the kernel by %.2g", tc.spec, maxRelDiff(got.Theta, want.Theta))
		}
	}
}

// TestKernelOuter checks that one-channel input covariances passed as
// outer products (kernel.State.OuterA: rows generated by the first
// convolution, or written as planes by maps without the separable form)
// give the bits of the engine writing the planes, for the fused
// convolutions (with a global or a 2×2 pooling after the rectifier),
// exact and interpolated liftings (layer by layer and as the first layer
// of block chains), valid padding, several pairs per tile
// (8×8 images) and single pairs (16×16, 28×28: rows long enough for the
// AVX-512 kernel, which generates the rows as it goes), K(X, X) and cross
// kernels, NNGP and NTK; the inputs hold exact zeros, so products of both
// signs of zero.
func TestKernelOuter(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		hw       int
		noChains bool
	}{
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", 8, false},
		{"conv(4,k=3,b_std=0.2),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", 8, false},
		{"conv(4,k=3),conv(4,k=3),relu,globalavgpool,dense(1)", 8, false},
		{"conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", 28, false},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", 8, true},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", 8, false},
		{"lift(d4,4,k=3),relu,gconv(4,k=3),relu,gconv(4,k=3),relu,dense(1)", 8, false},
		{"lift(c8,4,k=3),relu,gpool,dense(1)", 8, true},
		{"conv(4,k=3,padding=valid),relu,globalavgpool,dense(1)", 8, false},
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", 28, false},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", 16, false},
	} {
		a, err := Parse(tc.spec, []int{1, tc.hw, tc.hw}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		d := tc.hw * tc.hw
		x1, x2 := randInputs(9, 3, d), randInputs(10, 2, d)
		for i := range x1 {
			if i%5 == 0 {
				x1[i] = 0
			}
		}
		opts := KernelOptions{noChains: tc.noChains, noInputConv: true}
		sameKernelsAB(t, tc.spec+": outer-product inputs", a, x1, 3, x2, 2, opts, func(o *KernelOptions) { o.noOuter = true })
	}
}

// TestKernelSelfFusion checks that the self pairs' convolutions running
// fused with the rectifier after them, their variances from
// kernel.State.ConvDiag, give the bits of the layers one after the other,
// for plain convolutions (with biases, pools, a convolution without a
// rectifier after it), exact C4 and D4 GCNNs, and layers without the
// separable form (which keep the separate passes), K(X, X) and cross
// kernels, NNGP and NTK.
func TestKernelSelfFusion(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		noChains bool
	}{
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", false},
		{"conv(4,k=3,b_std=0.2),relu,avgpool(2),conv(4,k=3,w_std=1.3),relu,globalavgpool,dense(1)", false},
		{"conv(4,k=3),conv(4,k=3),relu,globalavgpool,dense(1)", false},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", false},
		{"lift(d4,4,k=3),relu,gconv(4,k=3,support=e),relu,gpool,dense(1)", true},
		{"conv(4,k=5),relu,conv(4,k=3,padding=valid),relu,globalavgpool,dense(1)", false},
	} {
		a, err := Parse(tc.spec, []int{1, 8, 8}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		x1, x2 := randInputs(11, 3, 64), randInputs(12, 2, 64)
		opts := KernelOptions{noChains: tc.noChains}
		sameKernelsAB(t, tc.spec+": fused self pairs", a, x1, 3, x2, 2, opts, func(o *KernelOptions) { o.noSelfFusion = true })
	}
}

// TestKernelInPlace checks that the convolutions that overwrite their
// input planes (kernel.State.canInPlace) give the kernels of those that
// write new planes, bit for bit, NNGP and NTK, with strips of 7 positions
// on images of 8×8 and 16×12 (the edge rows saved between strips), with
// and without fused pooling, block chains and a valid convolution (not
// in place) among them.
func TestKernelInPlace(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
	}{
		{"conv(4,k=3),relu,conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}},
		{"conv(4,k=3),relu,conv(4,k=3),conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", []int{2, 16, 12}},
		{"conv(4,k=3),relu,conv(4,k=3,padding=valid),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 16, 12}},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 8, 8}},
	} {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		d := tc.shape[0] * tc.shape[1] * tc.shape[2]
		x1, x2 := randInputs(13, 3, d), randInputs(14, 2, d)
		sameKernelsAB(t, tc.spec+": in place", a, x1, 3, x2, 2, KernelOptions{}, func(o *KernelOptions) { o.noInPlace = true })
	}
}

// sameKernelsAB checks that the kernels of x1 against x2 and of x1 alone
// (K(X, X)), NNGP and NTK, have the same bits with opts and with opts
// changed by ref; what names the case in errors.
func sameKernelsAB(t *testing.T, what string, a *Arch, x1 []float64, n1 int, x2 []float64, n2 int, opts KernelOptions, ref func(*KernelOptions)) {
	t.Helper()
	for _, ntk := range []bool{false, true} {
		for _, sym := range []bool{false, true} {
			xb, nb := x2, n2
			if sym {
				xb, nb = nil, 0
			}
			opts.NTK = ntk
			got, want := kernelsAB(t, a, x1, n1, xb, nb, opts, ref)
			if !slices.Equal(got.K, want.K) || !slices.Equal(got.Theta, want.Theta) {
				t.Errorf("%s (NTK %v, symmetric %v): the kernel changes by %.2g, %.2g", what, ntk, sym, maxRelDiff(got.K, want.K), maxRelDiff(got.Theta, want.Theta))
			}
		}
	}
}

// kernelsAB returns the kernel of x1 against x2 with opts and with opts
// changed by ref (the reference path).
func kernelsAB(t *testing.T, a *Arch, x1 []float64, n1 int, x2 []float64, n2 int, opts KernelOptions, ref func(*KernelOptions)) (got, want *KernelResult) {
	t.Helper()
	got, err := a.Kernel(context.Background(), x1, n1, x2, n2, opts)
	if err != nil {
		t.Fatal(err)
	}
	ref(&opts)
	if want, err = a.Kernel(context.Background(), x1, n1, x2, n2, opts); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// BenchmarkKernelInputConv times the NTK of 4 standard normal 28×28 images
// (10 pairs, one worker) for networks whose first layer has no separable
// form, from the inputs' patches ("patches") against the general path
// from the input covariances ("covariances"), in the same run.
func BenchmarkKernelInputConv(b *testing.B) {
	benchKernelAB(b, []string{
		"conv(8,k=5),relu,conv(8,k=3),relu,globalavgpool,dense(1)",
		"conv(8,k=3,padding=valid),relu,conv(8,k=3),relu,globalavgpool,dense(1)",
		"lift(c8,8,k=3),relu,gpool,dense(1)",
	}, 4, 0, "patches", "covariances", func(o *KernelOptions) { o.noInputConv = true })
}

// BenchmarkKernelPoolFusion times the NTK of 1 against 8 standard normal
// 28×28 images (one worker) for a CNN with 2×2 average pools between its
// convolutions and a global one at the end, with the poolings fused into
// the convolutions before them ("fused") and run on their own
// ("separate"), in the same run.
func BenchmarkKernelPoolFusion(b *testing.B) {
	benchKernelAB(b, []string{
		"conv(8,k=3),relu,avgpool(2),conv(8,k=3),relu,avgpool(2),conv(8,k=3),relu,globalavgpool,dense(1)",
		"conv(8,k=3),relu,conv(8,k=3),relu,conv(8,k=3),relu,globalavgpool,dense(1)",
	}, 1, 8, "fused", "separate", func(o *KernelOptions) { o.noPoolFusion = true })
}

// benchKernelAB times the NTK of n1 standard normal 28×28 images against
// n2 others (n2 = 0: against themselves) with one worker for each spec,
// with the default options (sub-benchmark a) and with those ref sets (b).
func benchKernelAB(b *testing.B, specs []string, n1, n2 int, a, bName string, ref func(*KernelOptions)) {
	for _, spec := range specs {
		arch, err := Parse(spec, []int{1, 28, 28}, NTK)
		if err != nil {
			b.Fatal(err)
		}
		x := randInputs(2, n1+n2, 784)
		x2 := x[n1*784:]
		if n2 == 0 {
			x2 = nil
		}
		for _, name := range []string{a, bName} {
			opts := KernelOptions{NTK: true, ThetaOnly: true, Workers: 1}
			if name == bName {
				ref(&opts)
			}
			b.Run(spec+"/"+name, func(b *testing.B) {
				for b.Loop() {
					if _, err := arch.Kernel(context.Background(), x[:n1*784], n1, x2, n2, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSelfDiag checks that the self pairs' tapes computed on the
// diagonal alone (kernelEngine.selfDiag, kernel.State.ConvReLUDiag) have
// the bits of those read from whole planes at every layer whose
// variances the cross pairs read, and that the diagonal path ran where it
// applies: plain convolutions with biases and other weight scales, a
// 5×5 first layer and a convolution without a rectifier (whole planes for
// them, then diagonals), a pooling (diagonals after it), C4 and D4 GCNNs;
// and networks whose last convolution has no diagonal map (5×5, valid
// padding), where it does not run.
func TestSelfDiag(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		shape []int
		diag  bool // the diagonal path runs from some layer on
	}{
		{"conv(4,k=3),relu,conv(4,k=3,b_std=0.3),relu,conv(4,k=3,w_std=1.7),relu,globalavgpool,dense(1)", []int{1, 8, 8}, true},
		{"conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{3, 7, 9}, true},
		{"conv(4,k=5),relu,conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, true},
		{"lift(c4,4,k=3),relu,gconv(4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 8, 8}, true},
		{"lift(d4,4,k=3),relu,gconv(4,k=3),relu,gpool,dense(1)", []int{1, 8, 8}, true},
		{"conv(4,k=3),relu,avgpool(2),conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, true},
		{"conv(4,k=3),conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, true},
		{"conv(4,k=3),relu,conv(4,k=5),relu,globalavgpool,dense(1)", []int{1, 8, 8}, false},
		{"conv(4,k=3),relu,conv(4,k=3,padding=valid),relu,globalavgpool,dense(1)", []int{1, 8, 8}, false},
		{"conv(4,k=3),relu,globalavgpool,dense(1)", []int{1, 8, 8}, true},
		{"conv(4,k=3),relu,conv(4,k=3),relu,erf,globalavgpool,dense(1)", []int{1, 8, 8}, true}, // erf reads the rectifier's output
	} {
		a, err := Parse(tc.spec, tc.shape, NTK)
		if err != nil {
			t.Fatal(err)
		}
		n, d := 3, tc.shape[0]*tc.shape[1]*tc.shape[2]
		x := randInputs(15, n, d)
		tapes := func(noDiag bool) ([][]float64, int) {
			e := &kernelEngine{arch: a, ntk: true, d: d, noDiagSelf: noDiag}
			e.plan(0)
			tape, err := e.selfTapes(context.Background(), x, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			return tape, e.lastReader
		}
		got, last := tapes(false)
		want, _ := tapes(true)
		for l := range last + 1 {
			if !slices.Equal(got[l], want[l]) {
				t.Errorf("%s: the tape entering layer %d changes by %.2g", tc.spec, l, maxRelDiff(got[l], want[l]))
			}
		}
		// The diagonal path leaves the planes empty: a state whose
		// self run took it has no K.
		e := &kernelEngine{arch: a, ntk: true, d: d}
		e.plan(0)
		st := &kernel.State{}
		tape := make([][]float64, len(a.Layers)+1)
		for l := range tape {
			tape[l] = make([]float64, n*e.posAt[l])
		}
		if err := e.runSelf(st, x, 0, n, tape); err != nil {
			t.Fatal(err)
		}
		if ran := len(st.K) == 0; ran != tc.diag {
			t.Errorf("%s: the diagonal path ran: %v, want %v", tc.spec, ran, tc.diag)
		}
	}
}
