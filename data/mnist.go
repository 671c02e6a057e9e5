package data

import (
	"bytes"
	"crypto/md5"
	"embed"
	"encoding/hex"
	"fmt"
	"path"
)

// mnistFiles holds the four MNIST files exactly as published (the gzip
// files torchvision checks with the MD5s in the registry), so that the
// binary works without any download.
//
//go:embed mnist/*.gz
var mnistFiles embed.FS

// splitPrefix maps a split name to the prefix of the MNIST-style file
// names.
func splitPrefix(split string) (string, error) {
	switch split {
	case "train":
		return "train", nil
	case "test":
		return "t10k", nil
	}
	return "", fmt.Errorf("unknown split %q (want train or test)", split)
}

// MNIST returns the "train" (60000 images) or "test" (10000 images) split
// of the MNIST digits embedded in the binary: inputs of shape [1 28 28]
// scaled to [0, 1], 10 classes. Each call parses the data afresh and
// returns a new Dataset the caller owns.
func MNIST(split string) (*Dataset, error) {
	prefix, err := splitPrefix(split)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	images, err := readEmbeddedIDX(prefix + "-images-idx3-ubyte.gz")
	if err != nil {
		return nil, err
	}
	labels, err := readEmbeddedIDX(prefix + "-labels-idx1-ubyte.gz")
	if err != nil {
		return nil, err
	}
	return IDXDataset("mnist/"+split, images, labels, 10)
}

func readEmbeddedIDX(name string) (*IDX, error) {
	b, err := mnistFiles.ReadFile(path.Join("mnist", name))
	if err != nil {
		return nil, fmt.Errorf("embedded mnist: %w", err)
	}
	return ReadIDX(bytes.NewReader(b), "embedded mnist/"+name, DefaultIDXLimit)
}

// verifyEmbedded checks the embedded files of an embedded dataset against
// the MD5s in its spec.
func (s *Spec) verifyEmbedded() error {
	for _, f := range s.Files {
		b, err := mnistFiles.ReadFile(path.Join("mnist", f.Name))
		if err != nil {
			return fmt.Errorf("embedded %s: %w", s.Name, err)
		}
		sum := md5.Sum(b)
		if got := hex.EncodeToString(sum[:]); got != f.MD5 {
			return &ChecksumError{Path: "embedded mnist/" + f.Name, Algorithm: "md5", Want: f.MD5, Got: got}
		}
	}
	return nil
}
