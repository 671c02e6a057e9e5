package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/eqens/eqens/experiments"
	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/report"
	"go.yaml.in/yaml/v3"
)

// Env is what an experiment run gets from the command line.
type Env struct {
	// Out is the output folder (created if missing).
	Out string
	// Scale is "quick" or "full".
	Scale string
	// DataDir is an explicit data folder (--data-dir), or "".
	DataDir string
	// Log receives progress lines and the summary table.
	Log io.Writer
	// Version and Command describe the run for the report header.
	Version, Command string
}

// Logf writes a progress line.
func (e *Env) Logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}

// Result is what an experiment produces.
type Result struct {
	// JSON is written to results.json; it must marshal deterministically
	// (structs or maps).
	JSON any
	// Report is written as report.md, report.html, figures/ and tables/.
	Report *report.Report
	// Summary is printed at the end of the run (a plain-text table).
	Summary string
}

// Experiment is one reproducible job.
type Experiment struct {
	Name    string
	Summary string
	// Run executes the experiment with the YAML parameters of the chosen
	// scale (strictly decoded into the experiment's own parameter struct).
	Run func(ctx context.Context, env *Env, params *yaml.Node) (*Result, error)
}

var registry = map[string]*Experiment{}

// Register adds an experiment; called from init functions of this package.
func Register(e *Experiment) { registry[e.Name] = e }

// List returns the experiments sorted by name.
func List() []*Experiment {
	var out []*Experiment
	for _, e := range registry {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the named experiment.
func Lookup(name string) (*Experiment, error) {
	if e, ok := registry[name]; ok {
		return e, nil
	}
	var names []string
	for _, e := range List() {
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("unknown experiment %q (known: %s; see eqens reproduce --list)", name, strings.Join(names, ", "))
}

// configFile is the layout of experiments/NAME.yaml.
type configFile struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Quick       yaml.Node `yaml:"quick"`
	Full        yaml.Node `yaml:"full"`
}

// LoadConfig returns the parameters of the given scale from the embedded
// experiments/NAME.yaml, or from path if it is not empty.
func LoadConfig(name, scale, path string) (*yaml.Node, error) {
	var raw []byte
	var err error
	src := "experiments/" + name + ".yaml"
	if path != "" {
		src = path
		raw, err = os.ReadFile(path)
	} else {
		raw, err = experiments.Files.ReadFile(name + ".yaml")
	}
	if err != nil {
		return nil, fmt.Errorf("experiment %s: config: %w", name, err)
	}
	var cf configFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cf); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if cf.Name != name {
		return nil, fmt.Errorf("%s: names experiment %q, want %q", src, cf.Name, name)
	}
	switch scale {
	case "quick":
		return &cf.Quick, nil
	case "full":
		return &cf.Full, nil
	}
	return nil, fmt.Errorf("--scale: %q is not a scale (want quick or full)", scale)
}

// DecodeParams strictly decodes a parameter node into dst, with errors that
// name the experiment's config file and line.
func DecodeParams(name string, node *yaml.Node, dst any) error {
	if node == nil || node.Kind == 0 {
		return fmt.Errorf("experiments/%s.yaml: missing parameters for this scale", name)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(node); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("experiments/%s.yaml (line offsets relative to the scale section): %w", name, err)
	}
	return nil
}

// Run executes an experiment and writes its outputs into env.Out.
func Run(ctx context.Context, e *Experiment, env *Env, configPath string) error {
	params, err := LoadConfig(e.Name, env.Scale, configPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(env.Out, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", env.Out, err)
	}
	// Fail early on an unwritable output folder.
	probe := filepath.Join(env.Out, ".eqens-write-test")
	if err := atomicfile.WriteFile(probe, []byte("ok"), 0o644); err != nil {
		return fmt.Errorf("--out %s: not writable: %w", env.Out, err)
	}
	os.Remove(probe)
	start := time.Now()
	res, err := e.Run(ctx, env, params)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	secs := time.Since(start).Seconds()
	meta := map[string]any{
		"experiment": e.Name,
		"scale":      env.Scale,
		"version":    env.Version,
		"backend":    linalg.Backend,
		"kernel":     linalg.Kernel(),
		"cpu":        cpuModel(),
		"cores":      runtime.GOMAXPROCS(0),
		"seconds":    Round3(secs),
		"command":    env.Command,
	}
	doc := map[string]any{"meta": meta, "results": res.JSON}
	// Flatten the result's top-level keys next to "meta" when it is a map,
	// so that scripts can read e.g. results.json["models"].
	if m, ok := res.JSON.(map[string]any); ok {
		doc = map[string]any{"meta": meta}
		for k, v := range m {
			doc[k] = v
		}
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: results: %w", e.Name, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(env.Out, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if res.Report != nil {
		if res.Report.Meta == nil {
			res.Report.Meta = map[string]string{}
		}
		res.Report.Meta["command"] = env.Command
		res.Report.Meta["version"] = env.Version
		res.Report.Meta["backend"] = linalg.Backend + " (" + linalg.Kernel() + ")"
		res.Report.Meta["run time"] = fmt.Sprintf("%.1f s on %d cores", secs, runtime.GOMAXPROCS(0))
		if err := res.Report.Write(env.Out); err != nil {
			return fmt.Errorf("%s: report: %w", e.Name, err)
		}
	}
	if res.Summary != "" {
		env.Logf("%s", res.Summary)
	}
	env.Logf("%s: done in %.1f s; results in %s (results.json, report.html)", e.Name, secs, env.Out)
	return nil
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or GOARCH
// where it cannot be read, for the record of where a result was measured.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
