package npy

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/eqens/eqens/internal/atomicfile"
)

// maxDeflateRatio bounds how much a deflated member can expand: deflate
// cannot produce more than 258 bytes per 2 bits of input, about 1032:1.
// A member claiming more is lying about its size.
const maxDeflateRatio = 1032

// NPZ is an open .npz archive. Its arrays are read one at a time with Read,
// so a caller that needs only some of them never decodes the others.
type NPZ struct {
	name    string
	closer  io.Closer
	members map[string]*zip.File
	names   []string
}

// OpenNPZ opens the .npz archive at path.
func OpenNPZ(path string) (*NPZ, error) {
	zr, err := zip.OpenReader(path)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		// Member names are only ever used as map keys, never as paths, so
		// names that would be unsafe to extract are harmless here.
		return nil, fmt.Errorf("%s: not a readable .npz (zip) archive: %w", path, err)
	}
	z, err := newNPZ(&zr.Reader, path)
	if err != nil {
		zr.Close()
		return nil, err
	}
	z.closer = zr
	return z, nil
}

// NewNPZReader reads a .npz archive of the given size from r; name is used
// in error messages.
func NewNPZReader(r io.ReaderAt, size int64, name string) (*NPZ, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, fmt.Errorf("%s: not a readable .npz (zip) archive: %w", name, err)
	}
	return newNPZ(zr, name)
}

func newNPZ(zr *zip.Reader, name string) (*NPZ, error) {
	z := &NPZ{name: name, members: make(map[string]*zip.File)}
	for _, f := range zr.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || strings.HasSuffix(f.Name, "/") {
			continue // NumPy ignores members that are not arrays, too
		}
		if _, dup := z.members[key]; dup {
			return nil, fmt.Errorf("%s: duplicate member %q", name, f.Name)
		}
		z.members[key] = f
		z.names = append(z.names, key)
	}
	slices.Sort(z.names)
	return z, nil
}

// Names returns the names of the arrays in the archive (member names
// without ".npy"), sorted.
func (z *NPZ) Names() []string { return slices.Clone(z.names) }

// Has reports whether the archive holds an array called name.
func (z *NPZ) Has(name string) bool {
	_, ok := z.members[name]
	return ok
}

// Read decodes the array called name.
func (z *NPZ) Read(name string) (*Array, error) {
	f, ok := z.members[name]
	if !ok {
		return nil, fmt.Errorf("%s: no array %q (the archive holds %s)", z.name, name, strings.Join(z.names, ", "))
	}
	a, err := readMember(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", z.name, f.Name, err)
	}
	return a, nil
}

// readMember checks a member's claimed size against its compressed size,
// then reads it and makes sure the zip checksum is verified.
func readMember(f *zip.File) (*Array, error) {
	usize, csize := f.UncompressedSize64, f.CompressedSize64
	switch f.Method {
	case zip.Store:
		if usize != csize {
			return nil, fmt.Errorf("stored member claims %d bytes but occupies %d", usize, csize)
		}
	case zip.Deflate:
		if csize > (math.MaxInt64-1024)/maxDeflateRatio || usize > csize*maxDeflateRatio+1024 {
			return nil, fmt.Errorf("deflated member claims %d bytes from %d compressed, more than deflate can produce", usize, csize)
		}
	default:
		return nil, fmt.Errorf("unsupported zip compression method %d (NumPy writes stored or deflated members)", f.Method)
	}
	if usize > math.MaxInt64 {
		return nil, fmt.Errorf("member claims %d bytes", usize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	a, err := read(rc, int64(usize), "member")
	if err != nil {
		return nil, err
	}
	// archive/zip verifies the CRC-32 only when it reaches the end of the
	// member; make it do so.
	var b [1]byte
	switch _, err := io.ReadFull(rc, b[:]); err {
	case io.EOF:
	case nil:
		return nil, errors.New("data after the array")
	default:
		return nil, err
	}
	return a, nil
}

// Close closes the archive file (a no-op for NewNPZReader archives).
func (z *NPZ) Close() error {
	if z.closer == nil {
		return nil
	}
	return z.closer.Close()
}

// ReadNPZ reads every array of the .npz archive at path. Use OpenNPZ to read
// only some of them.
func ReadNPZ(path string) (map[string]*Array, error) {
	z, err := OpenNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	out := make(map[string]*Array, len(z.names))
	for _, name := range z.names {
		a, err := z.Read(name)
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}

// ReadNPZMember reads the one array called name from the .npz archive at
// path.
func ReadNPZMember(path, name string) (*Array, error) {
	z, err := OpenNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	return z.Read(name)
}

// WriteNPZ writes arrays to path as an uncompressed .npz archive (like
// numpy.savez), atomically. Members are written in sorted name order with
// zero timestamps, so equal inputs give byte-identical files.
func WriteNPZ(path string, arrays map[string]*Array) error {
	return writeNPZFile(path, arrays, false)
}

// WriteNPZCompressed is WriteNPZ with deflated members (like
// numpy.savez_compressed).
func WriteNPZCompressed(path string, arrays map[string]*Array) error {
	return writeNPZFile(path, arrays, true)
}

func writeNPZFile(path string, arrays map[string]*Array, compress bool) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := WriteNPZTo(f, arrays, compress); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// WriteNPZTo writes arrays as a .npz archive to w, deflating the members if
// compress is set. Members are written in sorted name order with zero
// timestamps.
func WriteNPZTo(w io.Writer, arrays map[string]*Array, compress bool) error {
	names := slices.Sorted(maps.Keys(arrays))
	for _, name := range names {
		if name == "" || strings.ContainsAny(name, "/\\") {
			return fmt.Errorf("npz: invalid array name %q (it must be non-empty and contain no slashes)", name)
		}
		if arrays[name] == nil {
			return fmt.Errorf("npz: array %q is nil", name)
		}
		if err := arrays[name].Validate(); err != nil {
			return fmt.Errorf("npz: array %q: %w", name, err)
		}
	}
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	zw := zip.NewWriter(w)
	for _, name := range names {
		mw, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: method})
		if err != nil {
			return err
		}
		if err := Write(mw, arrays[name]); err != nil {
			return fmt.Errorf("npz: array %q: %w", name, err)
		}
	}
	return zw.Close()
}
