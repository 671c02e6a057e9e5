//go:build mpi

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/eqens/eqens/internal/cli"
	"github.com/eqens/eqens/internal/mpi"
	"github.com/eqens/eqens/internal/progress"
	"github.com/eqens/eqens/internal/scalapack"
	"github.com/eqens/eqens/nn"
	"github.com/eqens/eqens/npy"
	"github.com/eqens/eqens/predict"
	"github.com/spf13/cobra"
)

// This file is the distributed counterpart of predict.Fit, Model.Predict
// and predict.Regressor (docs/predict.md has the formulas). Every step does
// what the serial code does, in the same order and with the same
// regulariser rule, so that the outputs agree with eqens predict's to
// round-off:
//
//  1. every rank computes its blocks of the training kernel (upper
//     triangle only: ScaLAPACK reads one triangle) and of the test kernels
//     with nn.Arch.KernelBlock, bit for bit the entries of the whole kernel;
//  2. the diagonal is summed on every rank in the serial order to get the
//     relative regulariser, which is added to the local diagonal entries;
//  3. t = +Inf: pdpotrf, pdpotrs for Θ_r⁻¹Y (and Θ_r⁻¹Θ(X,x) for the
//     covariance), then the factor is freed;
//  4. finite t: pdsyevd, VᵀY gathered on every rank, the coefficients
//     V diag(g(λ, c)) VᵀY for all finite times in one pdgemm;
//  5. the means (and covariances) are pdgemm products with the
//     distributed test kernels, gathered onto rank 0, which writes them.

// engine holds one distributed prediction.
type engine struct {
	ctx     context.Context
	job     *cli.PredictJob
	g       *scalapack.Grid
	nb      int
	threads int
	local   int // ranks on this node
	rank    int
	log     io.Writer // rank 0: stderr; other ranks: discard

	arch  *nn.Arch
	x, y  []float64 // training inputs and targets (augmented under --augment)
	n, k  int
	xt    []float64
	m     int
	kopts nn.KernelOptions
	ntk   bool // the NTK regime (else NNGP)
	cov   bool
	dump  string  // --debug-train-kernel
	reg   float64 // the absolute regulariser added to the diagonal
	t0    time.Time
}

func runPredict(cmd *cobra.Command, pf *cli.PredictFlags, mf *mpiFlags) error {
	size := mpi.Size()
	if mf.block < 1 {
		return fmt.Errorf("--block-size: %d must be positive", mf.block)
	}
	p, q, err := parseGrid(mf.grid, size)
	if err != nil {
		return err
	}
	threads, local := setThreads(mf.threads)
	e := &engine{ctx: cmd.Context(), nb: mf.block, threads: threads, local: local, rank: mpi.Rank(), log: io.Discard, t0: time.Now()}
	if e.rank == 0 {
		e.log = cmd.ErrOrStderr()
	}
	job, err := pf.Load(nil)
	if err = agree(err); err != nil {
		return err
	}
	e.job = job
	g, err := scalapack.NewGrid(p, q)
	if err = agree(err); err != nil {
		return err
	}
	defer g.Exit()
	e.g = g
	e.cov = pf.Cov != ""
	e.dump = mf.dumpKernel
	pred, err := e.run()
	if err = agree(err); err != nil {
		return err
	}
	e.peakRSS()
	if e.rank == 0 {
		err = pf.Write(cmd.ErrOrStderr(), job, pred)
	}
	return agree(err)
}

// say logs a line on rank 0 with the seconds since the start.
func (e *engine) say(format string, a ...any) {
	fmt.Fprintf(e.log, "eqens-mpi: [%6.1fs] %s\n", time.Since(e.t0).Seconds(), fmt.Sprintf(format, a...))
}

// schedule sorts the times into finite ones (as c = eta·t/N) and infinite
// ones, as predict.Regressor does.
type schedule struct {
	finite []float64 // c of the finite times
	slot   []int     // slot[s]: index into finite, or -1 for t = +Inf
	inf    int
}

func (e *engine) schedule() schedule {
	eta := e.job.Setup.LearningRate
	if eta == 0 {
		eta = 1
	}
	var sc schedule
	for _, t := range e.job.Times {
		c := eta * t / float64(e.n)
		if math.IsInf(c, 1) {
			sc.slot = append(sc.slot, -1)
			sc.inf++
			continue
		}
		sc.slot = append(sc.slot, len(sc.finite))
		sc.finite = append(sc.finite, c)
	}
	return sc
}

func (e *engine) run() (*predict.Prediction, error) {
	job := e.job
	s := job.Setup
	e.arch, e.x, e.y, e.n, e.k = job.Arch, job.Train.X, job.Y, job.Train.N, job.K
	e.xt, e.m = job.Test.X, job.Test.N
	e.ntk = s.Regime != predict.RegimeNNGP
	// The NTK regime needs both kernels, as in predict.Fit; the kernel
	// engine computes them together.
	e.kopts = nn.KernelOptions{NTK: true, Workers: 1}
	switch s.Symmetry {
	case predict.Augment:
		e.x, e.y = predict.AugmentSet(s.Input, s.Target, e.x, e.y, e.n, e.k)
		e.n *= s.Input.Group().Order()
	case predict.Average:
		e.kopts.Average = s.Input
	}
	sc := e.schedule()
	if err := agree(e.plan(sc)); err != nil {
		return nil, err
	}

	// 1. Kernels.
	needKxx := e.cov && e.ntk
	a := e.must(e.n, e.n)
	var kxx *scalapack.Matrix
	if needKxx {
		kxx = e.must(e.n, e.n)
	}
	var upper []scalapack.Block
	for _, b := range a.Blocks() {
		if b.I0 <= b.J0 {
			upper = append(upper, b)
		}
	}
	opts := e.kopts
	opts.ThetaOnly = e.ntk && !needKxx
	err := e.each("kernel (train)", len(upper), func(i int) error {
		b := upper[i]
		r, err := e.arch.KernelBlock(e.ctx, e.x, e.n, nil, 0, nn.Span{Lo: b.I0, Hi: b.I1}, nn.Span{Lo: b.J0, Hi: b.J1}, opts)
		if err != nil {
			return err
		}
		a.SetBlock(b, e.pick(r), false)
		if kxx != nil {
			kxx.SetBlock(b, r.K, false)
		}
		return nil
	})
	if err = agree(err); err != nil {
		return nil, err
	}
	e.say("training kernel: %d×%d, %d blocks on this rank", e.n, e.n, len(upper))
	if e.dump != "" {
		if err := agree(e.dumpKernel(a)); err != nil {
			return nil, err
		}
	}
	tt, ktd, ktt, err := e.testKernels()
	if err = agree(err); err != nil {
		return nil, err
	}
	e.say("test kernels: %d×%d%s", e.m, e.n, map[bool]string{true: fmt.Sprintf(" and %d×%d", e.m, e.m)}[e.cov])

	// 2. Checks and regulariser, as predict.Fit and NewRegressor.
	if err := agree(e.regularise(a)); err != nil {
		return nil, err
	}

	T := len(job.Times)
	out := &predict.Prediction{Mean: make([]float64, T*e.m*e.k)}
	if e.cov {
		out.Cov = make([]float64, T*e.m*e.m)
	}
	nf := len(sc.finite)
	// 3. t = +Inf.
	if sc.inf > 0 {
		l := a
		if nf > 0 {
			l = a.Copy()
		}
		if info := lapackInfo("pdpotrf", scalapack.Potrf('U', l)); info != 0 {
			return nil, agree(e.potrfError(info))
		}
		alpha := e.must(e.n, e.k)
		alpha.Fill(e.y)
		lapackInfo("pdpotrs", scalapack.Potrs('U', l, alpha))
		mu := e.must(e.m, e.k)
		scalapack.Gemm(false, false, 1, tt, alpha, 0, mu)
		meanInf := mu.Gather(0)
		var covInf []float64
		if e.cov {
			b := e.must(e.n, e.m)
			scalapack.Tran(1, tt, 0, b)
			lapackInfo("pdpotrs", scalapack.Potrs('U', l, b))
			if e.ntk {
				covInf = e.ntkCov(b, ktd, kxx, ktt)
			} else {
				c := ktt.Copy()
				scalapack.Gemm(false, false, -1, ktd, b, 1, c)
				covInf = gatherSym(c)
			}
		}
		l.Free()
		if l == a {
			a = nil
		}
		debug.FreeOSMemory()
		if e.rank == 0 {
			for s, f := range sc.slot {
				if f >= 0 {
					continue
				}
				copy(out.Mean[s*e.m*e.k:(s+1)*e.m*e.k], meanInf)
				if e.cov {
					copy(out.Cov[s*e.m*e.m:(s+1)*e.m*e.m], covInf)
				}
			}
		}
		e.say("t = inf: pdpotrf and pdpotrs done")
	}

	// 4. Finite times.
	if nf > 0 {
		z := a.Like()
		probe, av := e.probe(a)
		w, info, work := scalapack.Syevd('U', a, z)
		info = lapackInfo("pdsyevd", info)
		a.Free()
		a = nil
		debug.FreeOSMemory()
		if info != 0 {
			return nil, agree(fmt.Errorf("eigendecomposition of the %s training kernel: pdsyevd: info %d", e.regime(), info))
		}
		e.say("finite t: pdsyevd done (workspace %s per rank)", mb(work))
		lo, hi := w[0], w[e.n-1]
		if tol := 0x1p-26 * math.Abs(hi); lo < -tol {
			return nil, agree(fmt.Errorf("the %s training kernel is not positive semi-definite: eigenvalues from %.6g to %.6g with regulariser %g added; "+
				"check the kernel or add a diagonal regulariser (--reg)", e.regime(), lo, hi, e.reg))
		}
		if err := agree(e.checkEigen(z, w, probe, av)); err != nil {
			return nil, err
		}
		for i, l := range w {
			w[i] = max(l, 0)
		}
		yd := e.must(e.n, e.k)
		yd.Fill(e.y)
		vty := e.must(e.n, e.k)
		scalapack.Gemm(true, false, 1, z, yd, 0, vty)
		vtyAll := e.allGather(vty)
		// S = [g(λ, c_1)∘VᵀY, …] (n × nf·k), coef = V S, μ = Θ(x,X) coef.
		cols := nf * e.k
		sFull := make([]float64, e.n*cols)
		for i, lam := range w {
			for f, c := range sc.finite {
				gn := gain(lam, c)
				for j := 0; j < e.k; j++ {
					sFull[i*cols+f*e.k+j] = gn * vtyAll[i*e.k+j]
				}
			}
		}
		sd := e.must(e.n, cols)
		sd.Fill(sFull)
		coef := e.must(e.n, cols)
		scalapack.Gemm(false, false, 1, z, sd, 0, coef)
		mu := e.must(e.m, cols)
		scalapack.Gemm(false, false, 1, tt, coef, 0, mu)
		meanFin := mu.Gather(0)
		covFin := make([][]float64, nf)
		if e.cov {
			vtk := e.must(e.n, e.m)
			scalapack.Gemm(true, true, 1, z, tt, 0, vtk)
			for f, c := range sc.finite {
				d := vtk.Copy()
				if e.ntk {
					// B = V diag(g(λ, c)) Vᵀ Θ(X,x).
					d.ScaleRows(func(i int) float64 { return gain(w[i], c) })
					b := e.must(e.n, e.m)
					scalapack.Gemm(false, false, 1, z, d, 0, b)
					covFin[f] = e.ntkCov(b, ktd, kxx, ktt)
					continue
				}
				// R = diag(√g(λ, 2c)) Vᵀ K(X,x); Σ = K(x,x') − RᵀR.
				d.ScaleRows(func(i int) float64 { return math.Sqrt(gain(w[i], 2*c)) })
				cm := ktt.Copy()
				scalapack.Gemm(true, false, -1, d, d, 1, cm)
				covFin[f] = gatherSym(cm)
			}
		}
		if e.rank == 0 {
			for s, f := range sc.slot {
				if f < 0 {
					continue
				}
				for i := 0; i < e.m; i++ {
					copy(out.Mean[(s*e.m+i)*e.k:(s*e.m+i+1)*e.k], meanFin[i*cols+f*e.k:i*cols+(f+1)*e.k])
				}
				if e.cov {
					copy(out.Cov[s*e.m*e.m:(s+1)*e.m*e.m], covFin[f])
				}
			}
		}
		e.say("finite t: means%s done", map[bool]string{true: " and covariances"}[e.cov])
	}
	return out, nil
}

// dumpKernel writes the training kernel, gathered on rank 0 with its lower
// triangle mirrored from the upper one, as eqens kernel writes it.
func (e *engine) dumpKernel(a *scalapack.Matrix) error {
	full := a.Gather(0)
	if full == nil {
		return nil
	}
	for i := 0; i < e.n; i++ {
		for j := 0; j < i; j++ {
			full[i*e.n+j] = full[j*e.n+i]
		}
	}
	if err := npy.WriteFile(e.dump, npy.FromFloat64([]int{e.n, e.n}, full)); err != nil {
		return fmt.Errorf("--debug-train-kernel: %w", err)
	}
	e.say("wrote the training kernel to %s", e.dump)
	return nil
}

func (e *engine) regime() predict.Regime {
	if e.ntk {
		return predict.RegimeNTK
	}
	return predict.RegimeNNGP
}

// pick returns the kernel of the regime.
func (e *engine) pick(r *nn.KernelResult) []float64 {
	if e.ntk {
		return r.Theta
	}
	return r.K
}

func (e *engine) newMatrix(rows, cols int) (*scalapack.Matrix, error) {
	return scalapack.NewMatrix(e.g, rows, cols, e.nb, e.nb)
}

// must allocates a matrix that plan has checked (its local part fits
// ScaLAPACK's 32-bit indices on every rank).
func (e *engine) must(rows, cols int) *scalapack.Matrix {
	a, err := e.newMatrix(rows, cols)
	if err != nil {
		panic(err)
	}
	return a
}

// testKernels computes this rank's blocks of Θ(x,X) (K(x,X) in the NNGP
// regime) and, for the covariance, of K(x,X) and K(x,x').
func (e *engine) testKernels() (tt, ktd, ktt *scalapack.Matrix, err error) {
	tt = e.must(e.m, e.n)
	ktd = tt
	if e.cov && e.ntk {
		ktd = e.must(e.m, e.n)
	}
	opts := e.kopts
	opts.ThetaOnly = e.ntk && !e.cov
	blocks := tt.Blocks()
	err = e.each("kernel (test)", len(blocks), func(i int) error {
		b := blocks[i]
		r, err := e.arch.KernelBlock(e.ctx, e.xt, e.m, e.x, e.n, nn.Span{Lo: b.I0, Hi: b.I1}, nn.Span{Lo: b.J0, Hi: b.J1}, opts)
		if err != nil {
			return err
		}
		tt.SetBlock(b, e.pick(r), false)
		if ktd != tt {
			ktd.SetBlock(b, r.K, false)
		}
		return nil
	})
	if err != nil || !e.cov {
		return
	}
	ktt = e.must(e.m, e.m)
	blocks = ktt.Blocks()
	err = e.each("kernel (test, test)", len(blocks), func(i int) error {
		b := blocks[i]
		r, err := e.arch.KernelBlock(e.ctx, e.xt, e.m, nil, 0, nn.Span{Lo: b.I0, Hi: b.I1}, nn.Span{Lo: b.J0, Hi: b.J1}, e.kopts)
		if err != nil {
			return err
		}
		ktt.SetBlock(b, r.K, false)
		return nil
	})
	return
}

// each runs f(0), …, f(n-1) on the rank's threads, with a progress bar of
// rank 0's share on rank 0.
func (e *engine) each(stage string, n int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		bar   *progress.Bar
		wg    sync.WaitGroup
	)
	if e.rank == 0 && n > 0 {
		bar = progress.New(os.Stderr, int64(n), stage+", rank 0's blocks", 10*time.Second)
	}
	next := make(chan int)
	for w := 0; w < e.threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				err := f(i)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if bar != nil {
					bar.Add(1)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || e.ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if first == nil {
		first = e.ctx.Err()
	}
	return first
}
