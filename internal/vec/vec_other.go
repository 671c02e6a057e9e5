//go:build !amd64 || purego

package vec

func reluBulk([]float32, []float32) int            { return 0 }
func maskBulk([]float32, []float32, []float32) int { return 0 }
func addBulk([]float32, []float32) int             { return 0 }
func addRowsBulk([]float32, []float32) bool        { return false }
func sumRowsBulk([]float32, []float32) bool        { return false }

func copyBlocksBulk([]float32, []float32, int, int, int, int) bool                { return false }
func addBlocksBulk([]float32, []float32, int, int, int, int) bool                 { return false }
func axpyF64Bulk([]float64, []float64, float64) int                               { return 0 }
func scaleF64Bulk([]float64, []float64, float64) int                              { return 0 }
func pool2F64Bulk([]float64, []float64, []float64, float64) int                   { return 0 }
func reluArcCosBulk([]float64, []float64, []float64, int, []float64, float64) int { return 0 }
func axpyRowsF64Bulk([]float64, []float64, float64, int, int, int, int) bool      { return false }

func sum3MaskBulk(_, _, _, _ []float64, _, _ []uint64) int { return 0 }

func sum3AffineBulk(_, _, _, _ []float64, _ float64, _ []float64, _ float64) int { return 0 }

func sumLanesBulk([]float64, *[16]float64) bool               { return false }
func sumLanesPairBulk(_, _ []float64, _, _ *[16]float64) bool { return false }

func erfBulk(_, _, _ []float64, _ int, _ []float64, _ *ErfMap) int { return 0 }

func signBitsBulk([]float32, []uint8) int            { return 0 }
func maskBitsBulk([]uint8, []float32, []float32) int { return 0 }
