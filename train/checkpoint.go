package train

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/eqens/eqens/internal/atomicfile"
	"github.com/eqens/eqens/nn"
)

// CheckpointFormat is the value of the "format" metadata entry of member
// checkpoints.
const CheckpointFormat = "eqens.member/1"

// Names inside a run directory.
const (
	ConfigFile     = "config.yaml"
	PreprocessFile = "preprocess.json"
	MembersDir     = "members"
)

// MemberPath returns the checkpoint path of member m in run directory dir:
// DIR/members/member-0007.safetensors.
func MemberPath(dir string, m int) string {
	return filepath.Join(dir, MembersDir, fmt.Sprintf("member-%04d.safetensors", m))
}

var memberName = regexp.MustCompile(`^member-([0-9]{4,})\.safetensors$`)

// ListMembers returns the indices of the member checkpoints in run
// directory dir, in increasing order. Only complete files named like
// member-0007.safetensors count: temporary files of interrupted writes
// (".member-0007.safetensors.tmp-*") and anything else are ignored.
func ListMembers(dir string) ([]int, error) {
	ents, err := os.ReadDir(filepath.Join(dir, MembersDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ms []int
	for _, e := range ents {
		sm := memberName.FindStringSubmatch(e.Name())
		if sm == nil || !e.Type().IsRegular() {
			continue
		}
		m, err := strconv.Atoi(sm[1])
		if err != nil {
			continue
		}
		ms = append(ms, m)
	}
	sort.Ints(ms)
	return ms, nil
}

// ParamBlock is one named parameter tensor of a network: a view
// Params[Offset:Offset+Len] of shape Shape.
type ParamBlock struct {
	Name   string
	Shape  []int
	Offset int
	Len    int
}

// ParamBlocks names the parameter tensors of an architecture, layer after
// layer, in the order of nn.Network.Params. Layer i (0-based, two digits)
// of kind K (dense, conv, lift, gconv, liftdense) has
//
//	layerII.K.weight  dense: [out, in]; conv and lift: [out, k, k, cin];
//	                  gconv: [out, |S|, k, k, cin] (S the group support);
//	                  lift and gconv with basis=fourier: [out, B, cin] and
//	                  [out, |S|, B, cin], B basis coefficients
//	                  (nn.Conv.WeightShape); liftdense: [out, H, W, C]
//	layerII.K.bias    [out]
//
// Other layers with parameters (canon: its canonicaliser's lift filters,
// biases and score weights) have one flat block layerII.K.params.
//
// Inputs of a dense layer are the previous features flattened in the
// channels-last order of package nn (H, W, group, channel).
func ParamBlocks(a *nn.Arch) []ParamBlock {
	var out []ParamBlock
	off := 0
	for i, l := range a.Layers {
		np := a.NParams[i]
		if np == 0 {
			continue
		}
		kind, _, _ := strings.Cut(l.String(), "(")
		prefix := fmt.Sprintf("layer%02d.%s.", i, kind)
		in := a.Shapes[i]
		var wshape []int
		nout := 0
		switch l := l.(type) {
		case *nn.Dense:
			nout, wshape = l.Out, []int{l.Out, in.Size()}
		case *nn.Conv:
			nout, wshape = l.Out, l.WeightShape(in.C)
		case *nn.LiftDense:
			nout, wshape = l.Out, []int{l.Out, in.H, in.W, in.C}
		}
		if nout > 0 && wshape != nil && prod(wshape)+nout == np {
			w := prod(wshape)
			out = append(out,
				ParamBlock{Name: prefix + "weight", Shape: wshape, Offset: off, Len: w},
				ParamBlock{Name: prefix + "bias", Shape: []int{nout}, Offset: off + w, Len: nout})
		} else {
			out = append(out, ParamBlock{Name: prefix + "params", Shape: []int{np}, Offset: off, Len: np})
		}
		off += np
	}
	return out
}

func prod(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}

// Checkpoint is the content of a member's checkpoint file.
//
// The file is a safetensors file: an 8-byte little-endian header length, a
// JSON header giving every tensor's dtype, shape and byte range and a
// "__metadata__" map of strings, then the raw little-endian data. It holds
// one F32 tensor per ParamBlock and, while the member is still training,
// its resume state: the optimiser's vectors as "optimizer.NAME" (F32, one
// value per parameter: Adam's m and v, SGD's velocity) and the current
// epoch's sample order as "train.order" (I64). The metadata holds the
// architecture (spec, param, input_shape, output_dim), member, member_seed,
// seed, config_hash, step, steps, status ("running" or "done"), loss (of
// the last batch) and, while running, optimizer, order_pos and the states
// of the member's two random streams (rng_order, rng_augment: hex of
// math/rand/v2 PCG MarshalBinary). A finished member's file has its
// parameters and metadata only.
type Checkpoint struct {
	Arch       *nn.Arch
	Member     int
	MemberSeed uint64
	Seed       uint64
	ConfigHash string
	Step       int
	Steps      int
	Done       bool
	Loss       float64
	// Params holds the parameters in nn.Network order.
	Params []float32

	// Resume state, empty when Done.
	Optimizer  string
	OptState   map[string][]float32
	Order      []int
	OrderPos   int
	RNGOrder   []byte
	RNGAugment []byte
}

type tensorView = safetensors.TensorView

func f32View(shape []int, v []float32) (tensorView, error) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return safetensors.NewTensorView(safetensors.F32, u64Shape(shape), b)
}

func i64View(v []int) (tensorView, error) {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(int64(x)))
	}
	return safetensors.NewTensorView(safetensors.I64, []uint64{uint64(len(v))}, b)
}

func u64Shape(s []int) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[i] = uint64(v)
	}
	return out
}

// WriteCheckpoint writes ck to path atomically (a temporary file in the
// same directory, synced and renamed into place): a reader sees the old
// file or the complete new one, never a partial write.
func WriteCheckpoint(path string, ck *Checkpoint) error {
	a := ck.Arch
	if len(ck.Params) != a.NumParams() {
		return fmt.Errorf("%s: %d parameters for an architecture with %d", path, len(ck.Params), a.NumParams())
	}
	tensors := map[string]tensorView{}
	for _, b := range ParamBlocks(a) {
		v, err := f32View(b.Shape, ck.Params[b.Offset:b.Offset+b.Len])
		if err != nil {
			return fmt.Errorf("%s: tensor %s: %w", path, b.Name, err)
		}
		tensors[b.Name] = v
	}
	shape, _ := json.Marshal(a.InShape)
	meta := map[string]string{
		"format":      CheckpointFormat,
		"spec":        a.Spec,
		"param":       a.Param.String(),
		"input_shape": string(shape),
		"output_dim":  strconv.Itoa(a.OutputDim()),
		"member":      strconv.Itoa(ck.Member),
		"member_seed": strconv.FormatUint(ck.MemberSeed, 10),
		"seed":        strconv.FormatUint(ck.Seed, 10),
		"config_hash": ck.ConfigHash,
		"step":        strconv.Itoa(ck.Step),
		"steps":       strconv.Itoa(ck.Steps),
		"loss":        strconv.FormatFloat(ck.Loss, 'g', -1, 64),
		"status":      "running",
	}
	if ck.Done {
		meta["status"] = "done"
	} else {
		meta["optimizer"] = ck.Optimizer
		meta["order_pos"] = strconv.Itoa(ck.OrderPos)
		meta["rng_order"] = hex.EncodeToString(ck.RNGOrder)
		meta["rng_augment"] = hex.EncodeToString(ck.RNGAugment)
		for name, v := range ck.OptState {
			if len(v) != len(ck.Params) {
				return fmt.Errorf("%s: optimizer state %s has %d values for %d parameters", path, name, len(v), len(ck.Params))
			}
			tv, err := f32View([]int{len(v)}, v)
			if err != nil {
				return err
			}
			tensors["optimizer."+name] = tv
		}
		if ck.Order != nil {
			tv, err := i64View(ck.Order)
			if err != nil {
				return err
			}
			tensors["train.order"] = tv
		}
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := safetensors.SerializeToWriter(tensors, meta, f); err != nil {
		return atomicfile.Wrap(path, err)
	}
	return f.Commit()
}

// ReadCheckpoint reads a member checkpoint written by WriteCheckpoint,
// rebuilding its architecture from the metadata and checking every tensor's
// dtype and shape.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &checkpointReader{path: path, buf: buf}
	n, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, r.bad("%v", err)
	}
	r.dataStart = 8 + n
	r.meta = md.Metadata()
	if r.meta["format"] != CheckpointFormat {
		return nil, r.bad("format %q, want %q", r.meta["format"], CheckpointFormat)
	}
	arch, err := r.arch()
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Arch: arch, ConfigHash: r.meta["config_hash"], Done: r.meta["status"] == "done"}
	if err := r.readHeader(ck); err != nil {
		return nil, err
	}
	r.infos = md.Tensors()
	ck.Params = make([]float32, arch.NumParams())
	for _, b := range ParamBlocks(arch) {
		raw, err := r.tensor(b.Name, safetensors.F32, b.Shape)
		if err != nil {
			return nil, err
		}
		decodeF32(ck.Params[b.Offset:b.Offset+b.Len], raw)
	}
	if ck.Done {
		return ck, nil
	}
	if err := r.readResume(ck); err != nil {
		return nil, err
	}
	return ck, nil
}

// checkpointReader decodes the parts of a checkpoint file held in memory.
type checkpointReader struct {
	path      string
	buf       []byte // the whole file
	dataStart uint64 // offset of the tensor data in buf
	meta      map[string]string
	infos     map[string]*safetensors.TensorInfo
}

// bad returns the error of a malformed file.
func (r *checkpointReader) bad(format string, args ...any) error {
	return fmt.Errorf("%s: not a valid eqens member checkpoint: %s", r.path, fmt.Sprintf(format, args...))
}

// geti reads the integer metadata entry key.
func (r *checkpointReader) geti(key string) (int, error) {
	v, err := strconv.Atoi(r.meta[key])
	if err != nil {
		return 0, r.bad("metadata %s = %q is not an integer", key, r.meta[key])
	}
	return v, nil
}

// getu reads the unsigned integer metadata entry key.
func (r *checkpointReader) getu(key string) (uint64, error) {
	v, err := strconv.ParseUint(r.meta[key], 10, 64)
	if err != nil {
		return 0, r.bad("metadata %s = %q is not an unsigned integer", key, r.meta[key])
	}
	return v, nil
}

// arch rebuilds the architecture from the metadata and checks that the
// file's tensor data can hold its parameters.
func (r *checkpointReader) arch() (*nn.Arch, error) {
	var inShape []int
	if err := json.Unmarshal([]byte(r.meta["input_shape"]), &inShape); err != nil {
		return nil, r.bad("metadata input_shape = %q", r.meta["input_shape"])
	}
	param, err := nn.ParseParam(r.meta["param"])
	if err != nil {
		return nil, r.bad("%v", err)
	}
	arch, err := nn.Parse(r.meta["spec"], inShape, param)
	if err != nil {
		return nil, r.bad("%v", err)
	}
	// The header's architecture must fit the tensor data the file holds:
	// never allocate what a forged header claims.
	if np, data := arch.NumParams(), uint64(len(r.buf))-uint64(r.dataStart); uint64(np) > data/4 {
		return nil, r.bad("architecture %s has %d parameters, more than the file's %d bytes of tensor data hold", arch.Spec, np, data)
	}
	return arch, nil
}

// readHeader reads the member, step, steps, seeds and loss of ck.
func (r *checkpointReader) readHeader(ck *Checkpoint) error {
	var err error
	if ck.Member, err = r.geti("member"); err != nil {
		return err
	}
	if ck.Step, err = r.geti("step"); err != nil {
		return err
	}
	if ck.Steps, err = r.geti("steps"); err != nil {
		return err
	}
	if ck.MemberSeed, err = r.getu("member_seed"); err != nil {
		return err
	}
	if ck.Seed, err = r.getu("seed"); err != nil {
		return err
	}
	if ck.Loss, err = strconv.ParseFloat(r.meta["loss"], 64); err != nil {
		return r.bad("metadata loss = %q", r.meta["loss"])
	}
	return nil
}

// tensor returns the raw bytes of tensor name after checking its dtype and
// shape.
func (r *checkpointReader) tensor(name string, dt safetensors.DType, shape []int) ([]byte, error) {
	info, ok := r.infos[name]
	if !ok {
		return nil, r.bad("tensor %s missing", name)
	}
	if info.DType != dt {
		return nil, r.bad("tensor %s has dtype %s, want %s", name, info.DType, dt)
	}
	if !slices.Equal(info.Shape, u64Shape(shape)) {
		return nil, r.bad("tensor %s has shape %v, want %v", name, info.Shape, shape)
	}
	return r.buf[r.dataStart+info.DataOffsets[0] : r.dataStart+info.DataOffsets[1]], nil
}

// readResume reads the resume state of a running member into ck.
func (r *checkpointReader) readResume(ck *Checkpoint) error {
	if r.meta["status"] != "running" {
		return r.bad("status %q, want running or done", r.meta["status"])
	}
	var err error
	ck.Optimizer = r.meta["optimizer"]
	if ck.OrderPos, err = r.geti("order_pos"); err != nil {
		return err
	}
	if ck.RNGOrder, err = hex.DecodeString(r.meta["rng_order"]); err != nil {
		return r.bad("metadata rng_order is not hex")
	}
	if ck.RNGAugment, err = hex.DecodeString(r.meta["rng_augment"]); err != nil {
		return r.bad("metadata rng_augment is not hex")
	}
	ck.OptState = map[string][]float32{}
	for name, info := range r.infos {
		switch {
		case strings.HasPrefix(name, "optimizer."):
			raw, err := r.tensor(name, safetensors.F32, []int{len(ck.Params)})
			if err != nil {
				return err
			}
			v := make([]float32, len(ck.Params))
			decodeF32(v, raw)
			ck.OptState[strings.TrimPrefix(name, "optimizer.")] = v
		case name == "train.order":
			if len(info.Shape) != 1 {
				return r.bad("tensor train.order has shape %v", info.Shape)
			}
			raw, err := r.tensor(name, safetensors.I64, []int{int(info.Shape[0])})
			if err != nil {
				return err
			}
			ck.Order = make([]int, info.Shape[0])
			for i := range ck.Order {
				ck.Order[i] = int(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		}
	}
	return nil
}

func decodeF32(dst []float32, raw []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
}
