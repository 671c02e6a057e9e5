package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment"
	"go.yaml.in/yaml/v3"
)

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
		{"name: demo\nquick:\n  group: c4\n  seeds: 3\n", "field seeds not found in type demo.params", true},
		{"name: demo\nquick:\n  train_size: many\n", "cannot unmarshal !!str `many` into int", true},
		{"name: demo\nfull: {}\n", "missing parameters for this scale", true},
	} {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		node, err := experiment.LoadConfig("demo", "quick", path)
		if tc.decode {
			if err != nil {
				t.Fatalf("%q: %v", tc.src, err)
			}
			err = experiment.DecodeParams("demo", node, new(params))
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := experiment.LoadConfig("demo", "huge", ""); err == nil || !strings.Contains(err.Error(), "--scale") {
		t.Errorf("unknown scale: %v", err)
	}
	var n yaml.Node
	if err := experiment.DecodeParams("demo", &n, new(params)); err == nil {
		t.Error("decodeParams accepted an empty node")
	}
}
