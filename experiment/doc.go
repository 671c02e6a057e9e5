// Package experiment is the core of the reproducible experiments of eqens:
// configuration (experiments/NAME.yaml, a quick and a full scale, decoded
// strictly), the runner that writes results.json and the report, the
// registry, and what several experiments share: training an ensemble into
// the output folder (TrainEnsemble), evaluating classifiers on group orbits
// in and out of distribution (OrbitOf, MemberOrbits, Stats, Ensemble), and
// small numeric and test-set helpers.
//
// Each experiment is a package of its own, experiment/NAME, that registers
// itself in an init function (Register), as image/png does; no experiment
// imports another. Import experiment/all to register them all, as the
// command line does: `eqens reproduce --list` names them, `eqens demo` runs
// "demo". docs/architecture.md says how to add one.
package experiment
