package symeig

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/eqens/eqens/internal/gemm"
)

// parallelFor calls f(i) for i = 0..n-1 on up to workers goroutines (the
// caller's included) and returns when all calls have. The calls must be
// independent: which goroutine runs which i is not fixed.
func parallelFor(workers, n int, f func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	workers = min(workers, n)
	var next atomic.Int64
	run := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i)
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run()
		}()
	}
	run()
	wg.Wait()
}

// gemmCM computes the column-major product c = a·b of the m×k a (lda) and
// the k×n b (ldb) into the m×n c (ldc), overwriting c.
func gemmCM(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, workers int) {
	if m == 0 || n == 0 {
		return
	}
	// Column-major c = a·b is row-major cᵀ = bᵀ·aᵀ.
	gemm.Gemm(false, false, n, m, k, 1, b, ldb, a, lda, 0, c, ldc, workers)
}

// team is a set of helper goroutines kept alive across many short
// parallel loops (the reduction runs thousands of symv of well under a
// millisecond, where starting goroutines each time would cost more than it
// saves). Helpers spin briefly waiting for work, then sleep.
type team struct {
	helpers int
	mu      sync.Mutex
	cond    *sync.Cond
	gen     atomic.Uint64 // bumped for each loop
	quit    bool
	sleep   int // helpers asleep on cond
	cur     atomic.Pointer[job]
}

// job is one parallel loop. Its items are split into as many contiguous
// ranges as the team has members; each member runs its own range first,
// then helps with the others', so that repeated loops over the same data
// tend to find it in the same core's cache.
type job struct {
	f       func(i int)
	n       int
	members int
	claimed []atomic.Bool
	pending atomic.Int64 // items not yet finished
}

// work runs the items of member id, then any others left.
func (j *job) work(id int) {
	lo, hi := j.n*id/j.members, j.n*(id+1)/j.members
	for i := lo; i < hi; i++ {
		j.try(i)
	}
	for i := j.n - 1; i >= 0; i-- {
		j.try(i)
	}
}

func (j *job) try(i int) {
	if j.claimed[i].Load() || !j.claimed[i].CompareAndSwap(false, true) {
		return
	}
	j.f(i)
	j.pending.Add(-1)
}

// newTeam starts workers-1 helpers; close must be called to stop them.
func newTeam(workers int) *team {
	t := &team{helpers: max(0, workers-1)}
	t.cond = sync.NewCond(&t.mu)
	for h := 0; h < t.helpers; h++ {
		go t.helper(h + 1)
	}
	return t
}

func (t *team) close() {
	t.mu.Lock()
	t.quit = true
	t.gen.Add(1)
	t.cond.Broadcast()
	t.mu.Unlock()
}

const teamSpin = 20000 // polls before a helper sleeps

// helper is the loop of team member id (the caller of run is member 0).
func (t *team) helper(id int) {
	seen := t.gen.Load()
	for {
		// Wait for a new loop: spin, then sleep.
		for spins := 0; t.gen.Load() == seen && spins < teamSpin; spins++ {
			if spins%256 == 255 {
				runtime.Gosched()
			}
		}
		t.mu.Lock()
		for t.gen.Load() == seen && !t.quit {
			t.sleep++
			t.cond.Wait()
			t.sleep--
		}
		quit := t.quit
		t.mu.Unlock()
		if quit {
			return
		}
		seen = t.gen.Load()
		if j := t.cur.Load(); j != nil {
			j.work(id)
		}
	}
}

// run calls f(i) for i = 0..n-1 on the team and the caller, and returns
// when all calls have. As with parallelFor, the calls must be independent.
func (t *team) run(n int, f func(i int)) {
	if t.helpers == 0 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	j := &job{f: f, n: n, members: t.helpers + 1, claimed: make([]atomic.Bool, n)}
	j.pending.Store(int64(n))
	t.cur.Store(j)
	t.gen.Add(1)
	t.mu.Lock()
	if t.sleep > 0 {
		t.cond.Broadcast()
	}
	t.mu.Unlock()
	j.work(0)
	for spins := 0; j.pending.Load() > 0; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
}
