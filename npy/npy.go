package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/eqens/eqens/internal/atomicfile"
)

// The dtype names an Array may carry.
const (
	Float32 = "float32"
	Float64 = "float64"
	Int32   = "int32"
	Int64   = "int64"
	Uint8   = "uint8"
)

// MaxHeaderLen is the longest header dictionary Read accepts, in bytes.
// NumPy writes headers of about a hundred bytes; anything near this limit is
// corrupt or hostile.
const MaxHeaderLen = 1 << 16

// maxDims bounds the number of dimensions (NumPy's own limit is 64).
const maxDims = 64

// magic starts every .npy file.
const magic = "\x93NUMPY"

// chunkBytes is the size of the buffer data is decoded through; a multiple
// of every element size.
const chunkBytes = 1 << 16

// An Array is an n-dimensional array in C (row-major) order.
type Array struct {
	// Shape lists the dimensions; empty for a 0-d (scalar) array.
	Shape []int
	// DType is one of Float32, Float64, Int32, Int64 and Uint8.
	DType string
	// Data holds the prod(Shape) elements as a []float32, []float64,
	// []int32, []int64 or []uint8 matching DType.
	Data any
}

// FromFloat32 returns a float32 array of the given shape over data (not
// copied).
func FromFloat32(shape []int, data []float32) *Array {
	return &Array{Shape: slices.Clone(shape), DType: Float32, Data: data}
}

// FromFloat64 returns a float64 array of the given shape over data (not
// copied).
func FromFloat64(shape []int, data []float64) *Array {
	return &Array{Shape: slices.Clone(shape), DType: Float64, Data: data}
}

// FromInt32 returns an int32 array of the given shape over data (not
// copied).
func FromInt32(shape []int, data []int32) *Array {
	return &Array{Shape: slices.Clone(shape), DType: Int32, Data: data}
}

// FromInt64 returns an int64 array of the given shape over data (not
// copied).
func FromInt64(shape []int, data []int64) *Array {
	return &Array{Shape: slices.Clone(shape), DType: Int64, Data: data}
}

// FromUint8 returns a uint8 array of the given shape over data (not copied).
func FromUint8(shape []int, data []uint8) *Array {
	return &Array{Shape: slices.Clone(shape), DType: Uint8, Data: data}
}

// Len returns the number of elements the shape describes (1 for a 0-d
// array), or -1 if a dimension is negative or the product overflows.
func (a *Array) Len() int {
	n, err := numElements(a.Shape)
	if err != nil {
		return -1
	}
	return n
}

// dataLen returns the length of a.Data and whether its Go type matches
// a.DType.
func (a *Array) dataLen() (int, bool) {
	switch d := a.Data.(type) {
	case nil:
		return 0, dtypeSize(a.DType) > 0
	case []float32:
		return len(d), a.DType == Float32
	case []float64:
		return len(d), a.DType == Float64
	case []int32:
		return len(d), a.DType == Int32
	case []int64:
		return len(d), a.DType == Int64
	case []uint8:
		return len(d), a.DType == Uint8
	}
	return 0, false
}

// Validate checks that the dtype is supported, the data's Go type matches
// it and the shape's size equals the number of elements.
func (a *Array) Validate() error {
	if dtypeSize(a.DType) == 0 {
		return fmt.Errorf("unsupported dtype %q (want float32, float64, int32, int64 or uint8)", a.DType)
	}
	n, err := numElements(a.Shape)
	if err != nil {
		return err
	}
	l, ok := a.dataLen()
	if !ok {
		return fmt.Errorf("dtype %s does not match data of type %T", a.DType, a.Data)
	}
	if l != n {
		return fmt.Errorf("shape %s has %d elements but data has %d", formatShape(a.Shape), n, l)
	}
	return nil
}

// Float32 returns a copy of the elements converted to float32 (float64 and
// 64-bit integer values may lose precision).
func (a *Array) Float32() ([]float32, error) {
	switch d := a.Data.(type) {
	case []float32:
		return slices.Clone(d), nil
	case []float64:
		return convert[float32](d), nil
	case []int32:
		return convert[float32](d), nil
	case []int64:
		return convert[float32](d), nil
	case []uint8:
		return convert[float32](d), nil
	case nil:
		return []float32{}, nil
	}
	return nil, fmt.Errorf("cannot convert data of type %T to float32", a.Data)
}

// Float64 returns a copy of the elements converted to float64 (int64 values
// beyond 2^53 may lose precision).
func (a *Array) Float64() ([]float64, error) {
	switch d := a.Data.(type) {
	case []float32:
		return convert[float64](d), nil
	case []float64:
		return slices.Clone(d), nil
	case []int32:
		return convert[float64](d), nil
	case []int64:
		return convert[float64](d), nil
	case []uint8:
		return convert[float64](d), nil
	case nil:
		return []float64{}, nil
	}
	return nil, fmt.Errorf("cannot convert data of type %T to float64", a.Data)
}

// Int64 returns a copy of the elements of an integer array widened to
// int64. Floating-point arrays are refused rather than truncated.
func (a *Array) Int64() ([]int64, error) {
	switch d := a.Data.(type) {
	case []int32:
		return convert[int64](d), nil
	case []int64:
		return slices.Clone(d), nil
	case []uint8:
		return convert[int64](d), nil
	case nil:
		return []int64{}, nil
	}
	return nil, fmt.Errorf("cannot convert %s data to int64 without truncating; read it with Float64", a.DType)
}

type number interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint8
}

func convert[T, S number](s []S) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = T(v)
	}
	return out
}

// dtypeSize returns the element size of a dtype name, 0 if unknown.
func dtypeSize(dtype string) int {
	switch dtype {
	case Float32, Int32:
		return 4
	case Float64, Int64:
		return 8
	case Uint8:
		return 1
	}
	return 0
}

// descr returns the NumPy type string written for dtype.
func descr(dtype string) string {
	switch dtype {
	case Float32:
		return "<f4"
	case Float64:
		return "<f8"
	case Int32:
		return "<i4"
	case Int64:
		return "<i8"
	case Uint8:
		return "|u1"
	}
	return ""
}

// parseDescr maps a NumPy type string to a dtype name and byte order.
func parseDescr(s string) (dtype string, bigEndian bool, err error) {
	if len(s) < 2 {
		return "", false, fmt.Errorf("unsupported dtype %q", s)
	}
	order, kind := s[0], s[1:]
	switch kind {
	case "f4":
		dtype = Float32
	case "f8":
		dtype = Float64
	case "i4":
		dtype = Int32
	case "i8":
		dtype = Int64
	case "u1":
		dtype = Uint8
	}
	switch {
	case dtype == "":
		return "", false, fmt.Errorf("unsupported dtype %q (supported: <f4, <f8, <i4, <i8, |u1 and their big-endian forms)", s)
	case dtype == Uint8 && (order == '|' || order == '<' || order == '>' || order == '='):
		return dtype, false, nil
	case order == '<':
		return dtype, false, nil
	case order == '>':
		return dtype, true, nil
	}
	return "", false, fmt.Errorf("unsupported dtype %q: byte order %q is not explicit", s, order)
}

// numElements multiplies the dimensions, refusing negative ones and
// overflow.
func numElements(shape []int) (int, error) {
	if len(shape) > maxDims {
		return 0, fmt.Errorf("shape has %d dimensions, more than %d", len(shape), maxDims)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %s has a negative dimension", formatShape(shape))
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %s has more elements than an int can count", formatShape(shape))
		}
		n *= d
	}
	return n, nil
}

// formatShape writes a shape the way Python prints a tuple.
func formatShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// header is a parsed .npy header.
type header struct {
	major     byte
	dtype     string
	bigEndian bool
	shape     []int
	n         int   // number of elements
	dataBytes int64 // n times the element size
	prefixLen int64 // bytes before the data
}

// readHeader reads and checks the magic string, version and header dict.
// size, if not negative, is the total number of bytes the stream holds.
func readHeader(r io.Reader, size int64) (*header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.New("not a .npy file: too short for the magic string")
		}
		return nil, err
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("not a .npy file: starts with %q, want %q", pre[:6], magic)
	}
	h := &header{major: pre[6]}
	var hlen int64
	switch {
	case pre[6] == 1 && pre[7] == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated header: %w", eofToUnexpected(err))
		}
		hlen = int64(binary.LittleEndian.Uint16(b[:]))
		h.prefixLen = 10
	case (pre[6] == 2 || pre[6] == 3) && pre[7] == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated header: %w", eofToUnexpected(err))
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
		h.prefixLen = 12
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d (supported: 1.0, 2.0, 3.0)", pre[6], pre[7])
	}
	if hlen > MaxHeaderLen {
		return nil, fmt.Errorf("header claims %d bytes, more than the %d allowed", hlen, MaxHeaderLen)
	}
	if size >= 0 && h.prefixLen+hlen > size {
		return nil, fmt.Errorf("header claims %d bytes but the file has only %d after the %d-byte prefix", hlen, max(size-h.prefixLen, 0), h.prefixLen)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("truncated header: %w", eofToUnexpected(err))
	}
	h.prefixLen += hlen
	if err := h.parseDict(buf); err != nil {
		return nil, err
	}
	return h, nil
}

func eofToUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseDict interprets the header dictionary.
func (h *header) parseDict(buf []byte) error {
	// Versions 1 and 2 are latin-1 and version 3 is UTF-8; the keys and
	// values accepted are ASCII, so the parser works on bytes and any
	// non-ASCII byte can only sit inside a string that is refused later.
	p := &parser{s: buf}
	v, err := p.parseValue(0)
	if err != nil {
		return fmt.Errorf("corrupt header: %w", err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return fmt.Errorf("corrupt header: unexpected %q after the dictionary", clip(p.s[p.i:]))
	}
	d, ok := v.(pyDict)
	if !ok {
		return fmt.Errorf("corrupt header: %s is not a dictionary", clip(buf))
	}
	var haveDescr, haveFortran, haveShape bool
	for _, kv := range d {
		switch kv.key {
		case "descr":
			s, ok := kv.val.(string)
			if !ok {
				if _, isList := kv.val.(pyList); isList {
					return errors.New("structured dtypes (a list descr) are not supported")
				}
				return fmt.Errorf("corrupt header: 'descr' is %s, not a string", describe(kv.val))
			}
			dt, be, err := parseDescr(s)
			if err != nil {
				return err
			}
			h.dtype, h.bigEndian, haveDescr = dt, be, true
		case "fortran_order":
			b, ok := kv.val.(bool)
			if !ok {
				return fmt.Errorf("corrupt header: 'fortran_order' is %s, not True or False", describe(kv.val))
			}
			if b {
				return errors.New("fortran_order arrays are not supported; use np.ascontiguousarray")
			}
			haveFortran = true
		case "shape":
			t, ok := kv.val.(pyTuple)
			if !ok {
				return fmt.Errorf("corrupt header: 'shape' is %s, not a tuple", describe(kv.val))
			}
			shape := make([]int, len(t))
			for i, e := range t {
				n, ok := e.(int)
				if !ok {
					return fmt.Errorf("corrupt header: shape entry %d is %s, not an integer", i, describe(e))
				}
				shape[i] = n
			}
			h.shape, haveShape = shape, true
		default:
			return fmt.Errorf("corrupt header: unexpected key %q", kv.key)
		}
	}
	switch {
	case !haveDescr:
		return errors.New("corrupt header: no 'descr' key")
	case !haveFortran:
		return errors.New("corrupt header: no 'fortran_order' key")
	case !haveShape:
		return errors.New("corrupt header: no 'shape' key")
	}
	n, err := numElements(h.shape)
	if err != nil {
		return err
	}
	es := int64(dtypeSize(h.dtype))
	if int64(n) > math.MaxInt64/es {
		return fmt.Errorf("shape %s has more bytes than an int64 can count", formatShape(h.shape))
	}
	h.n, h.dataBytes = n, int64(n)*es
	return nil
}

// clip shortens a byte string for an error message.
func clip(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// Read reads one .npy array from r. size is the number of bytes r holds
// (the file or zip member size) or -1 if unknown. With a known size, a
// header whose shape needs more data than the stream holds is refused
// before anything is allocated, and so is a stream with bytes after the
// data. With an unknown size memory grows only as data actually arrives, and
// reading stops at the end of the array so that several arrays written one
// after another can be read in turn.
func Read(r io.Reader, size int64) (*Array, error) {
	a, err := read(r, size, "file")
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return a, nil
}

// read is Read without the "npy:" prefix on errors; what names the source
// ("file" or "member") in messages about its size.
func read(r io.Reader, size int64, what string) (*Array, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		avail := size - h.prefixLen
		switch {
		case h.dataBytes > avail:
			return nil, fmt.Errorf("shape %s needs %d bytes of %s data, %s has %d", formatShape(h.shape), h.dataBytes, h.dtype, what, avail)
		case h.dataBytes < avail:
			return nil, fmt.Errorf("shape %s needs %d bytes of %s data, %s has %d (%d unexpected bytes after the data)", formatShape(h.shape), h.dataBytes, h.dtype, what, avail, avail-h.dataBytes)
		}
	}
	if h.dataBytes > int64(math.MaxInt) {
		return nil, fmt.Errorf("shape %s needs %d bytes, more than this platform can address", formatShape(h.shape), h.dataBytes)
	}
	prealloc := size >= 0
	a := &Array{Shape: h.shape, DType: h.dtype}
	var got int64
	switch h.dtype {
	case Uint8:
		a.Data, got, err = readUint8(r, h.n, prealloc)
	case Float32:
		dec := decodeF32LE
		if h.bigEndian {
			dec = decodeF32BE
		}
		a.Data, got, err = readElems(r, h.n, 4, prealloc, dec)
	case Float64:
		dec := decodeF64LE
		if h.bigEndian {
			dec = decodeF64BE
		}
		a.Data, got, err = readElems(r, h.n, 8, prealloc, dec)
	case Int32:
		dec := decodeI32LE
		if h.bigEndian {
			dec = decodeI32BE
		}
		a.Data, got, err = readElems(r, h.n, 4, prealloc, dec)
	case Int64:
		dec := decodeI64LE
		if h.bigEndian {
			dec = decodeI64BE
		}
		a.Data, got, err = readElems(r, h.n, 8, prealloc, dec)
	}
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("truncated: shape %s needs %d bytes of %s data, got %d", formatShape(h.shape), h.dataBytes, h.dtype, got)
		}
		return nil, err
	}
	return a, nil
}

// readUint8 reads n bytes, all at once if prealloc, else in growing chunks.
func readUint8(r io.Reader, n int, prealloc bool) ([]uint8, int64, error) {
	if prealloc {
		out := make([]uint8, n)
		m, err := io.ReadFull(r, out)
		return out, int64(m), err
	}
	out := make([]uint8, 0, min(n, chunkBytes))
	for len(out) < n {
		k := min(n-len(out), chunkBytes)
		out = slices.Grow(out, k)
		m, err := io.ReadFull(r, out[len(out):len(out)+k])
		out = out[:len(out)+m]
		if err != nil {
			return nil, int64(len(out)), err
		}
	}
	return out, int64(n), nil
}

// readElems reads n elements of es bytes through a chunk buffer and decodes
// them with dec. Without prealloc the result grows as data arrives.
func readElems[T any](r io.Reader, n, es int, prealloc bool, dec func([]T, []byte)) ([]T, int64, error) {
	var out []T
	if prealloc {
		out = make([]T, n)
	} else {
		out = make([]T, 0, min(n, chunkBytes/es))
	}
	buf := make([]byte, min(chunkBytes, n*es))
	done := 0
	for done < n {
		k := min(n-done, chunkBytes/es)
		m, err := io.ReadFull(r, buf[:k*es])
		if err != nil {
			return nil, int64(done*es + m), err
		}
		if !prealloc {
			out = slices.Grow(out, k)[:done+k]
		}
		dec(out[done:done+k], buf[:k*es])
		done += k
	}
	return out, int64(n * es), nil
}

func decodeF32LE(d []float32, b []byte) {
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

func decodeF32BE(d []float32, b []byte) {
	for i := range d {
		d[i] = math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))
	}
}

func decodeF64LE(d []float64, b []byte) {
	for i := range d {
		d[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
}

func decodeF64BE(d []float64, b []byte) {
	for i := range d {
		d[i] = math.Float64frombits(binary.BigEndian.Uint64(b[8*i:]))
	}
}

func decodeI32LE(d []int32, b []byte) {
	for i := range d {
		d[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

func decodeI32BE(d []int32, b []byte) {
	for i := range d {
		d[i] = int32(binary.BigEndian.Uint32(b[4*i:]))
	}
}

func decodeI64LE(d []int64, b []byte) {
	for i := range d {
		d[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
}

func decodeI64BE(d []int64, b []byte) {
	for i := range d {
		d[i] = int64(binary.BigEndian.Uint64(b[8*i:]))
	}
}

// ReadFile reads the .npy file at path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	a, err := read(f, fi.Size(), "file")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// headerBytes returns the magic string, version, length and padded header
// dictionary for a, laid out as NumPy does so that the data starts at a
// multiple of 64 bytes.
func headerBytes(a *Array) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr(a.DType), formatShape(a.Shape))
	const align = 64
	major, prefix := byte(1), 10
	total := len(dict) + 1 + align - (prefix+len(dict)+1)%align
	if total > math.MaxUint16 {
		major, prefix = 2, 12
		total = len(dict) + 1 + align - (prefix+len(dict)+1)%align
	}
	b := make([]byte, 0, prefix+total)
	b = append(b, magic...)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(total))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(total))
	}
	b = append(b, dict...)
	for len(b) < prefix+total-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// Write writes a as a .npy file (format version 1.0, or 2.0 if the header
// needs it) in little-endian byte order.
func Write(w io.Writer, a *Array) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if _, err := w.Write(headerBytes(a)); err != nil {
		return err
	}
	switch d := a.Data.(type) {
	case []uint8:
		_, err := w.Write(d)
		return err
	case []float32:
		return writeElems(w, d, 4, func(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) })
	case []float64:
		return writeElems(w, d, 8, func(b []byte, v float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(v)) })
	case []int32:
		return writeElems(w, d, 4, func(b []byte, v int32) { binary.LittleEndian.PutUint32(b, uint32(v)) })
	case []int64:
		return writeElems(w, d, 8, func(b []byte, v int64) { binary.LittleEndian.PutUint64(b, uint64(v)) })
	}
	return nil // nil data with zero elements
}

// writeElems encodes d through a chunk buffer.
func writeElems[T any](w io.Writer, d []T, es int, put func([]byte, T)) error {
	buf := make([]byte, min(chunkBytes, len(d)*es))
	for len(d) > 0 {
		k := min(len(d), chunkBytes/es)
		for i, v := range d[:k] {
			put(buf[i*es:], v)
		}
		if _, err := w.Write(buf[:k*es]); err != nil {
			return err
		}
		d = d[k:]
	}
	return nil
}

// WriteFile writes a to path atomically.
func WriteFile(path string, a *Array) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := Write(f, a); err != nil {
		return atomicfile.Wrap(path, err)
	}
	return f.Commit()
}
