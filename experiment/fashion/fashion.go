package fashion

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/report"
	"github.com/eqens/eqens/train"
	"go.yaml.in/yaml/v3"
)

func init() {
	experiment.Register(&experiment.Experiment{
		Name:    "fashion",
		Summary: "Fashion-MNIST, C4/C8/C16: deep ensembles with augmentation vs single augmented CNNs, GCNNs and canonicalisation (the talk's comparison table), and invariance under SO(2)",
		Run:     runFashion,
	})
}

// fashionModel is a model family of the fashion experiment. Its arch may
// contain {G} (the group name, e.g. c8) and, for canonicalisation, {CNN}
// (the architecture of the augmented CNN members); arch_by_group replaces
// arch for the named groups.
type fashionModel struct {
	experiment.ModelParams `yaml:",inline"`
	ArchByGroup            map[string]string `yaml:"arch_by_group"`
}

// archFor expands the architecture template for a group.
func (m fashionModel) archFor(g, cnn string) string {
	a := m.Arch
	if s, ok := m.ArchByGroup[g]; ok {
		a = s
	}
	return strings.NewReplacer("{G}", g, "{CNN}", cnn).Replace(a)
}

type fashionParams struct {
	// Groups are the rotation groups C_n trained and evaluated (c4, c8, c16).
	Groups []string `yaml:"groups"`
	// TrainSize Fashion-MNIST training images (a random subset), TestSize
	// test images, OODSize images per out-of-distribution set.
	TrainSize int `yaml:"train_size"`
	TestSize  int `yaml:"test_size"`
	OODSize   int `yaml:"ood_size"`
	// BlurSigma is the width (pixels) of the blurred-noise OOD images.
	BlurSigma float64 `yaml:"blur_sigma"`
	Seed      uint64  `yaml:"seed"`
	// EnsembleSize is the size of the DeepEns+DA ensembles: the CNN members
	// are split into members/ensemble_size disjoint ensembles, whose spread
	// gives the ± of that row.
	EnsembleSize int `yaml:"ensemble_size"`
	// Sizes are the ensemble sizes of the OSP-vs-size curve.
	Sizes []int `yaml:"sizes"`
	// CNN: the members, trained with random C_n augmentation.
	CNN fashionModel `yaml:"cnn"`
	// NoAugMembers CNNs are trained without augmentation as a baseline
	// (0: none).
	NoAugMembers int `yaml:"noaug_members"`
	// GCNN: the regular-field group CNN (E2CNN row), no augmentation.
	GCNN fashionModel `yaml:"gcnn"`
	// Canon: canonicalisation + the members' CNN, no augmentation.
	Canon fashionModel `yaml:"canon"`
	// SO2 evaluates the augmented CNNs on Angles equally spaced rotations
	// of Size test images.
	SO2 struct {
		Angles int `yaml:"angles"`
		Size   int `yaml:"size"`
	} `yaml:"so2"`
}

// The talk's table (Gerken & Kessel): orbit same predictions out of
// distribution of models trained on rotated Fashion-MNIST, mean ± std.
var fashionPaper = map[string]map[string][2]float64{
	"c4":  {"deepens_da": {3.85, 0.12}, "only_da": {3.41, 0.18}, "e2cnn": {4, 0}, "canon": {4, 0}},
	"c8":  {"deepens_da": {7.72, 0.34}, "only_da": {6.73, 0.24}, "e2cnn": {7.71, 0.21}, "canon": {7.45, 0.14}},
	"c16": {"deepens_da": {15.24, 0.69}, "only_da": {12.77, 0.71}, "e2cnn": {15.08, 0.34}, "canon": {12.41, 0.85}},
}

var fashionMethods = []string{"deepens_da", "only_da", "e2cnn", "canon"}

var fashionMethodLabel = map[string]string{
	"deepens_da": "DeepEns+DA",
	"only_da":    "only DA",
	"e2cnn":      "E2CNN",
	"canon":      "Canon",
	"noaug":      "CNN, no DA",
}

// fashionRow is one method on one group: statistics over its models (the
// disjoint ensembles for DeepEns+DA, the single networks otherwise).
type fashionRow struct {
	// Models is the number of models the mean and std are over, Size the
	// number of networks per model.
	Models int `json:"models"`
	Size   int `json:"size"`
	// OSPOOD is the mean over models of the OSP on the pooled
	// out-of-distribution sets, OSPOODStd its standard deviation over
	// models (0 for a single model); OSPOODSet the mean per set.
	OSPOOD    float64            `json:"osp_ood"`
	OSPOODStd float64            `json:"osp_ood_std"`
	OSPOODSet map[string]float64 `json:"osp_ood_by_set"`
	OSPID     float64            `json:"osp_id"`
	OSPIDStd  float64            `json:"osp_id_std"`
	Accuracy  float64            `json:"accuracy"`
	AccStd    float64            `json:"accuracy_std"`
	// Majority and Chance are the mean majority share and chance-level OSP
	// per set ("test", each OOD set, "pooled").
	Majority map[string]float64 `json:"majority"`
	Chance   map[string]float64 `json:"chance"`
	// SymKLOOD is the mean symmetric KL divergence on the pooled OOD sets.
	SymKLOOD float64 `json:"sym_kl_ood"`
}

// fashionRowOf summarises models (each an Orbits of one network or one
// ensemble).
func fashionRowOf(models []*experiment.Orbits, size int, sets *experiment.EvalSets, seed uint64) fashionRow {
	r := fashionRow{Models: len(models), Size: size, OSPOODSet: map[string]float64{}, Majority: map[string]float64{}, Chance: map[string]float64{}}
	var ood, id, acc []float64
	w := 1 / float64(len(models))
	for _, m := range models {
		st := experiment.Stats([]*experiment.Orbits{m}, sets, seed)
		ood = append(ood, st.OSPOOD)
		id = append(id, st.OSPID)
		acc = append(acc, st.Accuracy)
		r.Majority["test"] += st.ID.MajorityShare * w
		r.Chance["test"] += st.ID.ChanceOSP * w
		for name, s := range st.OOD {
			if name != "pooled" {
				r.OSPOODSet[name] += s.OSP.Mean * w
			}
			r.Majority[name] += s.MajorityShare * w
			r.Chance[name] += s.ChanceOSP * w
		}
		r.SymKLOOD += st.OOD["pooled"].SymKL.Mean * w
	}
	r.OSPOOD, r.OSPOODStd = experiment.MeanSD(ood)
	r.OSPID, r.OSPIDStd = experiment.MeanSD(id)
	r.Accuracy, r.AccStd = experiment.MeanSD(acc)
	return r
}

// fashionCurvePoint is the OSP of augmented ensembles of one size.
type fashionCurvePoint struct {
	Size     int     `json:"size"`
	OSPOOD   float64 `json:"osp_ood"`
	OSPID    float64 `json:"osp_id"`
	Accuracy float64 `json:"accuracy"`
	Subsets  int     `json:"subsets"`
}

// fashionSO2 is the evaluation of one group's augmented CNNs on equally
// spaced rotations.
type fashionSO2 struct {
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

// fashionData holds the preprocessed sets.
type fashionData struct {
	train *data.Dataset
	sets  *experiment.EvalSets
	so2   *data.Dataset
}

// loadFashionData reads the Fashion-MNIST subsets and the OOD sets and
// preprocesses them all alike: global standardisation with the statistics
// of the training subset, then the circular mask of radius 13.5 px that
// interpolated rotations need (applied for every group, C4 included, so
// that all models see the same images and the SO(2) evaluation is defined).
func loadFashionData(env *experiment.Env, p *fashionParams) (*fashionData, error) {
	tr, err := data.FashionMNIST("train", env.DataDir)
	if err != nil {
		return nil, err
	}
	te, err := data.FashionMNIST("test", env.DataDir)
	if err != nil {
		return nil, err
	}
	if p.TrainSize > tr.Len() || p.TestSize > te.Len() || p.SO2.Size > te.Len() {
		return nil, fmt.Errorf("experiments/fashion.yaml: sizes above the Fashion-MNIST splits (%d train, %d test)", tr.Len(), te.Len())
	}
	train := tr.Subset(tr.Shuffled(p.Seed)[:p.TrainSize])
	train.Name = "fashion-mnist/train"
	testIdx := te.Shuffled(p.Seed + 100)
	id := te.Subset(testIdx[:p.TestSize])
	id.Name = "fashion-mnist/test"
	so2 := te.Subset(testIdx[:p.SO2.Size])
	mn, err := data.MNIST("test")
	if err != nil {
		return nil, err
	}
	if p.OODSize > mn.Len() {
		return nil, fmt.Errorf("experiments/fashion.yaml: ood_size %d is above the %d MNIST test digits", p.OODSize, mn.Len())
	}
	digits := mn.Subset(mn.Shuffled(p.Seed + 101)[:p.OODSize])
	digits.Labels = nil
	digits.Name = "mnist"
	blur, err := data.BlurredNoise(p.OODSize, []int{1, 28, 28}, p.BlurSigma, p.Seed+102)
	if err != nil {
		return nil, err
	}
	blur.Classes = 10
	st := data.FitStandardizer(train, false)
	disc, err := discRep()
	if err != nil {
		return nil, err
	}
	for _, d := range []*data.Dataset{train, id, so2, digits, blur} {
		st.Apply(d)
		group.MaskInPlace(disc, d.X)
	}
	return &fashionData{
		train: train,
		sets:  &experiment.EvalSets{ID: id, OOD: []*data.Dataset{digits, blur}, OODName: []string{"mnist", "blurred-noise"}},
		so2:   so2,
	}, nil
}

// discRep is an interpolated image representation whose mask is the disc
// of radius 13.5 px on 28×28 images.
func discRep() (*group.Rep, error) {
	g, err := group.Parse("c8")
	if err != nil {
		return nil, err
	}
	return group.ImageRep(g, 1, 28, 28)
}

// fashionConfig is the training config of a model family on the
// preprocessed training subset (already standardised and masked).
func fashionConfig(m experiment.ModelParams, arch string, p *fashionParams, aug train.AugConfig) *train.Config {
	m.Arch = arch
	c := m.Config("fashion-mnist/disc", "", p.TrainSize, p.Seed, aug)
	c.Data.Standardize = "none"
	return c
}

func checkFashionParams(p *fashionParams) error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("experiments/fashion.yaml: "+f, a...)
	}
	switch {
	case len(p.Groups) == 0:
		return bad("groups: list at least one group (c4, c8, c16)")
	case p.TrainSize < 1 || p.TestSize < 1 || p.OODSize < 1:
		return bad("train_size, test_size and ood_size must be positive")
	case p.BlurSigma <= 0:
		return bad("blur_sigma must be positive")
	case p.EnsembleSize < 1 || p.CNN.Members < p.EnsembleSize:
		return bad("ensemble_size must be between 1 and cnn.members (%d), got %d", p.CNN.Members, p.EnsembleSize)
	case p.GCNN.Members < 1 || p.Canon.Members < 1:
		return bad("gcnn.members and canon.members must be positive")
	case p.SO2.Angles < 0 || p.SO2.Size < 0 || (p.SO2.Angles > 0) != (p.SO2.Size > 0):
		return bad("so2: angles and size must both be positive (or both 0 to skip)")
	}
	for _, gn := range p.Groups {
		g, err := group.Parse(gn)
		if err != nil {
			return bad("groups: %v", err)
		}
		if g.Dim() != 2 || !g.Closed() {
			return bad("groups: %s is not a finite rotation group of the plane (want c4, c8, c16, ...)", gn)
		}
		for a := 0; a < g.Order(); a++ {
			if m := g.Matrix(a); m[0]*m[3]-m[1]*m[2] < 0 {
				return bad("groups: %s contains reflections; the experiment compares rotation groups (want c4, c8, c16, ...)", gn)
			}
		}
	}
	for _, m := range p.Sizes {
		if m < 1 || m > p.CNN.Members {
			return bad("sizes: ensemble sizes must be between 1 and cnn.members (%d), got %d", p.CNN.Members, m)
		}
	}
	return nil
}

func runFashion(ctx context.Context, env *experiment.Env, node *yaml.Node) (*experiment.Result, error) {
	var p fashionParams
	if err := experiment.DecodeParams("fashion", node, &p); err != nil {
		return nil, err
	}
	if err := checkFashionParams(&p); err != nil {
		return nil, err
	}
	t0 := time.Now()
	fd, err := loadFashionData(env, &p)
	if err != nil {
		return nil, err
	}
	sets := fd.sets
	cnnArch := p.CNN.Arch
	timing := map[string]float64{}
	lap := func(name string, start time.Time) { timing[name] += time.Since(start).Seconds() }

	// The baseline without augmentation is the same for every group.
	var noaug *train.Ensemble
	if p.NoAugMembers > 0 {
		start := time.Now()
		mp := p.CNN.ModelParams
		mp.Members = p.NoAugMembers
		cfg := fashionConfig(mp, cnnArch, &p, train.AugConfig{Mode: "none"})
		if noaug, err = experiment.TrainEnsemble(ctx, env, "cnn_noaug", cfg, fd.train, train.Options{}); err != nil {
			return nil, err
		}
		lap("train", start)
	}

	rows := map[string]map[string]fashionRow{}
	curves := map[string][]fashionCurvePoint{}
	so2 := map[string]*fashionSO2{}
	var so2Angles []float64
	archs := map[string]map[string]string{}
	for _, gn := range p.Groups {
		g, _ := group.Parse(gn)
		gn = g.Name()
		rep, err := group.ImageRep(g, 1, 28, 28)
		if err != nil {
			return nil, err
		}
		archs[gn] = map[string]string{
			"cnn":   cnnArch,
			"gcnn":  p.GCNN.archFor(gn, cnnArch),
			"canon": p.Canon.archFor(gn, cnnArch),
		}
		start := time.Now()
		cfgDA := fashionConfig(p.CNN.ModelParams, cnnArch, &p, train.AugConfig{Mode: "random", Group: gn})
		ensDA, err := experiment.TrainEnsemble(ctx, env, "cnn_da_"+gn, cfgDA, fd.train, train.Options{})
		if err != nil {
			return nil, err
		}
		cfgG := fashionConfig(p.GCNN.ModelParams, archs[gn]["gcnn"], &p, train.AugConfig{Mode: "none"})
		ensG, err := experiment.TrainEnsemble(ctx, env, "gcnn_"+gn, cfgG, fd.train, train.Options{})
		if err != nil {
			return nil, err
		}
		cfgC := fashionConfig(p.Canon.ModelParams, archs[gn]["canon"], &p, train.AugConfig{Mode: "none"})
		ensC, err := experiment.TrainEnsemble(ctx, env, "canon_"+gn, cfgC, fd.train, train.Options{})
		if err != nil {
			return nil, err
		}
		lap("train", start)

		start = time.Now()
		env.Logf("%s: evaluating on the %d-element orbits of %d test and %d out-of-distribution images", gn, g.Order(), sets.ID.Len(), 2*p.OODSize)
		daOrb, err := experiment.MemberOrbits(ctx, ensDA, rep, sets)
		if err != nil {
			return nil, err
		}
		gOrb, err := experiment.MemberOrbits(ctx, ensG, rep, sets)
		if err != nil {
			return nil, err
		}
		cOrb, err := experiment.MemberOrbits(ctx, ensC, rep, sets)
		if err != nil {
			return nil, err
		}
		var ens []*experiment.Orbits
		S := p.EnsembleSize
		for k := 0; k+S <= len(daOrb); k += S {
			idx := make([]int, S)
			for i := range idx {
				idx[i] = k + i
			}
			ens = append(ens, experiment.Ensemble(daOrb, idx))
		}
		seed := p.Seed + 1000
		rows[gn] = map[string]fashionRow{
			"deepens_da": fashionRowOf(ens, S, sets, seed),
			"only_da":    fashionRowOf(daOrb, 1, sets, seed),
			"e2cnn":      fashionRowOf(gOrb, 1, sets, seed),
			"canon":      fashionRowOf(cOrb, 1, sets, seed),
		}
		if noaug != nil {
			nOrb, err := experiment.MemberOrbits(ctx, noaug, rep, sets)
			if err != nil {
				return nil, err
			}
			rows[gn]["noaug"] = fashionRowOf(nOrb, 1, sets, seed)
		}
		// OSP against ensemble size, averaged over member groups.
		for _, m := range p.Sizes {
			if m > len(daOrb) {
				continue
			}
			subs := metrics.Subsets(len(daOrb), m, 8, p.Seed+uint64(m))
			cp := fashionCurvePoint{Size: m, Subsets: len(subs)}
			for _, sub := range subs {
				st := experiment.Stats([]*experiment.Orbits{experiment.Ensemble(daOrb, sub)}, sets, seed)
				w := 1 / float64(len(subs))
				cp.OSPOOD += st.OSPOOD * w
				cp.OSPID += st.OSPID * w
				cp.Accuracy += st.Accuracy * w
			}
			curves[gn] = append(curves[gn], cp)
		}
		lap("evaluate", start)

		if p.SO2.Angles > 0 {
			start = time.Now()
			s, angles, err := fashionSO2Eval(ctx, ensDA, fd.so2, p.SO2.Angles, g)
			if err != nil {
				return nil, err
			}
			so2[gn], so2Angles = s, angles
			lap("so2", start)
		}
		r := rows[gn]
		env.Logf("%s: OSP OOD DeepEns+DA %.2f, only DA %.2f, E2CNN %.2f, Canon %.2f (max %d); accuracy %.3f / %.3f / %.3f / %.3f",
			gn, r["deepens_da"].OSPOOD, r["only_da"].OSPOOD, r["e2cnn"].OSPOOD, r["canon"].OSPOOD, g.Order(),
			r["deepens_da"].Accuracy, r["only_da"].Accuracy, r["e2cnn"].Accuracy, r["canon"].Accuracy)
	}
	var so2NoAug *fashionSO2
	if p.SO2.Angles > 0 && noaug != nil {
		start := time.Now()
		g, _ := group.Parse(p.Groups[0])
		if so2NoAug, _, err = fashionSO2Eval(ctx, noaug, fd.so2, p.SO2.Angles, g); err != nil {
			return nil, err
		}
		lap("so2", start)
	}
	timing["total"] = time.Since(t0).Seconds()
	for k, v := range timing {
		timing[k] = experiment.Round3(v)
	}
	groups := make([]string, 0, len(rows))
	for _, gn := range p.Groups {
		g, _ := group.Parse(gn)
		groups = append(groups, g.Name())
	}
	res := map[string]any{
		"groups":   groups,
		"methods":  fashionMethods,
		"ood_sets": sets.OODName,
		"table":    rows,
		"paper":    fashionPaperJSON(),
		"curve":    curves,
		"archs":    archs,
		"timing":   timing,
		"params":   p,
	}
	if p.SO2.Angles > 0 {
		so2JSON := map[string]any{"angles": so2Angles}
		for gn, s := range so2 {
			so2JSON[gn] = s
		}
		if so2NoAug != nil {
			so2JSON["noaug"] = so2NoAug
		}
		res["so2"] = so2JSON
	}
	rep := fashionReport(&p, groups, rows, curves, so2, so2NoAug, so2Angles, archs)
	return &experiment.Result{JSON: res, Report: rep, Summary: fashionSummary(groups, rows)}, nil
}

func fashionPaperJSON() map[string]map[string]map[string]float64 {
	out := map[string]map[string]map[string]float64{}
	for g, m := range fashionPaper {
		out[g] = map[string]map[string]float64{}
		for k, v := range m {
			out[g][k] = map[string]float64{"osp_ood": v[0], "osp_ood_std": v[1]}
		}
	}
	return out
}

// fashionSO2Eval evaluates an ensemble on n equally spaced rotations (the
// group c<n>) of the prepared test images ds; g is the training group,
// whose angles are told apart from the others.
func fashionSO2Eval(ctx context.Context, ens *train.Ensemble, ds *data.Dataset, n int, g *group.Group) (*fashionSO2, []float64, error) {
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
	agreeAcc := func(o *metrics.Orbit) (agree, acc []float64) {
		pred := o.Predictions()
		agree = make([]float64, n)
		acc = make([]float64, n)
		for a := 0; a < n; a++ {
			for i := 0; i < o.N; i++ {
				if pred[a*o.N+i] == pred[i] {
					agree[a]++
				}
				if pred[a*o.N+i] == ds.Labels[i] {
					acc[a]++
				}
			}
			agree[a] /= float64(o.N)
			acc[a] /= float64(o.N)
		}
		return agree, acc
	}
	s := &fashionSO2{}
	s.EnsembleAgreement, s.EnsembleAccuracy = agreeAcc(metrics.Combine(orbs, experiment.Indices(len(orbs)), false))
	s.MemberAgreement = make([]float64, n)
	s.MemberAccuracy = make([]float64, n)
	for _, o := range orbs {
		ag, ac := agreeAcc(o)
		for a := range ag {
			s.MemberAgreement[a] += ag[a] / float64(len(orbs))
			s.MemberAccuracy[a] += ac[a] / float64(len(orbs))
		}
	}
	summ := func(agree, acc []float64) so2Summary {
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
	s.Ensemble = summ(s.EnsembleAgreement, s.EnsembleAccuracy)
	s.Member = summ(s.MemberAgreement, s.MemberAccuracy)
	return s, angles, nil
}

// pmStd formats a mean and standard deviation.
func pmStd(m, s float64, models int) string {
	if models < 2 {
		return fmt.Sprintf("%.2f", m)
	}
	return fmt.Sprintf("%.2f ± %.2f", m, s)
}

func fashionSummary(groups []string, rows map[string]map[string]fashionRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nOrbit same predictions out of distribution (MNIST digits + blurred noise), paper | ours (chance):\n")
	fmt.Fprintf(&b, "%-12s", "")
	for _, g := range groups {
		fmt.Fprintf(&b, " %-34s", groupTitle(g))
	}
	b.WriteString("\n")
	for _, m := range fashionMethods {
		fmt.Fprintf(&b, "%-12s", fashionMethodLabel[m])
		for _, g := range groups {
			r := rows[g][m]
			paper := "–"
			if pv, ok := fashionPaper[g][m]; ok {
				paper = fmt.Sprintf("%.2f±%.2f", pv[0], pv[1])
			}
			ours := fmt.Sprintf("%.2f±%.2f", r.OSPOOD, r.OSPOODStd)
			fmt.Fprintf(&b, " %-34s", fmt.Sprintf("%s | %s (%.1f)", paper, ours, r.Chance["pooled"]))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-12s", "accuracy")
	for _, g := range groups {
		var parts []string
		for _, m := range fashionMethods {
			parts = append(parts, fmt.Sprintf("%.2f", rows[g][m].Accuracy))
		}
		fmt.Fprintf(&b, " %-34s", strings.Join(parts, "/"))
	}
	b.WriteString("\n")
	return b.String()
}

func groupTitle(g string) string { return "C" + strings.TrimPrefix(g, "c") }

func fashionReport(p *fashionParams, groups []string, rows map[string]map[string]fashionRow, curves map[string][]fashionCurvePoint,
	so2 map[string]*fashionSO2, so2NoAug *fashionSO2, angles []float64, archs map[string]map[string]string) *report.Report {
	order := func(g string) int { gg, _ := group.Parse(g); return gg.Order() }
	// Main table: paper vs ours.
	main := report.Table{Name: "paper_vs_ours",
		Caption: fmt.Sprintf("Orbit same predictions (OSP, 1..|G|) out of distribution: the talk's table next to ours, pooled over %d MNIST digits and %d blurred-noise images, with the chance level 1 + (|G|−1)Σ_c p_c² and the majority-class share of the pooled OOD predictions; OSP on %d Fashion-MNIST test images and test accuracy. Ours: mean ± standard deviation over models (%s).", p.OODSize, p.OODSize, p.TestSize, fashionModelsNote(p)),
		Columns: []string{"group", "method", "paper OSP OOD", "ours OSP OOD", "chance", "majority", "ours OSP test", "accuracy"}}
	bySet := report.Table{Name: "osp_by_set",
		Caption: "OSP per set, each with its chance level and majority-class share (mean over models).",
		Columns: []string{"group", "method", "MNIST OSP", "chance", "majority", "blurred noise OSP", "chance", "majority", "test OSP", "chance", "majority"}}
	for _, g := range groups {
		for _, m := range append(slices.Clone(fashionMethods), "noaug") {
			r, ok := rows[g][m]
			if !ok {
				continue
			}
			paper := "–"
			if pv, ok := fashionPaper[g][m]; ok {
				paper = fmt.Sprintf("%.2f ± %.2f", pv[0], pv[1])
			}
			main.Rows = append(main.Rows, []string{groupTitle(g), fashionMethodLabel[m], paper, pmStd(r.OSPOOD, r.OSPOODStd, r.Models),
				experiment.F2(r.Chance["pooled"]), experiment.F2(r.Majority["pooled"]), pmStd(r.OSPID, r.OSPIDStd, r.Models), fmt.Sprintf("%.3f", r.Accuracy)})
			bySet.Rows = append(bySet.Rows, []string{groupTitle(g), fashionMethodLabel[m],
				experiment.F2(r.OSPOODSet["mnist"]), experiment.F2(r.Chance["mnist"]), experiment.F2(r.Majority["mnist"]),
				experiment.F2(r.OSPOODSet["blurred-noise"]), experiment.F2(r.Chance["blurred-noise"]), experiment.F2(r.Majority["blurred-noise"]),
				experiment.F2(r.OSPID), experiment.F2(r.Chance["test"]), experiment.F2(r.Majority["test"])})
		}
	}
	// Grouped bar chart: groups × methods, OSP/|G|, ours solid, paper dashed.
	var series []report.Series
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = groupTitle(g)
	}
	for k, m := range fashionMethods {
		var y, lo, hi, py, plo, phi []float64
		for _, g := range groups {
			n := float64(order(g))
			r := rows[g][m]
			y = append(y, r.OSPOOD/n)
			lo = append(lo, (r.OSPOOD-r.OSPOODStd)/n)
			hi = append(hi, math.Min(r.OSPOOD+r.OSPOODStd, n)/n)
			pv, ok := fashionPaper[g][m]
			if !ok {
				pv = [2]float64{math.NaN(), 0}
			}
			py = append(py, pv[0]/n)
			plo = append(plo, (pv[0]-pv[1])/n)
			phi = append(phi, math.Min(pv[0]+pv[1], n)/n)
		}
		series = append(series,
			report.Series{Name: fashionMethodLabel[m] + " (ours)", Labels: labels, Y: y, Lo: lo, Hi: hi, Color: k + 1},
			report.Series{Name: fashionMethodLabel[m] + " (paper)", Labels: labels, Y: py, Lo: plo, Hi: phi, Color: k + 1, Dashed: true})
	}
	yBarMin := 0.5
	yBarMax := 1.02
	bars := &report.Plot{Title: "Orbit same predictions out of distribution, ours vs paper", Kind: report.KindBar,
		YLabel: "OSP / |G|  (1 = invariant)", YMin: &yBarMin, YMax: &yBarMax, Series: series,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
	// Accuracy bars.
	var accSeries []report.Series
	for k, m := range fashionMethods {
		var y, lo, hi []float64
		for _, g := range groups {
			r := rows[g][m]
			y = append(y, r.Accuracy)
			lo = append(lo, r.Accuracy-r.AccStd)
			hi = append(hi, r.Accuracy+r.AccStd)
		}
		accSeries = append(accSeries, report.Series{Name: fashionMethodLabel[m], Labels: labels, Y: y, Lo: lo, Hi: hi, Color: k + 1})
	}
	zero, one := 0.0, 1.0
	accBars := &report.Plot{Title: "Fashion-MNIST test accuracy (unrotated)", Kind: report.KindBar, YLabel: "accuracy", YMin: &zero, YMax: &one, Series: accSeries}
	// In-distribution OSP bars.
	var idSeries []report.Series
	for k, m := range fashionMethods {
		var y []float64
		for _, g := range groups {
			y = append(y, rows[g][m].OSPID/float64(order(g)))
		}
		idSeries = append(idSeries, report.Series{Name: fashionMethodLabel[m], Labels: labels, Y: y, Color: k + 1})
	}
	idBars := &report.Plot{Title: "Orbit same predictions in distribution (Fashion-MNIST test)", Kind: report.KindBar, YLabel: "OSP / |G|", YMin: &yBarMin, YMax: &yBarMax, Series: idSeries,
		HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
	// OSP against ensemble size.
	var cs []report.Series
	for k, g := range groups {
		var xs, yo, yi []float64
		n := float64(order(g))
		for _, c := range curves[g] {
			xs = append(xs, float64(c.Size))
			yo = append(yo, c.OSPOOD/n)
			yi = append(yi, c.OSPID/n)
		}
		if len(xs) == 0 {
			continue
		}
		cs = append(cs,
			report.Series{Name: groupTitle(g) + " out of distribution", X: xs, Y: yo, Points: true, Color: k + 1},
			report.Series{Name: groupTitle(g) + " test", X: xs, Y: yi, Points: true, Dashed: true, Color: k + 1})
	}
	var sections []report.Section
	intro := fmt.Sprintf("Models trained on %d Fashion-MNIST images (standardised, then masked to the disc of radius 13.5 px that interpolated rotations need, for every group alike), compared as in the talk's table (Gerken & Kessel, ICML 2024): DeepEns+DA is an ensemble of %d CNNs (%s) trained with random C_n augmentation (a fresh rotation per sample and step; bilinear interpolation for n > 4), whose logits are averaged; only DA is one such CNN; E2CNN is a regular-field C_n group CNN (lift/gconv/gpool, filters rotated by bilinear interpolation for n > 4) and Canon a learned canonicalisation (Kaba et al. 2022: a small C_n-equivariant network picks a pose, the image is rotated back to it, then the members' CNN), both trained without augmentation. OSP counts how many of the |G| rotations of an image keep its prediction; out of distribution it is measured on MNIST digits and on blurred noise images, which no model was trained on.",
		p.TrainSize, p.EnsembleSize, p.CNN.Arch)
	sections = append(sections, report.Section{Heading: "Paper vs ours", Text: fashionFindings(groups, rows, curves, so2),
		Tables:  []report.Table{main},
		Figures: []report.Figure{{Name: "osp_paper_vs_ours", Caption: "Mean OSP out of distribution divided by |G|, ours (solid, ± std over models) and the talk's values (light, dashed outline).", Plot: bars}}})
	sections = append(sections, report.Section{Heading: "Per set, in distribution and accuracy", Tables: []report.Table{bySet},
		Figures: []report.Figure{{Name: "osp_test", Caption: "Mean OSP on the Fashion-MNIST test images divided by |G|.", Plot: idBars}, {Name: "accuracy", Caption: "Test accuracy on unrotated images (± std over models).", Plot: accBars}}})
	if len(cs) > 0 {
		ymin := 0.4
		ymax := 1.02
		curvePlot := &report.Plot{Title: "OSP of augmented CNN ensembles vs ensemble size", XLabel: "ensemble size", YLabel: "OSP / |G|", LogX: true, YMin: &ymin, YMax: &ymax, Series: cs,
			HLines: []report.RefLine{{Y: 1, Label: "invariant"}}}
		sections = append(sections, report.Section{Heading: "Ensemble size", Text: "Averages over up to 8 member groups per size (disjoint where possible). Larger ensembles of augmented CNNs are more invariant, in and out of distribution.",
			Figures: []report.Figure{{Name: "osp_vs_size", Caption: "Mean OSP/|G| against ensemble size: out of distribution (solid) and on test images (dashed).", Plot: curvePlot}}})
	}
	if len(so2) > 0 {
		sections = append(sections, fashionSO2Section(p, groups, so2, so2NoAug, angles))
	}
	arch := report.Table{Name: "architectures", Caption: "Architectures per group (standard parametrisation, Adam).", Columns: []string{"group", "CNN (DeepEns+DA, only DA)", "E2CNN", "Canon"}}
	for _, g := range groups {
		arch.Rows = append(arch.Rows, []string{groupTitle(g), archs[g]["cnn"], archs[g]["gcnn"], archs[g]["canon"]})
	}
	setup := fmt.Sprintf("CNN members: %d, %d steps, batch %d, %s lr %g. E2CNN: %d members, %d steps. Canon: %d members, %d steps. Without augmentation: %d CNNs. The canonicaliser learns through a straight-through estimator (forward: hard argmax; backward: the softmax-weighted average of the rotated images) unless its spec says learn=frozen.",
		p.CNN.Members, p.CNN.Steps, p.CNN.BatchSize, p.CNN.Optimizer.Name, p.CNN.Optimizer.LR, p.GCNN.Members, p.GCNN.Steps, p.Canon.Members, p.Canon.Steps, p.NoAugMembers)
	sections = append(sections, report.Section{Heading: "Setup", Text: setup, Tables: []report.Table{arch}})
	return &report.Report{Title: "Emergent invariance on rotated Fashion-MNIST: ensembles vs GCNNs and canonicalisation", Intro: intro, Sections: sections}
}

func fashionModelsNote(p *fashionParams) string {
	return fmt.Sprintf("DeepEns+DA: %d disjoint ensembles of %d CNNs; only DA: %d single CNNs; E2CNN: %d; Canon: %d", p.CNN.Members/p.EnsembleSize, p.EnsembleSize, p.CNN.Members, p.GCNN.Members, p.Canon.Members)
}

// fashionFindings states what the measurements show, claim by claim.
func fashionFindings(groups []string, rows map[string]map[string]fashionRow, curves map[string][]fashionCurvePoint, so2 map[string]*fashionSO2) string {
	var lines []string
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "**no**"
	}
	for _, g := range groups {
		gg, _ := group.Parse(g)
		n := float64(gg.Order())
		r := rows[g]
		de, da, e2, ca := r["deepens_da"], r["only_da"], r["e2cnn"], r["canon"]
		pv := fashionPaper[g]
		l := fmt.Sprintf("- %s: DeepEns+DA %.2f vs only DA %.2f out of distribution — ensemble more invariant than its members: %s (paper %.2f vs %.2f). ",
			groupTitle(g), de.OSPOOD, da.OSPOOD, yes(de.OSPOOD > da.OSPOOD), pv["deepens_da"][0], pv["only_da"][0])
		l += fmt.Sprintf("E2CNN %.2f, Canon %.2f of %d", e2.OSPOOD, ca.OSPOOD, gg.Order())
		if gg.Order() == 4 {
			l += fmt.Sprintf(" (exactly invariant by construction: %s)", yes(e2.OSPOOD == n && ca.OSPOOD == n))
		} else {
			l += " (interpolated rotations: approximately invariant)"
		}
		l += fmt.Sprintf("; DeepEns+DA within reach of E2CNN (at least 95%% of its OSP): %s; above Canon: %s. Chance level %.1f, majority share %.2f (DeepEns+DA, pooled OOD).",
			yes(de.OSPOOD >= 0.95*e2.OSPOOD), yes(de.OSPOOD > ca.OSPOOD), de.Chance["pooled"], de.Majority["pooled"])
		if c := curves[g]; len(c) > 0 && c[len(c)-1].Size > de.Size {
			last := c[len(c)-1]
			l += fmt.Sprintf(" The ensemble of %d members reaches %.2f.", last.Size, last.OSPOOD)
		}
		lines = append(lines, l)
	}
	if len(so2) > 0 {
		var parts []string
		keys := make([]string, 0, len(so2))
		for g := range so2 {
			keys = append(keys, g)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, _ := group.Parse(keys[i])
			b, _ := group.Parse(keys[j])
			return a.Order() < b.Order()
		})
		for _, g := range keys {
			s := so2[g]
			parts = append(parts, fmt.Sprintf("%s ensemble %.2f (members %.2f)", groupTitle(g), s.Ensemble.AgreeBetween, s.Member.AgreeBetween))
		}
		lines = append(lines, "- SO(2): share of test predictions unchanged at angles outside the training group: "+strings.Join(parts, ", ")+".")
	}
	return strings.Join(lines, "\n")
}

func fashionSO2Section(p *fashionParams, groups []string, so2 map[string]*fashionSO2, noaug *fashionSO2, angles []float64) report.Section {
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
