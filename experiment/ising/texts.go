package ising

// The report's texts: the introduction, the reading of the NTK and of the
// finite-M split, the findings and the summary table of the log.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/eqens/eqens/ising"
	"github.com/eqens/eqens/report"
)

// introText describes the setup: data, networks, training, the measure of
// invariance and the NTK line.
func introText(p *params, in *inputs) string {
	n := in.train.Len()
	orbitText := fmt.Sprintf("the whole orbit (all %d elements)", in.g.Order())
	if len(in.elems) < in.g.Order() {
		orbitText = fmt.Sprintf("a fixed random subset of %d of the %d group elements (the identity and %d others, drawn once with the seed and listed in results.json)", len(in.elems), in.g.Order(), len(in.elems)-1)
	}
	return fmt.Sprintf(`MLP ensembles (%s, NTK parametrisation) learn the energy per site E/L² of %d×%d periodic Ising configurations, sampled with the %s algorithm at T = %s (T_c = %.4f), by full-batch gradient descent (learning rate %g, %d steps) on the MSE loss L = 1/(2N) Σ (f − y)², with random augmentation by the lattice group %s (translations ⋊ D4, %d elements): at every step every configuration is transformed by a freshly drawn group element. Widths %s, %d members each, %d training configurations.

The invariance of a model at a configuration x is measured by the relative standard deviation of its predictions over the orbit {ρ(g)x}, std_g f(ρ(g)x) / |mean_g f(ρ(g)x)| (metrics.RelativeStd), over %s, summarised by the %s. It is recorded at %d log-spaced steps through the training hook, for the ensemble mean and for single members.

The NTK line is the infinite ensemble of infinitely wide networks trained with full augmentation: the group-averaged NTK Θ̄(x,x') = (1/|G|) Σ_g Θ(x, ρ(g)x') on the %d training configurations, with mean μ_t(x) = Θ̄(x,X) Θ̄^-1 (1 − exp(−η t Θ̄/N)) Y. On the invariant subspace the augmented kernel acts as |G|·Θ̄ on N·|G| samples, so this is exactly the flow of GD on the fully augmented set with the loss normalised per sample; random augmentation follows the same flow in expectation. NTK time t is therefore the number of GD steps, with the same learning rate, and the curves are directly comparable (GD noise from the random draws aside).`,
		strings.ReplaceAll(p.Arch, "{w}", "w"), p.L, p.L, p.Algorithm, floatList(p.TrainTemperatures), ising.CriticalTemperature, p.LR, p.Steps, in.g.Name(), in.g.Order(),
		intList(p.Widths), p.Members, n, orbitText, p.statName(), len(in.steps), n)
}

// ntkText reads the NTK's invariance and the stability of its discrete GD.
func ntkText(ntk *ntkResult) string {
	return fmt.Sprintf("The NTK prediction is invariant to round-off at every step: its largest relative std over all times, sets and measured points is %.2g (gradient flow and discrete GD together). For the group-averaged training kernel η λ/N lies in [%.2g, %.2g]: discrete GD (stable below 2) and the gradient flow exp(−η t Θ̄/N) differ only in the fastest modes during the first steps, by the factor (1 − ηλ/N)^t against exp(−ηλt/N); the MSE figure uses the discrete steps, the relative-std panels the gradient flow of predict.Regressor.", ntk.maxRel, ntk.etaLamMin, ntk.etaLamMax)
}

// finiteMText explains what the finite-M split measures.
const finiteMText = "NTK theory puts the non-invariance of a finite ensemble of M members at ~1/√M times the members' (their deviations from the mean are independent), at every width; with full augmentation, and also with random augmentation (whose draws are uniform over the group), the infinite ensemble of networks of any finite width is exactly invariant, because the distribution of the initial weights is invariant under the group (Nordenfors & Flinth 2024). Width enters only through the members' deviations. The second table separates the ensemble's orbit variance into the finite-M part and the rest."

// findingsText interprets the claims for the report.
func findingsText(p *params, scale string, claims []claim, finM []finiteM, sets []*testSet, curves []curve, last int) string {
	var b strings.Builder
	paper := []int{512, 1024, 2048}
	if !slices.Equal(p.Widths, paper) {
		fmt.Fprintf(&b, "This is the %s scale: widths %s and %d members instead of the paper's widths 512/1024/2048, to fit in minutes on two cores (--scale full trains the paper's widths).\n\n", scale, intList(p.Widths), p.Members)
	}
	held := 0
	var failed []string
	for _, c := range claims {
		if c.Holds {
			held++
		} else {
			failed = append(failed, "“"+c.Claim+"”")
		}
	}
	fmt.Fprintf(&b, "%d of the %d statements below hold as measured.", held, len(claims))
	if len(failed) > 0 {
		fmt.Fprintf(&b, " Not confirmed: %s.", strings.Join(failed, "; "))
	}
	hi := math.Inf(-1)
	for _, f := range finM {
		hi = math.Max(hi, f.ExcessHi)
	}
	fmt.Fprintf(&b, "\n\nReading: the ensemble's relative std is about 1/√M of the members' at every width, and the part of its orbit variance not explained by the finite number of members is consistent with zero (largest upper 95%% bound %.2f; table of the last section). With %d members the finite-M term dominates at every width, so a width dependence (wider ensembles closer to the NTK line) cannot be resolved here: the width only changes the members' deviations, which NTK parametrisation keeps of order one at any width; seeing finite-width effects in the mean needs the finite-M term below them, i.e. many more members. The NTK, the infinite ensemble, is invariant to float64 round-off at every time and on every set, in and out of distribution.", hi, p.Members)
	if len(p.Widths) > 1 {
		var det []string
		for _, s := range sets {
			var v []string
			for _, w := range p.Widths {
				c := findCurve(curves, "member", w, s.Name)
				v = append(v, g3(c.stat(p.Statistic)[last]))
			}
			det = append(det, s.Name+" "+strings.Join(v, " → "))
		}
		fmt.Fprintf(&b, "\n\nSingle members against width (%s at the last step): %s.", intList(p.Widths), strings.Join(det, "; "))
	}
	return b.String()
}

// summaryText is the plain-text table printed at the end of a run: the
// relative std of every model on every set and the MSE in distribution at
// the last step.
func summaryText(p *params, sets []*testSet, lastStep int, fin, finMSE report.Table, ntkMax float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nrelative std over the orbit (%s) at step %d:\n%-10s %6s", p.statName(), lastStep, "model", "width")
	for _, s := range sets {
		fmt.Fprintf(&b, " %10s", s.Name)
	}
	fmt.Fprintf(&b, " %10s\n", "MSE id")
	for k, rw := range fin.Rows {
		fmt.Fprintf(&b, "%-10s %6s", rw[0], rw[1])
		for j := range sets {
			fmt.Fprintf(&b, " %10s", rw[2+j])
		}
		fmt.Fprintf(&b, " %10s\n", finMSE.Rows[k][2])
	}
	fmt.Fprintf(&b, "NTK: largest relative std over all times, sets and points %.2g\n", ntkMax)
	return b.String()
}
