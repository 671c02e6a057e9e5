//go:build !amd64 || purego

package vec

func sum3AffineReLUBulk(_, _, _, _, _, _, _, _ []float64, _, _, _, _ float64, _, _ []float64, _ float64) int {
	return 0
}

func sepRowBulk(*FusedRow) bool {
	return false
}

func sepRowLead(*FirstPass, int) (int, bool, bool) { return 0, false, false }

func firstPassBulk(*FirstPass) bool { return false }
