// Package experiments holds the configurations of the experiments that
// `eqens reproduce` runs, one YAML file per experiment with a quick and a
// full scale. They are embedded in the binary; `eqens reproduce NAME
// --config FILE` runs a modified copy.
package experiments
