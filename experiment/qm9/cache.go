package qm9

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/eqens/eqens/internal/atomicfile"
)

// cachedMatrix returns the matrixFunc of a run of experiment name with
// parameters p that writes the per-atom kernels' matrices, the expensive
// ones, to out/cache/KERNEL-ROLE-HASH.f64 (little-endian float64) and reads
// them back when the run is repeated with the same parameters, so that an
// interrupted run resumes after its last finished matrix. HASH covers the
// experiment, all parameters (they fix the data, the split and the
// kernels) and the kernel's architecture.
func cachedMatrix(out, name string, p *params) matrixFunc {
	pj, _ := json.Marshal(p)
	return func(ctx context.Context, k *kernelSpec, role string, a, b *molSet) ([]float64, error) {
		if !k.atoms {
			return k.matrix(ctx, a, b, k.name+" "+role)
		}
		h := sha256.Sum256([]byte(name + "\n" + string(pj) + "\n" + k.name + "\n" + k.arch.Spec + "\n" + role))
		path := filepath.Join(out, "cache", fmt.Sprintf("%s-%s-%s.f64", safeName(k.name), role, hex.EncodeToString(h[:])[:12]))
		n := a.n * b.n
		if m, err := readMatrix(path, n); err == nil {
			return m, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		m, err := k.matrix(ctx, a, b, k.name+" "+role)
		if err != nil {
			return nil, err
		}
		return m, writeMatrix(path, m)
	}
}

// readMatrix reads n float64 values written by writeMatrix.
func readMatrix(path string, n int) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d (remove the file to recompute it)", path, len(b), 8*n)
	}
	m := make([]float64, n)
	for i := range m {
		m[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return m, nil
}

// writeMatrix writes m atomically to path, creating its folder.
func writeMatrix(path string, m []float64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b := make([]byte, 8*len(m))
	for i, v := range m {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// safeName replaces the characters of a kernel name that are awkward in
// file names.
func safeName(s string) string { return strings.NewReplacer(":", "_", "/", "_", " ", "_").Replace(s) }
