//go:build !amd64 || purego

package vec

func bulk3(kernelID, []float32, []float32, []float32) int { return 0 }
func bulk2(kernelID, []float32, []float32) int            { return 0 }
func addRowsBulk([]float32, []float32) bool               { return false }
func sumRowsBulk([]float32, []float32) bool               { return false }
