package train

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// validYAML is a complete config that the cases below break one key at a
// time.
const validYAML = `data:
  name: cross-product
  size: 32
augmentation:
  mode: random
  group: oct
  output: vector
model:
  arch: dense(32),relu,dense(3)
optimizer:
  name: adam
  lr: 0.001
steps: 10
members: 2
`

func TestParseConfigValid(t *testing.T) {
	c, err := ParseConfig(strings.NewReader(validYAML), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Members != 2 || c.Optimizer.Beta2 != 0.999 || c.BatchSize != 64 || c.CheckpointEvery != 500 || c.Augmentation.Input != "auto" {
		t.Errorf("defaults not filled in: %+v", c)
	}
	// The resolved YAML parses back to the same config.
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ParseConfig(bytes.NewReader(b), "resolved.yaml")
	if err != nil {
		t.Fatalf("resolved config does not parse: %v\n%s", err, b)
	}
	if c.Hash() != c2.Hash() {
		t.Errorf("hash changed through Marshal: %v", c.Diff(c2))
	}
	// data.dir does not enter the hash, everything else does.
	c2.Data.Dir = "/elsewhere"
	if c.Hash() != c2.Hash() {
		t.Error("data.dir changed the hash")
	}
	c2.Seed++
	if c.Hash() == c2.Hash() {
		t.Error("seed did not change the hash")
	}
	if d := c.Diff(c2); len(d) != 1 || !strings.HasPrefix(d[0], "seed:") {
		t.Errorf("Diff = %v", d)
	}
}

// TestConfigErrors is the catalogue of bad configs and the errors they
// must give: each names the file, the line where known, the key and what
// was expected.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"unknown top-level key", "steps: 10\n", "steps: 10\nstpes_extra: 3\n", []string{"bad.yaml:14:", `unknown key "stpes_extra" at the top level`, "known: data, augmentation"}},
		{"unknown nested key with hint", "  lr: 0.001\n", "  lr: 0.001\n  momentun: 0.9\n", []string{"bad.yaml:13:", `unknown key "momentun" in optimizer`, `did you mean "momentum"?`}},
		{"duplicate key", "steps: 10\n", "steps: 10\nsteps: 20\n", []string{"bad.yaml:14: steps: given twice (first on line 13)"}},
		{"wrong type", "steps: 10\n", "steps: ten\n", []string{"bad.yaml:13: steps: expected an integer", `"ten"`}},
		{"negative seed", "members: 2\n", "members: 2\nseed: -1\n", []string{"seed: expected a non-negative integer"}},
		{"section not a mapping", "model:\n  arch: dense(32),relu,dense(3)\n", "model: dense(32)\n", []string{"bad.yaml:8: model: expected a mapping of keys (arch, param)"}},
		{"list for a scalar", "steps: 10\n", "steps: [10]\n", []string{"steps: expected an integer, got a list"}},
		{"negative learning rate", "lr: 0.001", "lr: -0.1", []string{"bad.yaml:12: optimizer.lr: must be a positive number, got -0.1"}},
		{"missing learning rate", "  lr: 0.001\n", "", []string{"optimizer.lr: required: a positive learning rate"}},
		{"zero members", "members: 2", "members: 0", []string{"bad.yaml:14: members: must be at least 1, got 0"}},
		{"width 0 via the arch parser", "dense(32),relu,dense(3)", "dense(0),relu,dense(3)", []string{"model.arch:", "width must be between 1 and 1048576, got 0"}},
		{"unknown layer", "dense(32),relu,dense(3)", "dense(32),relux,dense(3)", []string{"model.arch:", `unknown layer "relux"`}},
		{"wrong output size", "dense(32),relu,dense(3)", "dense(32),relu,dense(10)", []string{"model.arch: the network has 10 outputs but dataset cross-product needs 3"}},
		{"unknown group", "group: oct", "group: hexagon", []string{"bad.yaml:6: augmentation.group:", `"hexagon"`}},
		{"sample needs partial", "group: oct", "group: so3:24", []string{"augmentation.group: so3:24:1 is a sample of a continuous group", "use mode partial"}},
		{"partial accepts a sample", "  mode: random\n  group: oct", "  mode: partial\n  group: so3:24", nil},
		{"group without mode", "mode: random", "mode: none", []string{`augmentation.group: set to "oct" but mode is none`}},
		{"mode without group", "  group: oct\n", "", []string{"augmentation.group: required for mode random"}},
		{"unknown mode", "mode: random", "mode: sometimes", []string{`augmentation.mode: unknown value "sometimes" (want none, full, random or partial)`}},
		{"group cannot act on the targets", "group: oct", "group: c4", []string{"bad.yaml:7: augmentation.output: group c4 acts on 2-vectors, but targets have dimension 3"}},
		{"group cannot act on the inputs", "group: oct", "group: ising:4", []string{"bad.yaml:6: augmentation.group:", "ising:4", "cannot act on vectors of length 6"}},
		{"sampling outside partial", "mode: random\n", "mode: random\n  sampling: orbit\n", []string{"augmentation.sampling: only used by mode partial"}},
		{"unknown dataset", "name: cross-product", "name: imagenet", []string{"bad.yaml:2: data.name: unknown dataset \"imagenet\"", "mnist"}},
		{"unknown split", "  size: 32\n", "  size: 32\n  split: validation\n", []string{`data.split: unknown value "validation" (want train, test or ood)`}},
		{"npz needs a path", "name: cross-product", "name: npz", []string{"data.path: required for dataset npz"}},
		{"bad standardize", "  size: 32\n", "  size: 32\n  standardize: zscore\n", []string{`data.standardize: unknown value "zscore" (want none, global or per-feature)`}},
		{"negative size", "size: 32", "size: -5", []string{"data.size: must be 0 (all samples) or positive, got -5"}},
		{"cross-entropy on regression", "steps: 10\n", "steps: 10\nloss: cross-entropy\n", []string{"loss: cross-entropy needs class labels"}},
		{"unknown loss", "steps: 10\n", "steps: 10\nloss: hinge\n", []string{`loss: unknown value "hinge" (want mse or cross-entropy)`}},
		{"vector output for classes", "name: cross-product\n  size: 32", "name: mnist", []string{"augmentation.output: vector: dataset mnist has class labels"}},
		{"unknown optimizer", "name: adam", "name: rmsprop", []string{`optimizer.name: unknown value "rmsprop" (want gd, sgd or adam)`}},
		{"momentum with adam", "  lr: 0.001\n", "  lr: 0.001\n  momentum: 0.9\n", []string{"optimizer.momentum: only used by optimizer sgd"}},
		{"momentum out of range", "name: adam\n  lr: 0.001\n", "name: sgd\n  lr: 0.001\n  momentum: 1.5\n", []string{"optimizer.momentum: must lie in [0, 1), got 1.5"}},
		{"gd with minibatches", "name: adam\n  lr: 0.001\n", "name: gd\n  lr: 0.001\nbatch_size: 8\n", []string{"batch_size: optimizer gd is full-batch gradient descent"}},
		{"gd defaults to full batch", "name: adam", "name: gd", nil},
		{"step schedule needs step_size", "  lr: 0.001\n", "  lr: 0.001\n  schedule: step\n", []string{"optimizer.step_size: must be at least 1 for schedule step"}},
		{"unknown schedule", "  lr: 0.001\n", "  lr: 0.001\n  schedule: linear\n", []string{`optimizer.schedule: unknown value "linear" (want constant, cosine or step)`}},
		{"steps and epochs", "steps: 10\n", "steps: 10\nepochs: 2\n", []string{"epochs: both steps (10) and epochs (2) given; give one"}},
		{"no steps", "steps: 10\n", "", []string{"steps: required: a positive number of steps (or epochs)"}},
		{"negative steps", "steps: 10", "steps: -10", []string{"bad.yaml:13: steps: must be positive, got -10"}},
		{"negative batch", "steps: 10\n", "steps: 10\nbatch_size: -1\n", []string{"batch_size: must be 0 (the whole training set) or positive, got -1"}},
		{"negative checkpoint interval", "steps: 10\n", "steps: 10\ncheckpoint_every: -1\n", []string{"checkpoint_every: must be 0 (only at the end) or a positive number of steps, got -1"}},
		{"bad param", "  arch: dense(32),relu,dense(3)\n", "  arch: dense(32),relu,dense(3)\n  param: mup\n", []string{`model.param: unknown value "mup" (want ntk or standard)`}},
		{"two documents", "members: 2\n", "members: 2\n---\nsteps: 3\n", []string{"bad.yaml:15: a second YAML document"}},
		{"empty", validYAML, "", []string{"bad.yaml: empty config"}},
		{"several errors at once", "lr: 0.001\nsteps: 10\nmembers: 2", "lr: -1\nsteps: -10\nmembers: 0", []string{"optimizer.lr: must be a positive number", "steps: must be positive", "members: must be at least 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validYAML, tc.old) {
				t.Fatalf("test case: %q not in the valid config", tc.old)
			}
			src := strings.Replace(validYAML, tc.old, tc.new, 1)
			_, err := ParseConfig(strings.NewReader(src), "bad.yaml")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v\n%s", err, src)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for\n%s", src)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want Range
		err  string
	}{
		{"0:8", Range{0, 8}, ""},
		{"2:5", Range{2, 5}, ""},
		{"3:", Range{3, 8}, ""},
		{":4", Range{0, 4}, ""},
		{"7", Range{7, 8}, ""},
		{"5:3", Range{}, "want 0 <= A < B <= 8"},
		{"0:9", Range{}, "want 0 <= A < B <= 8"},
		{"a:b", Range{}, "is not an integer"},
		{"", Range{}, "empty"},
	} {
		r, err := ParseRange(tc.s, 8)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRange(%q) error %v, want %q", tc.s, err, tc.err)
			}
			continue
		}
		if err != nil || r != tc.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", tc.s, r, err, tc.want)
		}
	}
}

func TestShardRange(t *testing.T) {
	for _, tc := range []struct{ count, members int }{{1, 5}, {2, 5}, {3, 10}, {4, 4}, {7, 3}} {
		next := 0
		for i := 0; i < tc.count; i++ {
			r, err := ShardRange(i, tc.count, tc.members)
			if err != nil {
				t.Fatal(err)
			}
			if r.Lo != next || r.Len() < tc.members/tc.count || r.Len() > tc.members/tc.count+1 {
				t.Errorf("ShardRange(%d, %d, %d) = %v", i, tc.count, tc.members, r)
			}
			next = r.Hi
		}
		if next != tc.members {
			t.Errorf("%d shards of %d members cover %d", tc.count, tc.members, next)
		}
	}
	if _, err := ShardRange(4, 4, 8); err == nil {
		t.Error("index = count accepted")
	}
	if _, err := ShardRange(0, 0, 8); err == nil {
		t.Error("count 0 accepted")
	}
}

func TestMemberSeed(t *testing.T) {
	// SplitMix64 reference values (splitmix64.c seeded with 0: the first
	// outputs are 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4).
	if got := MemberSeed(0, 0); got != 0xe220a8397b1dcdaf {
		t.Errorf("MemberSeed(0, 0) = %#x", got)
	}
	if got := MemberSeed(0, 1); got != 0x6e789e6aa1b965f4 {
		t.Errorf("MemberSeed(0, 1) = %#x", got)
	}
	seen := map[uint64]bool{}
	for b := uint64(0); b < 4; b++ {
		for m := 0; m < 64; m++ {
			seen[MemberSeed(b, m)] = true
		}
	}
	if len(seen) != 256 {
		t.Errorf("%d distinct seeds of 256", len(seen))
	}
}

// TestDocExamples parses every YAML example of docs/config.md.
func TestDocExamples(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d yaml examples in docs/config.md", len(blocks))
	}
	for i, m := range blocks {
		if _, err := ParseConfig(bytes.NewReader(m[1]), fmt.Sprintf("docs/config.md example %d", i+1)); err != nil {
			t.Error(err)
		}
	}
}
