package report

import (
	"context"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestReportScreenshot renders the sample report in headless Chromium
// with scripts/screenshot-report.sh and checks that the page is not blank
// and that the plots, embedded as data URIs, are drawn. It needs Chromium
// (skipped without it) and is skipped in -short mode.
func TestReportScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped in -short mode")
	}
	if !haveChromium() {
		t.Skip("no Chromium installed (Debian: apt-get install chromium)")
	}
	script, err := filepath.Abs(filepath.Join("..", "scripts", "screenshot-report.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := sampleReport().Write(dir); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", script, dir, shot, "1200", "2000").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 1200 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1200x2000", b.Dx(), b.Dy())
	}
	var sum, sumSq float64
	var n, blue, orange int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			l := 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)
			sum += l
			sumSq += l * l
			n++
			// Pixels of the palette's blue (plots and links) and
			// orange (plots only).
			if bl > r+80 && bl > g+20 {
				blue++
			}
			if r > bl+120 && g > bl+60 {
				orange++
			}
		}
	}
	mean := sum / float64(n)
	sd := math.Sqrt(sumSq/float64(n) - mean*mean)
	t.Logf("screenshot: mean luminance %.1f, s.d. %.1f, %d blue and %d orange pixels", mean, sd, blue, orange)
	if sd < 10 {
		t.Errorf("screenshot looks blank: luminance s.d. %.1f", sd)
	}
	if blue < 2000 || orange < 800 {
		t.Errorf("plots not visible: %d blue and %d orange pixels", blue, orange)
	}
}

// haveChromium reports whether a Chromium the script can use is installed.
func haveChromium() bool {
	if c := os.Getenv("CHROMIUM"); c != "" {
		_, err := exec.LookPath(c)
		return err == nil
	}
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if _, err := exec.LookPath(b); err == nil {
			return true
		}
	}
	return false
}
