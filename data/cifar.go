package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CIFAR-10 binary version: each record is a label byte followed by a 32×32
// red plane, green plane and blue plane, row-major, which is already the
// C×H×W layout of a Dataset.
const (
	cifarImageBytes  = 3 * 32 * 32
	cifarRecordBytes = 1 + cifarImageBytes
	cifarClasses     = 10
	// cifarMaxBatch bounds one batch file (the official ones hold 10000
	// records, 30730000 bytes).
	cifarMaxBatch = 64 << 20
)

// cifarBatches returns the batch file names of a split, in order.
func cifarBatches(split string) ([]string, error) {
	switch split {
	case "train":
		return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, nil
	case "test":
		return []string{"test_batch.bin"}, nil
	}
	return nil, fmt.Errorf("unknown split %q (want train or test)", split)
}

// CIFAR10 returns the "train" (50000 images) or "test" (10000 images) split
// of CIFAR-10 from cifar-10-binary.tar.gz, looked up like every registry
// dataset (see Spec.Locations) and verified against its published checksum
// first: inputs of shape [3 32 32] scaled to [0, 1], 10 classes.
func CIFAR10(split, dataDir string) (*Dataset, error) {
	if _, err := cifarBatches(split); err != nil {
		return nil, fmt.Errorf("cifar10: %w", err)
	}
	paths, err := locateVerified("cifar10", dataDir, "cifar-10-binary.tar.gz")
	if err != nil {
		return nil, err
	}
	return ReadCIFAR10(paths[0], split)
}

// ReadCIFAR10 reads a split of the CIFAR-10 binary version from path, which
// may be the published cifar-10-binary.tar.gz, an uncompressed tar of it or
// a directory holding the extracted batch files (directly or in
// cifar-10-batches-bin). Batch files are recognised by their base names, so
// the directory layout inside the archive does not matter. No checksum is
// checked; CIFAR10 does that.
func ReadCIFAR10(p, split string) (*Dataset, error) {
	names, err := cifarBatches(split)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	batches := make([][]byte, len(names))
	if fi.IsDir() {
		dir := p
		if _, err := os.Stat(filepath.Join(p, "cifar-10-batches-bin", names[0])); err == nil {
			dir = filepath.Join(p, "cifar-10-batches-bin")
		}
		for i, n := range names {
			b, err := readLimited(filepath.Join(dir, n), cifarMaxBatch)
			if err != nil {
				return nil, err
			}
			batches[i] = b
		}
	} else {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if batches, err = readCIFARTar(f, p, names); err != nil {
			return nil, err
		}
	}
	full := make([]string, len(names))
	for i, n := range names {
		full[i] = p + ": " + n
	}
	return cifarDataset("cifar10/"+split, full, batches)
}

// readLimited reads a whole file that must not exceed limit bytes.
func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d expected at most", p, fi.Size(), limit)
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return b, nil
}

// readCIFARTar extracts the named batch files from a tar stream, gzipped or
// not.
func readCIFARTar(r io.Reader, name string, names []string) ([][]byte, error) {
	tr, closeFn, err := openTar(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	want := make(map[string]int, len(names))
	for i, n := range names {
		want[n] = i
	}
	batches := make([][]byte, len(names))
	found := 0
	for found < len(names) {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: corrupt archive: %w", name, err)
		}
		i, ok := want[path.Base(h.Name)]
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		if batches[i] != nil {
			return nil, fmt.Errorf("%s: %s appears twice", name, h.Name)
		}
		if h.Size < 0 || h.Size > cifarMaxBatch {
			return nil, fmt.Errorf("%s: %s claims %d bytes, more than the %d expected at most", name, h.Name, h.Size, cifarMaxBatch)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("%s: %s: truncated archive: %w", name, h.Name, err)
		}
		batches[i] = b
		found++
	}
	var missing []string
	for i, b := range batches {
		if b == nil {
			missing = append(missing, names[i])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: archive lacks %s; is it the CIFAR-10 binary version (cifar-10-binary.tar.gz)?", name, strings.Join(missing, ", "))
	}
	return batches, nil
}

// openTar returns a tar reader over r, gunzipping it if it starts with the
// gzip magic.
func openTar(r io.Reader, name string) (*tar.Reader, func() error, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if m, err := br.Peek(2); err == nil && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: corrupt gzip data: %w", name, err)
		}
		return tar.NewReader(zr), zr.Close, nil
	}
	return tar.NewReader(br), func() error { return nil }, nil
}

// ParseCIFARBatch decodes one CIFAR-10 batch file (records of a label byte
// and 3072 pixel bytes) into inputs scaled to [0, 1] and labels. name
// prefixes errors.
func ParseCIFARBatch(b []byte, name string) ([]float32, []int, error) {
	d, err := cifarDataset("", []string{name}, [][]byte{b})
	if err != nil {
		return nil, nil, err
	}
	return d.X, d.Labels, nil
}

// cifarDataset decodes batches (named by names in errors) into one
// Dataset, dropping each batch's bytes once decoded.
func cifarDataset(dsName string, names []string, batches [][]byte) (*Dataset, error) {
	total := 0
	for i, b := range batches {
		if len(b) == 0 || len(b)%cifarRecordBytes != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte records", names[i], len(b), cifarRecordBytes)
		}
		total += len(b) / cifarRecordBytes
	}
	d := &Dataset{
		Name:    dsName,
		Shape:   []int{3, 32, 32},
		X:       make([]float32, total*cifarImageBytes),
		Labels:  make([]int, total),
		Classes: cifarClasses,
	}
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	k := 0
	for i, b := range batches {
		for r := 0; r < len(b); r += cifarRecordBytes {
			if b[r] >= cifarClasses {
				return nil, fmt.Errorf("%s: record %d has label %d, outside 0..%d", names[i], r/cifarRecordBytes, b[r], cifarClasses-1)
			}
			d.Labels[k] = int(b[r])
			x := d.X[k*cifarImageBytes : (k+1)*cifarImageBytes]
			for j, v := range b[r+1 : r+cifarRecordBytes] {
				x[j] = lut[v]
			}
			k++
		}
		batches[i] = nil // let the raw bytes go
	}
	return d, nil
}
