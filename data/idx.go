package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
)

// IDX magic numbers for arrays of unsigned bytes: the third byte is the
// type (0x08, unsigned byte) and the fourth the number of dimensions.
const (
	IDXImagesMagic = 0x00000803 // N×rows×cols images
	IDXLabelsMagic = 0x00000801 // N labels
)

// DefaultIDXLimit is the largest IDX payload, in bytes, that LoadIDX
// accepts: far above MNIST's 47 MB, far below what would exhaust memory.
const DefaultIDXLimit = 1 << 30

// IDX is an array of unsigned bytes read from an IDX file (the format of
// MNIST and Fashion-MNIST).
type IDX struct {
	// Dims lists the dimensions, e.g. [60000 28 28] or [60000].
	Dims []int
	// Data holds prod(Dims) bytes in row-major order.
	Data []uint8
}

// ReadIDX reads an IDX array of unsigned bytes from r, transparently
// gunzipping it if it starts with the gzip magic. name (usually the file
// name) prefixes every error. limit bounds the payload in bytes: a header
// promising more is refused before anything is allocated.
//
// ReadIDX reads r to its end, so a gzip stream's checksum is verified and
// bytes after the array are reported as corruption.
func ReadIDX(r io.Reader, name string, limit int64) (*IDX, error) {
	return readIDX(r, name, limit, nil)
}

// readIDX is ReadIDX that also feeds the decompressed bytes to h if not nil.
func readIDX(r io.Reader, name string, limit int64, h hash.Hash) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	gzipped := false
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: corrupt gzip data: %w", name, err)
		}
		defer zr.Close()
		src, gzipped = zr, true
	}
	if h != nil {
		src = io.TeeReader(src, h)
	}
	// fail turns a read error into the error to return, or nil if the
	// stream simply ended early (the caller then reports the truncation).
	fail := func(err error) error {
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return nil
		case gzipped:
			return fmt.Errorf("%s: corrupt gzip data: %w", name, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}

	var head [4]byte
	if _, err := io.ReadFull(src, head[:]); err != nil {
		if e := fail(err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: not an IDX file: too short for the magic number", name)
	}
	magic := binary.BigEndian.Uint32(head[:])
	ndim := int(head[3])
	if head[0] != 0 || head[1] != 0 || head[2] != 0x08 || ndim < 1 || ndim > 4 {
		return nil, fmt.Errorf("%s: not an IDX file of unsigned bytes: magic number 0x%08x (want 0x%08x for images or 0x%08x for labels)", name, magic, IDXImagesMagic, IDXLabelsMagic)
	}
	dimBytes := make([]byte, 4*ndim)
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		if e := fail(err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: truncated header: %d dimensions promised", name, ndim)
	}
	x := &IDX{Dims: make([]int, ndim)}
	for i := range x.Dims {
		x.Dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	total, overflow := uint64(1), false
	for _, d := range x.Dims {
		hi, lo := bits.Mul64(total, uint64(d))
		total, overflow = lo, overflow || hi != 0
	}
	if slices.Contains(x.Dims, 0) {
		total, overflow = 0, false
	}
	if overflow || total > uint64(limit) {
		t := int64(total)
		if overflow || t < 0 {
			t = -1
		}
		return nil, fmt.Errorf("%s: header promises %s, more than the limit of %d bytes", name, describeIDX(x.Dims, t), limit)
	}
	x.Data = make([]uint8, total)
	if n, err := io.ReadFull(src, x.Data); err != nil {
		if e := fail(err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: truncated: header promises %s, got %d", name, describeIDX(x.Dims, int64(total)), n)
	}
	// Read to the end: this verifies the gzip checksum and finds trailing
	// garbage.
	var extra [1]byte
	switch n, err := io.ReadFull(src, extra[:]); {
	case err == io.EOF:
	case n > 0:
		return nil, fmt.Errorf("%s: unexpected data after the %s", name, describeIDX(x.Dims, int64(total)))
	default:
		if e := fail(err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: truncated gzip stream after the data", name)
	}
	return x, nil
}

// describeIDX says what an IDX header promises, e.g. "60000 images of
// 28x28 (47040000 bytes)" or "60000 labels (60000 bytes)". A negative total
// leaves out the byte count.
func describeIDX(dims []int, total int64) string {
	var s string
	switch len(dims) {
	case 1:
		s = fmt.Sprintf("%d labels", dims[0])
	case 3:
		s = fmt.Sprintf("%d images of %dx%d", dims[0], dims[1], dims[2])
	default:
		parts := make([]string, len(dims))
		for i, d := range dims {
			parts[i] = strconv.Itoa(d)
		}
		s = "an array of " + strings.Join(parts, "x")
	}
	if total >= 0 {
		s += fmt.Sprintf(" (%d bytes)", total)
	}
	return s
}

// IDXDataset pairs an image array (N×rows×cols) with a label array (N) into
// a classification Dataset with inputs of shape [1 rows cols], pixels scaled
// from 0..255 to [0, 1].
func IDXDataset(name string, images, labels *IDX, classes int) (*Dataset, error) {
	if len(images.Dims) != 3 {
		return nil, fmt.Errorf("%s: images have %d dimensions, want 3 (count, rows, columns)", name, len(images.Dims))
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("%s: labels have %d dimensions, want 1", name, len(labels.Dims))
	}
	n, rows, cols := images.Dims[0], images.Dims[1], images.Dims[2]
	if n != labels.Dims[0] {
		return nil, fmt.Errorf("%s: %d images but %d labels", name, n, labels.Dims[0])
	}
	if n == 0 || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("%s: empty image array %dx%dx%d", name, n, rows, cols)
	}
	d := &Dataset{
		Name:    name,
		Shape:   []int{1, rows, cols},
		X:       bytesToUnit(images.Data),
		Labels:  make([]int, n),
		Classes: classes,
	}
	for i, l := range labels.Data {
		if int(l) >= classes {
			return nil, fmt.Errorf("%s: label %d of sample %d is outside 0..%d", name, l, i, classes-1)
		}
		d.Labels[i] = int(l)
	}
	return d, nil
}

// bytesToUnit scales bytes to float32 values in [0, 1].
func bytesToUnit(b []uint8) []float32 {
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	x := make([]float32, len(b))
	for i, v := range b {
		x[i] = lut[v]
	}
	return x
}

// LoadIDX reads an image file and a label file (gzipped or not) into a
// Dataset with the given number of classes.
func LoadIDX(name, imagesPath, labelsPath string, classes int) (*Dataset, error) {
	images, err := readIDXFile(imagesPath, nil)
	if err != nil {
		return nil, err
	}
	labels, err := readIDXFile(labelsPath, nil)
	if err != nil {
		return nil, err
	}
	return IDXDataset(name, images, labels, classes)
}

// readIDXFile reads the IDX file at path, feeding its decompressed bytes to
// h if not nil.
func readIDXFile(path string, h hash.Hash) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readIDX(f, path, DefaultIDXLimit, h)
}
