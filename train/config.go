package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/eqens/eqens/data"
	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/nn"
)

// Config describes a training run: what docs/config.md documents as the
// YAML schema. Start from DefaultConfig when building one in code;
// ParseConfig fills in the same defaults for keys a file leaves out.
type Config struct {
	// Data names the training data.
	Data DataConfig `yaml:"data" json:"data"`
	// Augmentation selects the data augmentation.
	Augmentation AugConfig `yaml:"augmentation" json:"augmentation"`
	// Model is the network.
	Model ModelConfig `yaml:"model" json:"model"`
	// Loss is "mse" (L = 1/(2B) Σ ||f(x) − y||², one-hot targets for
	// classes) or "cross-entropy" (softmax cross-entropy, classes only).
	// Empty means cross-entropy for classification and mse for regression.
	Loss string `yaml:"loss" json:"loss"`
	// Optimizer is the optimiser and its learning-rate schedule.
	Optimizer OptimizerConfig `yaml:"optimizer" json:"optimizer"`
	// Steps is the number of optimisation steps per member; exactly one of
	// Steps and Epochs is positive.
	Steps int `yaml:"steps" json:"steps"`
	// Epochs is the number of passes over the (augmented) training set.
	Epochs int `yaml:"epochs" json:"epochs"`
	// BatchSize is the number of samples per step; 0 means the whole
	// (augmented) training set.
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// Members is the ensemble size M.
	Members int `yaml:"members" json:"members"`
	// Seed is the base seed; member m uses MemberSeed(Seed, m).
	Seed uint64 `yaml:"seed" json:"seed"`
	// CheckpointEvery is the number of steps between checkpoints of a
	// member (0: only when it finishes or is interrupted).
	CheckpointEvery int `yaml:"checkpoint_every" json:"checkpoint_every"`

	meta *configMeta
}

// DataConfig names the training data and its preprocessing.
type DataConfig struct {
	// Name is a dataset name (DataNames): mnist, fashion-mnist, cifar10,
	// pathmnist, pathmnist64, cross-product or npz.
	Name string `yaml:"name" json:"name"`
	// Split is the split trained on (default "train").
	Split string `yaml:"split" json:"split"`
	// Path is the .npz file of dataset npz.
	Path string `yaml:"path" json:"path"`
	// Dir is a directory searched first for registry datasets (as
	// DIR/NAME). It does not enter the config hash.
	Dir string `yaml:"dir" json:"dir"`
	// Size is the number of training samples: a random subset drawn with
	// Seed (0: all), or the number generated for synthetic sets (default
	// 256).
	Size int `yaml:"size" json:"size"`
	// Seed draws the subset and the synthetic samples.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Standardize is "none", "global" (one mean and deviation for all
	// input values; commutes with pixel permutations) or "per-feature".
	// Empty means global for images and none for vectors (a global shift
	// would break rotation equivariance of vectors).
	Standardize string `yaml:"standardize" json:"standardize"`
}

// AugConfig selects the data augmentation.
type AugConfig struct {
	// Mode is "none", "full" (every sample expanded to its orbit under the
	// group), "random" (a fresh group element per sample and step) or
	// "partial" (augmentation with a finite subset of a continuous group,
	// such as c8 or so2:32 inside SO(2) or so3:24 inside SO(3); the set need
	// not be closed).
	Mode string `yaml:"mode" json:"mode"`
	// Group is a group spec that group.Parse accepts (c4, d4, so3:24...).
	Group string `yaml:"group" json:"group"`
	// Sampling is, for mode partial, "random" (default: like mode random)
	// or "orbit" (like mode full).
	Sampling string `yaml:"sampling" json:"sampling"`
	// Input is how the group acts on inputs: "auto" (by the data shape, see
	// group.InputRepLayout), "image", "lattice" or "vector".
	Input string `yaml:"input" json:"input"`
	// Output is the representation rho_Y on targets: "trivial"
	// (classification and invariant targets) or "vector" (equivariant
	// targets such as cross products).
	Output string `yaml:"output" json:"output"`
}

// ModelConfig is the network.
type ModelConfig struct {
	// Arch is an architecture spec that nn.Parse accepts, e.g.
	// "dense(512),relu,dense(10)".
	Arch string `yaml:"arch" json:"arch"`
	// Param is the parametrisation, "ntk" or "standard".
	Param string `yaml:"param" json:"param"`
}

// OptimizerConfig is the optimiser and its learning-rate schedule.
type OptimizerConfig struct {
	// Name is "gd" (full-batch gradient descent: batch_size must be 0),
	// "sgd" (with optional momentum) or "adam".
	Name string `yaml:"name" json:"name"`
	// LR is the (initial) learning rate; required.
	LR float64 `yaml:"lr" json:"lr"`
	// Momentum is SGD's momentum μ in [0, 1): v ← μ v + g, θ ← θ − lr v.
	Momentum float64 `yaml:"momentum" json:"momentum"`
	// Beta1, Beta2 and Eps are Adam's parameters (0.9, 0.999, 1e-8).
	Beta1 float64 `yaml:"beta1" json:"beta1"`
	Beta2 float64 `yaml:"beta2" json:"beta2"`
	Eps   float64 `yaml:"eps" json:"eps"`
	// Schedule is "constant", "cosine" (from lr to min_lr over the run) or
	// "step" (lr multiplied by gamma every step_size steps).
	Schedule string  `yaml:"schedule" json:"schedule"`
	MinLR    float64 `yaml:"min_lr" json:"min_lr"`
	StepSize int     `yaml:"step_size" json:"step_size"`
	Gamma    float64 `yaml:"gamma" json:"gamma"`
}

// DefaultConfig returns a config with every default set. Data.Name,
// Model.Arch, Optimizer.LR and one of Steps and Epochs must still be given.
func DefaultConfig() *Config {
	return &Config{
		Data:            DataConfig{Split: "train"},
		Augmentation:    AugConfig{Mode: "none", Input: "auto", Output: "trivial"},
		Model:           ModelConfig{Param: "ntk"},
		Optimizer:       OptimizerConfig{Name: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Schedule: "constant", Gamma: 0.1},
		BatchSize:       64,
		Members:         1,
		CheckpointEvery: 500,
	}
}

// configMeta remembers where a parsed config came from, for errors that
// name the file and line.
type configMeta struct {
	file    string
	lines   map[string]int  // key path -> line of the key
	present map[string]bool // key paths given (not null)
}

// ConfigError is a problem with one field of a config.
type ConfigError struct {
	File  string // the config file, if parsed from one
	Line  int    // the line of the key, 0 if unknown
	Field string // the key path, e.g. "optimizer.lr"
	Msg   string
}

// Error formats the problem as FILE:LINE: FIELD: MESSAGE.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// errf returns a ConfigError for the field at path.
func (c *Config) errf(path, format string, args ...any) error {
	e := &ConfigError{Field: path, Msg: fmt.Sprintf(format, args...)}
	if c.meta != nil {
		e.File = c.meta.file
		for p := path; p != ""; {
			if l, ok := c.meta.lines[p]; ok {
				e.Line = l
				break
			}
			i := strings.LastIndexByte(p, '.')
			if i < 0 {
				break
			}
			p = p[:i]
		}
	}
	return e
}

// given reports whether the key path was given in the parsed file (always
// true for configs built in code).
func (c *Config) given(path string) bool {
	return c.meta == nil || c.meta.present[path]
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) { return loadConfig(path, false) }

// loadConfig is LoadConfig; with inMemory, data.name may name data that
// were given in memory (the config of a run trained with Options.Data).
func loadConfig(path string, inMemory bool) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseConfig(f, path, inMemory)
}

// ParseConfig reads a YAML config strictly: an unknown or repeated key, a
// value of the wrong type or more than one document is an error naming the
// file (name), the line and the key. Keys left out get the defaults of
// DefaultConfig. The config is then validated (Validate).
func ParseConfig(r io.Reader, name string) (*Config, error) { return parseConfig(r, name, false) }

func parseConfig(r io.Reader, name string, inMemory bool) (*Config, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty config (want keys data, model, optimizer, steps...; see docs/config.md)", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; want one", name, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := DefaultConfig()
	c.meta = &configMeta{file: name, lines: map[string]int{}, present: map[string]bool{}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, fmt.Errorf("%s: empty config (want keys data, model, optimizer, steps...; see docs/config.md)", name)
	}
	if err := decodeStrict(root, reflect.ValueOf(c).Elem(), "", c.meta); err != nil {
		return nil, err
	}
	if !c.given("batch_size") && c.Optimizer.Name == "gd" {
		c.BatchSize = 0
	}
	if err := c.validate(inMemory); err != nil {
		return nil, err
	}
	return c, nil
}

// readRunConfig reads the resolved config of a run directory.
func ReadRunConfig(dir string) (*Config, error) {
	return loadConfig(filepath.Join(dir, ConfigFile), true)
}

// decodeStrict decodes the mapping n into the struct v, refusing unknown
// and repeated keys and recording the line of every key.
func decodeStrict(n *yaml.Node, v reflect.Value, path string, m *configMeta) error {
	at := func(line int, field, format string, args ...any) error {
		return &ConfigError{File: m.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	t := v.Type()
	if n.Kind != yaml.MappingNode {
		return at(n.Line, path, "expected a mapping of keys (%s), got %s", strings.Join(yamlKeys(t), ", "), describeNode(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		p := key
		if path != "" {
			p = path + "." + key
		}
		idx := fieldIndex(t, key)
		if idx < 0 {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			hint := ""
			if s := closest(key, yamlKeys(t)); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			return at(k.Line, "", "unknown key %q %s (known: %s)%s", key, where, strings.Join(yamlKeys(t), ", "), hint)
		}
		if l, dup := seen[key]; dup {
			return at(k.Line, p, "given twice (first on line %d)", l)
		}
		seen[key] = k.Line
		m.lines[p] = k.Line
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
			continue
		}
		m.present[p] = true
		f := v.Field(idx)
		if f.Kind() == reflect.Struct {
			if err := decodeStrict(val, f, p, m); err != nil {
				return err
			}
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return at(val.Line, p, "expected %s, got %s", describeType(f.Type()), describeNode(val))
		}
		if err := val.Decode(f.Addr().Interface()); err != nil {
			return at(val.Line, p, "expected %s, got %q", describeType(f.Type()), val.Value)
		}
	}
	return nil
}

func fieldIndex(t reflect.Type, key string) int {
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == key && tag != "" && tag != "-" {
			return i
		}
	}
	return -1
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "something else"
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, cands []string) string {
	best, bd := "", 3
	for _, c := range cands {
		if d := editDistance(s, c); d < bd {
			best, bd = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// oneOf checks that v is one of the allowed values.
func (c *Config) oneOf(path, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return c.errf(path, "unknown value %q (want %s)", v, orList(allowed))
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Loss names.
const (
	LossMSE          = "mse"
	LossCrossEntropy = "cross-entropy"
)

// Validate checks every field and returns all problems found, each naming
// the field (and the file and line for parsed configs) and what was
// expected. Fields that depend on the data (the loss, the network's output
// size) are checked here when the dataset's shape is known without
// reading it, and otherwise by Train once the data is loaded.
func (c *Config) Validate() error { return c.validate(false) }

// validate is Validate; with inMemory the data are given in memory
// (Options.Data) and data.name is only a label. It checks the sections in
// the order of the config file and collects every problem.
func (c *Config) validate(inMemory bool) error {
	var p problems
	src, known := c.validateData(&p, inMemory)
	g := c.validateAugmentation(&p)
	param := c.validateModel(&p)
	c.validateOptimizer(&p)
	c.validateRun(&p)
	// What can be checked against the data without reading it.
	if known && src.Shape != nil && !inMemory {
		info := dataInfo{shape: src.Shape, outputs: src.OutputDim(), classification: src.IsClassification(), name: src.Name}
		if err := c.checkData(info, param, g); err != nil {
			p.add(err)
		}
	}
	return errors.Join(p...)
}

// problems collects the errors validate finds, in order.
type problems []error

// add appends err unless it is nil.
func (p *problems) add(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

// validateData checks the data section and returns the dataset's spec and
// whether the name is a known dataset.
func (c *Config) validateData(p *problems, inMemory bool) (*data.Spec, bool) {
	src, err := data.LookupSet(c.Data.Name)
	known := err == nil
	switch {
	case inMemory && !known:
	case c.Data.Name == "":
		p.add(c.errf("data.name", "required: a dataset name (%s)", orList(DataNames())))
	case !known:
		p.add(c.errf("data.name", "unknown dataset %q (known: %s)", c.Data.Name, strings.Join(DataNames(), ", ")))
	}
	if known && src.Splits != nil {
		p.add(c.oneOf("data.split", c.Data.Split, src.Splits...))
	} else if c.Data.Split == "" {
		p.add(c.errf("data.split", "empty; want a split name such as train"))
	}
	if c.Data.Name == NPZName && c.Data.Path == "" && !inMemory {
		p.add(c.errf("data.path", "required for dataset npz: the .npz file to read"))
	}
	if c.Data.Name != NPZName && c.Data.Path != "" && !inMemory {
		p.add(c.errf("data.path", "only used by dataset npz (data.name is %q)", c.Data.Name))
	}
	if c.Data.Size < 0 {
		p.add(c.errf("data.size", "must be 0 (all samples) or positive, got %d", c.Data.Size))
	}
	if c.Data.Standardize != "" {
		p.add(c.oneOf("data.standardize", c.Data.Standardize, "none", "global", "per-feature"))
	}
	return src, known
}

// validateAugmentation checks the augmentation section and returns its
// group (nil if none or invalid).
func (c *Config) validateAugmentation(p *problems) *group.Group {
	a := c.Augmentation
	var g *group.Group
	if err := c.oneOf("augmentation.mode", a.Mode, "none", "full", "random", "partial"); err != nil {
		p.add(err)
	} else if a.Mode == "none" {
		if a.Group != "" {
			p.add(c.errf("augmentation.group", "set to %q but mode is none; choose mode full, random or partial, or remove the group", a.Group))
		}
	} else if a.Group == "" {
		p.add(c.errf("augmentation.group", "required for mode %s: a group such as c4, d4, so2:32 or so3:24", a.Mode))
	} else {
		var err error
		if g, err = group.Parse(a.Group); err != nil {
			p.add(c.errf("augmentation.group", "%v", err))
		} else if !g.Closed() && a.Mode != "partial" {
			p.add(c.errf("augmentation.group", "%s is a sample of a continuous group, not closed under composition; use mode partial for it", g.Name()))
		}
	}
	switch {
	case a.Mode == "partial" && a.Sampling != "":
		p.add(c.oneOf("augmentation.sampling", a.Sampling, "random", "orbit"))
	case a.Mode != "partial" && a.Sampling != "":
		p.add(c.errf("augmentation.sampling", "only used by mode partial (mode is %q)", a.Mode))
	}
	p.add(c.oneOf("augmentation.input", a.Input, "auto", "image", "lattice", "vector"))
	p.add(c.oneOf("augmentation.output", a.Output, "trivial", "vector"))
	return g
}

// validateModel checks the model section and the loss, and returns the
// parametrisation.
func (c *Config) validateModel(p *problems) nn.Param {
	param, err := nn.ParseParam(c.Model.Param)
	if err != nil || c.Model.Param == "" {
		p.add(c.oneOf("model.param", c.Model.Param, "ntk", "standard"))
	}
	if strings.TrimSpace(c.Model.Arch) == "" {
		p.add(c.errf("model.arch", "required: an architecture spec such as dense(512),relu,dense(10)"))
	}
	if c.Loss != "" {
		p.add(c.oneOf("loss", c.Loss, LossMSE, LossCrossEntropy))
	}
	return param
}

// validateOptimizer checks the optimiser section up to its learning-rate
// schedule.
func (c *Config) validateOptimizer(p *problems) {
	o := c.Optimizer
	p.add(c.oneOf("optimizer.name", o.Name, "gd", "sgd", "adam"))
	switch {
	case !c.given("optimizer.lr") || (c.meta == nil && o.LR == 0):
		p.add(c.errf("optimizer.lr", "required: a positive learning rate, e.g. 0.001"))
	case !(o.LR > 0) || !finite(o.LR):
		p.add(c.errf("optimizer.lr", "must be a positive number, got %g", o.LR))
	}
	if !(o.Momentum >= 0 && o.Momentum < 1) {
		p.add(c.errf("optimizer.momentum", "must lie in [0, 1), got %g", o.Momentum))
	} else if o.Momentum != 0 && o.Name != "sgd" {
		p.add(c.errf("optimizer.momentum", "only used by optimizer sgd (name is %q; adam has beta1)", o.Name))
	}
	if !(o.Beta1 >= 0 && o.Beta1 < 1) {
		p.add(c.errf("optimizer.beta1", "must lie in [0, 1), got %g", o.Beta1))
	}
	if !(o.Beta2 >= 0 && o.Beta2 < 1) {
		p.add(c.errf("optimizer.beta2", "must lie in [0, 1), got %g", o.Beta2))
	}
	if !(o.Eps > 0) || !finite(o.Eps) {
		p.add(c.errf("optimizer.eps", "must be a positive number, got %g", o.Eps))
	}
	def := DefaultConfig().Optimizer
	if o.Name != "adam" && (o.Beta1 != def.Beta1 || o.Beta2 != def.Beta2 || o.Eps != def.Eps) {
		p.add(c.errf("optimizer", "beta1, beta2 and eps are only used by optimizer adam (name is %q)", o.Name))
	}
	c.validateSchedule(p)
}

// validateSchedule checks the optimiser's learning-rate schedule and the
// fields it uses.
func (c *Config) validateSchedule(p *problems) {
	o := c.Optimizer
	if err := c.oneOf("optimizer.schedule", o.Schedule, "constant", "cosine", "step"); err != nil {
		p.add(err)
		return
	}
	if o.Schedule == "step" && o.StepSize < 1 {
		p.add(c.errf("optimizer.step_size", "must be at least 1 for schedule step, got %d", o.StepSize))
	}
	if o.Schedule != "step" && o.StepSize != 0 {
		p.add(c.errf("optimizer.step_size", "only used by schedule step (schedule is %q)", o.Schedule))
	}
	if !(o.Gamma > 0 && o.Gamma <= 1) {
		p.add(c.errf("optimizer.gamma", "must lie in (0, 1], got %g", o.Gamma))
	}
	if !(o.MinLR >= 0) || !finite(o.MinLR) {
		p.add(c.errf("optimizer.min_lr", "must be a non-negative number, got %g", o.MinLR))
	} else if o.MinLR != 0 && o.Schedule != "cosine" {
		p.add(c.errf("optimizer.min_lr", "only used by schedule cosine (schedule is %q)", o.Schedule))
	} else if o.MinLR > o.LR && o.LR > 0 {
		p.add(c.errf("optimizer.min_lr", "%g is above the learning rate %g", o.MinLR, o.LR))
	}
}

// validateRun checks the schedule of the run: its length, batch size,
// members and checkpoints.
func (c *Config) validateRun(p *problems) {
	switch {
	case c.Steps < 0:
		p.add(c.errf("steps", "must be positive, got %d", c.Steps))
	case c.Epochs < 0:
		p.add(c.errf("epochs", "must be positive, got %d", c.Epochs))
	case c.Steps > 0 && c.Epochs > 0:
		p.add(c.errf("epochs", "both steps (%d) and epochs (%d) given; give one", c.Steps, c.Epochs))
	case c.Steps == 0 && c.Epochs == 0:
		p.add(c.errf("steps", "required: a positive number of steps (or epochs)"))
	}
	if c.BatchSize < 0 {
		p.add(c.errf("batch_size", "must be 0 (the whole training set) or positive, got %d", c.BatchSize))
	}
	if c.Optimizer.Name == "gd" && c.BatchSize != 0 {
		p.add(c.errf("batch_size", "optimizer gd is full-batch gradient descent: batch_size must be 0 (all samples), got %d; use sgd for minibatches", c.BatchSize))
	}
	if c.Members < 1 {
		p.add(c.errf("members", "must be at least 1, got %d", c.Members))
	}
	if c.CheckpointEvery < 0 {
		p.add(c.errf("checkpoint_every", "must be 0 (only at the end) or a positive number of steps, got %d", c.CheckpointEvery))
	}
}

// dataInfo is what the checks against the data need.
type dataInfo struct {
	name           string
	shape          []int
	outputs        int
	classification bool
}

func infoOf(ds *data.Dataset) dataInfo {
	return dataInfo{name: ds.Name, shape: ds.Shape, outputs: ds.OutputDim(), classification: ds.IsClassification()}
}

// checkData checks the config against the data: loss and targets, the
// group's action on inputs and outputs, and the architecture.
func (c *Config) checkData(d dataInfo, param nn.Param, g *group.Group) error {
	var errs []error
	loss := c.resolvedLoss(d)
	if loss == LossCrossEntropy && !d.classification {
		errs = append(errs, c.errf("loss", "cross-entropy needs class labels, but dataset %s has regression targets; use mse", d.name))
	}
	if c.Augmentation.Output == "vector" && d.classification {
		errs = append(errs, c.errf("augmentation.output", "vector: dataset %s has class labels, which are invariant; use trivial", d.name))
	}
	if g != nil {
		if _, err := group.InputRepLayout(g, d.shape, c.Augmentation.Input); err != nil {
			errs = append(errs, c.errf("augmentation.group", "%v", err))
		}
		if !d.classification {
			if _, err := group.OutputRep(g, c.Augmentation.Output, d.outputs); err != nil {
				errs = append(errs, c.errf("augmentation.output", "%v", err))
			}
		}
	}
	a, err := nn.Parse(c.Model.Arch, d.shape, param)
	if err != nil {
		errs = append(errs, c.errf("model.arch", "%v", err))
	} else if a.OutputDim() != d.outputs {
		what := "target dimension"
		if d.classification {
			what = "number of classes"
		}
		errs = append(errs, c.errf("model.arch", "the network has %d outputs but dataset %s needs %d (its %s)", a.OutputDim(), d.name, d.outputs, what))
	}
	return errors.Join(errs...)
}

func (c *Config) resolvedLoss(d dataInfo) string {
	if c.Loss != "" {
		return c.Loss
	}
	if d.classification {
		return LossCrossEntropy
	}
	return LossMSE
}

// resolve fills in the defaults that depend on the training data and
// checks the config against it.
func (c *Config) resolve(ds *data.Dataset) error {
	d := infoOf(ds)
	if c.Data.Name == CrossProductName && c.Data.Size == 0 {
		c.Data.Size = ds.Len()
	}
	c.Loss = c.resolvedLoss(d)
	if c.Data.Standardize == "" {
		c.Data.Standardize = "none"
		if len(ds.Shape) >= 2 {
			c.Data.Standardize = "global"
		}
	}
	if c.Augmentation.Mode == "partial" && c.Augmentation.Sampling == "" {
		c.Augmentation.Sampling = "random"
	}
	param, _ := nn.ParseParam(c.Model.Param)
	var g *group.Group
	if c.Augmentation.Mode != "none" {
		var err error
		if g, err = group.Parse(c.Augmentation.Group); err != nil {
			return c.errf("augmentation.group", "%v", err)
		}
		c.Augmentation.Group = g.Name()
	}
	return c.checkData(d, param, g)
}

// Clone returns a deep copy of the config.
func (c *Config) Clone() *Config {
	d := *c
	return &d
}

// Hash returns the SHA-256 (hex) of the config in canonical JSON form,
// leaving out data.dir (where the data was found does not change it). Runs
// whose hashes agree are shards of one ensemble.
func (c *Config) Hash() string {
	d := *c
	d.Data.Dir = ""
	d.meta = nil
	b, err := json.Marshal(&d)
	if err != nil {
		panic(err) // plain struct of strings and numbers
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Marshal returns the config as YAML, every key present.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# eqens training config (resolved: defaults filled in). See docs/config.md.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Diff lists the keys whose values differ between two configs, as
// "key: a != b" lines (data.dir is ignored, as in Hash).
func (c *Config) Diff(o *Config) []string {
	var out []string
	var walk func(a, b reflect.Value, path string)
	walk = func(a, b reflect.Value, path string) {
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			p := tag
			if path != "" {
				p = path + "." + tag
			}
			if p == "data.dir" {
				continue
			}
			fa, fb := a.Field(i), b.Field(i)
			if fa.Kind() == reflect.Struct {
				walk(fa, fb, p)
				continue
			}
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				out = append(out, fmt.Sprintf("%s: %v != %v", p, fa.Interface(), fb.Interface()))
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), reflect.ValueOf(o).Elem(), "")
	return out
}
