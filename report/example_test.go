package report_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/eqens/eqens/report"
)

func Example() {
	dir, err := os.MkdirTemp("", "report-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	one := 1.0
	r := &report.Report{
		Title: "Data augmentation on MNIST",
		Intro: "Test accuracy of deep ensembles trained with **C4 augmentation**.",
		Meta:  map[string]string{"command": "eqens demo", "version": "v0.1.0", "date": "2025-01-01"},
		Sections: []report.Section{{
			Heading: "Accuracy",
			Tables: []report.Table{{
				Name:    "accuracy",
				Caption: "Test accuracy by ensemble size.",
				Columns: []string{"members", "accuracy"},
				Rows:    [][]string{{"1", "0.962 ± 0.004"}, {"10", "0.981 ± 0.002"}, {"100", "0.984"}},
			}},
			Figures: []report.Figure{{
				Name:    "accuracy",
				Caption: "Test accuracy against ensemble size; the band is ±1 s.d. over seeds.",
				Plot: &report.Plot{
					XLabel: "ensemble size",
					YLabel: "test accuracy",
					LogX:   true,
					YMax:   &one,
					Series: []report.Series{{
						Name:   "DeepEns+DA",
						X:      []float64{1, 10, 100},
						Y:      []float64{0.962, 0.981, 0.984},
						Lo:     []float64{0.958, 0.979, 0.983},
						Hi:     []float64{0.966, 0.983, 0.985},
						Points: true,
					}},
					HLines: []report.RefLine{{Y: 1, Label: "perfect"}},
				},
			}},
		}},
	}
	if err := r.Write(dir); err != nil {
		log.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			fmt.Println(filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// figures/accuracy.png
	// figures/accuracy.svg
	// report.html
	// report.md
	// tables/accuracy.csv
}

func ExampleImageGrid() {
	// Two 1×2×2 greyscale images, shown at 8× with their labels.
	imgs := [][]float32{{0, 1, 1, 0}, {1, 0, 0, 1}}
	img := report.ImageGrid(imgs, 1, 2, 2, 2, []string{"a", "b"}, 8)
	fmt.Println(img.Bounds().Dx(), "pixels wide")
	// Output:
	// 44 pixels wide
}
