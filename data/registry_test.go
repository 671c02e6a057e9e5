package data

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	want := []string{"mnist", "fashion-mnist", "cifar10", "pathmnist", "pathmnist64", "qm9"}
	if got := Names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, s := range Registry() {
		if s.Title == "" || s.Homepage == "" || s.License == "" || len(s.Files) == 0 {
			t.Errorf("%s: incomplete spec %+v", s.Name, s)
		}
		for _, f := range s.Files {
			if len(f.URLs) == 0 || (f.MD5 == "" && f.SHA256 == "") {
				t.Errorf("%s/%s: no URL or checksum", s.Name, f.Name)
			}
			for _, h := range []struct {
				v string
				n int
			}{{f.MD5, 32}, {f.SHA256, 64}, {f.ContentSHA256, 64}} {
				if _, err := hex.DecodeString(h.v); err != nil || (h.v != "" && len(h.v) != h.n) {
					t.Errorf("%s/%s: bad digest %q", s.Name, f.Name, h.v)
				}
			}
		}
	}
	// Registry returns fresh values.
	Registry()[0].Name = "changed"
	if Names()[0] != "mnist" {
		t.Error("Registry shares state between calls")
	}
	if _, err := Lookup("imagenet"); err == nil || !strings.Contains(err.Error(), "known: mnist, fashion-mnist") {
		t.Errorf("Lookup(imagenet): %v", err)
	}
}

func TestLocations(t *testing.T) {
	env, cache := isolate(t)
	s, _ := Lookup("fashion-mnist")
	explicit := t.TempDir()
	got := s.Locations(explicit)
	want := []Location{
		{"--data-dir", filepath.Join(explicit, "fashion-mnist")},
		{"$EQENS_DATA", filepath.Join(env, "fashion-mnist")},
		{"user cache", filepath.Join(cache, "fashion-mnist")},
		{"package dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist"},
	}
	if len(got) != len(want) {
		t.Fatalf("Locations = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("location %d = %v, want %v", i, got[i], want[i])
		}
	}
	// The same directory twice is searched once.
	if got := s.Locations(env); len(got) != 3 {
		t.Errorf("Locations with --data-dir = $EQENS_DATA: %v", got)
	}
	if d, err := DefaultDir(); err != nil || d != env {
		t.Errorf("DefaultDir = %q, %v, want %q", d, err, env)
	}
	t.Setenv(EnvDataDir, "")
	if d, err := DefaultDir(); err != nil || d != cache {
		t.Errorf("DefaultDir without $EQENS_DATA = %q, %v, want %q", d, err, cache)
	}
	m, _ := Lookup("mnist")
	if l := m.Locations(explicit); len(l) != 1 || l[0].Source != "embedded" {
		t.Errorf("mnist locations %v", l)
	}
}

func TestCheck(t *testing.T) {
	isolate(t)
	sum := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	spec := &Spec{Name: "toy", Files: []File{
		{Name: "a.bin", MD5: sum("aaa"), Size: 3},
		{Name: "b.bin", MD5: sum("bbb")},
	}}
	root := t.TempDir()
	dir := filepath.Join(root, "toy")
	os.MkdirAll(dir, 0o755)
	check := func() LocationStatus {
		t.Helper()
		st := spec.Check(root)
		if len(st) == 0 || st[0].Source != "--data-dir" {
			t.Fatalf("Check = %v", st)
		}
		return st[0]
	}
	if st := check(); st.State != Missing || st.Detail != "" {
		t.Errorf("empty: %v %q", st.State, st.Detail)
	}
	os.WriteFile(filepath.Join(dir, "b.bin.part"), []byte("b"), 0o644)
	if st := check(); st.State != Missing || !strings.Contains(st.Detail, "unfinished download b.bin.part (1 bytes)") {
		t.Errorf("partial: %v %q", st.State, st.Detail)
	}
	os.WriteFile(filepath.Join(dir, "a.bin"), []byte("aaa"), 0o644)
	if st := check(); st.State != Incomplete || !strings.Contains(st.Detail, "missing b.bin") {
		t.Errorf("incomplete: %v %q", st.State, st.Detail)
	}
	os.WriteFile(filepath.Join(dir, "b.bin"), []byte("bbx"), 0o644)
	if st := check(); st.State != Corrupt || !strings.Contains(st.Detail, "b.bin: checksum mismatch: expected md5 "+sum("bbb")+", got "+sum("bbx")) {
		t.Errorf("corrupt: %v %q", st.State, st.Detail)
	}
	os.WriteFile(filepath.Join(dir, "b.bin"), []byte("bbb"), 0o644)
	os.Remove(filepath.Join(dir, "b.bin.part"))
	if st := check(); st.State != Present || st.Detail != "" {
		t.Errorf("present: %v %q", st.State, st.Detail)
	}
	os.WriteFile(filepath.Join(dir, "a.bin"), []byte("aaaa"), 0o644)
	if st := check(); st.State != Corrupt || !strings.Contains(st.Detail, "expected size 3, got 4") {
		t.Errorf("wrong size: %v %q", st.State, st.Detail)
	}
	m, _ := Lookup("mnist")
	if st := m.Check(""); len(st) != 1 || st[0].State != Present {
		t.Errorf("mnist: %v", st)
	}
	for _, s := range []State{Missing, Incomplete, Corrupt, Present, State(9)} {
		if s.String() == "" {
			t.Errorf("State %d has no name", s)
		}
	}
}

// TestPartialNeverRead shows that a .part file is not taken for the file.
func TestPartialNeverRead(t *testing.T) {
	isolate(t)
	root := t.TempDir()
	dir := filepath.Join(root, "fashion-mnist")
	os.MkdirAll(dir, 0o755)
	for _, n := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		os.WriteFile(filepath.Join(dir, n+".part"), []byte("partial"), 0o644)
	}
	s, _ := Lookup("fashion-mnist")
	loc, err := s.find(root, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
	if err == nil && loc.Source == "--data-dir" {
		t.Fatal("find took .part files for the real ones")
	}
}

func TestLoad(t *testing.T) {
	d, err := Load("mnist", "test", "")
	if err != nil || d.Len() != 10000 {
		t.Fatalf("Load(mnist, test): %v", err)
	}
	for _, tc := range []struct{ name, split, want string }{
		{"mnist", "val", `mnist: unknown split "val" (want train, test)`},
		{"pathmnist", "dev", "want train, val, test"},
		{"qm9", "train", "not an image dataset"},
		{"svhn", "train", "unknown dataset"},
	} {
		if _, err := Load(tc.name, tc.split, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s, %s) = %v, want %q", tc.name, tc.split, err, tc.want)
		}
	}
}

func TestHowToGet(t *testing.T) {
	for name, want := range map[string]string{
		"mnist":         "embedded",
		"fashion-mnist": "apt install dataset-fashion-mnist or eqens data fetch fashion-mnist",
		"qm9":           "eqens data fetch qm9",
	} {
		s, _ := Lookup(name)
		if got := s.HowToGet(); !strings.Contains(got, want) {
			t.Errorf("%s: HowToGet() = %q, want %q", name, got, want)
		}
	}
}
