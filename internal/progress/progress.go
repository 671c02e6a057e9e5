package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar reports progress towards a total. The zero value and a nil *Bar are
// valid and silent.
type Bar struct {
	bar      *progressbar.ProgressBar
	log      io.Writer
	desc     string
	total    int64
	done     int64
	lastLog  time.Time
	interval time.Duration
	start    time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a bar writing to w (usually os.Stderr) for total steps of
// work described by desc. On a terminal it draws a bar with rate and ETA;
// otherwise it is silent unless logEvery > 0, in which case it writes a
// plain progress line at most that often.
func New(w io.Writer, total int64, desc string, logEvery time.Duration) *Bar {
	b := &Bar{desc: desc, total: total, start: time.Now(), interval: logEvery}
	if IsTerminal(w) {
		b.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return b
	}
	if logEvery > 0 {
		b.log = w
		b.lastLog = b.start
	}
	return b
}

// Add records n more steps.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.done += int64(n)
	if b.bar != nil {
		_ = b.bar.Add(n)
		return
	}
	if b.log != nil && time.Since(b.lastLog) >= b.interval {
		b.lastLog = time.Now()
		el := time.Since(b.start).Seconds()
		rate := float64(b.done) / max(el, 1e-9)
		eta := ""
		if rate > 0 && b.total > 0 {
			eta = fmt.Sprintf(", ETA %s", (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second))
		}
		fmt.Fprintf(b.log, "%s: %d/%d (%.1f/s%s)\n", b.desc, b.done, b.total, rate, eta)
	}
}

// Describe changes the description (e.g. to show the current loss).
func (b *Bar) Describe(desc string) {
	if b == nil {
		return
	}
	b.desc = desc
	if b.bar != nil {
		b.bar.Describe(desc)
	}
}

// Finish completes the bar.
func (b *Bar) Finish() {
	if b == nil || b.bar == nil {
		return
	}
	_ = b.bar.Finish()
}

// Counter returns a callback for work that reports how many of its total
// steps are done (as nn.KernelOptions.Progress), drawing a bar made on the
// first call, and the function that finishes the bar.
func Counter(w io.Writer, desc string, logEvery time.Duration) (report func(done, total int), finish func()) {
	var bar *Bar
	last := 0
	return func(done, total int) {
			if bar == nil {
				bar = New(w, int64(total), desc, logEvery)
			}
			bar.Add(done - last)
			last = done
		}, func() {
			bar.Finish()
		}
}
