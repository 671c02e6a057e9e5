package npy_test

import (
	"bytes"
	"fmt"

	"github.com/eqens/eqens/npy"
)

// Example writes a 2×3 float32 array in .npy format and reads it back, as
// numpy.save and numpy.load would.
func Example() {
	a := npy.FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	var buf bytes.Buffer
	if err := npy.Write(&buf, a); err != nil {
		fmt.Println(err)
		return
	}
	b, err := npy.Read(&buf, int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	x, _ := b.Float64()
	fmt.Println(b.DType, b.Shape, x)
	// Output: float32 [2 3] [1 2 3 4 5 6]
}

// ExampleRead shows the error for a file whose header promises more data
// than it holds.
func ExampleRead() {
	var buf bytes.Buffer
	npy.Write(&buf, npy.FromInt32([]int{3, 4}, make([]int32, 12)))
	truncated := buf.Bytes()[:buf.Len()-28]
	_, err := npy.Read(bytes.NewReader(truncated), int64(len(truncated)))
	fmt.Println(err)
	// Output: npy: shape (3, 4) needs 48 bytes of int32 data, file has 20
}
