//go:build (!amd64 && !arm64) || purego

package gemm

func isa() string { return "go" }

func asmKernel[T Float](string, bool) (kernel[T], bool) { return kernel[T]{}, false }
