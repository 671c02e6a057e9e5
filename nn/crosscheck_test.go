package nn

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eqens/eqens/npy"
)

// TestCrossCheckPyTorch compares the forward pass of a CNN and of a C4 GCNN
// (lifting, group convolutions with rotated filters and cycled group axis,
// max pooling, group pooling) with an independent PyTorch construction
// (scripts/crosscheck_gcnn.py). It runs when Debian's python3-torch is
// installed and is skipped otherwise.
func TestCrossCheckPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		t.Skip("python3 with torch and numpy not available")
	}
	for _, tc := range []struct {
		spec string
		kind []string // the script's layer kinds
	}{
		{"conv(5,k=3,b_std=0.3),relu,conv(4,k=3,b_std=0.2),relu,globalavgpool,dense(3,b_std=0.1)", []string{"conv", "relu", "conv", "relu", "gap", "dense"}},
		{"lift(c4,3,k=3,b_std=0.3),relu,maxpool(2),gconv(4,k=3,b_std=0.2),relu,gconv(2,k=5),relu,gpool,dense(3,b_std=0.1)", []string{"lift", "relu", "maxpool", "gconv", "relu", "gconv", "relu", "gpool", "dense"}},
	} {
		a, err := Parse(tc.spec, []int{2, 8, 8}, NTK)
		if err != nil {
			t.Fatal(err)
		}
		net := New[float64](a)
		net.Init(3)
		x := randInputs(4, 3, a.InputSize())
		y := net.Forward(x, 3)
		dir := t.TempDir()
		write := func(name string, shape []int, v []float64) {
			if err := npy.WriteFile(filepath.Join(dir, name), npy.FromFloat64(shape, append([]float64(nil), v...))); err != nil {
				t.Fatal(err)
			}
		}
		write("x.npy", []int{3, 2, 8, 8}, x)
		write("y.npy", []int{3, a.OutputDim()}, y)
		var spec strings.Builder
		for i, l := range a.Layers {
			p := net.LayerParams(i)
			ws, bs := 0.0, 0.0
			out, k := 0, 0
			switch l := l.(type) {
			case *Conv:
				out, k = l.Out, l.K
				nw := l.Out * l.op.Base * a.Shapes[i].C
				ws = l.WStd / sqrt(float64(l.op.Base*a.Shapes[i].C))
				bs = l.BStd
				shape := []int{l.Out, k, k, a.Shapes[i].C}
				if l.Kind == "gconv" {
					shape = []int{l.Out, 4, k, k, a.Shapes[i].C}
				}
				write(fmt.Sprintf("layer%02d.weight.npy", i), shape, p[:nw])
				write(fmt.Sprintf("layer%02d.bias.npy", i), []int{l.Out}, p[nw:])
			case *Dense:
				out = l.Out
				in := a.Shapes[i].Size()
				ws, bs = l.WStd/sqrt(float64(in)), l.BStd
				write(fmt.Sprintf("layer%02d.weight.npy", i), []int{l.Out, in}, p[:l.Out*in])
				write(fmt.Sprintf("layer%02d.bias.npy", i), []int{l.Out}, p[l.Out*in:])
			}
			fmt.Fprintf(&spec, "%s,%d,%d,%s,%s\n", tc.kind[i], out, k, strconv.FormatFloat(ws, 'g', 17, 64), strconv.FormatFloat(bs, 'g', 17, 64))
		}
		if err := os.WriteFile(filepath.Join(dir, "spec.txt"), []byte(spec.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "../scripts/crosscheck_gcnn.py", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.spec, err, out)
		}
		diff, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			t.Fatalf("script output %q", out)
		}
		t.Logf("%s: max |eqens - torch| = %.3g", tc.spec, diff)
		if diff > 1e-10 {
			t.Fatalf("%s: eqens and PyTorch differ by %g", tc.spec, diff)
		}
	}
}
