package data

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer serves one file in several misbehaving ways.
type testServer struct {
	*httptest.Server
	content []byte

	mu       sync.Mutex
	mode     string   // "", "norange", "cut", "404", "500once", "stall", "wrong"
	ranges   []string // the Range header of every request
	cutDone  bool
	failDone bool
	stalled  chan struct{}
}

func newTestServer(t *testing.T, content []byte, mode string) *testServer {
	s := &testServer{content: content, mode: mode, stalled: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	mode := s.mode
	firstCut := mode == "cut" && !s.cutDone
	s.cutDone = s.cutDone || firstCut
	firstFail := mode == "500once" && !s.failDone
	s.failDone = s.failDone || firstFail
	s.mu.Unlock()
	half := len(s.content) / 2
	switch {
	case mode == "404":
		http.NotFound(w, r)
	case firstFail:
		http.Error(w, "try later", http.StatusServiceUnavailable)
	case mode == "norange":
		w.Header().Set("Content-Length", fmt.Sprint(len(s.content)))
		w.Write(s.content)
	case mode == "wrong":
		w.Write(bytes.Repeat([]byte("x"), 1000))
	case firstCut:
		// Promise the whole file, send half, drop the connection.
		conn, buf, _ := w.(http.Hijacker).Hijack()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(s.content))
		buf.Write(s.content[:half])
		buf.Flush()
		conn.Close()
	case mode == "stall" && r.Header.Get("Range") == "":
		w.Header().Set("Content-Length", fmt.Sprint(len(s.content)))
		w.Write(s.content[:half])
		w.(http.Flusher).Flush()
		s.stalled <- struct{}{}
		<-r.Context().Done()
	default:
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(s.content))
	}
}

func (s *testServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// blob returns deterministic content and a File describing it.
func blob(n int) ([]byte, File) {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i/256)
	}
	m, s := md5.Sum(b), sha256.Sum256(b)
	return b, File{Name: "blob.bin", Size: int64(n), MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:])}
}

func fastOpts(log *bytes.Buffer) FetchOptions {
	o := FetchOptions{Attempts: 3, RetryDelay: time.Millisecond}
	if log != nil {
		o.Log = log
	}
	return o
}

func TestFetchFile(t *testing.T) {
	content, f := blob(200_000)
	for _, tc := range []struct {
		name      string
		mode      string
		part      []byte // a .part file left by an earlier attempt
		attempts  int
		wantLog   string
		wantRange []string
	}{
		{"plain", "", nil, 3, "", []string{""}},
		{"resume after a cut", "cut", nil, 3, "resuming at byte 100000", []string{"", "bytes=100000-"}},
		{"resume an old part", "", content[:12345], 1, "resuming at byte 12345", []string{"bytes=12345-"}},
		{"server ignores range", "norange", content[:12345], 1, "does not resume downloads; restarting", []string{"bytes=12345-"}},
		{"transient 503", "500once", nil, 3, "attempt 2 of 3", []string{"", ""}},
		{"part already complete", "", content, 1, "", nil},
		{"part longer than the file", "", append(bytes.Clone(content), 1, 2, 3), 1, "", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, content, tc.mode)
			dir := t.TempDir()
			dst := filepath.Join(dir, f.Name)
			if tc.part != nil {
				os.WriteFile(dst+".part", tc.part, 0o644)
			}
			var log bytes.Buffer
			opts := fastOpts(&log)
			opts.Attempts = tc.attempts
			opts.BaseURL = srv.URL
			if err := FetchFile(context.Background(), f, dst, opts); err != nil {
				t.Fatalf("FetchFile: %v\nlog:\n%s", err, log.String())
			}
			got, _ := os.ReadFile(dst)
			if !bytes.Equal(got, content) {
				t.Fatalf("downloaded %d bytes, not the content", len(got))
			}
			if _, err := os.Stat(dst + ".part"); !os.IsNotExist(err) {
				t.Error(".part file left behind")
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q lacks %q", log.String(), tc.wantLog)
			}
			if r := srv.requests(); fmt.Sprint(r) != fmt.Sprint(tc.wantRange) {
				t.Errorf("Range headers %q, want %q", r, tc.wantRange)
			}
			// A second fetch finds the file and asks the server nothing.
			n := len(srv.requests())
			log.Reset()
			if err := FetchFile(context.Background(), f, dst, opts); err != nil {
				t.Fatal(err)
			}
			if len(srv.requests()) != n || !strings.Contains(log.String(), "already present and verified") {
				t.Errorf("second fetch: %d new requests, log %q", len(srv.requests())-n, log.String())
			}
		})
	}
}

func TestFetchFileCutWithoutRetry(t *testing.T) {
	content, f := blob(100_000)
	srv := newTestServer(t, content, "cut")
	dst := filepath.Join(t.TempDir(), f.Name)
	opts := FetchOptions{BaseURL: srv.URL, Attempts: 1}
	err := FetchFile(context.Background(), f, dst, opts)
	if err == nil || !strings.Contains(err.Error(), "transfer cut off after 50000 bytes") {
		t.Fatalf("FetchFile = %v, want a cut-off error", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("a partial download was renamed into place")
	}
	if fi, err := os.Stat(dst + ".part"); err != nil || fi.Size() != 50000 {
		t.Fatalf(".part: %v, %v", fi, err)
	}
	// The next run resumes.
	if err := FetchFile(context.Background(), f, dst, opts); err != nil {
		t.Fatal(err)
	}
	if r := srv.requests(); len(r) != 2 || r[1] != "bytes=50000-" {
		t.Errorf("requests %q", r)
	}
}

func TestFetchFileFailures(t *testing.T) {
	content, f := blob(5000)
	bad := f
	bad.MD5 = "00000000000000000000000000000000"
	for _, tc := range []struct {
		name, mode string
		file       File
		want       []string
		requests   int
	}{
		{"checksum", "", bad, []string{"checksum mismatch: expected md5 00000000000000000000000000000000, got " + f.MD5, "the download was deleted"}, 1},
		{"404", "404", f, []string{"404 Not Found"}, 1},
		{"short", "wrong", File{Name: "blob.bin", Size: 5000, MD5: f.MD5}, []string{"the server's file ends after 1000 bytes, the published size is 5000"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, content, tc.mode)
			dst := filepath.Join(t.TempDir(), "blob.bin")
			opts := fastOpts(nil)
			opts.BaseURL = srv.URL
			err := FetchFile(context.Background(), tc.file, dst, opts)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("FetchFile = %v, want %q", err, w)
				}
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Error("a failed download was renamed into place")
			}
			if tc.name != "404" {
				if _, err := os.Stat(dst + ".part"); !os.IsNotExist(err) {
					t.Error("a corrupt .part was kept")
				}
			}
			if n := len(srv.requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

func TestFetchFileCancel(t *testing.T) {
	content, f := blob(300_000)
	srv := newTestServer(t, content, "stall")
	dst := filepath.Join(t.TempDir(), f.Name)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-srv.stalled
		// Cancel once the client has written what the server sent.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if fi, err := os.Stat(dst + ".part"); err == nil && fi.Size() == 150_000 {
				break
			}
		}
		cancel()
	}()
	err := FetchFile(ctx, f, dst, FetchOptions{BaseURL: srv.URL})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "kept for resuming") {
		t.Fatalf("FetchFile = %v, want context.Canceled", err)
	}
	if fi, err := os.Stat(dst + ".part"); err != nil || fi.Size() != 150_000 {
		t.Fatalf(".part after cancel: %v %v", fi, err)
	}
	if err := FetchFile(context.Background(), f, dst, FetchOptions{BaseURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatal("resumed download differs")
	}
}

func TestFetchFileMirrorsAndReplace(t *testing.T) {
	content, f := blob(3000)
	good := newTestServer(t, content, "")
	gone := newTestServer(t, content, "404")
	f.URLs = []string{gone.URL + "/blob.bin", good.URL + "/blob.bin"}
	dst := filepath.Join(t.TempDir(), f.Name)
	os.WriteFile(dst, []byte("corrupt old copy"), 0o644)
	var log bytes.Buffer
	if err := FetchFile(context.Background(), f, dst, fastOpts(&log)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatal("corrupt copy not replaced")
	}
	for _, w := range []string{"checksum mismatch", "downloading it again", "404 Not Found"} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log %q lacks %q", log.String(), w)
		}
	}
}

func TestFetchFileContentCheck(t *testing.T) {
	idx := makeIDX([]int{2}, []byte{1, 2})
	gz := gzipBytes(idx)
	m, s, c := md5.Sum(gz), sha256.Sum256(gz), sha256.Sum256(idx)
	f := File{Name: "labels.gz", Size: int64(len(gz)), MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]), ContentSHA256: hex.EncodeToString(c[:])}
	srv := newTestServer(t, gz, "")
	dir := t.TempDir()
	opts := FetchOptions{BaseURL: srv.URL}
	if err := FetchFile(context.Background(), f, filepath.Join(dir, "ok.gz"), opts); err != nil {
		t.Fatal(err)
	}
	f.ContentSHA256 = strings.Repeat("0", 64)
	err := FetchFile(context.Background(), f, filepath.Join(dir, "bad.gz"), opts)
	if err == nil || !strings.Contains(err.Error(), "expected sha256 of the decompressed data 0000") {
		t.Errorf("content mismatch: %v", err)
	}
}

func TestFetchProgress(t *testing.T) {
	content, f := blob(100_000)
	srv := newTestServer(t, content, "")
	var bar bytes.Buffer
	err := FetchFile(context.Background(), f, filepath.Join(t.TempDir(), f.Name), FetchOptions{BaseURL: srv.URL, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bar.String(), "blob.bin") || !strings.Contains(bar.String(), "100%") {
		t.Errorf("progress output %q", bar.String())
	}
}

// TestFetchRegistry fetches registry datasets from a test server: the
// embedded one is a no-op; a server with the wrong content is caught.
func TestFetchRegistry(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), "mnist", dir, FetchOptions{Log: &log}); err != nil || !strings.Contains(log.String(), "embedded") {
		t.Errorf("Fetch mnist: %v, log %q", err, log.String())
	}
	srv := newTestServer(t, []byte("not cifar"), "")
	err := Fetch(context.Background(), "cifar10", dir, FetchOptions{BaseURL: srv.URL, RetryDelay: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "the server's file ends after 9 bytes, the published size is 170052171") {
		t.Errorf("Fetch cifar10 from a wrong server: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cifar10", "cifar-10-binary.tar.gz")); !os.IsNotExist(err) {
		t.Error("wrong content renamed into place")
	}
	if err := Fetch(context.Background(), "imagenet", dir, FetchOptions{}); err == nil {
		t.Error("Fetch accepted an unknown dataset")
	}
	// A small dataset whose server has the wrong bytes: the size is
	// unknown, so the md5 catches it and the .part is deleted.
	err = Fetch(context.Background(), "pathmnist", dir, FetchOptions{BaseURL: srv.URL, RetryDelay: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "expected md5 a8b06965200029087d5bd730944a56c1") {
		t.Errorf("Fetch pathmnist: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pathmnist", "pathmnist.npz.part")); !os.IsNotExist(err) {
		t.Error("corrupt .part kept")
	}
}
