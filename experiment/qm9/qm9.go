package qm9

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "qm9",
		Summary: "QM9 internal energy U0: kernel regression with NTKs averaged over rotations (octahedral group, SO(3) samples), the per-atom MLP NTK and the SO(3)-invariant spherical CNN NTK on per-atom spherical signals, learning curves in meV",
		Run: func(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
			return run(ctx, env, node, "qm9")
		},
	})
	experiment.Register(&experiment.Experiment{
		Name:    "qm9-synthetic",
		Summary: "the qm9 comparison on synthetic molecules (random point clouds of H, C, N, O, F with a sum of Morse pair potentials as energy): learning curves and invariance under rotations, measured without the QM9 data",
		Run: func(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
			return run(ctx, env, node, "qm9-synthetic")
		},
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
	// BandLimit is the band limit L of the sphere grid on which the
	// atoms' spherical signals are sampled (sphericalText); needed with
	// atom_kernels.
	BandLimit int `yaml:"band_limit"`
	// SignalQuadrature, if larger than band_limit, band-limits the
	// signals to degrees below band_limit first, by the quadrature of the
	// sphere grid of this band limit (sphericalFeatures); 0 samples the
	// signals themselves, as the reference code does.
	SignalQuadrature int `yaml:"signal_quadrature"`
	// AtomKernels are networks applied to every atom's spherical signals
	// (input [10, L, 2L−1], one output) and summed over the atoms: the
	// per-atom MLP and the SO(3) CNN (sumKernel).
	AtomKernels []atomKernelParams `yaml:"atom_kernels"`
	// Synthetic, for qm9-synthetic only, describes the generated molecules
	// that replace QM9.
	Synthetic *syntheticParams `yaml:"synthetic"`
	// InvarianceGrids, if set, adds the table invariance_grids: the
	// invariance of the per-atom SO(3) kernels against the grid of their
	// activations (grids.go); with alone, it is all the run computes.
	// (Omitted from the JSON when unset, so that the cache keys of the
	// other configurations stay as they were.)
	InvarianceGrids *gridParams `yaml:"invariance_grids" json:",omitempty"`
}

// atomKernelParams names a per-atom network.
type atomKernelParams struct {
	Name string `yaml:"name"`
	Arch string `yaml:"arch"`
}

// setup is what the parameters select: the target and its unit, the
// kernels and the network.
type setup struct {
	prop data.QM9Property
	unit string
	// kernels names the kernels: "plain", then one per rotation set, then
	// the per-atom kernels; specs are the kernels themselves.
	kernels []string
	specs   []*kernelSpec
	arch    *nn.Arch
	// alone: only the table invariance_grids is computed (no arch).
	alone bool
}

// needAtoms reports whether a kernel needs the atoms' spherical signals.
func (s *setup) needAtoms() bool {
	for _, k := range s.specs {
		if k.atoms {
			return true
		}
	}
	return false
}

// run runs the qm9 experiment (name qm9 or qm9-synthetic). results.json
// holds
//
//	target, unit, representation   what is regressed and how molecules
//	spherical_signals              are encoded (representation,
//	                               sphericalText)
//	data                           where the molecules come from (QM9,
//	                               or the synthetic molecules' sizes)
//	molecules, test_size           the data used
//	kernels                        "plain", one per rotation set and one
//	                               per atom kernel
//	baseline                       MAE of the per-element linear baseline
//	                               alone, by training size
//	curve                          MAE and RMSE (unit) by kernel and
//	                               training size: baseline + kernel
//	                               regression of the residuals
//	invariance                     per kernel, mean |f(Rx) − f(x)| over
//	                               random rotations and over the cube's
//	                               rotations (largest training size), and
//	                               the relative change of the kernel rows
//	seconds                        per kernel, the time to compute it
//	invariance_grids               with invariance_grids: per atom kernel
//	                               with spherical convolutions,
//	                               activation and grid, the relative
//	                               change of the kernel rows under random
//	                               rotations, their distance from the
//	                               finest grid's and the time per entry
//	                               (gridRow)
//	params
//
// Tables: curve, invariance, invariance-grids. Figures: learning-curve,
// signals (with atom kernels). With invariance_grids.alone the run
// computes the table invariance_grids only, and results.json holds
// target, unit, data, molecules, test_size, kernels (the atom kernels),
// invariance_grids, seconds (the table's), spherical_signals and params
// (runGrids).
func run(ctx context.Context, env *experiment.Env, node *yaml.Node, name string) (*experiment.Result, error) {
	start := time.Now()
	var p params
	if err := experiment.DecodeParams(name, node, &p); err != nil {
		return nil, err
	}
	s, err := parseSetup(&p, name)
	if err != nil {
		return nil, err
	}
	mols, source, err := molecules(env, &p, name)
	if err != nil {
		return nil, err
	}
	yAll, err := (&data.QM9Set{Molecules: mols}).Target(s.prop, s.unit)
	if err != nil {
		return nil, err
	}
	if s.alone {
		return runGrids(ctx, env, &p, s, name, mols, yAll, source)
	}
	nmax := slices.Max(p.TrainSizes)
	if nmax+p.TestSize > len(mols) {
		return nil, fmt.Errorf("experiments/%s.yaml: %d training and %d test molecules asked for, the data has %d", name, nmax, p.TestSize, len(mols))
	}
	env.Logf("%s: %d molecules (%s) in %.1f s; %s in %s, %d test molecules, training sizes %v", name, len(mols), source, time.Since(start).Seconds(), s.prop, s.unit, p.TestSize, p.TrainSizes)
	d, err := splitData(&p, s, mols, yAll, nmax)
	if err != nil {
		return nil, err
	}
	sizes := slices.Clone(p.TrainSizes)
	slices.Sort(sizes)
	ni := min(p.InvarianceTest, d.m)
	rot, err := rotatedTests(&p, s, d, ni)
	if err != nil {
		return nil, err
	}
	mat := cachedMatrix(env.Out, name, &p)
	base := baselineCurve(d, sizes)
	var curve []point
	inv := map[string]invariance{}
	secs := map[string]float64{}
	for _, k := range s.specs {
		kst := time.Now()
		pts, iv, err := evalKernel(ctx, &p, k, mat, d, sizes, rot)
		if err != nil {
			return nil, err
		}
		curve = append(curve, pts...)
		if iv != nil {
			inv[k.name] = *iv
		}
		secs[k.name] = experiment.Round3(time.Since(kst).Seconds())
		env.Logf("%s: kernel %s done in %.1f s", name, k.name, time.Since(kst).Seconds())
	}
	var grids []gridRow
	if p.InvarianceGrids != nil && rot != nil {
		gst := time.Now()
		if grids, err = invarianceGrids(ctx, env, &p, s, d, rot); err != nil {
			return nil, err
		}
		secs["invariance_grids"] = experiment.Round3(time.Since(gst).Seconds())
	}
	res := map[string]any{
		"target":         s.prop.String(),
		"unit":           s.unit,
		"representation": representation,
		"data":           source,
		"molecules":      len(mols),
		"test_size":      d.m,
		"arch":           s.arch.Spec,
		"kernels":        s.kernels,
		"baseline":       base,
		"curve":          curve,
		"invariance":     inv,
		"seconds":        secs,
		"params":         p,
	}
	if s.needAtoms() {
		res["spherical_signals"] = sphericalDescription(p.BandLimit, p.SignalQuadrature)
	}
	r, sum := buildReport(&p, s, source, len(mols), d, ni, sizes, base, curve, inv)
	if grids != nil {
		res["invariance_grids"] = grids
		var gs strings.Builder
		sec := gridsSection(&gs, &p, ni, min(p.InvarianceGrids.Train, d.nmax), grids)
		r.Sections = slices.Insert(r.Sections, 2, sec)
		sum += gs.String()
	}
	return &experiment.Result{JSON: res, Report: r, Summary: sum}, nil
}

// runGrids is the run with invariance_grids.alone: the table
// invariance_grids on the first invariance_grids.train training molecules
// (drawn as the full run draws its training set) and the first
// invariance_test test molecules, without learning curves.
func runGrids(ctx context.Context, env *experiment.Env, p *params, s *setup, name string, mols []data.Molecule, yAll []float64, source string) (*experiment.Result, error) {
	start := time.Now()
	nmax := p.InvarianceGrids.Train
	if nmax+p.TestSize > len(mols) {
		return nil, fmt.Errorf("experiments/%s.yaml: %d training and %d test molecules asked for, the data has %d", name, nmax, p.TestSize, len(mols))
	}
	d, err := splitData(p, s, mols, yAll, nmax)
	if err != nil {
		return nil, err
	}
	ni := min(p.InvarianceTest, d.m)
	rot, err := rotatedTests(p, s, d, ni)
	if err != nil {
		return nil, err
	}
	env.Logf("%s: invariance_grids alone: %d test molecules × %d random rotations against %d training molecules", name, ni, p.Rotations, nmax)
	grids, err := invarianceGrids(ctx, env, p, s, d, rot)
	if err != nil {
		return nil, err
	}
	res := map[string]any{
		"target":            s.prop.String(),
		"unit":              s.unit,
		"data":              source,
		"molecules":         len(mols),
		"test_size":         d.m,
		"kernels":           s.kernels,
		"invariance_grids":  grids,
		"seconds":           map[string]float64{"invariance_grids": experiment.Round3(time.Since(start).Seconds())},
		"spherical_signals": sphericalDescription(p.BandLimit, p.SignalQuadrature),
		"params":            p,
	}
	var sum strings.Builder
	sec := gridsSection(&sum, p, ni, nmax, grids)
	sections := []report.Section{sec}
	if p.Synthetic != nil {
		sections = append(sections, report.Section{Heading: "Molecules", Text: syntheticText})
	}
	sections = append(sections, report.Section{Heading: "Spherical signals", Text: sphericalDescription(p.BandLimit, p.SignalQuadrature)})
	r := &report.Report{Title: "Invariance of the SO(3) NTK against the activation grid", Intro: fmt.Sprintf("How invariant the per-atom SO(3) network's NTK is under rotations of the molecules (%s), as a function of the SO(3) grid on which its pointwise activations act: the table invariance_grids of the qm9 experiments, run alone.", source), Sections: sections}
	return &experiment.Result{JSON: res, Report: r, Summary: sum.String()}, nil
}

// parseSetup checks the parameters of experiment name (defaulting
// coord_scale to 1) and returns what they select.
func parseSetup(p *params, name string) (*setup, error) {
	cfg := "experiments/" + name + ".yaml"
	prop, err := data.ParseQM9Property(p.Target)
	if err != nil {
		return nil, fmt.Errorf("%s: target: %w", cfg, err)
	}
	s := &setup{prop: prop, unit: prop.Unit()}
	if prop.IsEnergy() {
		s.unit = "meV"
	}
	if err := checkGrids(p, cfg); err != nil {
		return nil, err
	}
	s.alone = p.InvarianceGrids != nil && p.InvarianceGrids.Alone
	if s.alone && (p.Arch != "" || len(p.Groups) > 0 || len(p.TrainSizes) > 0) {
		return nil, fmt.Errorf("%s: arch, groups and train_sizes are not used with invariance_grids: {alone: true} (only the table invariance_grids is computed)", cfg)
	}
	if p.MaxAtoms < 1 || p.TestSize < 1 || (!s.alone && len(p.TrainSizes) == 0) {
		return nil, fmt.Errorf("%s: max_atoms, test_size and train_sizes must be given", cfg)
	}
	if p.CoordScale <= 0 {
		p.CoordScale = 1
	}
	switch {
	case name == "qm9-synthetic" && p.Synthetic == nil:
		return nil, fmt.Errorf("%s: synthetic: missing (the molecules to generate)", cfg)
	case name != "qm9-synthetic" && p.Synthetic != nil:
		return nil, fmt.Errorf("%s: synthetic: only for qm9-synthetic (%s reads QM9)", cfg, name)
	}
	if s.alone {
		return s, parseAtomKernels(p, s, cfg)
	}
	if s.arch, err = nn.Parse(p.Arch, []int{8 * p.MaxAtoms}, nn.NTK); err != nil {
		return nil, fmt.Errorf("%s: arch: %w", cfg, err)
	}
	s.add(&kernelSpec{name: "plain", arch: s.arch})
	for _, gs := range p.Groups {
		g, err := group.Parse(gs)
		if err != nil {
			return nil, fmt.Errorf("%s: groups: %w", cfg, err)
		}
		if g.Dim() != 3 {
			return nil, fmt.Errorf("%s: groups: %s does not rotate 3D space (want oct, ico, so3:N)", cfg, g.Name())
		}
		rep, err := group.VectorRep(g, p.MaxAtoms)
		if err != nil {
			return nil, err
		}
		s.add(&kernelSpec{name: g.Name(), arch: s.arch, rep: rep})
	}
	return s, parseAtomKernels(p, s, cfg)
}

// add appends a kernel to the setup.
func (s *setup) add(k *kernelSpec) {
	s.kernels = append(s.kernels, k.name)
	s.specs = append(s.specs, k)
}

// parseAtomKernels checks band_limit and atom_kernels and adds the
// per-atom kernels to s.
func parseAtomKernels(p *params, s *setup, cfg string) error {
	if len(p.AtomKernels) == 0 {
		return nil
	}
	if p.BandLimit < 1 || p.BandLimit > nn.MaxSphereInput {
		return fmt.Errorf("%s: band_limit: %d, want 1 to %d with atom_kernels", cfg, p.BandLimit, nn.MaxSphereInput)
	}
	if p.SignalQuadrature < 0 || p.SignalQuadrature > nn.MaxSphereInput {
		return fmt.Errorf("%s: signal_quadrature: %d, want 0 (sample the signals) or a band limit up to %d", cfg, p.SignalQuadrature, nn.MaxSphereInput)
	}
	in := []int{sphericalChannels, p.BandLimit, 2*p.BandLimit - 1}
	for i, ak := range p.AtomKernels {
		if ak.Name == "" || slices.Contains(s.kernels, ak.Name) || strings.ContainsAny(ak.Name, "/\\ ") {
			return fmt.Errorf("%s: atom_kernels[%d]: name %q is empty, taken or not a plain word", cfg, i, ak.Name)
		}
		arch, err := nn.Parse(ak.Arch, in, nn.NTK)
		if err != nil {
			return fmt.Errorf("%s: atom_kernels[%d] (%s): arch: %w", cfg, i, ak.Name, err)
		}
		if arch.OutputDim() != 1 {
			return fmt.Errorf("%s: atom_kernels[%d] (%s): arch has %d outputs, want 1 (end it with dense(1), the readout after the sum over atoms)", cfg, i, ak.Name, arch.OutputDim())
		}
		s.add(&kernelSpec{name: ak.Name, arch: arch, atoms: true})
	}
	return nil
}

// molecules returns the molecules of the experiment and says where they
// come from: generated (qm9-synthetic), read from the configured file, or
// the installed archive.
func molecules(env *experiment.Env, p *params, name string) ([]data.Molecule, string, error) {
	if p.Synthetic != nil {
		mols, err := syntheticMolecules(p.Synthetic)
		if err != nil {
			return nil, "", fmt.Errorf("experiments/%s.yaml: synthetic: %w", name, err)
		}
		return mols, p.Synthetic.describe(), nil
	}
	if p.File != "" {
		q, err := data.ReadQM9(p.File)
		if err != nil {
			return nil, "", fmt.Errorf("experiments/%s.yaml: file: %w", name, err)
		}
		return q.Molecules, "QM9 read from " + p.File, nil
	}
	q, err := data.LoadQM9(env.DataDir)
	if err != nil {
		return nil, "", fmt.Errorf("the qm9 experiment needs the QM9 archive dsgdb9nsd.xyz.tar.bz2, which is not usable here:\n  %v\nDownload it (86 MB) with `eqens data fetch qm9`, or put it into DIR/qm9/ and pass --data-dir DIR (or set $EQENS_DATA=DIR)", err)
	}
	return q.Molecules, "QM9 (dsgdb9nsd.xyz.tar.bz2, checksum verified)", nil
}
