package ising

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/eqens/eqens/experiment"
)

// testConfig is a tiny scale of experiments/ising.yaml: a 4×4 lattice
// (group ising:4 of order 128), two narrow widths, three members.
const testConfig = `name: ising
description: tiny test scale
quick:
  L: 4
  algorithm: wolff
  burn_in: 20
  thin: 2
  train_temperatures: [2.269]
  train_size: 32
  test_size: 8
  low_temperature: 1.5
  high_temperature: 4.0
  orbit_elements: 8
  full_orbit_points: 2
  snapshots: 4
  statistic: median
  seed: 3
  arch: "dense({w}),relu,dense(1)"
  widths: [16, 32]
  members: 3
  steps: 16
  lr: 1.0
  ntk:
    orbit_points: 2
    reg: 0
full:
  L: 4
`

// tinyResults is results.json as the tests read it.
type tinyResults struct {
	Meta          map[string]any `json:"meta"`
	Group         string         `json:"group"`
	GroupOrder    int            `json:"group_order"`
	OrbitElements []int          `json:"orbit_elements"`
	Steps         []int          `json:"steps"`
	Widths        []int          `json:"widths"`
	Statistic     string         `json:"statistic"`
	Sets          []testSet      `json:"sets"`
	Curves        []curve        `json:"curves"`
	Final         []finalValue   `json:"final"`
	EnsembleSize  []sizePoint    `json:"ensemble_size"`
	FullOrbit     []fullOrbitRow `json:"full_orbit"`
	FiniteM       []finiteM      `json:"finite_m"`
	NTKMax        *float64       `json:"ntk_max_rel_std"`
	Claims        []claim        `json:"claims"`
	Params        map[string]any `json:"params"`
}

func TestIsingTiny(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ising.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Lookup("ising")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	out := filepath.Join(dir, "out")
	env := &experiment.Env{Out: out, Scale: "quick", Log: &log, Version: "test", Command: "test"}
	if err := experiment.Run(context.Background(), e, env, cfg); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var res tinyResults
	readResults(t, out, &res)
	var keys map[string]json.RawMessage
	readResults(t, out, &keys)
	for _, k := range []string{"meta", "group", "group_order", "orbit_elements", "steps", "widths", "statistic", "sets", "train", "curves", "final", "ensemble_size", "full_orbit", "finite_m", "ntk_max_rel_std", "ntk_eta_lambda_over_n", "claims", "params"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	if res.Group != "ising:4" || res.GroupOrder != 128 {
		t.Errorf("group %s of order %d, want ising:4 of order 128", res.Group, res.GroupOrder)
	}
	if len(res.OrbitElements) != 8 || res.OrbitElements[0] != 0 {
		t.Errorf("orbit elements %v, want 8 starting with the identity", res.OrbitElements)
	}
	if len(res.Steps) < 2 || res.Steps[len(res.Steps)-1] != 16 {
		t.Errorf("steps %v, want log-spaced up to 16", res.Steps)
	}
	if len(res.Sets) != 4 {
		t.Fatalf("%d test sets, want 4", len(res.Sets))
	}
	checkCurves(t, &res)
	if len(res.Final) != 2*2*4+2*4 || len(res.FiniteM) != 2*4 || len(res.FullOrbit) != 2*4*2 || len(res.Claims) < 4 || len(res.EnsembleSize) == 0 {
		t.Errorf("final %d, finite_m %d, full_orbit %d, claims %d, ensemble_size %d rows", len(res.Final), len(res.FiniteM), len(res.FullOrbit), len(res.Claims), len(res.EnsembleSize))
	}
	for _, f := range []string{"report.html", "report.md", "tables/final.csv", "tables/finite_m.csv", "figures/relstd_id.png", "figures/relstd_random.png", "figures/mse.png", "figures/ensemble_size.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A second run reuses the members and their snapshots.
	log.Reset()
	if err := experiment.Run(context.Background(), e, env, cfg); err != nil {
		t.Fatalf("rerun: %v\n%s", err, log.String())
	}
	var res2 struct {
		Final []finalValue `json:"final"`
	}
	readResults(t, out, &res2)
	if !bytes.Contains(log.Bytes(), []byte("(3 reused)")) {
		t.Errorf("rerun did not reuse the members:\n%s", log.String())
	}
	for i := range res.Final {
		if res.Final[i].Model != "ntk" && res.Final[i].Model != "ntk_gd" && res.Final[i] != res2.Final[i] {
			t.Errorf("rerun changed %+v to %+v", res.Final[i], res2.Final[i])
		}
	}
}

// checkCurves checks the curves of the tiny run: the NTK (group-averaged
// kernel) is invariant to round-off at every step on every set; the
// members are not.
func checkCurves(t *testing.T, res *tinyResults) {
	t.Helper()
	if res.NTKMax == nil || *res.NTKMax > 1e-12 {
		t.Errorf("NTK relative std %v, want round-off (< 1e-12)", res.NTKMax)
	}
	var ntk, member, ensemble int
	for _, c := range res.Curves {
		if len(c.Mean) != len(res.Steps) || len(c.Median) != len(res.Steps) || len(c.MSE) != len(res.Steps) {
			t.Fatalf("curve %s/%d/%s has %d/%d/%d values for %d steps", c.Model, c.Width, c.Set, len(c.Mean), len(c.Median), len(c.MSE), len(res.Steps))
		}
		switch c.Model {
		case "ntk", "ntk_gd":
			ntk++
			for i, v := range c.Mean {
				if !(v < 1e-12) {
					t.Errorf("%s on %s at step %d: relative std %g, want round-off", c.Model, c.Set, res.Steps[i], v)
				}
			}
		case "member":
			member++
			for i, v := range c.Mean {
				if !(v > 1e-3) {
					t.Errorf("members of width %d on %s at step %d: relative std %g, want clearly non-zero", c.Width, c.Set, res.Steps[i], v)
				}
			}
		case "ensemble":
			ensemble++
		}
	}
	if ntk != 8 || member != 8 || ensemble != 8 {
		t.Errorf("curves: %d ntk, %d member, %d ensemble; want 8 each (2 NTK variants or 2 widths × 4 sets)", ntk, member, ensemble)
	}
}

// TestIsingConfig checks that both scales of the embedded
// experiments/ising.yaml decode strictly and validate.
func TestIsingConfig(t *testing.T) {
	for _, scale := range []string{"quick", "full"} {
		node, err := experiment.LoadConfig("ising", scale, "")
		if err != nil {
			t.Fatal(err)
		}
		var p params
		if err := experiment.DecodeParams("ising", node, &p); err != nil {
			t.Fatalf("%s: %v", scale, err)
		}
		if err := p.validate(); err != nil {
			t.Errorf("%s: %v", scale, err)
		}
	}
}

// readResults decodes out/results.json into v.
func readResults(t *testing.T, out string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}
