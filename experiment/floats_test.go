package experiment

import (
	"math"
	"path/filepath"
	"testing"
)

// TestFloatsRoundTrip checks that both widths read back bit for bit and
// that a file of another length is an error.
func TestFloatsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f32 := []float32{1.5, float32(math.Inf(-1)), -0, 3e-40}
	f64 := []float64{math.Pi, math.SmallestNonzeroFloat64, -2}
	p32, p64 := filepath.Join(dir, "a", "x.f32"), filepath.Join(dir, "y.f64")
	if err := SaveFloats(p32, f32); err != nil {
		t.Fatal(err)
	}
	if err := SaveFloats(p64, f64); err != nil {
		t.Fatal(err)
	}
	g32, err := LoadFloats[float32](p32, len(f32))
	if err != nil {
		t.Fatal(err)
	}
	g64, err := LoadFloats[float64](p64, len(f64))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f32 {
		if math.Float32bits(g32[i]) != math.Float32bits(f32[i]) {
			t.Errorf("float32 %d: %v, want %v", i, g32[i], f32[i])
		}
	}
	for i := range f64 {
		if math.Float64bits(g64[i]) != math.Float64bits(f64[i]) {
			t.Errorf("float64 %d: %v, want %v", i, g64[i], f64[i])
		}
	}
	if _, err := LoadFloats[float64](p64, len(f64)+1); err == nil {
		t.Error("a file of another length read without an error")
	}
}
