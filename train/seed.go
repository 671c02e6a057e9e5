package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/eqens/eqens/internal/splitmix"
)

// SplitMix64 is the output function of Steele, Lea and Flood's SplitMix64
// generator: a bijective mix of the 64 bits of x (as in java.util.
// SplittableRandom and the reference splitmix64.c).
func SplitMix64(x uint64) uint64 { return splitmix.Mix(x) }

// golden is the SplitMix64 increment, 2^64 divided by the golden ratio.
const golden = splitmix.Golden

// MemberSeed returns the seed of ensemble member m of a run with seed base:
// the (m+1)-th output of a SplitMix64 generator started at base, that is
// SplitMix64(base + (m+1)·0x9e3779b97f4a7c15) (mod 2^64). Distinct members
// get well-separated seeds even for consecutive bases.
func MemberSeed(base uint64, m int) uint64 {
	return SplitMix64(base + uint64(m+1)*golden)
}

// Streams of a member, derived from its seed: the network initialisation
// uses the member seed itself (nn.Network.Init), the batch order and the
// augmentation draws use PCG generators seeded with (member seed, stream).
const (
	streamOrder   uint64 = 0x6f72646572 // "order"
	streamAugment uint64 = 0x6175676d   // "augm"
)

// Range is the half-open range of ensemble members [Lo, Hi).
type Range struct{ Lo, Hi int }

// Len is the number of members in the range.
func (r Range) Len() int { return max(0, r.Hi-r.Lo) }

// Contains reports whether member m is in the range.
func (r Range) Contains(m int) bool { return m >= r.Lo && m < r.Hi }

// String formats the range as "A:B", the form ParseRange reads.
func (r Range) String() string { return fmt.Sprintf("%d:%d", r.Lo, r.Hi) }

// ParseRange parses "A:B" (members A..B-1), "A:" (A to the end), ":B" or a
// single member "A", for an ensemble of the given size.
func ParseRange(s string, members int) (Range, error) {
	s = strings.TrimSpace(s)
	lo, hi := 0, members
	a, b, colon := strings.Cut(s, ":")
	var err error
	if a != "" {
		if lo, err = strconv.Atoi(strings.TrimSpace(a)); err != nil {
			return Range{}, fmt.Errorf("members %q: %q is not an integer (want A:B, e.g. 0:8)", s, a)
		}
	}
	switch {
	case !colon:
		if a == "" {
			return Range{}, fmt.Errorf("members %q: empty (want A:B, e.g. 0:8)", s)
		}
		hi = lo + 1
	case strings.TrimSpace(b) != "":
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return Range{}, fmt.Errorf("members %q: %q is not an integer (want A:B, e.g. 0:8)", s, b)
		}
	}
	r := Range{lo, hi}
	if lo < 0 || hi > members || lo >= hi {
		return Range{}, fmt.Errorf("members %q: want 0 <= A < B <= %d (the ensemble has %d members)", s, members, members)
	}
	return r, nil
}

// ShardRange returns the members that shard index of count trains: the
// members are cut into count contiguous blocks whose sizes differ by at
// most one, [index·M/count, (index+1)·M/count). This is what
// "eqens train --shard-index I --shard-count N" uses, and so the Slurm
// array and Kubernetes Indexed Job examples in deploy/. A shard may be
// empty when there are more shards than members.
func ShardRange(index, count, members int) (Range, error) {
	if count < 1 {
		return Range{}, fmt.Errorf("shard count %d: want at least 1", count)
	}
	if index < 0 || index >= count {
		return Range{}, fmt.Errorf("shard index %d: want 0 <= index < %d (the shard count)", index, count)
	}
	if members < 1 {
		return Range{}, fmt.Errorf("shard of an ensemble of %d members", members)
	}
	return Range{index * members / count, (index + 1) * members / count}, nil
}
