package fashion

// OSP against training steps: the augmented CNN members' outputs on the
// orbits of subsets of the test and out-of-distribution sets, recorded at
// snapshots from the initialisation to the end of training (as the ising
// experiment records relative spreads against training time) and cached
// next to the run.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
)

// stepsCurveParams configures the OSP-vs-steps curve (yaml steps_curve).
type stepsCurveParams struct {
	// Points is the number of snapshots: step 0 (the initialisation), then
	// steps/2^(points-2), ..., steps/2, steps (0: no curve).
	Points int `yaml:"points" json:"points"`
	// Size is the number of images of each set (test, and each OOD set)
	// evaluated on their orbits at every snapshot.
	Size int `yaml:"size" json:"size"`
}

// snapshotSteps returns the snapshot steps of a run of steps steps: 0,
// then steps/2^(points-2), ..., steps, rounded and without repeats.
func snapshotSteps(steps, points int) []int {
	out := []int{0}
	for i := points - 2; i >= 0; i-- {
		s := max(1, int(math.Round(float64(steps)/math.Exp2(float64(i)))))
		if s > out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

// stepPoint is the OSP of the augmented CNNs after Step training steps:
// Members over the single networks, Ensembles over the disjoint
// ensembles of ensemble_size members.
type stepPoint struct {
	Step      int      `json:"step"`
	Fraction  float64  `json:"fraction"`
	Members   tableRow `json:"members"`
	Ensembles tableRow `json:"ensembles"`
}

// stepRecorder collects the members' outputs at the snapshot steps on the
// orbits of the curve's sets: member m, step index s, set j at
// rec[m][s*tot+off[j] : s*tot+off[j]+G*n[j]*K] in the layout of
// metrics.Orbit (element-major).
type stepRecorder struct {
	steps  []int
	sets   *experiment.EvalSets
	xorb   [][]float32 // per set: the G transforms of its images, element-major
	G, K   int
	off, n []int
	tot    int
	rec    [][]float32
	count  []int
	cached []bool
	file   func(m int) string
}

// curveSets returns the first size images of every evaluation set.
func curveSets(sets *experiment.EvalSets, size int) *experiment.EvalSets {
	first := func(d *data.Dataset) *data.Dataset {
		s := d.Subset(experiment.Indices(min(size, d.Len())))
		s.Name = d.Name
		return s
	}
	out := &experiment.EvalSets{ID: first(sets.ID), OODName: sets.OODName}
	for _, d := range sets.OOD {
		out.OOD = append(out.OOD, first(d))
	}
	return out
}

// newStepRecorder prepares the orbit inputs of the curve's sets for the
// group representation rep and the members' caches.
func newStepRecorder(sets *experiment.EvalSets, rep *group.Rep, steps []int, members, k int, file func(m int) string) *stepRecorder {
	r := &stepRecorder{steps: steps, sets: sets, G: rep.Group().Order(), K: k, file: file}
	for _, d := range append([]*data.Dataset{sets.ID}, sets.OOD...) {
		sz := d.SampleSize()
		x := make([]float32, r.G*len(d.X))
		for g := 0; g < r.G; g++ {
			group.ApplyBatch(rep, g, x[g*len(d.X):(g+1)*len(d.X)], d.X)
		}
		r.xorb = append(r.xorb, x)
		r.off = append(r.off, r.tot)
		r.n = append(r.n, len(d.X)/sz)
		r.tot += r.G * (len(d.X) / sz) * k
	}
	r.rec = make([][]float32, members)
	r.count = make([]int, members)
	r.cached = make([]bool, members)
	return r
}

// load fills the records of the members whose snapshots are cached and
// removes the trained networks of the others in the run directory dir, so
// that they train again with the snapshot hook (which does not revisit
// the steps before a restart point).
func (r *stepRecorder) load(dir string) error {
	size := len(r.steps) * r.tot
	for m := range r.rec {
		if v, err := experiment.LoadFloats[float32](r.file(m), size); err == nil {
			r.rec[m], r.cached[m] = v, true
			continue
		}
		if err := os.Remove(train.MemberPath(dir, m)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		r.rec[m] = make([]float32, size)
	}
	return nil
}

// snapshot is the train.Options.Snapshot hook: it records member m's
// outputs at a snapshot step and caches them after the last one.
func (r *stepRecorder) snapshot(m, step int, net *nn.Network[float32]) error {
	si := -1
	for i, s := range r.steps {
		if s == step {
			si = i
		}
	}
	if si < 0 || r.cached[m] {
		return nil
	}
	const batch = 256
	d := r.sets.ID.SampleSize()
	for j, x := range r.xorb {
		dst := r.rec[m][si*r.tot+r.off[j]:]
		tot := len(x) / d
		for s := 0; s < tot; s += batch {
			b := min(batch, tot-s)
			copy(dst[s*r.K:(s+b)*r.K], net.Forward(x[s*d:(s+b)*d], b)[:b*r.K])
		}
	}
	r.count[m]++
	if si == len(r.steps)-1 {
		if r.count[m] != len(r.steps) {
			return fmt.Errorf("member %d recorded %d of %d snapshots", m, r.count[m], len(r.steps))
		}
		return experiment.SaveFloats(r.file(m), r.rec[m])
	}
	return nil
}

// orbits returns member m's orbits at step index s.
func (r *stepRecorder) orbits(m, s int) *experiment.Orbits {
	o := &experiment.Orbits{}
	for j := range r.xorb {
		src := r.rec[m][s*r.tot+r.off[j] : s*r.tot+r.off[j]+r.G*r.n[j]*r.K]
		orb := metrics.NewOrbit(r.G, r.n[j], r.K)
		for i, v := range src {
			orb.Out[i] = float64(v)
		}
		if j == 0 {
			o.ID = orb
		} else {
			o.OOD = append(o.OOD, orb)
		}
	}
	return o
}

// stepsKey names the snapshot caches: it changes with everything that
// changes the recorded outputs besides the training config.
func stepsKey(p *params, steps []int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%v|%d|%d|%d|%g|%d", steps, p.StepsCurve.Size, p.TestSize, p.OODSize, p.BlurSigma, p.Seed)
	return fmt.Sprintf("%016x", h.Sum64())[:10]
}

// trainDA trains (or reuses) the augmented CNNs of group gn with the
// config cfg, recording their outputs for the steps curve when
// steps_curve.points > 0 (nil recorder otherwise).
func trainDA(ctx context.Context, env *experiment.Env, p *params, fd *preparedData, gn string, cfg *train.Config) (*train.Ensemble, *stepRecorder, error) {
	name := "cnn_da_" + gn
	if p.StepsCurve.Points == 0 {
		ens, err := experiment.TrainEnsemble(ctx, env, name, cfg, fd.train, train.Options{})
		return ens, nil, err
	}
	g, _ := group.Parse(gn)
	rep, err := group.ImageRep(g, 1, 28, 28)
	if err != nil {
		return nil, nil, err
	}
	steps := snapshotSteps(cfg.Steps, p.StepsCurve.Points)
	dir := filepath.Join(env.Out, "runs", name+"-"+cfg.Hash()[:10])
	cache := filepath.Join(dir, "fashion-steps-"+stepsKey(p, steps))
	file := func(m int) string { return filepath.Join(cache, fmt.Sprintf("member-%04d.f32", m)) }
	r := newStepRecorder(curveSets(fd.sets, p.StepsCurve.Size), rep, steps, cfg.Members, 10, file)
	if err := r.load(dir); err != nil {
		return nil, nil, err
	}
	ens, err := experiment.TrainEnsemble(ctx, env, name, cfg, fd.train, train.Options{Snapshots: steps, Snapshot: r.snapshot})
	if err != nil {
		return nil, nil, err
	}
	for m := range r.rec {
		if !r.cached[m] && r.count[m] != len(steps) {
			return nil, nil, fmt.Errorf("%s: member %d has %d of %d snapshots; remove %s and run again", name, m, r.count[m], len(steps), dir)
		}
	}
	return ens, r, nil
}

// stepsCurve evaluates the recorded snapshots: OSP and accuracy of the
// members and of the disjoint ensembles of p.EnsembleSize at every step.
func stepsCurve(p *params, r *stepRecorder, total int) []stepPoint {
	seed := p.Seed + 2000
	var out []stepPoint
	for s, step := range r.steps {
		members := make([]*experiment.Orbits, len(r.rec))
		for m := range members {
			members[m] = r.orbits(m, s)
		}
		S := p.EnsembleSize
		out = append(out, stepPoint{Step: step, Fraction: float64(step) / float64(total),
			Members:   tableRowOf(members, 1, r.sets, seed),
			Ensembles: tableRowOf(disjointEnsembles(members, S), S, r.sets, seed)})
	}
	return out
}

// logSteps logs the curve's first and last points.
func logSteps(env *experiment.Env, gn string, pts []stepPoint) {
	if len(pts) == 0 {
		return
	}
	a, b := pts[0], pts[len(pts)-1]
	env.Logf("%s: OSP OOD vs steps: members %.2f -> %.2f, ensembles %.2f -> %.2f (steps %d -> %d)",
		gn, a.Members.OSPOOD, b.Members.OSPOOD, a.Ensembles.OSPOOD, b.Ensembles.OSPOOD, a.Step, b.Step)
}

// stepsSection is the report section of the steps curve: a table and the
// figure osp_vs_steps.
func stepsSection(p *params, groups []string, curves map[string][]stepPoint) report.Section {
	t := report.Table{Name: "osp_vs_steps",
		Caption: fmt.Sprintf("OSP against training steps of the augmented CNNs (%d steps; step 0 is the initialisation), on the orbits of the first %d images of every set: out of distribution (MNIST digits and blurred noise pooled) and on test images; members: mean ± std over the %d CNNs; ensembles: over the %d disjoint ensembles of %d; chance: the chance level of the ensembles' pooled OOD predictions.",
			p.CNN.Steps, p.StepsCurve.Size, p.CNN.Members, p.CNN.Members/p.EnsembleSize, p.EnsembleSize),
		Columns: []string{"group", "step", "fraction", "members OSP OOD", "ensembles OSP OOD", "chance", "members OSP test", "ensembles OSP test", "members accuracy", "ensembles accuracy"}}
	for _, g := range groups {
		for _, c := range curves[g] {
			m, e := c.Members, c.Ensembles
			t.Rows = append(t.Rows, []string{groupTitle(g), fmt.Sprint(c.Step), experiment.G3(c.Fraction),
				pmStd(m.OSPOOD, m.OSPOODStd, m.Models), pmStd(e.OSPOOD, e.OSPOODStd, e.Models), experiment.F2(e.Chance["pooled"]),
				pmStd(m.OSPID, m.OSPIDStd, m.Models), pmStd(e.OSPID, e.OSPIDStd, e.Models),
				fmt.Sprintf("%.3f", m.Accuracy), fmt.Sprintf("%.3f", e.Accuracy)})
		}
	}
	return report.Section{Heading: "OSP against training steps",
		Text:    "How the invariance of the augmented CNNs and of their ensembles out of distribution develops from the initialisation to the end of training. Untrained networks predict few classes, so their OSP is close to its chance level (column chance).",
		Tables:  []report.Table{t},
		Figures: []report.Figure{{Name: "osp_vs_steps", Caption: "Mean OSP/|G| out of distribution against training steps (+1, log axis; the first point is the initialisation): ensembles (solid) and members (dashed).", Plot: stepsPlot(groups, curves)}}}
}

// stepsPlot is OSP/|G| out of distribution against step+1 per group, for
// the ensembles and the members.
func stepsPlot(groups []string, curves map[string][]stepPoint) *report.Plot {
	var cs []report.Series
	for k, g := range groups {
		var xs, ye, ym []float64
		n := float64(groupOrder(g))
		for _, c := range curves[g] {
			xs = append(xs, float64(c.Step+1))
			ye = append(ye, c.Ensembles.OSPOOD/n)
			ym = append(ym, c.Members.OSPOOD/n)
		}
		cs = append(cs,
			report.Series{Name: groupTitle(g) + " ensembles", X: xs, Y: ye, Points: true, Color: k + 1},
			report.Series{Name: groupTitle(g) + " members", X: xs, Y: ym, Points: true, Dashed: true, Color: k + 1})
	}
	ymax := 1.02
	return &report.Plot{Title: "OSP out of distribution against training steps", XLabel: "training step + 1", YLabel: "OSP / |G|", LogX: true, YMax: &ymax, Series: cs,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
}
