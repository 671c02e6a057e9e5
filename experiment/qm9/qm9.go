package qm9

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "qm9",
		Summary: "QM9 internal energy U0: kernel regression with NTKs averaged over rotations (octahedral group, SO(3) samples) against the plain NTK, learning curves in meV",
		Run:     run,
	})
}

// params are the parameters of experiments/qm9.yaml.
type params struct {
	// File, if set, is a QM9 archive (tar, optionally bzip2/gzip) or a
	// directory of .xyz files read without checksum verification (tests,
	// custom copies). Empty: the published archive, looked up like
	// `eqens data list` does.
	File string `yaml:"file"`
	// Target is a QM9 property (U0); energies are reported in meV.
	Target string `yaml:"target"`
	// MaxAtoms is the padded atom count (29 covers QM9).
	MaxAtoms int `yaml:"max_atoms"`
	// CoordScale divides the coordinates (Å).
	CoordScale float64 `yaml:"coord_scale"`
	Seed       uint64  `yaml:"seed"`
	// TrainSizes is the learning curve (nested random subsets), TestSize
	// the number of test molecules (disjoint from the training ones).
	TrainSizes []int `yaml:"train_sizes"`
	TestSize   int   `yaml:"test_size"`
	// Arch is the network whose NTK is used (a vector input).
	Arch string `yaml:"arch"`
	// Reg is the ridge relative to the mean diagonal of the training
	// kernel.
	Reg float64 `yaml:"reg"`
	// Groups are the rotation sets the kernel is averaged over: oct (the
	// 24 rotations of the cube), ico (60), so3:N[:seed] (N Haar-random
	// rotations; the kernel of the network averaged over them, at N²
	// kernel evaluations, see avgKernel).
	Groups []string `yaml:"groups"`
	// Rotations random rotations of InvarianceTest test molecules measure
	// how much each predictor changes when the molecule is rotated.
	Rotations      int `yaml:"rotations"`
	InvarianceTest int `yaml:"invariance_test"`
}

// setup is what the parameters select: the target and its unit, the
// kernels and the network.
type setup struct {
	prop data.QM9Property
	unit string
	// kernels names the kernels: "plain", then one per rotation set;
	// reps are the rotation sets' actions on the coordinates (nil for
	// plain).
	kernels []string
	reps    []*group.Rep
	arch    *nn.Arch
}

// run runs the qm9 experiment. results.json holds
//
//	target, unit, representation   what is regressed and how molecules
//	                               are encoded (representation)
//	molecules, test_size           the data used
//	kernels                        "plain" and one per rotation set
//	baseline                       MAE of the per-element linear baseline
//	                               alone, by training size
//	curve                          MAE and RMSE (unit) by kernel and
//	                               training size: baseline + kernel
//	                               regression of the residuals
//	invariance                     per kernel, mean |f(Rx) − f(x)| over
//	                               random rotations and over the cube's
//	                               rotations (largest training size)
//	params
//
// Tables: curve, invariance.
func run(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	start := time.Now()
	var p params
	if err := experiment.DecodeParams("qm9", node, &p); err != nil {
		return nil, err
	}
	s, err := parseSetup(&p)
	if err != nil {
		return nil, err
	}
	q, err := load(env, &p)
	if err != nil {
		return nil, err
	}
	yAll, err := q.Target(s.prop, s.unit)
	if err != nil {
		return nil, err
	}
	nmax := slices.Max(p.TrainSizes)
	if nmax+p.TestSize > len(q.Molecules) {
		return nil, fmt.Errorf("experiments/qm9.yaml: %d training and %d test molecules asked for, the data has %d", nmax, p.TestSize, len(q.Molecules))
	}
	env.Logf("qm9: %d molecules read in %.1f s; %s in %s, %d test molecules, training sizes %v", len(q.Molecules), time.Since(start).Seconds(), s.prop, s.unit, p.TestSize, p.TrainSizes)
	d, err := splitData(&p, q.Molecules, yAll, nmax)
	if err != nil {
		return nil, err
	}
	sizes := slices.Clone(p.TrainSizes)
	slices.Sort(sizes)
	ni := min(p.InvarianceTest, d.m)
	rot, err := rotatedTests(&p, d, ni)
	if err != nil {
		return nil, err
	}
	base := baselineCurve(d, sizes)
	var curve []point
	inv := map[string]invariance{}
	for ki, kn := range s.kernels {
		kst := time.Now()
		pts, iv, err := evalKernel(ctx, &p, s.arch, s.reps[ki], kn, d, sizes, rot)
		if err != nil {
			return nil, err
		}
		curve = append(curve, pts...)
		if iv != nil {
			inv[kn] = *iv
		}
		env.Logf("qm9: kernel %s done in %.1f s", kn, time.Since(kst).Seconds())
	}
	res := map[string]any{
		"target":         s.prop.String(),
		"unit":           s.unit,
		"representation": representation,
		"molecules":      len(q.Molecules),
		"test_size":      d.m,
		"arch":           s.arch.Spec,
		"kernels":        s.kernels,
		"baseline":       base,
		"curve":          curve,
		"invariance":     inv,
		"params":         p,
	}
	r, sum := buildReport(&p, s, len(q.Molecules), d.m, ni, sizes, base, curve, inv)
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// parseSetup checks the parameters (defaulting coord_scale to 1) and
// returns what they select.
func parseSetup(p *params) (*setup, error) {
	prop, err := data.ParseQM9Property(p.Target)
	if err != nil {
		return nil, fmt.Errorf("experiments/qm9.yaml: target: %w", err)
	}
	s := &setup{prop: prop, unit: prop.Unit(), kernels: []string{"plain"}, reps: []*group.Rep{nil}}
	if prop.IsEnergy() {
		s.unit = "meV"
	}
	if p.MaxAtoms < 1 || p.TestSize < 1 || len(p.TrainSizes) == 0 {
		return nil, errors.New("experiments/qm9.yaml: max_atoms, test_size and train_sizes must be given")
	}
	if p.CoordScale <= 0 {
		p.CoordScale = 1
	}
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("experiments/qm9.yaml: groups: %w", err)
		}
		if g.Dim() != 3 {
			return nil, fmt.Errorf("experiments/qm9.yaml: groups: %s does not rotate 3D space (want oct, ico, so3:N)", g.Name())
		}
		rep, err := group.VectorRep(g, p.MaxAtoms)
		if err != nil {
			return nil, err
		}
		s.kernels = append(s.kernels, g.Name())
		s.reps = append(s.reps, rep)
	}
	if s.arch, err = nn.Parse(p.Arch, []int{8 * p.MaxAtoms}, nn.NTK); err != nil {
		return nil, fmt.Errorf("experiments/qm9.yaml: arch: %w", err)
	}
	return s, nil
}

// load reads QM9 from the configured file or the installed archive.
func load(env *experiment.Env, p *params) (*data.QM9Set, error) {
	if p.File != "" {
		q, err := data.ReadQM9(p.File)
		if err != nil {
			return nil, fmt.Errorf("experiments/qm9.yaml: file: %w", err)
		}
		return q, nil
	}
	q, err := data.LoadQM9(env.DataDir)
	if err != nil {
		return nil, fmt.Errorf("the qm9 experiment needs the QM9 archive dsgdb9nsd.xyz.tar.bz2, which is not usable here:\n  %v\nDownload it (86 MB) with `eqens data fetch qm9`, or put it into DIR/qm9/ and pass --data-dir DIR (or set $EQENS_DATA=DIR)", err)
	}
	return q, nil
}
