package experiment_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment"
	_ "github.com/eqens/eqens/experiment/all"
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
	for _, e := range experiment.List() {
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
		node, err := experiment.LoadConfig(name, scale, path)
		if err == nil {
			if node == nil {
				t.Fatal("LoadConfig returned neither parameters nor an error")
			}
			err = experiment.DecodeParams(name, node, new(map[string]any))
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
