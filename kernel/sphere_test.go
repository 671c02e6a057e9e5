package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomSphereOp returns an operator with random matrices A and S of the
// shapes of a spherical convolution of band limit L from input band limit
// lin to the SO(3) grid of band limit grid: the tabulated and the
// pair-by-pair maps compute the same linear map for any A and S.
func randomSphereOp(so3 bool, lin, L, grid int, rng *rand.Rand) *SphereOp {
	op := &SphereOp{L: L, SO3: so3, Grid: grid, Out: grid * (2*grid - 1) * (2*grid - 1)}
	op.In = lin * (2*lin - 1)
	if so3 {
		op.In *= 2*lin - 1
	}
	k, _ := op.rows(L)
	op.A = randomValues(k*op.In, rng)
	op.S = randomValues(op.Out*op.numWigner(), rng)
	return op
}

func randomValues(n int, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// maxRelDiff returns max |a - b| / max |b| (max |a - b| if b is zero).
func maxRelDiff(a, b []float64) float64 {
	var d, s float64
	for i, v := range b {
		d = math.Max(d, math.Abs(a[i]-v))
		s = math.Max(s, math.Abs(v))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// withTableMax runs f with sphereTableMax set to m.
func withTableMax(m int, f func()) {
	prev := sphereTableMax
	sphereTableMax = m
	defer func() { sphereTableMax = prev }()
	f()
}

// TestSphereTabulated checks Sphere (tabulated maps, and the pair-by-pair
// route it falls back on when the tables are too large) against
// SphereReference on random operators and states: s2conv and so3conv
// operators, full and slab inputs, NNGP and NTK, to 1e-12 relative.
func TestSphereTabulated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		so3          bool
		lin, L, grid int
		slab         bool
	}{
		{false, 3, 3, 3, false}, {false, 4, 2, 3, false}, {false, 2, 1, 1, false},
		{true, 3, 3, 3, false}, {true, 3, 3, 3, true}, {true, 4, 3, 4, true}, {true, 3, 2, 2, true},
	} {
		for _, ntk := range []bool{false, true} {
			for _, tableMax := range []int{sphereTableMax, 0} {
				name := fmt.Sprintf("so3=%v lin=%d L=%d grid=%d slab=%v ntk=%v tables=%d", tc.so3, tc.lin, tc.L, tc.grid, tc.slab, ntk, tableMax)
				op := randomSphereOp(tc.so3, tc.lin, tc.L, tc.grid, rng)
				in := randomSphereState(op, tc.lin, tc.slab, ntk, 3, rng)
				ref, got := in.clone(), in.clone()
				if err := ref.SphereReference(op); err != nil {
					t.Fatal(err)
				}
				withTableMax(tableMax, func() {
					if err := got.Sphere(op); err != nil {
						t.Fatal(err)
					}
				})
				compareSphereStates(t, name, got, ref)
			}
		}
	}
}

// randomSphereState returns a state of the given pairs over the op's
// input positions (a slab of 2 lin - 1 blocks for slab), random entries.
func randomSphereState(op *SphereOp, lin int, slab, ntk bool, pairs int, rng *rand.Rand) *State {
	st := &State{Pairs: pairs, NTK: ntk}
	if slab {
		st.Reshape(2*lin-1, op.In/(2*lin-1), 1, true)
	} else {
		st.Reshape(op.In, 1, 1, false)
	}
	copy(st.K, randomValues(len(st.K), rng))
	if ntk {
		copy(st.Theta, randomValues(len(st.Theta), rng))
	}
	return st
}

// clone returns a copy of the state's grid, K and Theta.
func (s *State) clone() *State {
	c := &State{Pairs: s.Pairs, NTK: s.NTK}
	c.Reshape(s.G, s.H, s.W, s.Slab)
	copy(c.K, s.K)
	copy(c.Theta, s.Theta)
	return c
}

// compareSphereStates checks got against ref: grid, K and Theta.
func compareSphereStates(t *testing.T, name string, got, ref *State) {
	t.Helper()
	if got.G != ref.G || got.H != ref.H || got.W != ref.W || got.Slab != ref.Slab || len(got.K) != len(ref.K) || len(got.V1) != len(ref.V1) {
		t.Fatalf("%s: state %dx%dx%d slab %v (%d values), reference %dx%dx%d slab %v (%d values)", name,
			got.G, got.H, got.W, got.Slab, len(got.K), ref.G, ref.H, ref.W, ref.Slab, len(ref.K))
	}
	if d := maxRelDiff(got.K, ref.K); d > 1e-12 {
		t.Errorf("%s: K differs from the reference by %.3g (relative)", name, d)
	}
	if ref.NTK {
		if d := maxRelDiff(got.Theta, ref.Theta); d > 1e-12 {
			t.Errorf("%s: Theta differs from the reference by %.3g (relative)", name, d)
		}
	}
}

// TestSphereInput checks SphereInput, from the inputs' coefficients,
// against SphereReference on the input covariances (1/C) Σ_c x_c x'_cᵀ,
// for cross pairs and diagonal pairs, with and without tables.
func TestSphereInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const chans, n1, n2 = 4, 3, 2
	for _, tc := range []struct{ lin, L, grid int }{{3, 3, 3}, {6, 3, 3}, {4, 2, 4}} {
		for _, diag := range []bool{false, true} {
			for _, tableMax := range []int{sphereTableMax, 0} {
				name := fmt.Sprintf("lin=%d L=%d grid=%d diag=%v tables=%d", tc.lin, tc.L, tc.grid, diag, tableMax)
				op := randomSphereOp(false, tc.lin, tc.L, tc.grid, rng)
				x1, x2 := randomValues(n1*chans*op.In, rng), randomValues(n2*chans*op.In, rng)
				if diag {
					x2 = x1
				}
				ref := inputCovarianceState(op.In, x1, n1, x2, n2, chans, diag)
				if err := ref.SphereReference(op); err != nil {
					t.Fatal(err)
				}
				got := &State{Pairs: ref.Pairs, NTK: true}
				withTableMax(tableMax, func() {
					if err := got.SphereInput(op, coefficientsOf(op, x1, n1, chans), n1, coefficientsOf(op, x2, n2, chans), n2, chans, diag); err != nil {
						t.Fatal(err)
					}
				})
				compareSphereStates(t, name, got, ref)
			}
		}
	}
}

// inputCovarianceState returns the state of the pairs (i, j) (or (i, i)
// with diag) holding (1/C) Σ_c x_c x'_cᵀ over the op's input positions,
// Theta zero.
func inputCovarianceState(p int, x1 []float64, n1 int, x2 []float64, n2, chans int, diag bool) *State {
	type pair struct{ i, j int }
	var pairs []pair
	for i := range n1 {
		if diag {
			pairs = append(pairs, pair{i, i})
			continue
		}
		for j := range n2 {
			pairs = append(pairs, pair{i, j})
		}
	}
	st := &State{Pairs: len(pairs), NTK: true}
	st.Reshape(p, 1, 1, false)
	clear(st.Theta)
	for a, pr := range pairs {
		for q := range p {
			for q2 := range p {
				var s float64
				for c := range chans {
					s += x1[(pr.i*chans+c)*p+q] * x2[(pr.j*chans+c)*p+q2]
				}
				st.K[(a*p+q)*p+q2] = s / float64(chans)
			}
		}
	}
	return st
}

// coefficientsOf returns A xᵀ for each channel of the n inputs x.
func coefficientsOf(op *SphereOp, x []float64, n, chans int) []float64 {
	k, _ := op.rows(op.L)
	out := make([]float64, n*chans*k)
	for r := range n * chans {
		for i := range k {
			var s float64
			for p, v := range x[r*op.In : (r+1)*op.In] {
				s += op.A[i*op.In+p] * v
			}
			out[r*k+i] = s
		}
	}
	return out
}
