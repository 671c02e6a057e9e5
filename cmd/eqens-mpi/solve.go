//go:build mpi

package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/eqens/eqens/internal/linalg"
	"github.com/eqens/eqens/internal/mpi"
	"github.com/eqens/eqens/internal/scalapack"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/predict"
)

// predictNegEigTol is predict's tolerance for negative diagonal entries
// and eigenvalues, relative to the largest.
const predictNegEigTol = 0x1p-26

// regularise checks the training kernel as predict.NewRegressor does and
// adds the regulariser of predict.Fit and NewRegressor to its diagonal.
// The diagonal is collected on every rank, so the sums run in the serial
// order and give the same regulariser to the last bit.
func (e *engine) regularise(a *scalapack.Matrix) error {
	for jl := 0; jl < a.LocC; jl++ {
		for il, v := range a.Data[jl*a.LLD : jl*a.LLD+a.LocR] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("training kernel entry [%d,%d] = %g is not finite", a.GlobalRow(il), a.GlobalCol(jl), v)
			}
		}
	}
	diag := make([]float64, e.n)
	idx, val := a.Diagonal()
	for i, g := range idx {
		diag[g] = val[i]
	}
	mpi.AllreduceFloat64(diag, mpi.Sum) // one rank holds each entry: exact
	maxDiag, sumDiag := 0.0, 0.0
	for _, d := range diag {
		maxDiag = max(maxDiag, d)
		sumDiag += d
	}
	for i, d := range diag {
		if d < -predictNegEigTol*maxDiag || (d < 0 && maxDiag == 0) {
			return fmt.Errorf("training kernel entry [%d,%d] = %g is negative, so the training kernel is not positive semi-definite", i, i, d)
		}
	}
	s := e.job.Setup
	reg, abs := s.Reg, s.RegAbsolute
	if s.Symmetry == predict.Average && s.Reg > 0 {
		r := s.Reg
		if !s.RegAbsolute {
			md, err := e.meanDiag()
			if err != nil {
				return err
			}
			r = md * s.Reg
		}
		reg, abs = predict.AveragedReg(r, s.Input.Group().Order()), true
	}
	if !abs {
		reg *= sumDiag / float64(e.n)
	}
	e.reg = reg
	for jl := 0; jl < a.LocC; jl++ {
		j := a.GlobalCol(jl)
		if p, il := scalapack.GlobalToLocal(j, a.MB, a.G.NProw); p == a.G.MyRow && j < a.M {
			a.Data[jl*a.LLD+il] += reg
		}
	}
	e.say("regulariser %g added to the diagonal", reg)
	return nil
}

// meanDiag returns the mean diagonal of the plain (not averaged) training
// kernel, as predict's Model.meanDiag: every rank computes every R-th
// entry, and every rank sums them in order.
func (e *engine) meanDiag() (float64, error) {
	R, d := mpi.Size(), e.arch.InputSize()
	v := make([]float64, e.n)
	var mine []int
	for i := e.rank; i < e.n; i += R {
		mine = append(mine, i)
	}
	err := e.each("kernel (diagonal)", len(mine), func(j int) error {
		i := mine[j]
		ki, err := e.arch.Kernel(e.ctx, e.x[i*d:(i+1)*d], 1, nil, 0, nn.KernelOptions{NTK: e.ntk, Workers: 1})
		if err != nil {
			return err
		}
		v[i] = ki.K[0]
		if e.ntk {
			v[i] = ki.Theta[0]
		}
		return nil
	})
	if err = agree(err); err != nil {
		return 0, err
	}
	mpi.AllreduceFloat64(v, mpi.Sum)
	var mean float64
	for _, x := range v {
		mean += x / float64(e.n)
	}
	return mean, nil
}

// probe returns a fixed vector v and A v for the symmetric matrix whose
// upper triangle a holds, to check the eigendecomposition against.
func (e *engine) probe(a *scalapack.Matrix) (v, av *scalapack.Matrix) {
	full := make([]float64, e.n)
	for i := range full {
		full[i] = math.Sin(float64(i) + 1)
	}
	v, av = e.must(e.n, 1), e.must(e.n, 1)
	v.Fill(full)
	scalapack.Symm('U', 1, a, v, 0, av)
	return v, av
}

// checkEigen checks V diag(w) Vᵀ v = A v for the probe v: pdsyevd has been
// seen to return a wrong decomposition with info 0 when its workspace was
// short, and this costs three matrix-vector products.
func (e *engine) checkEigen(z *scalapack.Matrix, w []float64, v, av *scalapack.Matrix) error {
	u := e.must(e.n, 1)
	scalapack.Gemm(true, false, 1, z, v, 0, u)
	u.ScaleRows(func(i int) float64 { return w[i] })
	scalapack.Gemm(false, false, 1, z, u, -1, av)
	r, vv := e.allGather(av), e.allGather(v)
	var rn, vn, wmax float64
	for i := range r {
		rn += r[i] * r[i]
		vn += vv[i] * vv[i]
	}
	for _, l := range w {
		wmax = max(wmax, math.Abs(l))
	}
	if res := math.Sqrt(rn) / (wmax * math.Sqrt(vn)); !(res <= 1e-8) {
		return fmt.Errorf("pdsyevd returned a wrong eigendecomposition of the %s training kernel (relative residual %.3g on a test vector): "+
			"a ScaLAPACK failure; try another --block-size or --grid", e.regime(), res)
	}
	return nil
}

// lapackInfo handles the info a ScaLAPACK routine returned on this rank. A
// negative one (an argument it rejected here, while the other ranks may
// wait inside the routine for this one) is a bug: it is printed and the job
// aborted. Otherwise the largest info over the ranks is returned, so that
// every rank takes the same branch.
func lapackInfo(routine string, info int) int {
	if info < 0 {
		fmt.Fprintf(os.Stderr, "eqens-mpi: rank %d: %s: argument %d had an illegal value (this is a bug; please report it)\n", mpi.Rank(), routine, -info)
		mpi.Abort(3)
	}
	v := []int64{int64(info)}
	mpi.AllreduceInt(v, mpi.Max)
	return int(v[0])
}

// potrfError is predict's error for a training kernel pdpotrf could not
// factorise.
func (e *engine) potrfError(info int) error {
	if info > 0 {
		return fmt.Errorf("t = +Inf needs a positive definite %s training kernel (regulariser %g): %w (pdpotrf: the leading minor of order %d); "+
			"add a diagonal regulariser (--reg) or use finite times", e.regime(), e.reg, linalg.ErrNotPositiveDefinite, info)
	}
	return fmt.Errorf("factorising the %s training kernel: pdpotrf: info %d", e.regime(), info)
}

// ntkCov returns on rank 0 the NTK-regime covariance
// K(x,x') + Bᵀ(K(X,X) B − K(X,x')) − K(x,X) B, symmetrised, for the
// distributed n×m matrix B (nil on other ranks).
func (e *engine) ntkCov(b, ktd, kxx, ktt *scalapack.Matrix) []float64 {
	d := e.must(e.n, e.m)
	scalapack.Tran(1, ktd, 0, d)          // K(X,x')
	scalapack.Symm('U', 1, kxx, b, -1, d) // K(X,X) B − K(X,x')
	c := ktt.Copy()
	scalapack.Gemm(true, false, 1, b, d, 1, c)
	scalapack.Gemm(false, false, -1, ktd, b, 1, c)
	return gatherSym(c)
}

// gatherSym gathers the m×m matrix c on rank 0 and replaces it by
// (c + cᵀ)/2, as predict does (nil on other ranks).
func gatherSym(c *scalapack.Matrix) []float64 {
	full := c.Gather(0)
	if full == nil {
		return nil
	}
	n := c.M
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			h := 0.5 * (full[i*n+j] + full[j*n+i])
			full[i*n+j], full[j*n+i] = h, h
		}
	}
	return full
}

// allGather returns the whole (small) matrix a on every rank.
func (e *engine) allGather(a *scalapack.Matrix) []float64 {
	full := a.Gather(0)
	if full == nil {
		full = make([]float64, a.M*a.N)
	}
	mpi.BcastFloat64(full, 0)
	return full
}

// gain is predict's (1 − e^{−cλ})/λ, with limit c at λ = 0.
func gain(lam, c float64) float64 {
	if lam <= 0 {
		return c
	}
	return -math.Expm1(-c*lam) / lam
}

func mb(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f kB", float64(b)/(1<<10))
}

// plan prints, on rank 0, what the largest rank (rank 0) will hold and
// checks on every rank that its node has the memory for the ranks on it.
func (e *engine) plan(sc schedule) error {
	g, nb := e.g, e.nb
	share := func(rows, cols int) int64 {
		return 8 * int64(scalapack.Numroc(rows, nb, 0, g.NProw)) * int64(scalapack.Numroc(cols, nb, 0, g.NPcol))
	}
	for _, s := range [][2]int{{e.n, e.n}, {e.m, e.n}, {e.n, e.m}, {e.m, e.m}} {
		if share(s[0], s[1])/8 > math.MaxInt32 {
			return fmt.Errorf("a rank's part of a %d×%d matrix has %d entries, more than ScaLAPACK's 32-bit indices allow: use more ranks (or --grid)", s[0], s[1], share(s[0], s[1])/8)
		}
	}
	nf := len(sc.finite)
	S := share(e.n, e.n)
	base := S
	what := fmt.Sprintf("training kernel %s", mb(S))
	if e.cov && e.ntk {
		base += S
		what += fmt.Sprintf(", NNGP training kernel %s", mb(S))
	}
	tk := share(e.m, e.n)
	nt := int64(1)
	if e.cov && e.ntk {
		nt = 2
	}
	base += nt * tk
	what += fmt.Sprintf(", test kernels %s", mb(nt*tk))
	if e.cov {
		base += share(e.m, e.m)
	}
	var infExtra, finExtra int64
	if sc.inf > 0 {
		if nf > 0 {
			infExtra += S
		}
		if e.cov {
			infExtra += 2 * share(e.n, e.m)
		}
	}
	if nf > 0 {
		work := scalapack.WorkSyevd(e.n, nb, g)
		finExtra = S + work + share(e.n, nf*e.k)*2
		what += fmt.Sprintf(", eigenvectors %s, pdsyevd workspace %s", mb(S), mb(work))
		if e.cov {
			finExtra += 3 * share(e.n, e.m)
		}
	}
	// The kernel (in base) is overwritten by pdsyevd, which needs the
	// eigenvectors and its workspace besides.
	peak := base + max(infExtra, finExtra)
	e.say("N = %d training points, m = %d test points, k = %d outputs, %d times; %d ranks on a %d×%d grid of %d×%d blocks; threads per rank: %d",
		e.n, e.m, e.k, len(sc.slot), mpi.Size(), g.NProw, g.NPcol, nb, nb, e.threads)
	e.say("memory per rank (rank 0, the largest share): %s; peak about %s", what, mb(peak))
	if have := nodeMemory(); have > 0 {
		node := peak * int64(e.local)
		if node > have/10*9 {
			return fmt.Errorf("the %d ranks on node %s need about %s (%s each), more than 90%% of its %s: use more nodes or fewer ranks per node (eqens-mpi predict --help, \"Sizing R\")",
				e.local, mpi.ProcessorName(), mb(node), mb(peak), mb(have))
		}
	}
	return nil
}

// peakRSS reports on rank 0 the largest peak resident memory of any rank
// (VmHWM of /proc/self/status) and which rank had it.
func (e *engine) peakRSS() {
	var kb int64
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				kb, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	all := mpi.GatherInt([]int64{kb}, 0)
	if e.rank != 0 {
		return
	}
	top := 0
	for r, v := range all {
		if v > all[top] {
			top = r
		}
	}
	e.say("peak resident memory: %s on rank %d (rank 0: %s)", mb(all[top]*1024), top, mb(all[0]*1024))
}
