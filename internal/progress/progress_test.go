package progress

import (
	"strings"
	"testing"
	"time"
)

// TestCounter checks that a Counter turns (done, total) reports into a
// bar's steps: on a writer that is not a terminal it logs done/total.
func TestCounter(t *testing.T) {
	var out strings.Builder
	report, finish := Counter(&out, "kernel", time.Nanosecond)
	for done := 1; done <= 3; done++ {
		report(done, 4)
	}
	report(4, 4)
	finish()
	for _, want := range []string{"kernel: 1/4", "kernel: 3/4", "kernel: 4/4"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log %q lacks %q", out.String(), want)
		}
	}
	// Finishing before any report is allowed.
	_, finish = Counter(&out, "nothing", time.Second)
	finish()
}
