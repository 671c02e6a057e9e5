package fashion

import (
	"context"
	"fmt"
	"math"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
)

// so2Result is the evaluation of one group's augmented CNNs on equally
// spaced rotations.
type so2Result struct {
	// Agreement[a] is the share of test images whose prediction under
	// rotation a equals the prediction on the unrotated image; Accuracy[a]
	// the accuracy under rotation a. Ensemble: the full augmented ensemble;
	// Member: averaged over its members.
	EnsembleAgreement []float64 `json:"ensemble_agreement"`
	MemberAgreement   []float64 `json:"member_agreement"`
	EnsembleAccuracy  []float64 `json:"ensemble_accuracy"`
	MemberAccuracy    []float64 `json:"member_accuracy"`
	// Summaries: mean agreement over all angles (OSP/angles), over the
	// angles in the training group C_n and over the others; mean accuracy
	// over all angles.
	Ensemble so2Summary `json:"ensemble"`
	Member   so2Summary `json:"member"`
}

type so2Summary struct {
	AgreeAll     float64 `json:"agreement_all"`
	AgreeInGroup float64 `json:"agreement_in_group"`
	AgreeBetween float64 `json:"agreement_between"`
	AccuracyAll  float64 `json:"accuracy_all"`
	Accuracy0    float64 `json:"accuracy_0"`
}

// evalSO2 evaluates an ensemble on n equally spaced rotations (the
// group c<n>) of the prepared test images ds; g is the training group,
// whose angles are told apart from the others.
func evalSO2(ctx context.Context, ens *train.Ensemble, ds *data.Dataset, n int, g *group.Group) (*so2Result, []float64, error) {
	cn, err := group.Parse(fmt.Sprintf("c%d", n))
	if err != nil {
		return nil, nil, err
	}
	rep, err := group.ImageRep(cn, 1, 28, 28)
	if err != nil {
		return nil, nil, err
	}
	orbs, err := experiment.EnsembleOrbits(ctx, ens, ds, rep, 256)
	if err != nil {
		return nil, nil, err
	}
	angles := make([]float64, n)
	inGroup := make([]bool, n)
	for a := range angles {
		m := cn.Matrix(a)
		deg := math.Atan2(m[2], m[0]) * 180 / math.Pi
		if deg < -1e-9 {
			deg += 360
		}
		angles[a] = experiment.Round3(deg)
		step := 360 / float64(g.Order())
		q := deg / step
		inGroup[a] = math.Abs(q-math.Round(q)) < 1e-6
	}
	s := &so2Result{}
	s.EnsembleAgreement, s.EnsembleAccuracy = agreementAccuracy(metrics.Combine(orbs, experiment.Indices(len(orbs)), false), ds.Labels, n)
	s.MemberAgreement = make([]float64, n)
	s.MemberAccuracy = make([]float64, n)
	for _, o := range orbs {
		ag, ac := agreementAccuracy(o, ds.Labels, n)
		for a := range ag {
			s.MemberAgreement[a] += ag[a] / float64(len(orbs))
			s.MemberAccuracy[a] += ac[a] / float64(len(orbs))
		}
	}
	s.Ensemble = summarise(s.EnsembleAgreement, s.EnsembleAccuracy, inGroup)
	s.Member = summarise(s.MemberAgreement, s.MemberAccuracy, inGroup)
	return s, angles, nil
}

// agreementAccuracy returns, for each of the n orbit elements, the share
// of points whose prediction equals the one on the unrotated point
// (element 0) and the share predicted as their label.
func agreementAccuracy(o *metrics.Orbit, labels []int, n int) (agree, acc []float64) {
	pred := o.Predictions()
	agree = make([]float64, n)
	acc = make([]float64, n)
	for a := 0; a < n; a++ {
		for i := 0; i < o.N; i++ {
			if pred[a*o.N+i] == pred[i] {
				agree[a]++
			}
			if pred[a*o.N+i] == labels[i] {
				acc[a]++
			}
		}
		agree[a] /= float64(o.N)
		acc[a] /= float64(o.N)
	}
	return agree, acc
}

// summarise averages agreement and accuracy by angle over all angles, and
// the agreement over the angles in the training group (inGroup) and the
// others.
func summarise(agree, acc []float64, inGroup []bool) so2Summary {
	n := len(agree)
	var x so2Summary
	var nin, nout float64
	for a := range agree {
		x.AgreeAll += agree[a] / float64(n)
		x.AccuracyAll += acc[a] / float64(n)
		if inGroup[a] {
			x.AgreeInGroup += agree[a]
			nin++
		} else {
			x.AgreeBetween += agree[a]
			nout++
		}
	}
	x.AgreeInGroup /= math.Max(nin, 1)
	x.AgreeBetween /= math.Max(nout, 1)
	x.Accuracy0 = acc[0]
	return x
}

// so2Section reports the evaluation on equally spaced rotations.
func so2Section(p *params, groups []string, so2 map[string]*so2Result, noaug *so2Result, angles []float64) report.Section {
	tab := report.Table{Name: "so2", Caption: fmt.Sprintf("Evaluation on %d equally spaced rotations of %d test images: share of predictions equal to the unrotated one, averaged over all angles (= OSP/%d), over the angles of the training group and over the angles between them; mean accuracy over all angles and unrotated.", p.SO2.Angles, p.SO2.Size, p.SO2.Angles),
		Columns: []string{"trained with", "model", "agreement all", "agreement in C_n", "agreement between", "accuracy all angles", "accuracy 0°"}}
	add := func(name, model string, s so2Summary) {
		tab.Rows = append(tab.Rows, []string{name, model, f3(s.AgreeAll), f3(s.AgreeInGroup), f3(s.AgreeBetween), f3(s.AccuracyAll), f3(s.Accuracy0)})
	}
	var agree, acc []report.Series
	for k, g := range groups {
		s, ok := so2[g]
		if !ok {
			continue
		}
		add(groupTitle(g)+" DA", fmt.Sprintf("ensemble of %d", p.CNN.Members), s.Ensemble)
		add(groupTitle(g)+" DA", "single CNN (mean)", s.Member)
		agree = append(agree,
			report.Series{Name: groupTitle(g) + " DA ensemble", X: angles, Y: s.EnsembleAgreement, Color: k + 1},
			report.Series{Name: groupTitle(g) + " DA single", X: angles, Y: s.MemberAgreement, Color: k + 1, Dashed: true})
		acc = append(acc,
			report.Series{Name: groupTitle(g) + " DA ensemble", X: angles, Y: s.EnsembleAccuracy, Color: k + 1},
			report.Series{Name: groupTitle(g) + " DA single", X: angles, Y: s.MemberAccuracy, Color: k + 1, Dashed: true})
	}
	if noaug != nil {
		for _, r := range []struct {
			model string
			s     so2Summary
		}{{fmt.Sprintf("ensemble of %d", p.NoAugMembers), noaug.Ensemble}, {"single CNN (mean)", noaug.Member}} {
			tab.Rows = append(tab.Rows, []string{"no DA", r.model, f3(r.s.AgreeAll), "–", "–", f3(r.s.AccuracyAll), f3(r.s.Accuracy0)})
		}
		agree = append(agree, report.Series{Name: "no DA ensemble", X: angles, Y: noaug.EnsembleAgreement, Color: 8})
		acc = append(acc, report.Series{Name: "no DA ensemble", X: angles, Y: noaug.EnsembleAccuracy, Color: 8})
	}
	zero, one := 0.0, 1.0
	ap := &report.Plot{Title: "Agreement with the unrotated prediction vs rotation angle", XLabel: "rotation angle (degrees)", YLabel: "share of test images", YMin: &zero, YMax: &one, Series: agree}
	cp := &report.Plot{Title: "Accuracy vs rotation angle", XLabel: "rotation angle (degrees)", YLabel: "accuracy", YMin: &zero, YMax: &one, Series: acc}
	return report.Section{Heading: "Continuous rotations (SO(2))",
		Text:    fmt.Sprintf("CNN ensembles trained with C_n augmentation, evaluated on all %d rotations by multiples of %.3g°: does the invariance emerge beyond the training group, and do ensembles gain over their members there?", p.SO2.Angles, 360/float64(p.SO2.Angles)),
		Tables:  []report.Table{tab},
		Figures: []report.Figure{{Name: "so2_agreement", Caption: "Share of test images whose prediction under the rotation equals the unrotated prediction; ensembles solid, single CNNs dashed.", Plot: ap}, {Name: "so2_accuracy", Caption: "Accuracy on rotated test images.", Plot: cp}}}
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
