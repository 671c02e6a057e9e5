package qm9

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/eqens/eqens/experiment"
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
	return experiment.LoadFloats[float64](path, n)
}

// writeMatrix writes m atomically to path, creating its folder.
func writeMatrix(path string, m []float64) error { return experiment.SaveFloats(path, m) }

// safeName replaces the characters of a kernel name that are awkward in
// file names.
func safeName(s string) string { return strings.NewReplacer(":", "_", "/", "_", " ", "_").Replace(s) }
