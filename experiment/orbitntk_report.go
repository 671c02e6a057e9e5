package experiment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
)

// OrbitNTKSection reports an OrbitNTK run: accuracy by kernel and
// training size (table ntk-curve, figure ntk-accuracy), the OSP of each
// kernel's predictor (table ntk-osp) and the identity check; it writes the
// same to the summary. data names the images in the plot title (e.g.
// "PathMNIST"), classes gives the chance level.
func OrbitNTKSection(np *OrbitNTKParams, groups []*group.Group, ntk *OrbitNTKResult, data string, classes int, sum *strings.Builder) report.Section {
	ct, pl, sizes, bySize := ntkCurve(ntk, data, classes)
	ot := report.Table{Name: "ntk-osp", Caption: fmt.Sprintf("Mean OSP of each kernel's predictor (largest training size) on the orbits of the %d test images; the group-averaged kernels are exactly invariant under their group.", ntk.TestSize), Columns: []string{"kernel"}}
	for _, g := range groups {
		ot.Columns = append(ot.Columns, fmt.Sprintf("OSP %s (max %d)", g.Name(), g.Order()))
	}
	fmt.Fprintf(sum, "\nNTK on %dx%dx%d images, %d test images: accuracy by training size\n", ntk.Shape[0], ntk.Shape[1], ntk.Shape[2], ntk.TestSize)
	for _, s := range sizes {
		fmt.Fprintf(sum, "  n = %-6d", s)
		for ki, kn := range ntk.Kernels {
			fmt.Fprintf(sum, " %s %s", kn, bySize[s][ki])
		}
		sum.WriteString("\n")
	}
	for _, kn := range ntk.Kernels {
		row := []string{kernelLabel(kn)}
		fmt.Fprintf(sum, "  OSP %-10s", kn)
		for _, g := range groups {
			row = append(row, F2(ntk.OSP[kn][g.Name()]))
			fmt.Fprintf(sum, " %s %.2f", g.Name(), ntk.OSP[kn][g.Name()])
		}
		sum.WriteString("\n")
		ot.Rows = append(ot.Rows, row)
	}
	size := "The images are used at full size"
	if np.Pool > 1 {
		size = fmt.Sprintf("The images are average-pooled by %d to keep the kernel cost O((|G|HW)²) per pair affordable", np.Pool)
	}
	ntkText := fmt.Sprintf("Infinite ensembles of infinitely wide networks trained to convergence: the NTK of the CNN `%s` and its averages over the groups, which are the NTKs of the mirrored roto-translation GCNNs (lift and group convolutions with identity support; at infinite width the support does not matter for exact groups), as in Misof, Kessel & Gerken (2025). %s (%dx%d); the CNN NTK's invariance under transforming both inputs, which halves the training kernel's cost, holds to %.1e.", ntk.Arch, size, ntk.Shape[1], ntk.Shape[2], ntk.Invariance)
	if len(ntk.Identity) > 0 {
		var parts []string
		for _, g := range groups {
			parts = append(parts, fmt.Sprintf("%s %.2g", g.Name(), ntk.Identity[g.Name()]))
		}
		ntkText += fmt.Sprintf(" Check on %d test images: max |Θ_avg − Θ_GCNN| / max |Θ_GCNN| with the GCNN `%s` = %s.", min(np.CheckInputs, ntk.TestSize), np.GCNN, strings.Join(parts, ", "))
		fmt.Fprintf(sum, "  identity averaged CNN NTK = GCNN NTK: max rel diff %s\n", strings.Join(parts, ", "))
	}
	return report.Section{Heading: "Equivariant NTKs", Text: ntkText, Tables: []report.Table{ct, ot},
		Figures: []report.Figure{{Name: "ntk-accuracy", Caption: "Test accuracy of kernel regression against the number of training images.", Plot: pl}}}
}

// ntkCurve is the table and plot of test accuracy by kernel and training
// size, with the sorted sizes and the formatted accuracies by size (one
// per kernel).
func ntkCurve(ntk *OrbitNTKResult, data string, classes int) (report.Table, *report.Plot, []int, map[int][]string) {
	ct := report.Table{Name: "ntk-curve", Caption: fmt.Sprintf("Test accuracy of kernel regression (t = ∞, ridge %g × mean diagonal, centred one-hot targets) on %d test images (%dx%dx%d).", ntk.Reg, ntk.TestSize, ntk.Shape[0], ntk.Shape[1], ntk.Shape[2]),
		Columns: []string{"training images"}}
	for _, kn := range ntk.Kernels {
		ct.Columns = append(ct.Columns, kernelLabel(kn))
	}
	var plotS []report.Series
	bySize := map[int][]string{}
	var sizes []int
	for ki, kn := range ntk.Kernels {
		var xs, ys []float64
		for _, pt := range ntk.Curve {
			if pt.Kernel != kn {
				continue
			}
			xs = append(xs, float64(pt.TrainSize))
			ys = append(ys, pt.Accuracy)
			if _, ok := bySize[pt.TrainSize]; !ok {
				bySize[pt.TrainSize] = make([]string, len(ntk.Kernels))
				sizes = append(sizes, pt.TrainSize)
			}
			bySize[pt.TrainSize][ki] = fmt.Sprintf("%.3f", pt.Accuracy)
		}
		plotS = append(plotS, report.Series{Name: kernelLabel(kn), X: xs, Y: ys, Points: true})
	}
	slices.Sort(sizes)
	for _, s := range sizes {
		ct.Rows = append(ct.Rows, append([]string{fmt.Sprint(s)}, bySize[s]...))
	}
	zero, one := 0.0, 1.0
	pl := &report.Plot{Title: fmt.Sprintf("Kernel regression on %s (%dx%d)", data, ntk.Shape[1], ntk.Shape[2]), XLabel: "training images", YLabel: "test accuracy", LogX: true, YMin: &zero, YMax: &one, Series: plotS,
		HLines: []report.RefLine{{Y: 1 / float64(classes), Label: fmt.Sprintf("chance (%d classes)", classes)}}}
	return ct, pl, sizes, bySize
}

// kernelLabel is the display name of a kernel ("cnn", "gcnn-GROUP").
func kernelLabel(k string) string {
	if k == "cnn" {
		return "CNN NTK"
	}
	if g, ok := strings.CutPrefix(k, "gcnn-"); ok {
		return g + " GCNN NTK"
	}
	return k
}
