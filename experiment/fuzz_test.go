package experiment

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/eqens/eqens/experiments"
)

// FuzzLoadConfig feeds LoadConfig (with --config FILE, as "eqens reproduce
// NAME --config FILE" does) arbitrary YAML, and decodes the parameters of
// the scale it returns as the experiment would (decodeParams, into the
// experiment's parameter struct where this test knows it). Any input must
// give parameters or an error, never a panic, and allocate in proportion
// to its size (no alias bombs). Fuzz it with
//
//	go test -run '^$' -fuzz '^FuzzLoadConfig$' -fuzztime 5m ./experiment/
func FuzzLoadConfig(f *testing.F) {
	ents, err := experiments.Files.ReadDir(".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		b, err := experiments.Files.ReadFile(e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), false)
		f.Add(b, uint8(1), true)
	}
	for _, s := range []string{
		"",
		"name: demo\n",
		"name: demo\nquick: {group: c4, train_size: -1, sizes: [1, 2]}\nfull: 3\n",
		"name: demo\nquick: {group: c4, unknown_key: 1}\n",
		"name: demo\nquick: {mlp: {optimizer: {name: adam, lr: fast}}}\n",
		"name: kernel-convergence\nquick: {inputs: 8, archs: [{name: MLP, spec: \"dense({w}),relu,dense(1)\", widths: [1, 2]}]}\n",
		"name: kernel-convergence\nquick: {archs: {name: MLP}}\n",
		"name: nope\ndescription: 1\n",
		"name: demo\nextra: 1\n",
		"name: demo\nquick: &a {seed: 1}\nfull: *a\n",
		"a: &a [*a]\n",
		"name: demo\nquick:\n  sizes: &x [1, 1, 1, 1, 1, 1, 1, 1]\n  mlp: {members: *x}\n",
		"name: [demo]\n",
		"\xff\xfe\x00",
	} {
		f.Add([]byte(s), uint8(0), false)
	}
	names := []string{"demo", "kernel-convergence"}
	for _, e := range List() {
		if e.Name != "demo" && e.Name != "kernel-convergence" {
			names = append(names, e.Name)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, which uint8, full bool) {
		if len(src) > 1<<16 {
			return
		}
		name := names[int(which)%len(names)]
		scale := "quick"
		if full {
			scale = "full"
		}
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		node, err := LoadConfig(name, scale, path)
		if err == nil {
			if node == nil {
				t.Fatal("LoadConfig returned neither parameters nor an error")
			}
			var dst any
			switch name {
			case "demo":
				dst = new(demoParams)
			case "kernel-convergence":
				dst = new(convParams)
			default:
				dst = new(map[string]any)
			}
			err = DecodeParams(name, node, dst)
			if err != nil && !strings.Contains(err.Error(), "experiments/"+name+".yaml") {
				t.Errorf("decodeParams error %q does not name the config", err)
			}
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("LoadConfig error %q does not name the file", err)
		}
		runtime.ReadMemStats(&b)
		if n, limit := b.TotalAlloc-a.TotalAlloc, 32<<20+256*uint64(len(src)); n > limit {
			t.Fatalf("%d bytes of YAML allocated %d (limit %d); err = %v", len(src), n, limit, err)
		}
	})
}

// TestLoadConfigErrors checks the messages of bad experiment configs: each
// names the file and, where the YAML parser knows it, the line.
func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		src, want string
		decode    bool
	}{
		{"name: demo\nquick: {}\nfull: {}\nextra: 1\n", "line 4: field extra not found", false},
		{"name: toy\n", `names experiment "toy", want "demo"`, false},
		{"name: demo\nquick:\n  group: c4\n  seeds: 3\n", "field seeds not found in type experiment.demoParams", true},
		{"name: demo\nquick:\n  train_size: many\n", "cannot unmarshal !!str `many` into int", true},
		{"name: demo\nfull: {}\n", "missing parameters for this scale", true},
	} {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		node, err := LoadConfig("demo", "quick", path)
		if tc.decode {
			if err != nil {
				t.Fatalf("%q: %v", tc.src, err)
			}
			err = DecodeParams("demo", node, new(demoParams))
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := LoadConfig("demo", "huge", ""); err == nil || !strings.Contains(err.Error(), "--scale") {
		t.Errorf("unknown scale: %v", err)
	}
	var n yaml.Node
	if err := DecodeParams("demo", &n, new(demoParams)); err == nil {
		t.Error("decodeParams accepted an empty node")
	}
}
