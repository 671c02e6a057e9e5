package experiment

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/eqens/eqens/internal/atomicfile"
)

// SaveFloats writes v to path as little-endian float32 or float64 values,
// atomically, creating its folder: the cache files of the experiments
// (trained members' outputs, kernel matrices) that a rerun reads back.
func SaveFloats[T float32 | float64](path string, v []T) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b []byte
	switch x := any(v).(type) {
	case []float32:
		b = make([]byte, 4*len(x))
		for i, f := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
	case []float64:
		b = make([]byte, 8*len(x))
		for i, f := range x {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// LoadFloats reads n values written by SaveFloats; a file of another
// length is an error that says how to recover.
func LoadFloats[T float32 | float64](path string, n int) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := make([]T, n)
	switch x := any(v).(type) {
	case []float32:
		if len(b) == 4*n {
			for i := range x {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			return v, nil
		}
		return nil, fmt.Errorf("%s: %d bytes, want %d (remove the file to recompute it)", path, len(b), 4*n)
	default:
		y := any(v).([]float64)
		if len(b) == 8*n {
			for i := range y {
				y[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
			return v, nil
		}
		return nil, fmt.Errorf("%s: %d bytes, want %d (remove the file to recompute it)", path, len(b), 8*n)
	}
}
