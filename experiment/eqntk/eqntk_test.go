package eqntk

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment/experimenttest"
)

const tinyConfig = `  dataset: mnist
  groups: [c4, d4]
  orientation: random
  seed: 1
  ntk:
    pool: 4
    arch: "conv(4,k=3),relu,conv(4,k=3),relu,globalavgpool,dense(1)"
    gcnn: "lift({group},4,k=3),relu,gconv(4,k=3,support=e),relu,gpool,dense(1)"
    check_inputs: 2
    train_sizes: [10, 30]
    test_size: 20
    reg: 0.001
`

func TestEquivariantNTKExperiment(t *testing.T) {
	res, out := experimenttest.Run(t, "equivariant-ntk", tinyConfig, "")
	experimenttest.CheckOrbitNTK(t, res, 2)
	if d := experimenttest.Num(t, res, "ntk", "invariance"); d > 1e-12 {
		t.Errorf("CNN NTK invariance %g", d)
	}
	if o := experimenttest.Num(t, res, "ntk", "osp", "cnn", "d4"); o < 1 || o >= 8 {
		t.Errorf("CNN NTK OSP under D4 %g, want in [1, 8)", o)
	}
	for _, f := range []string{"tables/ntk-curve.csv", "tables/ntk-osp.csv", "figures/ntk-accuracy.svg", "figures/ntk-accuracy.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestEquivariantNTKConfigErrors checks that bad parameters are refused
// with a message naming the field, before any kernel is computed.
func TestEquivariantNTKConfigErrors(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"dataset: mnist", "dataset: cifar10", "dataset"},
		{"orientation: random", "orientation: sideways", "orientation"},
		{"groups: [c4, d4]", "groups: []", "groups"},
		{"groups: [c4, d4]", "groups: [c4, c8]", "interpolation"},
		{"train_sizes: [10, 30]", "train_sizes: []", "train_sizes"},
		{"test_size: 20", "test_size: 0", "test_size"},
		{"pool: 4", "pool: 0", "pool"},
	} {
		_, err := experimenttest.RunErr(t, "equivariant-ntk", strings.Replace(tinyConfig, tc.old, tc.new, 1), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %s", tc.new, err, tc.want)
		}
	}
}

// TestPooledConfig checks that experiments/equivariant-ntk-pooled.yaml
// differs from experiments/equivariant-ntk.yaml at the full scale only in
// the networks and the training sizes, so that the two runs compare
// architectures on the same digits.
func TestPooledConfig(t *testing.T) {
	load := func(file string) (p params) {
		experimenttest.DecodeConfig(t, "equivariant-ntk", "full", file, &p)
		return p
	}
	pooled, plain := load("../../experiments/equivariant-ntk-pooled.yaml"), load("../../experiments/equivariant-ntk.yaml")
	if !strings.Contains(pooled.NTK.Arch, "avgpool(2)") || !strings.Contains(pooled.NTK.GCNN, "avgpool(2)") {
		t.Errorf("pooled config: networks %q, %q without average pools", pooled.NTK.Arch, pooled.NTK.GCNN)
	}
	for _, p := range []*params{&pooled, &plain} {
		p.NTK.Arch, p.NTK.GCNN, p.NTK.TrainSizes = "", "", nil
	}
	if !reflect.DeepEqual(pooled, plain) {
		t.Errorf("the pooled config differs beyond its networks and training sizes:\n%+v\n%+v", pooled, plain)
	}
}

// TestConfig1000 checks that experiments/equivariant-ntk-1000.yaml is
// experiments/equivariant-ntk-pooled.yaml with more training sizes, so
// that its curve extends the pooled run's on the same digits.
func TestConfig1000(t *testing.T) {
	for _, scale := range []string{"quick", "full"} {
		load := func(file string) (p params) {
			experimenttest.DecodeConfig(t, "equivariant-ntk", scale, file, &p)
			return p
		}
		big, pooled := load("../../experiments/equivariant-ntk-1000.yaml"), load("../../experiments/equivariant-ntk-pooled.yaml")
		if scale == "full" {
			if slices.Max(big.NTK.TrainSizes) < 1000 {
				t.Errorf("training sizes %v, want up to 1000", big.NTK.TrainSizes)
			}
			for _, n := range pooled.NTK.TrainSizes {
				if !slices.Contains(big.NTK.TrainSizes, n) {
					t.Errorf("training size %d of the pooled run missing", n)
				}
			}
			big.NTK.TrainSizes, pooled.NTK.TrainSizes = nil, nil
		}
		if !reflect.DeepEqual(big, pooled) {
			t.Errorf("%s: the config differs from the pooled one beyond the training sizes:\n%+v\n%+v", scale, big, pooled)
		}
	}
}
