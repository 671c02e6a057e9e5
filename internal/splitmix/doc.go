// Package splitmix holds the SplitMix64 output function that seeds are
// derived with (train.MemberSeed, the splits of the synthetic data sets).
package splitmix
