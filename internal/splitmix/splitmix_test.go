package splitmix

import "testing"

// The first outputs of splitmix64.c started at state 0 and 1234567.
func TestMix(t *testing.T) {
	for _, tc := range []struct {
		state uint64
		want  []uint64
	}{
		{0, []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}},
		{1234567, []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423}},
	} {
		s := tc.state
		for i, w := range tc.want {
			s += Golden
			if got := Mix(s); got != w {
				t.Errorf("state %d, output %d: %#x, want %#x", tc.state, i, got, w)
			}
		}
	}
}
