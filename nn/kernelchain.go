package nn

import (
	"fmt"

	"github.com/eqens/eqens/internal/hugepage"
	"github.com/eqens/eqens/internal/vec"
	"github.com/eqens/eqens/kernel"
)

// Chains of exact group convolutions run block by block.
//
// The kernel state of exact lifting and group convolutions is a slab of
// |G| blocks (kernel.State), and block r of a layer's output reads only
// one block of its input (the input plane of a lifting, block r of a
// group convolution: kernel.ConvOp.BlockOp); rectifiers act entry by
// entry. A run of such layers therefore maps each block on its own, and
// the engine runs it block after block: one block's planes (28×28: 4.9 MB
// each for K and Theta) stay in the cache through the whole run instead of
// the |G| times larger slab streaming through memory at every layer. The
// operations are those of the layer-by-layer run, so the bits are the
// same (TestKernelBlockChain).

// planChains finds the runs of layers that run block by block and their
// block operators (called by plan).
func (e *kernelEngine) planChains() {
	layers := e.arch.Layers
	e.chainTo = make([]int, len(layers))
	e.blockOps = make([][]*kernel.ConvOp, len(layers))
	for l := range layers {
		if m := e.chainEnd(l); m > l {
			e.chainTo[l] = m
		}
	}
}

// chainEnd returns m > l+1 if layers [l, m) can run block by block — a
// lifting or group convolution with block operators, then only such
// group convolutions reading their own block and rectifiers, with at
// least two convolutions — or l otherwise; it records the block operators
// of the layers it accepts.
func (e *kernelEngine) chainEnd(l int) int {
	layers := e.arch.Layers
	first, ok := layers[l].(*Conv)
	if !ok || e.setBlockOps(l, first, first.op.InG > 1) != nil {
		return l
	}
	convs := 1
	m := l + 1
	for ; m < len(layers); m++ {
		if isRectifier(layers[m]) {
			continue
		}
		c, ok := layers[m].(*Conv)
		if !ok || e.setBlockOps(m, c, true) != nil {
			break
		}
		convs++
	}
	if convs < 2 {
		return l
	}
	return m
}

// setBlockOps records the block operators of layer k, all of whose output
// blocks must have one, reading block r itself when own is set.
func (e *kernelEngine) setBlockOps(k int, c *Conv, own bool) error {
	ops := make([]*kernel.ConvOp, c.op.OutG)
	for r := range ops {
		op, in, ok := c.op.BlockOp(r)
		if !ok || (own && in != r) {
			return fmt.Errorf("block %d has no block operator", r)
		}
		ops[r] = op
	}
	e.blockOps[k] = ops
	return nil
}

// chainBuffers are a chain's working planes — two for K and two for
// Theta, used in turn by its convolutions — and the state of a block,
// whose working rows are kept too.
type chainBuffers struct {
	k, t [2][]float64
	sub  kernel.State
}

// runChain runs layers [l, m) (chainEnd) on the state of a tile's pairs,
// pair by pair and block by block: the first convolution reads the input
// block in place, the last writes the output block in place. It returns
// the index of the next layer to run: m, or m+1 when it applied a group
// pooling at m too.
func (e *kernelEngine) runChain(st *kernel.State, l, m, i0, i1, j0, j1 int, tape1, tape2 [][]float64) (int, error) {
	layers := e.arch.Layers
	// The variances of the rectifiers' inputs, for all pairs.
	vars := make(map[int][2][]float64)
	lastConv, most := l, 0 // the last convolution, the largest output block
	for k := l; k < m; k++ {
		if isRectifier(layers[k]) {
			loadVariances(st, e.posAt[k], i0, i1, j0, j1, tape1[k], tape2[k])
			vars[k] = [2][]float64{append([]float64(nil), st.V1...), append([]float64(nil), st.V2...)}
		} else {
			lastConv = k
			op := layers[k].(*Conv).op
			most = max(most, op.OutH*op.OutW)
		}
	}
	out := layers[lastConv].(*Conv).op
	G, h, w := out.OutG, out.OutH, out.OutW
	hw := h * w
	pin, cin := st.P(), st.Cols()
	blockIn := pin * cin / st.G // values of one input block of a pair
	P := G * hw
	// A group pooling right after the chain takes each block's sums as the
	// block is done (kernel.MeanBlocks, the same bits): the slab is never
	// stored.
	pool := m < len(layers) && isGroupPool(layers[m])
	var outK, outT, sums []float64
	if pool {
		sums = make([]float64, 2*st.Pairs)
	} else {
		outK = st.Scratch(st.Pairs * P * hw)
		if st.NTK {
			outT = st.Scratch(st.Pairs * P * hw)
		}
	}
	buf, _ := e.chainBufs.Get().(*chainBuffers)
	if buf == nil {
		buf = &chainBuffers{}
	}
	defer func() {
		// Keep the working rows, not views of this tile's planes.
		buf.sub.K, buf.sub.Theta, buf.sub.V1, buf.sub.V2 = nil, nil, nil, nil
		clear(buf.sub.OuterA[:cap(buf.sub.OuterA)])
		clear(buf.sub.OuterB[:cap(buf.sub.OuterB)])
		buf.sub.OuterA, buf.sub.OuterB = buf.sub.OuterA[:0], buf.sub.OuterB[:0]
		e.chainBufs.Put(buf)
	}()
	for i := range 2 {
		buf.k[i] = growF(buf.k[i], most*most)
		if st.NTK {
			buf.t[i] = growF(buf.t[i], most*most)
		}
	}
	sub := &buf.sub
	sub.Pairs, sub.NTK, sub.KeepInput = 1, st.NTK, st.KeepInput
	for a := range st.Pairs {
		for r := range G {
			in := 0
			if st.G > 1 {
				in = r
			}
			off := a*pin*cin + in*blockIn
			sub.G, sub.H, sub.W, sub.Slab = 1, st.H, st.W, false
			sub.K = st.K[off : off+blockIn]
			if st.NTK {
				sub.Theta = st.Theta[off : off+blockIn]
			}
			// The network's input: Theta zero and one-channel covariances
			// as outer products, as the state has them, for each block.
			sub.ThetaZero = st.ThetaZero
			sub.OuterA, sub.OuterB = sub.OuterA[:0], sub.OuterB[:0]
			if len(st.OuterA) > 0 {
				sub.OuterA, sub.OuterB = append(sub.OuterA, st.OuterA[a]), append(sub.OuterB, st.OuterB[a])
			}
			at := (a*P + r*hw) * hw
			next := 0
			for k := l; k < m; k++ {
				var ko, to []float64
				switch {
				case k == lastConv && !pool:
					ko = outK[at : at+hw*hw]
					if st.NTK {
						to = outT[at : at+hw*hw]
					}
				case k > l && e.inPlaceAt(sub, k, r):
					ko, to = sub.K, sub.Theta // a working plane, overwritten
				default:
					ko, to = buf.k[next], buf.t[next]
					next = 1 - next
				}
				var err error
				if k, err = e.chainLayer(sub, vars, k, m, a, r, G, ko, to); err != nil {
					return m, fmt.Errorf("kernel: layer %d %s: %w", k+1, layers[k], err)
				}
			}
			if pool {
				sums[2*a] += vec.SumF64(sub.K)
				if st.NTK {
					sums[2*a+1] += vec.SumF64(sub.Theta)
				}
			}
		}
	}
	if pool {
		n := float64(P * hw)
		for a := range st.Pairs {
			st.K[a] = sums[2*a] / n
			if st.NTK {
				st.Theta[a] = sums[2*a+1] / n
			}
		}
		st.K = st.K[:st.Pairs]
		if st.NTK {
			st.Theta = st.Theta[:st.Pairs]
		}
		st.G, st.H, st.W, st.Slab = 1, 1, 1, false
		st.V1, st.V2 = st.V1[:st.Pairs], st.V2[:st.Pairs]
		st.ThetaZero, st.OuterA, st.OuterB = false, st.OuterA[:0], st.OuterB[:0]
		return m + 1, nil
	}
	st.ThetaZero, st.OuterA, st.OuterB = false, st.OuterA[:0], st.OuterB[:0]
	st.Recycle(st.K)
	st.K = outK
	if st.NTK {
		st.Recycle(st.Theta)
		st.Theta = outT
	}
	st.G, st.H, st.W, st.Slab = G, h, w, true
	return m, nil
}

// isGroupPool reports whether a layer is the group pooling (gpool), whose
// kernel map is kernel.State.MeanAll.
func isGroupPool(l Layer) bool {
	p, ok := l.(*Pool)
	return ok && p.Kind == "gpool"
}

func growF(b []float64, n int) []float64 {
	if cap(b) >= n {
		return b[:n]
	}
	return hugepage.Floats(n) // the chain's working planes: see kernel's grow
}

// inPlaceAt reports whether layer k of a chain, block r, is a convolution
// that can overwrite the block's working planes (kernel.State.InPlace).
func (e *kernelEngine) inPlaceAt(sub *kernel.State, k, r int) bool {
	if _, ok := e.arch.Layers[k].(*Conv); !ok {
		return false
	}
	return sub.InPlace(e.blockOps[k][r])
}

// chainLayer applies layer k of a chain to block r of pair a in sub — a
// convolution, fused with a following rectifier, into ko and to; a
// rectifier in place — and returns the index of the last layer it
// applied.
func (e *kernelEngine) chainLayer(sub *kernel.State, vars map[int][2][]float64, k, m, a, r, G int, ko, to []float64) (int, error) {
	layers := e.arch.Layers
	setVars := func(k int) {
		v := vars[k]
		p := e.posAt[k]
		hw := p / G
		sub.V1 = v[0][a*p+r*hw : a*p+(r+1)*hw]
		sub.V2 = v[1][a*p : a*p+hw]
	}
	c, ok := layers[k].(*Conv)
	if !ok {
		setVars(k)
		sub.ReLU()
		return k, nil
	}
	op := e.blockOps[k][r]
	if k+1 < m && isRectifier(layers[k+1]) {
		setVars(k + 1)
		return k + 1, sub.ConvAffineTo(op, c.WStd, c.BStd, true, ko, to)
	}
	return k, sub.ConvAffineTo(op, c.WStd, c.BStd, false, ko, to)
}
