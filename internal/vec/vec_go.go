package vec

import "math"

func f32bits(f float32) uint32     { return math.Float32bits(f) }
func f32frombits(b uint32) float32 { return math.Float32frombits(b) }

type kernelID int

const (
	reluKernel kernelID = iota
	maskKernel
	addKernel
)
