package data

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
)

// FashionMNIST returns the "train" (60000 images) or "test" (10000 images)
// split of Fashion-MNIST: inputs of shape [1 28 28] scaled to [0, 1], 10
// classes.
//
// The files are looked up in dataDir/fashion-mnist (if dataDir is not
// empty), $EQENS_DATA/fashion-mnist, os.UserCacheDir()/eqens/fashion-mnist
// and Debian's /usr/share/datasets/fashion-mnist (package
// dataset-fashion-mnist), in that order; the first directory holding both
// files of the split is used. While reading, the SHA-256 of the
// decompressed data is checked against the published files' (which holds
// for the official downloads and Debian's repackaged copies alike).
func FashionMNIST(split, dataDir string) (*Dataset, error) {
	prefix, err := splitPrefix(split)
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist: %w", err)
	}
	s, err := Lookup("fashion-mnist")
	if err != nil {
		return nil, err
	}
	names := []string{prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz"}
	loc, err := s.find(dataDir, names...)
	if err != nil {
		return nil, err
	}
	var parts [2]*IDX
	for i, n := range names {
		p := filepath.Join(loc.Dir, n)
		h := sha256.New()
		x, err := readIDXFile(p, h)
		if err != nil {
			return nil, corruptHint(s, err)
		}
		if err := checkContent(p, s.file(n).ContentSHA256, h); err != nil {
			return nil, corruptHint(s, err)
		}
		parts[i] = x
	}
	return IDXDataset("fashion-mnist/"+split, parts[0], parts[1], 10)
}
