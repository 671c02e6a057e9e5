package splitmix

// Golden is the SplitMix64 increment, 2^64 divided by the golden ratio.
const Golden = 0x9e3779b97f4a7c15

// Mix is the output function of Steele, Lea and Flood's SplitMix64
// generator: a bijective mix of the 64 bits of x (as in java.util.
// SplittableRandom and the reference splitmix64.c). The generator's k-th
// output from state s is Mix(s + k·Golden).
func Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
