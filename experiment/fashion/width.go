package fashion

// OSP against width: ensembles of augmented CNNs whose channel counts are
// the members' CNN's (cnn.arch) times a multiplier, trained as the
// DeepEns+DA members are, for one group, evaluated on its orbits in and
// out of distribution (yaml width; experiments/fashion-width.yaml runs
// this part alone).

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
)

// widthParams configures the width sweep (yaml width).
type widthParams struct {
	// Group is the rotation group trained with and evaluated on (c16, ...).
	Group string `yaml:"group" json:"group"`
	// Multipliers scale the channel count of every conv layer of cnn.arch
	// (rounded, at least 1); 1 is the members' CNN itself.
	Multipliers []float64 `yaml:"multipliers" json:"multipliers"`
	// Members is the number of CNNs trained per width, split into
	// members/ensemble_size disjoint ensembles.
	Members int `yaml:"members" json:"members"`
}

// widthPoint is the OSP of the augmented CNNs of one width: Members over
// the single networks, Ensembles over the disjoint ensembles of
// ensemble_size members.
type widthPoint struct {
	Multiplier float64  `json:"multiplier"`
	Arch       string   `json:"arch"`
	Channels   []int    `json:"channels"`
	Parameters int      `json:"parameters"`
	Members    tableRow `json:"members"`
	Ensembles  tableRow `json:"ensembles"`
}

// convChannels matches the channel count of a conv layer in a spec.
var convChannels = regexp.MustCompile(`\bconv\((\d+)`)

// scaleChannels multiplies the channel count of every conv layer of arch
// by m (rounded, at least 1) and returns the new spec and its channel
// counts; an arch without conv layers is an error.
func scaleChannels(arch string, m float64) (string, []int, error) {
	var chans []int
	out := convChannels.ReplaceAllStringFunc(arch, func(s string) string {
		n, _ := strconv.Atoi(convChannels.FindStringSubmatch(s)[1])
		c := max(1, int(math.Round(float64(n)*m)))
		chans = append(chans, c)
		return "conv(" + strconv.Itoa(c)
	})
	if len(chans) == 0 {
		return "", nil, fmt.Errorf("cnn.arch %q has no conv layer whose width could be scaled", arch)
	}
	return out, chans, nil
}

// checkWidth validates the width section against the rest of the config.
func checkWidth(p *params) error {
	w := p.Width
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/fashion.yaml: width: "+f, a...)
	}
	if len(w.Multipliers) == 0 {
		return bad("multipliers: list at least one width multiplier")
	}
	for _, m := range w.Multipliers {
		if !(m > 0) || m > 64 {
			return bad("multipliers must be in (0, 64], got %g", m)
		}
	}
	if w.Members < p.EnsembleSize {
		return bad("members (%d) must be at least ensemble_size (%d)", w.Members, p.EnsembleSize)
	}
	if _, _, err := scaleChannels(p.CNN.Arch, 1); err != nil {
		return bad("%v", err)
	}
	return checkGroup("width: group", w.Group)
}

// runWidth trains and evaluates the augmented CNNs of every width.
func runWidth(ctx context.Context, env *experiment.Env, p *params, fd *preparedData, o *outcome) error {
	g, _ := group.Parse(p.Width.Group)
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return err
	}
	for _, m := range p.Width.Multipliers {
		pt, err := widthAt(ctx, env, p, fd, g.Name(), rep, m, o)
		if err != nil {
			return err
		}
		o.width = append(o.width, pt)
		env.Logf("%s width ×%g (%v channels): OSP OOD members %.2f, ensembles %.2f; test %.2f / %.2f; accuracy %.3f / %.3f",
			g.Name(), m, pt.Channels, pt.Members.OSPOOD, pt.Ensembles.OSPOOD, pt.Members.OSPID, pt.Ensembles.OSPID, pt.Members.Accuracy, pt.Ensembles.Accuracy)
	}
	return nil
}

// widthAt trains the width.members augmented CNNs of multiplier m as the
// DeepEns+DA members are trained (cnn's steps, batch and optimizer) and
// evaluates them and their disjoint ensembles on the orbits of rep.
func widthAt(ctx context.Context, env *experiment.Env, p *params, fd *preparedData, gn string, rep *group.Rep, m float64, o *outcome) (widthPoint, error) {
	arch, chans, err := scaleChannels(p.CNN.Arch, m)
	if err != nil {
		return widthPoint{}, err
	}
	mp := p.CNN.ModelParams
	mp.Members = p.Width.Members
	cfg := trainConfig(mp, arch, p, train.AugConfig{Mode: "random", Group: gn})
	start := time.Now()
	name := fmt.Sprintf("cnn_da_%s_w%s", gn, strconv.FormatFloat(m, 'g', -1, 64))
	ens, err := experiment.TrainEnsemble(ctx, env, name, cfg, fd.train, train.Options{})
	if err != nil {
		return widthPoint{}, err
	}
	o.lap("train", start)
	start = time.Now()
	orb, err := experiment.MemberOrbits(ctx, ens, rep, fd.sets)
	if err != nil {
		return widthPoint{}, err
	}
	S, seed := p.EnsembleSize, p.Seed+3000
	pt := widthPoint{Multiplier: m, Arch: arch, Channels: chans, Parameters: ens.Arch.NumParams(),
		Members:   tableRowOf(orb, 1, fd.sets, seed),
		Ensembles: tableRowOf(disjointEnsembles(orb, S), S, fd.sets, seed)}
	o.lap("evaluate", start)
	return pt, nil
}

// widthSection is the report section of the width sweep: a table and the
// figure osp_vs_width.
func widthSection(p *params, pts []widthPoint) report.Section {
	gt := groupTitle(groupName(p.Width.Group))
	t := report.Table{Name: "osp_vs_width",
		Caption: fmt.Sprintf("%s: OSP of augmented CNNs against width (the conv channel counts of cnn.arch times the multiplier; %d steps each), out of distribution (MNIST digits and blurred noise pooled, %d each) and on %d test images; members: mean ± std over the %d CNNs of each width; ensembles: over the %d disjoint ensembles of %d; chance: the chance level of the ensembles' pooled OOD predictions.",
			gt, p.CNN.Steps, p.OODSize, p.TestSize, p.Width.Members, p.Width.Members/p.EnsembleSize, p.EnsembleSize),
		Columns: []string{"multiplier", "channels", "parameters", "members OSP OOD", "ensembles OSP OOD", "chance", "members OSP test", "ensembles OSP test", "members accuracy", "ensembles accuracy"}}
	for _, c := range pts {
		m, e := c.Members, c.Ensembles
		t.Rows = append(t.Rows, []string{experiment.G3(c.Multiplier), channelList(c.Channels), fmt.Sprint(c.Parameters),
			pmStd(m.OSPOOD, m.OSPOODStd, m.Models), pmStd(e.OSPOOD, e.OSPOODStd, e.Models), experiment.F2(e.Chance["pooled"]),
			pmStd(m.OSPID, m.OSPIDStd, m.Models), pmStd(e.OSPID, e.OSPIDStd, e.Models),
			accStd(m), accStd(e)})
	}
	return report.Section{Heading: "OSP against width",
		Text:    fmt.Sprintf("How the invariance of the augmented CNNs and of their ensembles depends on the width of the CNN, for %s. Every width is trained with the same data, augmentation, steps and optimizer as the DeepEns+DA members.", gt),
		Tables:  []report.Table{t},
		Figures: []report.Figure{{Name: "osp_vs_width", Caption: "Mean OSP/|G| against the width multiplier (log axis): ensembles (solid) and members (dashed), out of distribution and on test images; bars: ± std over models.", Plot: widthPlot(gt, groupOrder(p.Width.Group), pts)}}}
}

// widthPlot is OSP/|G| against the width multiplier, for the ensembles and
// the members, out of distribution and on test images.
func widthPlot(gt string, order int, pts []widthPoint) *report.Plot {
	n := float64(order)
	series := func(name string, color int, dashed bool, f func(widthPoint) (float64, float64)) report.Series {
		s := report.Series{Name: name, Points: true, Color: color, Dashed: dashed}
		for _, c := range pts {
			y, sd := f(c)
			s.X = append(s.X, c.Multiplier)
			s.Y = append(s.Y, y/n)
			s.Lo = append(s.Lo, (y-sd)/n)
			s.Hi = append(s.Hi, math.Min(y+sd, n)/n)
		}
		return s
	}
	cs := []report.Series{
		series("ensembles, OOD", 1, false, func(c widthPoint) (float64, float64) { return c.Ensembles.OSPOOD, c.Ensembles.OSPOODStd }),
		series("members, OOD", 1, true, func(c widthPoint) (float64, float64) { return c.Members.OSPOOD, c.Members.OSPOODStd }),
		series("ensembles, test", 2, false, func(c widthPoint) (float64, float64) { return c.Ensembles.OSPID, c.Ensembles.OSPIDStd }),
		series("members, test", 2, true, func(c widthPoint) (float64, float64) { return c.Members.OSPID, c.Members.OSPIDStd }),
	}
	ymax := 1.02
	return &report.Plot{Title: gt + ": OSP against width", XLabel: "width multiplier (conv channels × m)", YLabel: "OSP / |G|", LogX: true, YMax: &ymax, Series: cs,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
}

// accStd formats a row's accuracy with its std over models.
func accStd(r tableRow) string {
	if r.Models < 2 {
		return fmt.Sprintf("%.3f", r.Accuracy)
	}
	return fmt.Sprintf("%.3f ± %.3f", r.Accuracy, r.AccStd)
}

// channelList formats channel counts as 16/32/32.
func channelList(c []int) string {
	s := make([]string, len(c))
	for i, v := range c {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "/")
}

// groupName is the canonical name of the group named gn.
func groupName(gn string) string { g, _ := group.Parse(gn); return g.Name() }

// widthReport is the report of a run of the width sweep alone: the
// introduction and the setup; runWidth's section is appended.
func widthReport(p *params) *report.Report {
	intro := fmt.Sprintf("Augmented CNNs trained on %d Fashion-MNIST images (standardised and masked to the disc of radius 13.5 px, as in the comparison run) with random %s augmentation, at %d widths: the channel counts of every conv layer of %s times %v. Per width %d CNNs, %d steps, batch %d, %s lr %g, split into %d disjoint ensembles of %d whose logits are averaged. OSP counts how many of the |G| rotations of an image keep its prediction; out of distribution it is measured on %d MNIST digits and %d blurred noise images.",
		p.TrainSize, groupTitle(groupName(p.Width.Group)), len(p.Width.Multipliers), p.CNN.Arch, p.Width.Multipliers, p.Width.Members,
		p.CNN.Steps, p.CNN.BatchSize, p.CNN.Optimizer.Name, p.CNN.Optimizer.LR, p.Width.Members/p.EnsembleSize, p.EnsembleSize, p.OODSize, p.OODSize)
	return &report.Report{Title: "Emergent invariance on rotated Fashion-MNIST: OSP against width", Intro: intro}
}

// widthSummary is the plain-text table of the width sweep printed at the
// end of a run.
func widthSummary(p *params, pts []widthPoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nOSP against width, %s (members | ensembles of %d):\n", groupTitle(groupName(p.Width.Group)), p.EnsembleSize)
	fmt.Fprintf(&b, "%-6s %-12s %-24s %-24s %-16s\n", "×", "channels", "OSP OOD", "OSP test", "accuracy")
	for _, c := range pts {
		m, e := c.Members, c.Ensembles
		fmt.Fprintf(&b, "%-6g %-12s %-24s %-24s %-16s\n", c.Multiplier, channelList(c.Channels),
			fmt.Sprintf("%.2f | %.2f", m.OSPOOD, e.OSPOOD), fmt.Sprintf("%.2f | %.2f", m.OSPID, e.OSPID), fmt.Sprintf("%.3f | %.3f", m.Accuracy, e.Accuracy))
	}
	return b.String()
}
