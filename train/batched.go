package train

import (
	"context"
	"fmt"
	"sync"

	"github.com/eqens/eqens/nn"
)

// Schedule says how Train spreads the members of an ensemble over the
// cores. Both give bit for bit the same members.
type Schedule string

const (
	// ScheduleMembers trains Options.Workers members at once, each on its
	// own goroutine with its own loop of steps.
	ScheduleMembers Schedule = "members"
	// ScheduleBatched trains all members of the range as one program in
	// lockstep (nn.Batch): every step runs each layer for all members at
	// once, with the members' parts of the batch as work items, so every
	// core is busy whatever the number of members; all members are in
	// memory at once.
	ScheduleBatched Schedule = "batched"
)

// ParseSchedule reads a schedule name; "" means ScheduleMembers.
func ParseSchedule(s string) (Schedule, error) {
	switch Schedule(s) {
	case "", ScheduleMembers:
		return ScheduleMembers, nil
	case ScheduleBatched:
		return ScheduleBatched, nil
	}
	return "", fmt.Errorf("schedule %q: want %s or %s", s, ScheduleMembers, ScheduleBatched)
}

// runBatched trains the members of r in lockstep (ScheduleBatched; the
// workers of runMembers do not apply) and returns the channel of their
// results, closed when all are done. Members
// that finished before are skipped; a member that fails drops out while
// the others go on; when ctx is cancelled every member still training
// writes a checkpoint at its current step.
func (s *Setup) runBatched(ctx context.Context, dir, hash string, r Range, _ int, emit func(Event), opts *Options) <-chan memberResult {
	results := make(chan memberResult, r.Len())
	go func() {
		defer close(results)
		var live []*member
		for m := r.Lo; m < r.Hi && ctx.Err() == nil; m++ {
			mb, done, err := s.loadMember(MemberPath(dir, m), hash, m)
			switch {
			case err == nil && done:
				emit(Event{Member: m, Step: s.Steps, Steps: s.Steps, Loss: mb.loss, Done: true, Skipped: true})
				results <- memberResult{m: m, skipped: true}
				continue
			case err == nil:
				mb.saved = mb.step
				err = mb.snapshot(opts)
			}
			if err != nil {
				emit(Event{Member: m, Done: true, Err: err})
				results <- memberResult{m: m, err: err}
				continue
			}
			live = append(live, mb)
		}
		s.lockstep(ctx, dir, hash, live, emit, opts, results)
	}()
	return results
}

// lockstep steps the live members together until each has finished,
// failed or been interrupted, sending each one's result.
func (s *Setup) lockstep(ctx context.Context, dir, hash string, live []*member, emit func(Event), opts *Options, results chan<- memberResult) {
	end := func(mb *member, err error) {
		emit(Event{Member: mb.idx, Step: mb.step, Steps: s.Steps, Loss: mb.loss, Done: true, Err: err})
		results <- memberResult{m: mb.idx, err: err}
	}
	nets := make([]*nn.Network[float32], len(live))
	bts := make([]*batch, len(live))
	for i, mb := range live {
		nets[i], bts[i] = mb.net, newBatch(s)
	}
	prog, err := nn.NewBatch(nets)
	if err != nil {
		for _, mb := range live {
			end(mb, mb.fail(err))
		}
		return
	}
	active := make([]bool, len(live))
	for i := range active {
		active[i] = true
	}
	errs := make([]error, len(live))
	for {
		running := 0
		for i, mb := range live {
			if !active[i] {
				continue
			}
			path := MemberPath(dir, mb.idx)
			err := errs[i]
			// As in member.train: a member at its last step finishes even
			// when ctx is cancelled.
			switch {
			case err == nil && mb.step == s.Steps:
				err = mb.finish(path, hash)
			case err == nil && ctx.Err() != nil:
				err = mb.interrupt(path, hash, ctx.Err())
			}
			if err != nil || mb.step == s.Steps {
				active[i] = false
				end(mb, err)
				continue
			}
			running++
		}
		if running == 0 {
			return
		}
		s.batchStep(prog, live, bts, active, errs)
		for i, mb := range live {
			if active[i] && errs[i] == nil {
				errs[i] = mb.afterStep(MemberPath(dir, mb.idx), hash, emit, opts)
			}
		}
	}
}

// batchStep takes one optimiser step of every active member through the
// batched program, setting errs[i] for members whose loss diverged.
func (s *Setup) batchStep(prog *nn.Batch[float32], live []*member, bts []*batch, active []bool, errs []error) {
	sel := make([]bool, len(live))
	for i := range live {
		sel[i] = active[i] && errs[i] == nil
	}
	each := func(f func(i int, mb *member)) {
		var wg sync.WaitGroup
		for i, mb := range live {
			if !sel[i] {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(i, mb)
			}()
		}
		wg.Wait()
	}
	xs, ns := make([][]float32, len(live)), make([]int, len(live))
	each(func(i int, mb *member) { xs[i], ns[i] = mb.startStep(bts[i]) })
	outs := prog.Forward(xs, ns)
	dys := make([][]float32, len(live))
	for i, mb := range live {
		if sel[i] {
			dys[i], errs[i] = mb.lossGrad(bts[i], outs[i])
			sel[i] = errs[i] == nil
		}
	}
	prog.Backward(dys)
	each(func(_ int, mb *member) { mb.update() })
}
