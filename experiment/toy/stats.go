package toy

// This file holds the measurements on the grid (symmetry errors and
// distances) and the curves over training steps, ensemble size and width,
// and the panels.

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/eqens/eqens/experiment"
	"github.com/eqens/eqens/metrics"
	"github.com/eqens/eqens/train"
)

// symErr is the symmetry error mean_i |f(x_i) − f(−x_i)| on a mirror
// symmetric grid (x[m−1−i] = −x[i]).
func symErr(f []float64) float64 {
	m := len(f)
	var s float64
	for i, v := range f {
		s += math.Abs(v - f[m-1-i])
	}
	return s / float64(m)
}

// rmsDist is the root mean square of a − b.
func rmsDist(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += (v - b[i]) * (v - b[i])
	}
	return math.Sqrt(s / float64(len(a)))
}

// meanAbs is mean_i |f_i|.
func meanAbs(f []float64) float64 {
	var s float64
	for _, v := range f {
		s += math.Abs(v)
	}
	return s / float64(len(f))
}

// ensMean averages members idx at step index s.
func ensMean(preds [][][]float32, idx []int, s int) []float64 {
	out := make([]float64, len(preds[idx[0]][s]))
	for _, m := range idx {
		for i, v := range preds[m][s] {
			out[i] += float64(v)
		}
	}
	for i := range out {
		out[i] /= float64(len(idx))
	}
	return out
}

// member is member m's prediction at step index s.
func member(preds [][][]float32, m, s int) []float64 {
	return experiment.ToF64(preds[m][s])
}

// avgSubsets averages f over up to 8 member groups of size k of n members.
func avgSubsets(n, k int, seed uint64, f func(idx []int) float64) (float64, int) {
	subs := metrics.Subsets(n, k, 8, seed)
	var s float64
	for _, idx := range subs {
		s += f(idx)
	}
	return s / float64(len(subs)), len(subs)
}

// curvePoint is one entry of results.json's "curve".
type curvePoint struct {
	Step              int     `json:"step"`
	SymMemberDA       float64 `json:"sym_member_da"`
	SymEnsembleDA     float64 `json:"sym_ensemble_da"`
	SymNTKDA          float64 `json:"sym_ntk_da"`
	SymNTKDACont      float64 `json:"sym_ntk_da_continuous"`
	SymMemberNoAug    float64 `json:"sym_member_noaug"`
	SymEnsembleNoAug  float64 `json:"sym_ensemble_noaug"`
	SymNTKNoAug       float64 `json:"sym_ntk_noaug"`
	DistEnsNTKDA      float64 `json:"dist_ensemble_ntk_da"`
	DistEnsNTKNoAug   float64 `json:"dist_ensemble_ntk_noaug"`
	DistNTKDiscCont   float64 `json:"dist_ntk_discrete_continuous"`
	RMSEMemberDA      float64 `json:"rmse_member_da"`
	RMSEEnsembleDA    float64 `json:"rmse_ensemble_da"`
	RMSENTKDA         float64 `json:"rmse_ntk_da"`
	RMSEEnsembleNoAug float64 `json:"rmse_ensemble_noaug"`
	RMSENTKNoAug      float64 `json:"rmse_ntk_noaug"`
}

// sizePoint is one entry of results.json's "sizes".
type sizePoint struct {
	Size             int      `json:"size"`
	Subsets          int      `json:"subsets"`
	SymEnsembleDA    float64  `json:"sym_ensemble_da"`
	SymEnsembleNoAug *float64 `json:"sym_ensemble_noaug,omitempty"` // absent above noaug_members
	DistNTKDA        float64  `json:"dist_ntk_da"`
	DistNTKNoAug     *float64 `json:"dist_ntk_noaug,omitempty"`
}

// widthPoint is one entry of results.json's "widths".
type widthPoint struct {
	Width          int     `json:"width"`
	Members        int     `json:"members"`
	SymMemberDA    float64 `json:"sym_member_da"`
	SymEnsembleDA  float64 `json:"sym_ensemble_da"`
	DistNTKDA      float64 `json:"dist_ntk_da"`
	RMSEEnsembleDA float64 `json:"rmse_ensemble_da"`
}

// panel is one entry of results.json's "panels".
type panel struct {
	Step          int         `json:"step"`
	Title         string      `json:"title"`
	EnsembleDA    []float64   `json:"ensemble_da"`
	NTKDA         []float64   `json:"ntk_da"`
	EnsembleNoAug []float64   `json:"ensemble_noaug"`
	NTKNoAug      []float64   `json:"ntk_noaug"`
	MembersDA     [][]float64 `json:"members_da"`
}

func panelTitle(step int) string {
	switch step {
	case 0:
		return "Initialization"
	case 1:
		return "After 1 Training Step"
	}
	return fmt.Sprintf("After %d Training Steps", step)
}

// overTraining measures every recorded step. It also returns the largest
// NTK symmetry error (augmented, discrete and continuous time) over the
// largest mean |μ_t|.
func (s *study) overTraining() ([]curvePoint, float64) {
	p := s.p
	allDA, allNo := experiment.Indices(p.Members), experiment.Indices(p.NoAugMembers)
	truth := s.truth
	curve := make([]curvePoint, len(s.steps))
	var maxNTKSym, maxNTKAbs float64
	for i, step := range s.steps {
		c := &curve[i]
		c.Step = step
		eDA, eNo := ensMean(s.predDA, allDA, i), ensMean(s.predNo, allNo, i)
		for mb := 0; mb < p.Members; mb++ {
			f := member(s.predDA, mb, i)
			c.SymMemberDA += symErr(f) / float64(p.Members)
			c.RMSEMemberDA += rmsDist(f, truth) / float64(p.Members)
		}
		for mb := 0; mb < p.NoAugMembers; mb++ {
			c.SymMemberNoAug += symErr(member(s.predNo, mb, i)) / float64(p.NoAugMembers)
		}
		ntkDA, contDA, ntkNo := s.ntkDA[i], s.contDA[i], s.ntkNo[i]
		c.SymEnsembleDA, c.SymEnsembleNoAug = symErr(eDA), symErr(eNo)
		c.SymNTKDA, c.SymNTKDACont, c.SymNTKNoAug = symErr(ntkDA), symErr(contDA), symErr(ntkNo)
		c.DistEnsNTKDA, c.DistEnsNTKNoAug = rmsDist(eDA, ntkDA), rmsDist(eNo, ntkNo)
		c.DistNTKDiscCont = rmsDist(ntkDA, contDA)
		c.RMSEEnsembleDA, c.RMSENTKDA = rmsDist(eDA, truth), rmsDist(ntkDA, truth)
		c.RMSEEnsembleNoAug, c.RMSENTKNoAug = rmsDist(eNo, truth), rmsDist(ntkNo, truth)
		maxNTKSym = max(maxNTKSym, c.SymNTKDA, c.SymNTKDACont)
		maxNTKAbs = max(maxNTKAbs, meanAbs(ntkDA), meanAbs(contDA))
	}
	return curve, maxNTKSym / maxNTKAbs
}

// bySize measures ensembles of the sizes p.Sizes at the last step,
// averaged over up to 8 groups of members.
func (s *study) bySize() []sizePoint {
	p, last := s.p, s.last
	var sizes []sizePoint
	for _, k := range p.Sizes {
		if k < 1 || k > p.Members {
			continue
		}
		seed := p.Seed + uint64(k)
		sp := sizePoint{Size: k}
		sp.SymEnsembleDA, sp.Subsets = avgSubsets(p.Members, k, seed, func(idx []int) float64 { return symErr(ensMean(s.predDA, idx, last)) })
		sp.DistNTKDA, _ = avgSubsets(p.Members, k, seed, func(idx []int) float64 { return rmsDist(ensMean(s.predDA, idx, last), s.ntkDA[last]) })
		if k <= p.NoAugMembers {
			a, _ := avgSubsets(p.NoAugMembers, k, seed, func(idx []int) float64 { return symErr(ensMean(s.predNo, idx, last)) })
			b, _ := avgSubsets(p.NoAugMembers, k, seed, func(idx []int) float64 { return rmsDist(ensMean(s.predNo, idx, last), s.ntkNo[last]) })
			sp.SymEnsembleNoAug, sp.DistNTKNoAug = &a, &b
		}
		sizes = append(sizes, sp)
	}
	return sizes
}

// byWidth measures augmented ensembles of width_members members at each
// width (and the main width, averaged over groups of its members) at the
// last step; other widths are trained (or reused) here.
func (s *study) byWidth(ctx context.Context, env *experiment.Env) ([]widthPoint, error) {
	p := s.p
	if len(p.Widths) == 0 {
		return nil, nil
	}
	ws := append(slices.Clone(p.Widths), p.Width)
	slices.Sort(ws)
	ws = slices.Compact(ws)
	var widths []widthPoint
	for _, w := range ws {
		if w == p.Width {
			widths = append(widths, s.widthStats(w, s.predDA, metrics.Subsets(p.Members, p.WidthMembers, 8, p.Seed+99)))
			continue
		}
		cfg := s.config(w, p.WidthMembers, train.AugConfig{Mode: "full", Group: "z2"})
		pw, err := trainWithSnapshots(ctx, env, fmt.Sprintf("da-w%d", w), cfg, s.tr, []int{p.Steps}, s.gd.X)
		if err != nil {
			return nil, err
		}
		// Re-index: only the last step was recorded.
		full := make([][][]float32, len(pw))
		for mb := range pw {
			full[mb] = make([][]float32, len(s.steps))
			full[mb][s.last] = pw[mb][0]
		}
		widths = append(widths, s.widthStats(w, full, [][]int{experiment.Indices(p.WidthMembers)}))
	}
	return widths, nil
}

// widthStats averages the last step's measurements over the member groups
// idxs of the predictions preds of width w.
func (s *study) widthStats(w int, preds [][][]float32, idxs [][]int) widthPoint {
	last := s.last
	wp := widthPoint{Width: w, Members: len(idxs[0])}
	for _, idx := range idxs {
		e := ensMean(preds, idx, last)
		wp.SymEnsembleDA += symErr(e) / float64(len(idxs))
		wp.DistNTKDA += rmsDist(e, s.ntkDA[last]) / float64(len(idxs))
		wp.RMSEEnsembleDA += rmsDist(e, s.truth) / float64(len(idxs))
		for _, mb := range idx {
			wp.SymMemberDA += symErr(member(preds, mb, last)) / float64(len(idx)*len(idxs))
		}
	}
	return wp
}

// panels are the curves on the grid at the panel steps.
func (s *study) panels() []panel {
	p := s.p
	allDA, allNo := experiment.Indices(p.Members), experiment.Indices(p.NoAugMembers)
	shown := min(p.Shown, p.Members)
	var panels []panel
	for _, step := range p.Panels {
		i := s.stepAt[step]
		pn := panel{Step: step, Title: panelTitle(step), EnsembleDA: ensMean(s.predDA, allDA, i), NTKDA: s.ntkDA[i],
			EnsembleNoAug: ensMean(s.predNo, allNo, i), NTKNoAug: s.ntkNo[i]}
		for mb := 0; mb < shown; mb++ {
			pn.MembersDA = append(pn.MembersDA, member(s.predDA, mb, i))
		}
		panels = append(panels, pn)
	}
	return panels
}
