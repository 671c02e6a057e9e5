package data

import (
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// EnvDataDir is the environment variable naming a directory of datasets,
// searched after an explicit --data-dir.
const EnvDataDir = "EQENS_DATA"

// A File is one file of a dataset as its publishers distribute it.
type File struct {
	// Name is the file name on disk.
	Name string
	// URLs lists where to download it, the official location first; later
	// entries are mirrors tried when an earlier one fails.
	URLs []string
	// Size is the published size in bytes (0 if not published).
	Size int64
	// MD5 and SHA256 are the published digests of the file (hex, empty if
	// not published).
	MD5, SHA256 string
	// ContentSHA256, for gzip files, is the SHA-256 of the decompressed
	// data. Repackagers such as Debian rewrite gzip headers, which changes
	// the file digests but not this one, so files found locally are
	// checked against it instead of MD5 and SHA256.
	ContentSHA256 string
}

// A SystemDir is a directory where an operating system package installs a
// dataset's files.
type SystemDir struct {
	Dir     string // e.g. /usr/share/datasets/fashion-mnist
	Package string // e.g. dataset-fashion-mnist (a Debian package)
}

// A Spec describes a dataset eqens knows: how to find, check and download
// its files (the datasets of Registry) and what a training config that
// names it gets and how to read it (the datasets of Sets).
type Spec struct {
	// Name is the registry name, e.g. "fashion-mnist".
	Name string
	// Title is a one-line description.
	Title string
	// Splits lists the splits Load and Open accept (nil for datasets Load
	// does not handle; Open accepts any split of a set without Splits).
	Splits []string
	// Shape is the shape of one sample ([C H W] for images, [D] for
	// vectors); nil when it is only known once the data are read (npz),
	// and for sets that Open does not read.
	Shape []int
	// Classes is the number of classes of a classification set (0 for
	// regression and unknown ones).
	Classes int
	// TargetDim is the dimension of the targets of a regression set (0
	// for classification and unknown ones).
	TargetDim int
	// open reads one split (already checked against Splits) for Open and
	// Load; nil for datasets neither reads (qm9).
	open func(split string, o OpenOptions) (*Dataset, error)
	// Files lists the files that make up the dataset.
	Files []File
	// Embedded is set for datasets compiled into the binary.
	Embedded bool
	// SystemDirs lists package-managed directories searched last.
	SystemDirs []SystemDir
	// Homepage and License say where the data comes from and on what terms.
	Homepage, License string
}

// Registry returns the datasets eqens finds, checks and downloads files
// of (the ones "eqens data" manages), in a fixed order. Each call returns
// fresh values that the caller may modify. Sets returns the datasets a
// training config can name.
func Registry() []*Spec {
	var r []*Spec
	for _, s := range specs() {
		if len(s.Files) > 0 {
			r = append(r, s)
		}
	}
	return r
}

// specs returns every dataset eqens knows, in a fixed order: the datasets
// with files, then the ones generated or read from a file the user names.
//
// Sources of the URLs and checksums: MNIST and Fashion-MNIST MD5s from
// torchvision (datasets/mnist.py), Fashion-MNIST sizes and SHA-256s from
// tensorflow-datasets (url_checksums/fashion_mnist.txt), the decompressed
// Fashion-MNIST SHA-256s computed from Debian's dataset-fashion-mnist files,
// CIFAR-10's MD5 from its home page and its size and SHA-256 from
// tensorflow-datasets (url_checksums/cifar10.txt), the PathMNIST URLs and
// MD5s from medmnist (info.py, MedMNIST+ record 10519652), and the QM9
// archive's figshare URL, size and MD5 as published by figshare (the URL is
// the one torch_geometric and others use).
func specs() []*Spec {
	const (
		mnistURL   = "https://ossci-datasets.s3.amazonaws.com/mnist/"
		mnistOrig  = "http://yann.lecun.com/exdb/mnist/"
		fashionURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
		fashionGH  = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
		medmnist   = "https://zenodo.org/records/10519652/files/"
	)
	idx := func(base, mirror, name string, size int64, md5, sha, content string) File {
		return File{Name: name, URLs: []string{base + name, mirror + name}, Size: size, MD5: md5, SHA256: sha, ContentSHA256: content}
	}
	return []*Spec{
		{
			Name:     "mnist",
			Title:    "MNIST handwritten digits, 28x28 grey, 10 classes (60000 train, 10000 test)",
			Splits:   []string{"train", "test"},
			Shape:    []int{1, 28, 28},
			Classes:  10,
			open:     func(split string, _ OpenOptions) (*Dataset, error) { return MNIST(split) },
			Embedded: true,
			Files: []File{
				idx(mnistURL, mnistOrig, "train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873", "", ""),
				idx(mnistURL, mnistOrig, "train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432", "", ""),
				idx(mnistURL, mnistOrig, "t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3", "", ""),
				idx(mnistURL, mnistOrig, "t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c", "", ""),
			},
			Homepage: "http://yann.lecun.com/exdb/mnist/",
			License:  "CC BY-SA 3.0 (as distributed by torchvision and others)",
		},
		{
			Name:   "fashion-mnist",
			Title:  "Fashion-MNIST clothing images, 28x28 grey, 10 classes (60000 train, 10000 test)",
			Splits: []string{"train", "test"},
			Shape:  []int{1, 28, 28}, Classes: 10,
			open: func(split string, o OpenOptions) (*Dataset, error) { return FashionMNIST(split, o.Dir) },
			Files: []File{
				idx(fashionURL, fashionGH, "train-images-idx3-ubyte.gz", 26421880,
					"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
					"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
				idx(fashionURL, fashionGH, "train-labels-idx1-ubyte.gz", 29515,
					"25c81989df183df01b3e8a0aad5dffbe", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
					"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
				idx(fashionURL, fashionGH, "t10k-images-idx3-ubyte.gz", 4422102,
					"bef4ecab320f06d8554ea6380940ec79", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
					"5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
				idx(fashionURL, fashionGH, "t10k-labels-idx1-ubyte.gz", 5148,
					"bb300cfdad3c16e7a12a480ee83cd310", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
					"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
			},
			SystemDirs: []SystemDir{{Dir: "/usr/share/datasets/fashion-mnist", Package: "dataset-fashion-mnist"}},
			Homepage:   "https://github.com/zalandoresearch/fashion-mnist",
			License:    "MIT",
		},
		{
			Name:   "cifar10",
			Title:  "CIFAR-10 colour images, 3x32x32, 10 classes (50000 train, 10000 test), binary version",
			Splits: []string{"train", "test"},
			Shape:  []int{3, 32, 32}, Classes: 10,
			open: func(split string, o OpenOptions) (*Dataset, error) { return CIFAR10(split, o.Dir) },
			Files: []File{{
				Name:   "cifar-10-binary.tar.gz",
				URLs:   []string{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
				Size:   170052171,
				MD5:    "c32a1d4ab5d03f1284b67883e8d87530",
				SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
			}},
			Homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
			License:  "no explicit license; cite Krizhevsky (2009)",
		},
		{
			Name:   "pathmnist",
			Title:  "MedMNIST PathMNIST colon pathology, 3x28x28, 9 classes (89996 train, 10004 val, 7180 test)",
			Splits: []string{"train", "val", "test"},
			Shape:  []int{3, 28, 28}, Classes: 9,
			open: func(split string, o OpenOptions) (*Dataset, error) { return PathMNIST(split, o.Dir, 28) },
			Files: []File{{
				Name: "pathmnist.npz",
				URLs: []string{medmnist + "pathmnist.npz?download=1"},
				MD5:  "a8b06965200029087d5bd730944a56c1",
			}},
			Homepage: "https://medmnist.com/",
			License:  "CC BY 4.0",
		},
		{
			Name:   "pathmnist64",
			Title:  "MedMNIST+ PathMNIST at 64x64, 3x64x64, 9 classes (89996 train, 10004 val, 7180 test)",
			Splits: []string{"train", "val", "test"},
			Shape:  []int{3, 64, 64}, Classes: 9,
			open: func(split string, o OpenOptions) (*Dataset, error) { return PathMNIST(split, o.Dir, 64) },
			Files: []File{{
				Name: "pathmnist_64.npz",
				URLs: []string{medmnist + "pathmnist_64.npz?download=1"},
				MD5:  "55aa9c1e0525abe5a6b9d8343a507616",
			}},
			Homepage: "https://medmnist.com/",
			License:  "CC BY 4.0",
		},
		{
			Name:  "qm9",
			Title: "QM9 small organic molecules: geometries and 15 DFT properties (133885 molecules)",
			Files: []File{{
				Name: "dsgdb9nsd.xyz.tar.bz2",
				URLs: []string{"https://ndownloader.figshare.com/files/3195389"},
				Size: 86144227,
				MD5:  "ad1ebd51ee7f5b3a6e32e974e5d54012",
			}},
			Homepage: "https://doi.org/10.6084/m9.figshare.c.978904.v5",
			License:  "CC0",
		},
		{
			Name:      CrossProductName,
			Title:     "synthetic SO(3)-equivariant regression: inputs (u, v) from N(0, I₃) as 6-vectors, targets u×v (CrossProduct)",
			Splits:    []string{"train", "test", "ood"},
			Shape:     []int{6},
			TargetDim: 3,
			open:      openCrossProduct,
		},
		{
			Name:  NPZName,
			Title: "a NumPy .npz file named by OpenOptions.Path (data.path): inputs x, class labels or targets y",
			open:  func(split string, o OpenOptions) (*Dataset, error) { return loadNPZ(o.Path, split) },
		},
	}
}

// Names returns the registry names in registry order.
func Names() []string {
	var names []string
	for _, s := range Registry() {
		names = append(names, s.Name)
	}
	return names
}

// Lookup returns the spec of the named dataset.
func Lookup(name string) (*Spec, error) {
	for _, s := range Registry() {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
}

// file returns the named file of s.
func (s *Spec) file(name string) File {
	for _, f := range s.Files {
		if f.Name == name {
			return f
		}
	}
	return File{Name: name}
}

// HowToGet says how to obtain the dataset.
func (s *Spec) HowToGet() string {
	if s.Embedded {
		return "embedded in the eqens binary; nothing to do"
	}
	var ways []string
	for _, d := range s.SystemDirs {
		ways = append(ways, "apt install "+d.Package)
	}
	ways = append(ways, "eqens data fetch "+s.Name)
	return strings.Join(ways, " or ")
}

// A Location is a directory where a dataset's files are looked for.
type Location struct {
	// Source says why the directory is searched: "embedded", "--data-dir",
	// "$EQENS_DATA", "user cache" or "package NAME".
	Source string
	// Dir is the directory holding the files (empty for embedded data).
	Dir string
}

// String describes the location, e.g. "user cache (/home/u/.cache/eqens/qm9)".
func (l Location) String() string {
	if l.Dir == "" {
		return l.Source
	}
	return l.Source + " (" + l.Dir + ")"
}

// DefaultDir returns the directory downloads go to by default: $EQENS_DATA
// if set, else eqens's directory in the user cache.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no download directory: $%s is not set and %w", EnvDataDir, err)
	}
	return filepath.Join(c, "eqens"), nil
}

// Locations returns where the dataset is looked for, in order: inside the
// explicit dataDir (if not empty), inside $EQENS_DATA, inside the user
// cache (os.UserCacheDir()/eqens), then the package directories. Inside
// each of the first three the files sit in a subdirectory named after the
// dataset, e.g. DIR/fashion-mnist/train-images-idx3-ubyte.gz.
func (s *Spec) Locations(dataDir string) []Location {
	if s.Embedded {
		return []Location{{Source: "embedded"}}
	}
	var locs []Location
	add := func(source, dir string) {
		for _, l := range locs {
			if l.Dir == dir {
				return
			}
		}
		locs = append(locs, Location{Source: source, Dir: dir})
	}
	if dataDir != "" {
		add("--data-dir", filepath.Join(dataDir, s.Name))
	}
	if d := os.Getenv(EnvDataDir); d != "" {
		add("$"+EnvDataDir, filepath.Join(d, s.Name))
	}
	if c, err := os.UserCacheDir(); err == nil {
		add("user cache", filepath.Join(c, "eqens", s.Name))
	}
	for _, d := range s.SystemDirs {
		add("package "+d.Package, d.Dir)
	}
	return locs
}

// find returns the first location holding all the named files (checked
// for existence only), or an error that says where it looked and how to
// get the data.
func (s *Spec) find(dataDir string, names ...string) (Location, error) {
	locs := s.Locations(dataDir)
	for _, l := range locs {
		ok := true
		for _, n := range names {
			if fi, err := os.Stat(filepath.Join(l.Dir, n)); err != nil || !fi.Mode().IsRegular() {
				ok = false
				break
			}
		}
		if ok {
			return l, nil
		}
	}
	var where []string
	for _, l := range locs {
		where = append(where, l.String())
	}
	return Location{}, fmt.Errorf("%s: %s not found; looked in %s; get it with: %s",
		s.Name, strings.Join(names, ", "), strings.Join(where, ", "), s.HowToGet())
}

// ChecksumError reports a file whose contents do not match the published
// digest.
type ChecksumError struct {
	Path      string
	Algorithm string // "md5", "sha256", "sha256 of the decompressed data" or "size"
	Want, Got string
}

// Error says which digest failed, with the expected and actual values.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: checksum mismatch: expected %s %s, got %s", e.Path, e.Algorithm, e.Want, e.Got)
}

// Verify checks the file at path against f's published digests. For files
// with a ContentSHA256 only the decompressed data is checked, so that
// repackaged copies (Debian's) pass; VerifyDownload checks both.
func (f File) Verify(path string) error {
	if f.ContentSHA256 != "" {
		return f.verifyContent(path)
	}
	return f.verifyRaw(path)
}

// VerifyDownload checks a freshly downloaded copy of f: its size and file
// digests as published and, for gzip files with a ContentSHA256, the
// decompressed data.
func (f File) VerifyDownload(path string) error {
	if err := f.verifyRaw(path); err != nil {
		return err
	}
	if f.ContentSHA256 != "" {
		return f.verifyContent(path)
	}
	return nil
}

func (f File) verifyRaw(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if f.Size > 0 {
		fi, err := fh.Stat()
		if err != nil {
			return err
		}
		if fi.Size() != f.Size {
			return &ChecksumError{Path: path, Algorithm: "size", Want: fmt.Sprint(f.Size), Got: fmt.Sprint(fi.Size())}
		}
	}
	var hashes []hash.Hash
	var writers []io.Writer
	m, s := md5.New(), sha256.New()
	if f.MD5 != "" {
		hashes, writers = append(hashes, m), append(writers, m)
	}
	if f.SHA256 != "" {
		hashes, writers = append(hashes, s), append(writers, s)
	}
	if len(writers) == 0 {
		return nil
	}
	if _, err := io.Copy(io.MultiWriter(writers...), fh); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := hex.EncodeToString(m.Sum(nil)); f.MD5 != "" && !strings.EqualFold(got, f.MD5) {
		return &ChecksumError{Path: path, Algorithm: "md5", Want: f.MD5, Got: got}
	}
	if got := hex.EncodeToString(s.Sum(nil)); f.SHA256 != "" && !strings.EqualFold(got, f.SHA256) {
		return &ChecksumError{Path: path, Algorithm: "sha256", Want: f.SHA256, Got: got}
	}
	return nil
}

func (f File) verifyContent(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("%s: corrupt gzip data: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		return fmt.Errorf("%s: corrupt gzip data: %w", path, err)
	}
	return checkContent(path, f.ContentSHA256, h)
}

// checkContent compares a finished hash of decompressed data with want.
func checkContent(path, want string, h hash.Hash) error {
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return &ChecksumError{Path: path, Algorithm: "sha256 of the decompressed data", Want: want, Got: got}
	}
	return nil
}

// State is the condition of a dataset at one location.
type State int

// The states of a dataset at a location.
const (
	Missing    State = iota // none of the files is there
	Incomplete              // some files are there, others missing
	Corrupt                 // a file fails its checksum or cannot be read
	Present                 // every file is there and verified
)

// String returns the state's name as "eqens data list" prints it.
func (s State) String() string {
	switch s {
	case Missing:
		return "missing"
	case Incomplete:
		return "incomplete"
	case Corrupt:
		return "corrupt"
	case Present:
		return "present"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// LocationStatus is the state of a dataset at one location.
type LocationStatus struct {
	Location
	State State
	// Detail says what is missing or wrong, or notes an unfinished
	// download.
	Detail string
}

// Check inspects every location of the dataset and verifies the checksums
// of the files it finds there (which reads them in full).
func (s *Spec) Check(dataDir string) []LocationStatus {
	if s.Embedded {
		st := LocationStatus{Location: Location{Source: "embedded"}, State: Present}
		if err := s.verifyEmbedded(); err != nil {
			st.State, st.Detail = Corrupt, err.Error()
		}
		return []LocationStatus{st}
	}
	var out []LocationStatus
	for _, l := range s.Locations(dataDir) {
		out = append(out, s.checkDir(l))
	}
	return out
}

func (s *Spec) checkDir(l Location) LocationStatus {
	st := LocationStatus{Location: l}
	var missing, partial, corrupt []string
	for _, f := range s.Files {
		p := filepath.Join(l.Dir, f.Name)
		if fi, err := os.Stat(p + ".part"); err == nil {
			partial = append(partial, fmt.Sprintf("%s.part (%d bytes)", f.Name, fi.Size()))
		}
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, f.Name)
			continue
		case err != nil:
			corrupt = append(corrupt, err.Error())
			continue
		case !fi.Mode().IsRegular():
			corrupt = append(corrupt, p+": not a regular file")
			continue
		}
		if err := f.Verify(p); err != nil {
			corrupt = append(corrupt, err.Error())
		}
	}
	var notes []string
	switch {
	case len(corrupt) > 0:
		st.State = Corrupt
		notes = append(notes, corrupt...)
		if len(missing) > 0 {
			notes = append(notes, "missing "+strings.Join(missing, ", "))
		}
	case len(missing) == len(s.Files):
		st.State = Missing
	case len(missing) > 0:
		st.State = Incomplete
		notes = append(notes, "missing "+strings.Join(missing, ", "))
	default:
		st.State = Present
	}
	if len(partial) > 0 {
		notes = append(notes, "unfinished download "+strings.Join(partial, ", ")+"; eqens data fetch resumes it")
	}
	st.Detail = strings.Join(notes, "; ")
	return st
}

// Load reads one split of an image classification dataset from the
// registry: "mnist" (embedded), "fashion-mnist", "cifar10", "pathmnist" or
// "pathmnist64". dataDir is an explicit directory searched first (may be
// empty). The files found are verified against their checksums first.
func Load(name, split, dataDir string) (*Dataset, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if s.Splits == nil {
		return nil, fmt.Errorf("%s is not an image dataset; read it with its own loader (LoadQM9)", name)
	}
	if !slices.Contains(s.Splits, split) {
		return nil, fmt.Errorf("%s: unknown split %q (want %s)", name, split, strings.Join(s.Splits, ", "))
	}
	if s.open == nil {
		return nil, fmt.Errorf("%s: no loader", name)
	}
	return s.open(split, OpenOptions{Dir: dataDir})
}

// locateVerified finds the named files of dataset name and checks them
// against their published digests, returning their paths.
func locateVerified(name, dataDir string, files ...string) ([]string, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	loc, err := s.find(dataDir, files...)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(files))
	for i, n := range files {
		paths[i] = filepath.Join(loc.Dir, n)
		if err := s.file(n).Verify(paths[i]); err != nil {
			return nil, corruptHint(s, err)
		}
	}
	return paths, nil
}

// corruptHint adds the remedy to a verification error.
func corruptHint(s *Spec, err error) error {
	return fmt.Errorf("%w (delete the file and get it again with: %s)", err, s.HowToGet())
}
