// Package docs holds the repository's documentation; its tests check that
// the committed results parse with the documented schema
// (results-schema.md) and that the numbers the documents quote are those
// of the committed results.
package docs

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// schemaKeys are the keys besides meta that results-schema.md promises
// for each experiment's results.json.
var schemaKeys = map[string][]string{
	"demo":               {"group", "group_order", "models", "labels", "ood_sets", "curve", "params"},
	"kernel-convergence": {"rows", "params"},
	"toy":                {"curve", "sizes", "widths", "panels", "ntk_sym_rel_max"},
	"ising":              {"curves", "final", "ensemble_size", "ntk_max_rel_std", "claims"},
	"cross-product":      {"models", "curve", "ntk_checks"},
	"fashion":            {"groups", "methods", "ood_sets", "table", "paper", "curve", "steps_curve", "so2", "archs", "timing", "params"},
	"cnn-to-gcnn":        {"datasets", "group", "group_order", "missing", "order", "params"},
	"qm9":                {"curve", "baseline", "invariance", "seconds", "kernels", "data", "spherical_signals", "params"},
	"qm9-synthetic":      {"curve", "baseline", "invariance", "seconds", "kernels", "data", "spherical_signals", "params"},
	"equivariant-ntk":    {"dataset", "group_names", "ntk", "params"},
}

// fileKeys replace schemaKeys for the committed results of a run of one
// part of an experiment (results-schema.md).
var fileKeys = map[string][]string{
	"results/fashion/results-width.json":            {"ood_sets", "width", "timing", "params"},
	"results/qm9-synthetic/results-invariance.json": {"invariance_grids", "kernels", "data", "spherical_signals", "seconds", "params"},
}

// metaKeys are the common keys of meta.
var metaKeys = []string{"experiment", "scale", "version", "backend", "cores", "seconds", "command"}

// TestResultsSchema checks every committed results*.json under results/:
// it parses, meta has the common keys, and the experiment's own keys are
// present.
func TestResultsSchema(t *testing.T) {
	files, err := filepath.Glob("results/*/results*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no committed results under docs/results")
	}
	for _, f := range files {
		var r map[string]any
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		meta, ok := r["meta"].(map[string]any)
		if !ok {
			t.Errorf("%s: no meta object", f)
			continue
		}
		for _, k := range metaKeys {
			if _, ok := meta[k]; !ok {
				t.Errorf("%s: meta has no %q", f, k)
			}
		}
		name, _ := meta["experiment"].(string)
		keys, known := schemaKeys[name]
		if fk, ok := fileKeys[filepath.ToSlash(f)]; ok {
			keys, known = fk, true
		}
		if !known {
			t.Errorf("%s: experiment %q has no documented keys here", f, name)
		}
		for _, k := range keys {
			if _, ok := r[k]; !ok {
				t.Errorf("%s: no key %q (results-schema.md)", f, k)
			}
		}
	}
}

// claim is a number quoted in a document: Quote must appear in Doc and
// contain Number, which must be the committed value rounded to the digits
// it shows. The value is read from a JSON file by a slash-separated path
// (Path) or from a CSV file by the row whose first cell is Row and the
// column named Col.
type claim struct {
	Doc, Quote, Number string
	File, Path         string
	Row, Col           string
}

var claims = []claim{
	// Demo (README table and docs/results.md).
	{Doc: "../README.md", Quote: "| MLP + DA, ensemble of 8 | 0.889 ± 0.020 | 3.84 ± 0.04", Number: "0.889", File: "results/demo/results.json", Path: "models/ensemble_da/id/accuracy/mean"},
	{Doc: "../README.md", Quote: "| MLP + DA, ensemble of 8 | 0.889 ± 0.020 | 3.84 ± 0.04", Number: "3.84", File: "results/demo/results.json", Path: "models/ensemble_da/id/osp/mean"},
	{Doc: "../README.md", Quote: "| MLP + DA, single members (mean of 8) | 0.847 ± 0.017 | 3.56 ± 0.04 | 2.60", Number: "3.56", File: "results/demo/results.json", Path: "models/member_da/id/osp/mean"},
	{Doc: "../README.md", Quote: "| MLP + DA, single members (mean of 8) | 0.847 ± 0.017 | 3.56 ± 0.04 | 2.60", Number: "2.60", File: "results/demo/results.json", Path: "models/member_da/ood/fashion-mnist/osp/mean"},
	{Doc: "../README.md", Quote: "| MLP, no DA, ensemble of 8 | 0.929 ± 0.016 | 1.51 ± 0.05", Number: "1.51", File: "results/demo/results.json", Path: "models/ensemble_noaug/id/osp/mean"},
	{Doc: "../README.md", Quote: "| GCNN (the MLP averaged over C4) ×2, no DA | 0.899", Number: "0.899", File: "results/demo/results.json", Path: "models/gcnn/id/accuracy/mean"},
	{Doc: "../README.md", Quote: "| NTK (infinite ensemble, full DA) | 0.888", Number: "0.888", File: "results/demo/results.json", Path: "models/ntk_da/id/accuracy/mean"},
	{Doc: "results.md", Quote: "(Fashion-MNIST) members 2.60, ensemble 3.42", Number: "3.42", File: "results/demo/results.json", Path: "models/ensemble_da/ood/fashion-mnist/osp/mean"},
	{Doc: "results.md", Quote: "ensemble's OSP on noise (1.91 vs 2.22)", Number: "1.91", File: "results/demo/results-purego.json", Path: "models/ensemble_noaug/ood/noise/osp/mean"},
	// Toy.
	{Doc: "results.md", Quote: "| ensemble of 128 + DA | **0.00121** | 0.0759 | 0.0307 |", Number: "0.00121", File: "results/toy/final.csv", Row: "ensemble of 128 + DA", Col: "symmetry error"},
	{Doc: "results.md", Quote: "| ensemble of 128 + DA | **0.00121** | 0.0759 | 0.0307 |", Number: "0.0307", File: "results/toy/final.csv", Row: "ensemble of 128 + DA", Col: "RMS distance to its NTK mean"},
	{Doc: "results.md", Quote: "0.0042\nfor 8", Number: "0.0042", File: "results/toy/sizes.csv", Row: "8", Col: "sym ensemble+DA"},
	{Doc: "results.md", Quote: "at most 1.3e-14 of its scale", Number: "1.3e-14", File: "results/toy/results.json", Path: "ntk_sym_rel_max"},
	{Doc: "results.md", Quote: "| NTK + DA (infinite ensemble) | 3.2e-16 | 0.0808 | 0 |", Number: "3.2e-16", File: "results/toy/final.csv", Row: "NTK + DA (infinite ensemble)", Col: "symmetry error"},
	// Ising.
	{Doc: "results.md", Quote: "| ensemble of 32 | 2048 | 0.00895 | 0.0022 | 0.050 | 0.0765 |", Number: "0.00895", File: "results/ising/final.csv", Row: "ensemble,2048", Col: "id"},
	{Doc: "results.md", Quote: "| ensemble of 32 | 2048 | 0.00895 | 0.0022 | 0.050 | 0.0765 |", Number: "0.0765", File: "results/ising/final.csv", Row: "ensemble,2048", Col: "random"},
	{Doc: "results.md", Quote: "| member | 512 | 0.0406 | 0.0102 | 0.242 | 0.347 |", Number: "0.347", File: "results/ising/final.csv", Row: "member,512", Col: "random"},
	{Doc: "results.md", Quote: "(largest relative std 4.8e-15)", Number: "4.8e-15", File: "results/ising/results.json", Path: "ntk_max_rel_std"},
	// Cross products.
	{Doc: "results.md", Quote: "| ensemble of 32 + DA so3:64 | **0.0124** | **0.0121** |", Number: "0.0124", File: "results/cross-product/results.json", Path: "models/ensemble_da_so3:64:1/on/eq_err/mean"},
	{Doc: "results.md", Quote: "| ensemble of 32 + DA oct | 0.0129 | 0.0145 |", Number: "0.0145", File: "results/cross-product/results.json", Path: "models/ensemble_da_oct/off/eq_err/mean"},
	{Doc: "results.md", Quote: "averaged kernel gives the augmented kernel's prediction to 2.4e-14", Number: "2.4e-14", File: "results/cross-product/results.json", Path: "ntk_checks/1/averaged_vs_expanded_inf"},
	{Doc: "results.md", Quote: "not even symmetric (0.64)", Number: "0.64", File: "results/cross-product/results.json", Path: "ntk_checks/0/averaged_asymmetry"},
	// Fashion-MNIST.
	{Doc: "results.md", Quote: "| C4 | DeepEns+DA | 3.85 ± 0.12 | 3.50 ± 0.04 |", Number: "3.50", File: "results/fashion/results.json", Path: "table/c4/deepens_da/osp_ood"},
	{Doc: "results.md", Quote: "| C16 | DeepEns+DA | 15.24 ± 0.69 | 14.70 ± 0.24 |", Number: "14.70", File: "results/fashion/results.json", Path: "table/c16/deepens_da/osp_ood"},
	{Doc: "results.md", Quote: "0.821 / 0.795 / 0.780 for C4 / C8 / C16, against 0.803 / 0.760 / 0.717", Number: "0.780", File: "results/fashion/results.json", Path: "table/c16/e2cnn/accuracy"},
	{Doc: "results.md", Quote: "0.821 / 0.795 / 0.780 for C4 / C8 / C16, against 0.803 / 0.760 / 0.717", Number: "0.821", File: "results/fashion/results.json", Path: "table/c4/e2cnn/accuracy"},
	{Doc: "results.md", Quote: "0.821 / 0.795 / 0.780 for C4 / C8 / C16, against 0.803 / 0.760 / 0.717", Number: "0.717", File: "results/fashion/results.json", Path: "table/c16/only_da/accuracy"},
	{Doc: "results.md", Quote: "| C16 | 1000 | 13.02 ± 0.66 | 14.74 ± 0.22 |", Number: "14.74", File: "results/fashion/osp_vs_steps.csv", Row: "C16,1000", Col: "ensembles OSP OOD"},
	{Doc: "results.md", Quote: "| C4 | 0 | 2.63 ± 0.48 | 2.71 ± 0.51 | 2.62 |", Number: "2.62", File: "results/fashion/results.json", Path: "steps_curve/c4/0/ensembles/chance/pooled"},
	// Fashion-MNIST, OSP against width (a separate run).
	{Doc: "results.md", Quote: "| 0.25 | 4/8/8 | 4850 | 12.25 ± 0.66 | 14.24 ± 0.31 | 6.60 | 12.00 ± 0.26 | 13.83 ± 0.09 |", Number: "12.25", File: "results/fashion/results-width.json", Path: "width/points/0/members/osp_ood"},
	{Doc: "results.md", Quote: "| 0.25 | 4/8/8 | 4850 | 12.25 ± 0.66 | 14.24 ± 0.31 | 6.60 | 12.00 ± 0.26 | 13.83 ± 0.09 |", Number: "14.24", File: "results/fashion/results-width.json", Path: "width/points/0/ensembles/osp_ood"},
	{Doc: "results.md", Quote: "| 0.25 | 4/8/8 | 4850 | 12.25 ± 0.66 | 14.24 ± 0.31 | 6.60 | 12.00 ± 0.26 | 13.83 ± 0.09 |", Number: "6.60", File: "results/fashion/results-width.json", Path: "width/points/0/ensembles/chance/pooled"},
	{Doc: "results.md", Quote: "| 0.25 | 4/8/8 | 4850 | 12.25 ± 0.66 | 14.24 ± 0.31 | 6.60 | 12.00 ± 0.26 | 13.83 ± 0.09 |", Number: "13.83", File: "results/fashion/results-width.json", Path: "width/points/0/ensembles/osp_id"},
	{Doc: "results.md", Quote: "| 1 | 16/32/32 | 29738 | 12.93 ± 0.75 | 14.74 ± 0.28 |", Number: "12.93", File: "results/fashion/results-width.json", Path: "width/points/2/members/osp_ood"},
	{Doc: "results.md", Quote: "| 1 | 16/32/32 | 29738 | 12.93 ± 0.75 | 14.74 ± 0.28 |", Number: "14.74", File: "results/fashion/results-width.json", Path: "width/points/2/ensembles/osp_ood"},
	{Doc: "results.md", Quote: "| 2 | 32/64/64 | 87114 | 12.76 ± 0.63 | 14.49 ± 0.27 | 6.69 | 12.79 ± 0.20 | 14.43 ± 0.16 | 0.736 ± 0.020 | 0.782 ± 0.005 |", Number: "87114", File: "results/fashion/results-width.json", Path: "width/points/3/parameters"},
	{Doc: "results.md", Quote: "| 2 | 32/64/64 | 87114 | 12.76 ± 0.63 | 14.49 ± 0.27 | 6.69 | 12.79 ± 0.20 | 14.43 ± 0.16 | 0.736 ± 0.020 | 0.782 ± 0.005 |", Number: "14.49", File: "results/fashion/results-width.json", Path: "width/points/3/ensembles/osp_ood"},
	{Doc: "results.md", Quote: "| 2 | 32/64/64 | 87114 | 12.76 ± 0.63 | 14.49 ± 0.27 | 6.69 | 12.79 ± 0.20 | 14.43 ± 0.16 | 0.736 ± 0.020 | 0.782 ± 0.005 |", Number: "12.79", File: "results/fashion/results-width.json", Path: "width/points/3/members/osp_id"},
	{Doc: "results.md", Quote: "| 2 | 32/64/64 | 87114 | 12.76 ± 0.63 | 14.49 ± 0.27 | 6.69 | 12.79 ± 0.20 | 14.43 ± 0.16 | 0.736 ± 0.020 | 0.782 ± 0.005 |", Number: "14.43", File: "results/fashion/results-width.json", Path: "width/points/3/ensembles/osp_id"},
	{Doc: "results.md", Quote: "| 2 | 32/64/64 | 87114 | 12.76 ± 0.63 | 14.49 ± 0.27 | 6.69 | 12.79 ± 0.20 | 14.43 ± 0.16 | 0.736 ± 0.020 | 0.782 ± 0.005 |", Number: "0.782", File: "results/fashion/results-width.json", Path: "width/points/3/ensembles/accuracy"},
	{Doc: "results.md", Quote: "driven by the blurred noise (ensembles 12.90 / 13.49 / 14.09 / 13.69", Number: "12.90", File: "results/fashion/results-width.json", Path: "width/points/0/ensembles/osp_ood_by_set/blurred-noise"},
	{Doc: "results.md", Quote: "driven by the blurred noise (ensembles 12.90 / 13.49 / 14.09 / 13.69", Number: "14.09", File: "results/fashion/results-width.json", Path: "width/points/2/ensembles/osp_ood_by_set/blurred-noise"},
	{Doc: "results.md", Quote: "Run time **3017 s** wall (50 min)", Number: "3017", File: "results/fashion/results-width.json", Path: "meta/seconds"},
	// Kernel convergence.
	{Doc: "results.md", Quote: "| MLP | 16384 | 281 329 665 | **0.019 ± 0.005** | 0.006 | 0.024 ± 0.006 |", Number: "0.019", File: "results/kernel-convergence/convergence.csv", Row: "MLP,16384", Col: "NTK error"},
	{Doc: "results.md", Quote: "| CNN | 4096 | 151 044 097 | **0.027 ± 0.019** | 0.012 | 0.027 ± 0.021 |", Number: "0.027", File: "results/kernel-convergence/convergence.csv", Row: "CNN,4096", Col: "NTK error"},
	{Doc: "results.md", Quote: "| CNN | 4096 | 151 044 097 | **0.027 ± 0.019** | 0.012 | 0.027 ± 0.021 |", Number: "0.012", File: "results/kernel-convergence/convergence.csv", Row: "CNN,4096", Col: "NTK error of the mean"},
	{Doc: "results.md", Quote: "| C4 GCNN | 4096 | 37 761 025 | **0.056 ± 0.027** | 0.016 | 0.048 ± 0.030 |", Number: "0.056", File: "results/kernel-convergence/convergence.csv", Row: "C4 GCNN,4096", Col: "NTK error"},
	{Doc: "results.md", Quote: "Run time **2969 s (49.5 min)**", Number: "2969", File: "results/kernel-convergence/results.json", Path: "meta/seconds"},
	{Doc: "results.md", Quote: "| MLP | 16384 | 269 287 425 | **0.018 ± 0.004** | 0.004 | 0.023 ± 0.008 |", Number: "0.018", File: "results/kernel-convergence/convergence-pooled.csv", Row: "MLP,16384", Col: "NTK error"},
	{Doc: "results.md", Quote: "| CNN | 4096 | 151 044 097 | **0.023 ± 0.017** | 0.003 | 0.020 ± 0.017 |", Number: "0.023", File: "results/kernel-convergence/convergence-pooled.csv", Row: "CNN,4096", Col: "NTK error"},
	{Doc: "results.md", Quote: "| C4 GCNN | 8192 | 151 019 521 | **0.030 ± 0.023** (0.0296) | 0.003 | 0.029 ± 0.031 |", Number: "0.0296", File: "results/kernel-convergence/convergence-pooled.csv", Row: "C4 GCNN,8192", Col: "NTK error"},
	{Doc: "results.md", Quote: "| C4 GCNN | 8192 | 151 019 521 | **0.030 ± 0.023** (0.0296) | 0.003 | 0.029 ± 0.031 |", Number: "0.003", File: "results/kernel-convergence/convergence-pooled.csv", Row: "C4 GCNN,8192", Col: "NTK error of the mean"},
	// CNN ensembles to GCNNs.
	{Doc: "results.md", Quote: "| CNN + DA ensemble (32) | GCNN ensemble (16) | 0.984 ± 0.005 | 0.756 ± 0.014 | 0.276 ± 0.001 | 0.378 ± 0.002 |", Number: "0.984", File: "results/cnn-to-gcnn/results.json", Path: "datasets/mnist/compare/0/agree_id/mean"},
	{Doc: "results.md", Quote: "| CNN + DA ensemble (32) | GCNN ensemble (16) | 0.984 ± 0.005 | 0.756 ± 0.014 | 0.276 ± 0.001 | 0.378 ± 0.002 |", Number: "0.756", File: "results/cnn-to-gcnn/results.json", Path: "datasets/mnist/compare/0/agree_ood/mean"},
	{Doc: "results.md", Quote: "| CNN + DA, ensemble of 32 | 0.959 ± 0.009 | **3.97** ± 0.01 | **3.78** ± 0.04 |", Number: "3.78", File: "results/cnn-to-gcnn/results.json", Path: "datasets/mnist/models/cnn_da/ood/fashion-mnist/osp/mean"},
	{Doc: "results.md", Quote: "equals the mirrored GCNN's to 7.9e-13", Number: "7.9e-13", File: "results/cnn-to-gcnn/kernels.csv", Row: "mnist,NTK: averaged CNN vs GCNN", Col: "result"},
	{Doc: "results.md", Quote: "to 7.2e-12 at a finite training time and 8.4e-11 at t = ∞", Number: "8.4e-11", File: "results/cnn-to-gcnn/results.json", Path: "datasets/mnist/ntk/max_diff_inf"},
	{Doc: "results.md", Quote: "(accuracy 0.716 each)", Number: "0.716", File: "results/cnn-to-gcnn/results.json", Path: "datasets/mnist/ntk/accuracy_gcnn"},
	{Doc: "results.md", Quote: "Run time **2782 s (46.4 min)**", Number: "2782", File: "results/cnn-to-gcnn/results.json", Path: "meta/seconds"},
	{Doc: "results.md", Quote: "0.639 to 0.756 out of distribution", Number: "0.639", File: "results/cnn-to-gcnn/mnist-curve.csv", Row: "DA,1", Col: "agreement OOD"},
	// Synthetic molecules.
	{Doc: "results.md", Quote: "| 2000 | 1285.2 | 1355.8 | 1009.4 | 921.1 | 1142.6 | 655.3 | **276.9** |", Number: "276.9", File: "results/qm9-synthetic/curve.csv", Row: "2000", Col: "so3"},
	{Doc: "results.md", Quote: "| 2000 | 655.3 | 276.9 | **260.0** |", Number: "260.0", File: "results/qm9-synthetic/curve-quadratic.csv", Row: "2000", Col: "so3q"},
	{Doc: "results.md", Quote: "| 2000 | 655.3 | 276.9 | **260.0** |", Number: "655.3", File: "results/qm9-synthetic/curve-quadratic.csv", Row: "2000", Col: "mlp"},
	{Doc: "results.md", Quote: "| 1000 | 700.4 | 330.6 | 291.6 |", Number: "291.6", File: "results/qm9-synthetic/curve-quadratic.csv", Row: "1000", Col: "so3q"},
	{Doc: "results.md", Quote: "| 250 | 924.8 | 382.7 | 494.7 |", Number: "494.7", File: "results/qm9-synthetic/curve-quadratic.csv", Row: "250", Col: "so3q"},
	{Doc: "../README.md", Quote: "0.800 and 0.760 against 0.575 at 300", Number: "0.800", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/curve/14/accuracy"},
	{Doc: "../README.md", Quote: "0.885 and 0.880 against 0.805 at 1000 training images", Number: "0.885", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/20/accuracy"},
	{Doc: "../README.md", Quote: "0.885 and 0.880 against 0.805 at 1000 training images", Number: "0.880", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/13/accuracy"},
	{Doc: "../README.md", Quote: "0.885 and 0.880 against 0.805 at 1000 training images", Number: "0.805", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/6/accuracy"},
	{Doc: "../README.md", Quote: "0.800 and 0.760 against 0.575 at 300", Number: "0.575", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/curve/4/accuracy"},
	{Doc: "../README.md", Quote: "0.585 and 0.565 against 0.530 at 400", Number: "0.585", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/14/accuracy"},
	{Doc: "../README.md", Quote: "0.585 and 0.565 against 0.530 at 400", Number: "0.565", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/9/accuracy"},
	{Doc: "../README.md", Quote: "0.585 and 0.565 against 0.530 at 400", Number: "0.530", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/4/accuracy"},
	{Doc: "results.md", Quote: "| 300 | 0.575 | 0.760 | **0.800** |", Number: "0.575", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/curve/4/accuracy"},
	{Doc: "results.md", Quote: "| 300 | 0.575 | 0.760 | **0.800** |", Number: "0.760", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/curve/9/accuracy"},
	{Doc: "results.md", Quote: "| 300 | 0.575 | 0.760 | **0.800** |", Number: "0.800", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/curve/14/accuracy"},
	{Doc: "results.md", Quote: "| 100 | 0.410 | 0.595 | 0.660 |", Number: "0.660", File: "results/equivariant-ntk/ntk-curve-pooled.csv", Row: "100", Col: "d4 GCNN NTK"},
	{Doc: "results.md", Quote: "| 200 | 0.505 | 0.710 | 0.770 |", Number: "0.770", File: "results/equivariant-ntk/ntk-curve-pooled.csv", Row: "200", Col: "d4 GCNN NTK"},
	{Doc: "results.md", Quote: "| 200 | 0.465 | 0.520 | 0.535 |", Number: "0.465", File: "results/equivariant-ntk/ntk-curve.csv", Row: "200", Col: "CNN NTK"},
	{Doc: "results.md", Quote: "| CNN NTK | 2.60 | 4.86 |", Number: "4.86", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/osp/cnn/d4"},
	{Doc: "results.md", Quote: "| C4 GCNN NTK | 4.00 | 7.36 |", Number: "7.36", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/osp/gcnn-c4/d4"},
	{Doc: "results.md", Quote: "checked to 1.8e-12), training sizes to 300", Number: "1.8e-12", File: "results/equivariant-ntk/results-pooled.json", Path: "ntk/identity/d4"},
	{Doc: "results.md", Quote: "Run time **1949 s (32 min)**", Number: "1949", File: "results/equivariant-ntk/results-pooled.json", Path: "meta/seconds"},
	{Doc: "results.md", Quote: "| 1000 | 0.805 | 0.880 | **0.885** |", Number: "0.805", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/6/accuracy"},
	{Doc: "results.md", Quote: "| 1000 | 0.805 | 0.880 | **0.885** |", Number: "0.880", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/13/accuracy"},
	{Doc: "results.md", Quote: "| 1000 | 0.805 | 0.880 | **0.885** |", Number: "0.885", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/curve/20/accuracy"},
	{Doc: "results.md", Quote: "| 300 | 0.615 | 0.775 | 0.800 |", Number: "0.615", File: "results/equivariant-ntk/ntk-curve-1000.csv", Row: "300", Col: "CNN NTK"},
	{Doc: "results.md", Quote: "| 300 | 0.615 | 0.775 | 0.800 |", Number: "0.800", File: "results/equivariant-ntk/ntk-curve-1000.csv", Row: "300", Col: "d4 GCNN NTK"},
	{Doc: "results.md", Quote: "| 500 | 0.690 | 0.835 | 0.855 |", Number: "0.855", File: "results/equivariant-ntk/ntk-curve-1000.csv", Row: "500", Col: "d4 GCNN NTK"},
	{Doc: "results.md", Quote: "| 500 | 0.690 | 0.835 | 0.855 |", Number: "0.690", File: "results/equivariant-ntk/ntk-curve-1000.csv", Row: "500", Col: "CNN NTK"},
	{Doc: "results.md", Quote: "| 100 | 0.520 | 0.615 | 0.660 |", Number: "0.615", File: "results/equivariant-ntk/ntk-curve-1000.csv", Row: "100", Col: "c4 GCNN NTK"},
	{Doc: "results.md", Quote: "| CNN NTK | 3.33 | 6.50 |", Number: "3.33", File: "results/equivariant-ntk/ntk-osp-1000.csv", Row: "CNN NTK", Col: "OSP c4 (max 4)"},
	{Doc: "results.md", Quote: "| CNN NTK | 3.33 | 6.50 |", Number: "6.50", File: "results/equivariant-ntk/ntk-osp-1000.csv", Row: "CNN NTK", Col: "OSP d4 (max 8)"},
	{Doc: "results.md", Quote: "| C4 GCNN NTK | 4.00 | 7.70 |", Number: "7.70", File: "results/equivariant-ntk/ntk-osp-1000.csv", Row: "c4 GCNN NTK", Col: "OSP d4 (max 8)"},
	{Doc: "results.md", Quote: "The averaged kernels equal the GCNN NTKs to 1.2e-14", Number: "1.2e-14", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/identity/d4"},
	{Doc: "results.md", Quote: "both inputs to 3.7e-16", Number: "3.7e-16", File: "results/equivariant-ntk/results-1000.json", Path: "ntk/invariance"},
	{Doc: "results.md", Quote: "`meta.seconds` (2800 s) is the last segment's", Number: "2800", File: "results/equivariant-ntk/results-1000.json", Path: "meta/seconds"},
	{Doc: "results.md", Quote: "| 400 | 0.530 | 0.565 | **0.585** |", Number: "0.530", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/4/accuracy"},
	{Doc: "results.md", Quote: "| 400 | 0.530 | 0.565 | **0.585** |", Number: "0.565", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/9/accuracy"},
	{Doc: "results.md", Quote: "| 400 | 0.530 | 0.565 | **0.585** |", Number: "0.585", File: "results/equivariant-ntk/results.json", Path: "ntk/curve/14/accuracy"},
	{Doc: "results.md", Quote: "| 50 | 0.370 | 0.425 | 0.415 |", Number: "0.425", File: "results/equivariant-ntk/ntk-curve.csv", Row: "50", Col: "c4 GCNN NTK"},
	{Doc: "results.md", Quote: "| CNN NTK | 2.88 | 5.34 |", Number: "5.34", File: "results/equivariant-ntk/results.json", Path: "ntk/osp/cnn/d4"},
	{Doc: "results.md", Quote: "| C4 GCNN NTK | 4.00 | 7.14 |", Number: "7.14", File: "results/equivariant-ntk/results.json", Path: "ntk/osp/gcnn-c4/d4"},
	{Doc: "results.md", Quote: "2 test images: max relative difference 9.5e-13", Number: "9.5e-13", File: "results/equivariant-ntk/results.json", Path: "ntk/identity/d4"},
	{Doc: "results.md", Quote: "(to 6.1e-15 here;", Number: "6.1e-15", File: "results/equivariant-ntk/results.json", Path: "ntk/invariance"},
	{Doc: "results.md", Quote: "Run time **4430 s (74 min)**", Number: "4430", File: "results/equivariant-ntk/results.json", Path: "meta/seconds"},
	{Doc: "results.md", Quote: "| per-atom SO(3) net (quadratic) | 1.31e-08 | 1.29e-08 | **2.5e-15** | 2.4e-15 |", Number: "2.5e-15", File: "results/qm9-synthetic/results-quadratic.json", Path: "invariance/so3q/kernel_random"},
	{Doc: "results.md", Quote: "| per-atom SO(3) net (quadratic) | 1.31e-08 | 1.29e-08 | **2.5e-15** | 2.4e-15 |", Number: "1.31e-08", File: "results/qm9-synthetic/results-quadratic.json", Path: "invariance/so3q/random"},
	{Doc: "results.md", Quote: "| per-atom SO(3) net (quadratic) | 1.31e-08 | 1.29e-08 | **2.5e-15** | 2.4e-15 |", Number: "2.4e-15", File: "results/qm9-synthetic/results-quadratic.json", Path: "invariance/so3q/kernel_oct"},
	{Doc: "results.md", Quote: "| 2000 | 1285.2 | 1355.8 | 1009.4 | 921.1 | 1142.6 | 655.3 | **276.9** |", Number: "655.3", File: "results/qm9-synthetic/curve.csv", Row: "2000", Col: "mlp"},
	{Doc: "results.md", Quote: "| 1000 | 1292.0 | 1426.1 | 1082.0 | 1034.9 | 1223.0 | 700.4 | 330.6 |", Number: "330.6", File: "results/qm9-synthetic/curve.csv", Row: "1000", Col: "so3"},
	{Doc: "results.md", Quote: "| per-atom SO(3) net | 91.4 | 117 | 0.0044 | 0.0052 |", Number: "0.0044", File: "results/qm9-synthetic/results.json", Path: "invariance/so3/kernel_random"},
	{Doc: "results.md", Quote: "| icosahedron (60) | 50.4 | 25.3 | 0.00057 | 0.00064 |", Number: "0.00057", File: "results/qm9-synthetic/results.json", Path: "invariance/ico/kernel_random"},
	{Doc: "results.md", Quote: "| cube (24) | 106 | 1.26e-09 | 0.0063 | 5.4e-16 |", Number: "5.4e-16", File: "results/qm9-synthetic/results.json", Path: "invariance/oct/kernel_oct"},
	// Synthetic molecules: invariance against the activation grid (rows of invariance_grids: so3 erf 0-6, relu 7-11, none 12; so3w erf 13-17).
	{Doc: "results.md", Quote: "| 3 (75) | 0.0035 | 0.00093 | 4.2e-05 | 0.0305 |", Number: "0.0035", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/0/kernel_random"},
	{Doc: "results.md", Quote: "| 3 (75) | 0.0035 | 0.00093 | 4.2e-05 | 0.0305 |", Number: "0.00093", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/7/kernel_random"},
	{Doc: "results.md", Quote: "| 3 (75) | 0.0035 | 0.00093 | 4.2e-05 | 0.0305 |", Number: "4.2e-05", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/13/kernel_random"},
	{Doc: "results.md", Quote: "| 3 (75) | 0.0035 | 0.00093 | 4.2e-05 | 0.0305 |", Number: "0.0305", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/0/ms_per_entry"},
	{Doc: "results.md", Quote: "| 6 (726) | 5.7e-05 | 3.6e-06 | 7.4e-11 | 2.58 |", Number: "5.7e-05", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/3/kernel_random"},
	{Doc: "results.md", Quote: "| 6 (726) | 5.7e-05 | 3.6e-06 | 7.4e-11 | 2.58 |", Number: "3.6e-06", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/10/kernel_random"},
	{Doc: "results.md", Quote: "| 6 (726) | 5.7e-05 | 3.6e-06 | 7.4e-11 | 2.58 |", Number: "7.4e-11", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/16/kernel_random"},
	{Doc: "results.md", Quote: "| 6 (726) | 5.7e-05 | 3.6e-06 | 7.4e-11 | 2.58 |", Number: "2.58", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/3/ms_per_entry"},
	{Doc: "results.md", Quote: "| 8 (1800) | 5.5e-06 | 5.4e-07 | **2.0e-14** | 6.41 |", Number: "5.4e-07", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/11/kernel_random"},
	{Doc: "results.md", Quote: "| 8 (1800) | 5.5e-06 | 5.4e-07 | **2.0e-14** | 6.41 |", Number: "2.0e-14", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/17/kernel_random"},
	{Doc: "results.md", Quote: "| 8 (1800) | 5.5e-06 | 5.4e-07 | **2.0e-14** | 6.41 |", Number: "6.41", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/4/ms_per_entry"},
	{Doc: "results.md", Quote: "| 12 (6348) | 1.5e-07 | – | – | 65.7 |", Number: "1.5e-07", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/6/kernel_random"},
	{Doc: "results.md", Quote: "| 12 (6348) | 1.5e-07 | – | – | 65.7 |", Number: "65.7", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/6/ms_per_entry"},
	{Doc: "results.md", Quote: "network is invariant to round-off at every grid (1.4e-15)", Number: "1.4e-15", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/12/kernel_random"},
	{Doc: "results.md", Quote: "by\n  0.029 of their scale (`kernel_finest`)", Number: "0.029", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/0/kernel_finest"},
	{Doc: "kernels.md", Quote: "by 7.4e-11 at L_g = 6 and\n2.0e-14, round-off, at L_g = 8", Number: "2.0e-14", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/17/kernel_random"},
	{Doc: "kernels.md", Quote: "1.5e-7 at L_g = 12", Number: "1.5e-7", File: "results/qm9-synthetic/results-invariance.json", Path: "invariance_grids/6/kernel_random"},
}

// TestClaims checks every quoted number against the committed results.
func TestClaims(t *testing.T) {
	docs := map[string]string{}
	for _, c := range claims {
		name := fmt.Sprintf("%s %q", c.Doc, c.Number)
		text, ok := docs[c.Doc]
		if !ok {
			b, err := os.ReadFile(c.Doc)
			if err != nil {
				t.Fatal(err)
			}
			text = strings.Join(strings.Fields(string(b)), " ")
			docs[c.Doc] = text
		}
		quote := strings.Join(strings.Fields(c.Quote), " ")
		if !strings.Contains(text, quote) || !strings.Contains(quote, c.Number) {
			t.Errorf("%s: %q is not in the document (or does not contain the number)", name, c.Quote)
			continue
		}
		v, err := c.value()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !matches(c.Number, v) {
			t.Errorf("%s: the committed value is %v", name, v)
		}
	}
}

// value reads the claim's number from its file.
func (c claim) value() (float64, error) {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return 0, err
	}
	if c.Path != "" {
		var r any
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, fmt.Errorf("%s: %v", c.File, err)
		}
		for _, k := range strings.Split(c.Path, "/") {
			switch n := r.(type) {
			case map[string]any:
				r = n[k]
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= len(n) {
					return 0, fmt.Errorf("%s: no element %q in %s", c.File, k, c.Path)
				}
				r = n[i]
			}
		}
		f, ok := r.(float64)
		if !ok {
			return 0, fmt.Errorf("%s: %s is not a number (%v)", c.File, c.Path, r)
		}
		return f, nil
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) == 0 {
		return 0, fmt.Errorf("%s: %v", c.File, err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == c.Col {
			col = i
		}
	}
	key := strings.Split(c.Row, ",")
	for _, r := range rows[1:] {
		if col >= 0 && len(r) > col && len(r) >= len(key) && strings.Join(r[:len(key)], ",") == c.Row {
			return strconv.ParseFloat(strings.Fields(r[col])[0], 64)
		}
	}
	return 0, fmt.Errorf("%s: no row %q with column %q", c.File, c.Row, c.Col)
}

// matches reports whether v rounds to the number as written: within half
// a unit of its last digit.
func matches(num string, v float64) bool {
	want, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return false
	}
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		exp, _ = strconv.Atoi(num[i+1:])
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	unit := math.Pow(10, float64(exp-decimals))
	return math.Abs(v-want) <= 0.5*unit*(1+1e-9)
}
