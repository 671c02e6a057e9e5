package atomicfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{"new.txt", []byte("hello"), 0o644},
		{"empty.bin", nil, 0o600},
		{"new.txt", []byte("replaced, and longer than before"), 0o640},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name)
		if err := WriteFile(p, tc.data, tc.perm); err != nil {
			t.Fatalf("WriteFile(%s): %v", tc.name, err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, tc.data) {
			t.Errorf("%s holds %q, want %q", tc.name, got, tc.data)
		}
		if runtime.GOOS != "windows" {
			fi, _ := os.Stat(p)
			if fi.Mode().Perm() != tc.perm {
				t.Errorf("%s has mode %v, want %v", tc.name, fi.Mode().Perm(), tc.perm)
			}
		}
	}
	assertNoTemp(t, dir)
}

func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.dat")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Abort keeps the old contents.
	f, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new contents"))
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Fatalf("before Commit the file holds %q, want the old contents", got)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Fatalf("after Abort the file holds %q, want the old contents", got)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	assertNoTemp(t, dir)

	// Commit replaces them; a deferred Abort afterwards is harmless.
	f, err = Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(strings.NewReader("streamed")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if err := f.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	if got, _ := os.ReadFile(p); string(got) != "streamed" {
		t.Fatalf("after Commit the file holds %q", got)
	}
	assertNoTemp(t, dir)
}

// TestCrashBeforeCommit runs a child process that writes a file but dies
// before Commit: the destination must not exist afterwards.
func TestCrashBeforeCommit(t *testing.T) {
	if p := os.Getenv("ATOMICFILE_CRASH_PATH"); p != "" {
		f, err := Create(p)
		if err != nil {
			os.Exit(2)
		}
		f.Write(bytes.Repeat([]byte("partial "), 1000))
		os.Exit(7) // die without Commit or Abort
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "result.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBeforeCommit$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CRASH_PATH="+p)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("child: %v, want exit status 7", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("a crash before Commit left %s behind (stat: %v)", p, err)
	}
}

func TestUnwritableDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("directory permissions differ on Windows")
	}
	if os.Geteuid() == 0 {
		// root ignores permission bits; use a path under a regular file
		// instead, which fails for everyone.
		dir := t.TempDir()
		file := filepath.Join(dir, "plain")
		os.WriteFile(file, nil, 0o644)
		p := filepath.Join(file, "out.txt")
		err := WriteFile(p, []byte("x"), 0o644)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("WriteFile under a regular file: %v, want an error naming %s", err, p)
		}
		return
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	defer os.Chmod(ro, 0o755)
	p := filepath.Join(ro, "out.txt")
	err := WriteFile(p, []byte("x"), 0o644)
	if err == nil {
		t.Fatal("WriteFile into a read-only directory succeeded")
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %q should name %s and say permission denied", err, p)
	}
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"", dir, filepath.Join(dir, "missing", "x")} {
		if err := WriteFile(p, nil, 0o644); err == nil {
			t.Errorf("WriteFile(%q) succeeded", p)
		} else if p != "" && !strings.Contains(err.Error(), p) {
			t.Errorf("WriteFile(%q): error %q does not name the path", p, err)
		}
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.part"), filepath.Join(dir, "a")
	os.WriteFile(a, []byte("done"), 0o644)
	if err := Rename(a, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(b); string(got) != "done" {
		t.Fatalf("renamed file holds %q", got)
	}
	if err := Rename(a, b); err == nil || !strings.Contains(err.Error(), a) {
		t.Errorf("renaming a missing file: %v", err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}
