// Package fashion is the "fashion" experiment (eqens reproduce fashion):
// on Fashion-MNIST under C4, C8 and C16, deep ensembles of CNNs trained
// with augmentation against single augmented CNNs, GCNNs and learned
// canonicalisation (the talk's comparison table), in and out of
// distribution, and the invariance of the ensembles under SO(2) rotations
// between the group's angles; with a width section, the OSP of augmented
// CNNs and their ensembles against the CNN's width for one group
// (experiments/fashion-width.yaml runs this part alone: eqens reproduce
// fashion --config experiments/fashion-width.yaml --scale full).
//
// results.json holds groups, methods, ood_sets, table (group → method →
// the fields of tableRow in eval.go), paper (the talk's table), curve (OSP
// against ensemble size, curvePoint), so2 (so2Result in so2.go), archs,
// timing and params, and width (widthPoint in width.go) when the sweep
// ran; a run of the sweep alone writes ood_sets, width, timing and params
// only. docs/results-schema.md lists them.
package fashion
