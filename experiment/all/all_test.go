package all

import (
	"go/build"
	"slices"
	"strings"
	"testing"

	"github.com/eqens/eqens/experiment"
)

// TestNoExperimentImportsAnother checks the layering of the experiments:
// each experiment package imports the core (and the packages below it),
// never another experiment.
func TestNoExperimentImportsAnother(t *testing.T) {
	const root = "github.com/eqens/eqens/experiment/"
	pkg, err := build.Import(root+"all", ".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) < 10 {
		t.Fatalf("experiment/all imports %d packages, want the ten experiments", len(pkg.Imports))
	}
	for _, path := range pkg.Imports {
		p, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range slices.Concat(p.Imports, p.TestImports) {
			if strings.HasPrefix(imp, root) && imp != root+"experimenttest" {
				t.Errorf("%s imports %s: experiments share code through the core package experiment only", path, imp)
			}
		}
	}
}

// TestAllRegistered checks that importing this package registers every
// experiment that has a configuration.
func TestAllRegistered(t *testing.T) {
	var names []string
	for _, e := range experiment.List() {
		names = append(names, e.Name)
		if _, err := experiment.LoadConfig(e.Name, "quick", ""); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
	want := []string{"cnn-to-gcnn", "cross-product", "demo", "equivariant-ntk", "fashion", "histology", "ising", "kernel-convergence", "qm9", "qm9-synthetic", "toy"}
	if !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}
}
