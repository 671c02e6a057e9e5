package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/eqens/eqens/internal/atomicfile"
)

// FetchOptions tune Fetch. The zero value downloads from the official URLs
// silently with three attempts per file.
type FetchOptions struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// Progress, if not nil, receives a progress bar with rate and ETA per
	// file (pass os.Stderr only when it is a terminal).
	Progress io.Writer
	// Log, if not nil, receives one line per notable event: a file
	// already present, a resumed or restarted transfer, a retry.
	Log io.Writer
	// BaseURL, if set, replaces the published URLs: file F is fetched from
	// BaseURL + "/" + F (for mirrors and tests).
	BaseURL string
	// Attempts is the number of tries per URL, each resuming where the
	// previous one stopped; 0 means 3.
	Attempts int
	// RetryDelay is the pause before the second attempt, doubled for each
	// further one; 0 means one second.
	RetryDelay time.Duration
}

func (o *FetchOptions) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// Fetch downloads the files of the named dataset into dir/NAME (creating
// it), skipping files already there and verified. Each file is downloaded
// to FILE.part, resumed with an HTTP Range request when a previous attempt
// was cut off (and restarted if the server ignores the range), checked
// against the published size and checksums, and only then renamed to FILE,
// so a partial or corrupt download is never taken for the real file. A
// checksum mismatch deletes the .part file. Cancelling ctx stops the
// transfer and keeps the .part file for the next call to resume.
//
// Fetching the embedded dataset (mnist) does nothing.
func Fetch(ctx context.Context, name, dir string, opts FetchOptions) error {
	s, err := Lookup(name)
	if err != nil {
		return err
	}
	if s.Embedded {
		opts.logf("%s is embedded in the eqens binary; nothing to fetch", name)
		return nil
	}
	if dir == "" {
		return errors.New("fetch: no destination directory")
	}
	dest := filepath.Join(dir, s.Name)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	for _, f := range s.Files {
		if err := FetchFile(ctx, f, filepath.Join(dest, f.Name), opts); err != nil {
			return fmt.Errorf("fetch %s: %w", name, err)
		}
	}
	return nil
}

// FetchFile downloads one file to path as Fetch does.
func FetchFile(ctx context.Context, f File, path string, opts FetchOptions) error {
	if _, err := os.Stat(path); err == nil {
		err := f.Verify(path)
		if err == nil {
			opts.logf("%s: already present and verified", path)
			return nil
		}
		opts.logf("%v; downloading it again", err)
	}
	urls := f.URLs
	if opts.BaseURL != "" {
		urls = []string{strings.TrimSuffix(opts.BaseURL, "/") + "/" + f.Name}
	}
	if len(urls) == 0 {
		return fmt.Errorf("%s: no download URL", f.Name)
	}
	part := path + ".part"
	var errs []error
	for i, u := range urls {
		err := download(ctx, u, part, f.Size, opts)
		if err == nil {
			return finish(f, part, path)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (the partial download %s is kept for resuming)", f.Name, ctx.Err(), part)
		}
		errs = append(errs, err)
		if i+1 < len(urls) {
			opts.logf("%v; trying %s", err, urls[i+1])
		}
	}
	return fmt.Errorf("%s: %w", f.Name, errors.Join(errs...))
}

// finish verifies a completed .part file and renames it into place, or
// deletes it.
func finish(f File, part, path string) error {
	if err := f.VerifyDownload(part); err != nil {
		os.Remove(part)
		return fmt.Errorf("%w; the download was deleted (try again, and report it if the mismatch repeats)", err)
	}
	return atomicfile.Rename(part, path)
}

// permanentError marks failures that retrying the same URL cannot fix.
type permanentError struct{ error }

// Unwrap returns the underlying error.
func (e permanentError) Unwrap() error { return e.error }

// download fetches url into part, resuming and retrying per opts.
func download(ctx context.Context, url, part string, size int64, opts FetchOptions) error {
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	delay := opts.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	var err error
	for a := 1; a <= attempts; a++ {
		if a > 1 {
			opts.logf("%s: attempt %d of %d in %v (after: %v)", url, a, attempts, delay, err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			delay *= 2
		}
		err = transfer(ctx, url, part, size, opts)
		var pe permanentError
		if err == nil || ctx.Err() != nil || errors.As(err, &pe) {
			return err
		}
	}
	return err
}

// transfer makes one HTTP request for the rest of part.
func transfer(ctx context.Context, url, part string, size int64, opts FetchOptions) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return permanentError{err}
	}
	defer f.Close()
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return permanentError{err}
	}
	if size > 0 && off > size {
		// More than the published size: start over.
		if err := restart(f); err != nil {
			return err
		}
		off = 0
	}
	if size > 0 && off == size {
		return nil // complete; the checksum decides
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return permanentError{err}
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			// Not the range asked for; restart from scratch next time.
			f.Truncate(0)
			return fmt.Errorf("GET %s: server answered the resume request with range %q; restarting", url, resp.Header.Get("Content-Range"))
		}
		opts.logf("%s: resuming at byte %d", filepath.Base(part), off)
	case resp.StatusCode == http.StatusOK:
		if off > 0 {
			opts.logf("%s: the server does not resume downloads; restarting", filepath.Base(part))
			if err := restart(f); err != nil {
				return err
			}
			off = 0
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && off > 0:
		return nil // nothing left to send: complete, the checksum decides
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	default:
		return permanentError{fmt.Errorf("GET %s: %s", url, resp.Status)}
	}
	total := size
	if total <= 0 && resp.ContentLength >= 0 {
		total = off + resp.ContentLength
	}
	var dst io.Writer = f
	var bar *progressbar.ProgressBar
	if opts.Progress != nil {
		bar = newBar(opts.Progress, filepath.Base(strings.TrimSuffix(part, ".part")), total, off)
		dst = io.MultiWriter(f, bar)
	}
	n, err := io.Copy(dst, resp.Body)
	if bar != nil {
		if err == nil && total > 0 && off+n == total {
			bar.Finish()
		} else {
			bar.Exit() // keep the bar where it stopped
		}
	}
	if err != nil {
		return fmt.Errorf("GET %s: transfer cut off after %d bytes (%d in all): %w", url, n, off+n, err)
	}
	if size > 0 && off+n < size {
		// A complete response, yet short: the server's file is not the
		// published one, and resuming cannot help.
		f.Close()
		os.Remove(part)
		return permanentError{fmt.Errorf("GET %s: the server's file ends after %d bytes, the published size is %d; the partial download was deleted", url, off+n, size)}
	}
	if err := f.Sync(); err != nil {
		return permanentError{err}
	}
	return nil
}

// restart empties a .part file and rewinds it.
func restart(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return permanentError{err}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return permanentError{err}
	}
	return nil
}

// contentRangeStart parses the first byte position of "bytes a-b/n".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	return v, err == nil
}

// newBar returns a byte progress bar with rate and ETA, starting at off of
// total (-1 if unknown).
func newBar(w io.Writer, desc string, total, off int64) *progressbar.ProgressBar {
	if total <= 0 {
		total = -1
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	if off > 0 {
		bar.Set64(off)
	}
	return bar
}
