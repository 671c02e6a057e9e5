package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultPerm is the permission Create gives new files. The mode is set
// explicitly on commit, so the process umask does not narrow it.
const DefaultPerm fs.FileMode = 0o644

// File is a file being written atomically. It implements io.Writer; the
// written bytes appear at the destination path only after Commit.
//
// A File must be finished with exactly one of Commit or Abort; calling Abort
// after Commit (for instance in a defer) is harmless.
type File struct {
	f    *os.File
	path string
	perm fs.FileMode
	done bool
}

// Create starts writing path atomically with permission DefaultPerm.
func Create(path string) (*File, error) {
	return CreatePerm(path, DefaultPerm)
}

// CreatePerm starts writing path atomically; the committed file gets
// permission perm.
func CreatePerm(path string, perm fs.FileMode) (*File, error) {
	if path == "" {
		return nil, errors.New("atomicfile: empty path")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" || base == "." || base == ".." {
		return nil, fmt.Errorf("%s: not a file name", path)
	}
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return nil, fmt.Errorf("%s: is a directory", path)
		case !fi.Mode().IsRegular():
			// Renaming over a device, FIFO or symbolic link would replace
			// it with a regular file (as root: /dev/null, /dev/full).
			return nil, fmt.Errorf("%s: not a regular file (%s); write results to a regular file", path, fi.Mode().Type())
		}
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create a temporary file in %s: %w", path, dir, unwrapPathError(err))
	}
	return &File{f: f, path: path, perm: perm}, nil
}

// unwrapPathError drops the *fs.PathError wrapper (whose message repeats a
// random temporary name) and keeps the underlying cause.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Name returns the destination path.
func (f *File) Name() string { return f.path }

// TempName returns the path of the temporary file being written.
func (f *File) TempName() string { return f.f.Name() }

// WriteError is the error of a write to the temporary file; its message
// starts with the destination path.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// Wrap prefixes err with path unless it already names it (a WriteError of
// the same destination), so that errors of serialisers writing into a File
// do not repeat the path.
func Wrap(path string, err error) error {
	var we *WriteError
	if errors.As(err, &we) && we.Path == path {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, fmt.Errorf("%s: write after Commit or Abort", f.path)
	}
	n, err := f.f.Write(p)
	if err != nil {
		return n, &WriteError{Path: f.path, Err: unwrapPathError(err)}
	}
	return n, nil
}

// ReadFrom copies r into the temporary file.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.done {
		return 0, fmt.Errorf("%s: write after Commit or Abort", f.path)
	}
	n, err := io.Copy(f.f, r)
	if err != nil {
		return n, &WriteError{Path: f.path, Err: unwrapPathError(err)}
	}
	return n, nil
}

// Commit makes the written data visible at the destination path: it syncs
// and closes the temporary file, sets its permission, renames it onto the
// destination and syncs the directory. On error the temporary file is
// removed and the destination is left as it was.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: Commit after Commit or Abort", f.path)
	}
	f.done = true
	tmp := f.f.Name()
	fail := func(what string, err error) error {
		f.f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %s: %w", f.path, what, unwrapPathError(err))
	}
	if err := f.f.Chmod(f.perm); err != nil {
		return fail("setting permissions", err)
	}
	if err := f.f.Sync(); err != nil {
		return fail("syncing to disk", err)
	}
	if err := f.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: closing: %w", f.path, unwrapPathError(err))
	}
	if err := os.Rename(tmp, f.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: renaming the temporary file into place: %w", f.path, unwrapPathError(err))
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort discards the written data and removes the temporary file. It does
// nothing after Commit or a previous Abort.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.f.Close()
	if err := os.Remove(f.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: removing the temporary file: %w", f.path, err)
	}
	return nil
}

// WriteFile writes data to path atomically with permission perm: after it
// returns nil the file holds exactly data, and if it fails or the process
// dies the previous contents (or absence) of path are kept.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := CreatePerm(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// Rename renames oldpath onto newpath after syncing oldpath's contents and
// then syncs newpath's directory, so that a completed file (a finished
// download, say) replaces newpath durably.
func Rename(oldpath, newpath string) error {
	f, err := os.OpenFile(oldpath, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", oldpath, unwrapPathError(err))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%s: syncing to disk: %w", oldpath, unwrapPathError(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: closing: %w", oldpath, unwrapPathError(err))
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		return fmt.Errorf("%s: renaming to %s: %w", oldpath, newpath, unwrapPathError(err))
	}
	return SyncDir(filepath.Dir(newpath))
}

// SyncDir flushes a directory's entries to stable storage. File systems and
// platforms that cannot sync directories are tolerated.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !isInvalid(err) {
		return fmt.Errorf("%s: syncing directory: %w", dir, unwrapPathError(err))
	}
	return nil
}
