// Package train trains deep ensembles of networks built by package nn, with
// data augmentation by any group of package group, and reads back what it
// wrote.
//
// # Runs
//
// A run is described by a YAML file (see Config and docs/config.md): the
// data, the augmentation (none, full, random or partial over a group), the
// architecture, the loss (the theory's MSE, L = 1/(2B) Σ_i ||f(x_i) − y_i||²
// over a batch of B samples, or softmax cross-entropy), the optimiser (full
// batch gradient descent, SGD with momentum or Adam, with a constant, cosine
// or step schedule), the number of steps or epochs, the batch size, the
// number of members and a seed. Train writes into a directory:
//
//	DIR/config.yaml                       the resolved config (defaults filled in)
//	DIR/preprocess.json                   standardisation statistics of the inputs
//	DIR/members/member-0007.safetensors   one checkpoint per member
//
// # Determinism
//
// Member m gets the seed MemberSeed(seed, m) (SplitMix64, see MemberSeed).
// Its initialisation, the order of its batches and its augmentation draws
// come from streams derived from that seed alone, and each member trains on
// one goroutine with single-threaded linear algebra, so a member's
// parameters do not depend on the number of cores, on the other members or
// on the shard (Range) that trains it. Ensembles trained in shards and
// merged (Merge) are bit for bit the ensemble trained at once.
//
// # Checkpoints and resume
//
// Checkpoints are safetensors files (see WriteCheckpoint) that Python's
// safetensors package loads: one tensor per parameter block, named like
// "layer03.dense.weight", plus, while the member trains, the optimiser
// state, the position in the epoch and the states of the member's random
// streams. They are written atomically (temporary file and rename), so a run
// killed at any moment resumes from its last checkpoint and ends with
// parameters bit-identical to those of an uninterrupted run; members that
// finished are skipped.
//
// # Ensembles
//
// OpenEnsemble loads the finished members of one or more run directories
// (shards of one run); Ensemble.Predict gives every member's outputs, and
// MeanOutputs and MeanSoftmax the two ensemble means: the mean of the
// outputs (logits for classifiers), which is what the infinite-width theory
// describes, and the mean of the softmax probabilities, the usual deep
// ensemble prediction of a classifier.
package train
