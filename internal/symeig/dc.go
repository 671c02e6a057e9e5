package symeig

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// The tridiagonal divide and conquer below follows LAPACK's dstedc with
// compz = 'I' (dlaed0, dlaed1, dlaed2, dlaed3). Its matrices are
// column-major, as in LAPACK: element (r, c) of q is q[r+c*ldq], so that an
// eigenvector is a contiguous column. Indices are 0-based.

// smlsiz is the largest subproblem solved directly by QL/QR.
const smlsiz = 32

var impl lapackgonum.Implementation

// stedc computes all eigenvalues and eigenvectors of the symmetric
// tridiagonal matrix with diagonal d[0:n] and off-diagonal e[0:n-1] into d
// and the columns of the n×n column-major q (ldq = n), which must be zero
// on entry. It returns the permutation that sorts them: the j-th smallest
// eigenvalue is d[perm[j]], its eigenvector column perm[j] of q. e is
// destroyed.
func stedc(n int, d, e, q []float64, workers int) (perm []int, err error) {
	perm = make([]int, n)
	for i := range perm {
		perm[i] = i
		q[i+i*n] = 1
	}
	if n <= 1 || impl.Dlanst(lapack.MaxAbs, n, d, e) == 0 {
		return perm, nil
	}
	var ws *dcWork
	for start := 0; start < n; {
		// The block start..finish is an unreduced submatrix.
		finish := start
		for finish < n-1 {
			tiny := eps * math.Sqrt(math.Abs(d[finish])) * math.Sqrt(math.Abs(d[finish+1]))
			if math.Abs(e[finish]) <= tiny {
				break
			}
			finish++
		}
		m := finish - start + 1
		qs := q[start+start*n:]
		switch {
		case m == 1:
		case m > smlsiz:
			orgnrm := impl.Dlanst(lapack.MaxAbs, m, d[start:], e[start:])
			impl.Dlascl(lapack.General, 0, 0, orgnrm, 1, m, 1, d[start:], 1)
			impl.Dlascl(lapack.General, 0, 0, orgnrm, 1, m-1, 1, e[start:], 1)
			if ws == nil {
				ws = newDCWork(n)
			}
			indxq, err := laed0(m, d[start:start+m], e[start:start+m-1], qs, n, ws, workers)
			if err != nil {
				return nil, err
			}
			for j, i := range indxq {
				perm[start+j] = start + i
			}
			impl.Dlascl(lapack.General, 0, 0, 1, orgnrm, m, 1, d[start:], 1)
		default:
			if err := steqr(m, d[start:start+m], e[start:start+m-1], qs, n); err != nil {
				return nil, err
			}
		}
		start = finish + 1
	}
	// Merge the blocks' sorted lists (and put right the rare pairs that
	// deflation leaves out of order by a rounding error), stably.
	slices.SortStableFunc(perm, func(i, j int) int { return cmp.Compare(d[i], d[j]) })
	return perm, nil
}

// steqr solves the m×m tridiagonal problem (d, e) with implicit QL/QR and
// stores the eigenvectors as the columns of the column-major q (ldq).
func steqr(m int, d, e, q []float64, ldq int) error {
	z := make([]float64, m*m+max(1, 2*m-2))
	work := z[m*m:]
	if !impl.Dsteqr(lapack.EVTridiag, m, d, e, z, m, work) {
		return fmt.Errorf("symeig: QL iteration did not converge on a %d×%d tridiagonal block", m, m)
	}
	// z is row-major with the vectors as columns: copy transposed.
	for r := 0; r < m; r++ {
		for c := 0; c < m; c++ {
			q[r+c*ldq] = z[r*m+c]
		}
	}
	return nil
}

// dcWork holds the divide and conquer workspace for problems of order up
// to n. A merge of the subproblem starting at s0 uses only the elements at
// offsets s0.. of the vectors and s0*n.. of q2, so the merges of one level
// can run concurrently.
type dcWork struct {
	n                          int
	z, dlambda, w              []float64
	q2                         []float64 // n*n + n
	indx, indxc, indxp, coltyp []int
	indxq                      []int
}

func newDCWork(n int) *dcWork {
	f := make([]float64, 3*n)
	ix := make([]int, 5*n)
	return &dcWork{
		n: n,
		z: f[:n], dlambda: f[n : 2*n], w: f[2*n:],
		q2:   make([]float64, n*n+n),
		indx: ix[:n], indxc: ix[n : 2*n], indxp: ix[2*n : 3*n], coltyp: ix[3*n : 4*n], indxq: ix[4*n:],
	}
}

// laed0 computes the eigensystem of the unreduced tridiagonal (d, e) of
// order n > smlsiz into the column-major q (ldq), whose elements outside
// its diagonal n×n block are not touched and inside it must be zero. It
// returns the permutation sorting the eigenvalues: the j-th smallest is
// d[indxq[j]], its eigenvector column indxq[j] of q.
func laed0(n int, d, e, q []float64, ldq int, ws *dcWork, workers int) ([]int, error) {
	// Split into subproblems of size at most smlsiz; the first half of a
	// split is the smaller.
	sizes := []int{n}
	for sizes[len(sizes)-1] > smlsiz {
		next := make([]int, 0, 2*len(sizes))
		for _, s := range sizes {
			next = append(next, s/2, (s+1)/2)
		}
		sizes = next
	}
	starts := make([]int, len(sizes))
	for i := 1; i < len(sizes); i++ {
		starts[i] = starts[i-1] + sizes[i-1]
	}
	// Rank-one cuts.
	for i := 1; i < len(sizes); i++ {
		s := starts[i]
		d[s-1] -= math.Abs(e[s-1])
		d[s] -= math.Abs(e[s-1])
	}
	indxq := ws.indxq[:n]

	// Solve the leaves.
	errs := make([]error, len(sizes))
	parallelFor(workers, len(sizes), func(i int) {
		s, m := starts[i], sizes[i]
		errs[i] = steqr(m, d[s:s+m], e[s:s+m-1], q[s+s*ldq:], ldq)
		for j := 0; j < m; j++ {
			indxq[s+j] = j
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	// Merge adjacent pairs, level by level.
	for len(sizes) > 1 {
		np := len(sizes) / 2
		errs = errs[:np]
		merge := func(p, wk int) {
			s := starts[2*p]
			n1 := sizes[2*p]
			m := n1 + sizes[2*p+1]
			errs[p] = ws.laed1(s, m, d[s:s+m], q[s+s*ldq:], ldq, indxq[s:s+m], e[s+n1-1], n1, wk)
		}
		if np >= 2 && workers > 1 {
			parallelFor(workers, np, func(p int) { merge(p, 1) })
		} else {
			for p := 0; p < np; p++ {
				merge(p, workers)
			}
		}
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		ns := make([]int, np)
		nst := make([]int, np)
		for p := 0; p < np; p++ {
			ns[p] = sizes[2*p] + sizes[2*p+1]
			nst[p] = starts[2*p]
		}
		sizes, starts = ns, nst
	}

	return indxq, nil
}

// laed1 merges the eigensystems of two adjacent subproblems of sizes n1
// and n-n1 (dlaed1): q (ldq) holds their eigenvectors as the diagonal
// blocks of an n×n column-major matrix, d their eigenvalues, indxq the
// permutations sorting each half, and rho the coupling element. s0 is the
// subproblem's offset, which places its workspace.
func (ws *dcWork) laed1(s0, n int, d, q []float64, ldq int, indxq []int, rho float64, n1 int, workers int) error {
	N := ws.n
	z := ws.z[s0 : s0+n]
	dlambda := ws.dlambda[s0 : s0+n]
	w := ws.w[s0 : s0+n]
	q2 := ws.q2[s0*N : s0*N+n*n+n]
	indx := ws.indx[s0 : s0+n]
	indxc := ws.indxc[s0 : s0+n]
	indxp := ws.indxp[s0 : s0+n]
	coltyp := ws.coltyp[s0 : s0+n]

	// z is the last row of the first block and the first row of the second.
	for c := 0; c < n1; c++ {
		z[c] = q[n1-1+c*ldq]
	}
	for c := n1; c < n; c++ {
		z[c] = q[n1+c*ldq]
	}
	k, ctot := laed2(n, n1, d, q, ldq, indxq, rho, z, dlambda, w, q2, indx, indxc, indxp, coltyp)
	rho = math.Abs(2 * rho)
	if k == 0 {
		for i := range indxq {
			indxq[i] = i
		}
		return nil
	}
	if err := laed3(k, n, n1, d, q, ldq, rho, dlambda, q2, indxc, ctot, w, workers); err != nil {
		return err
	}
	lamrg(k, n-k, d, 1, -1, indxq)
	return nil
}

// laed2 deflates the merged problem (dlaed2). It returns the number k of
// non-deflated eigenvalues and the counts of the four column types: 1 (only
// in the first half), 2 (dense), 3 (only in the second half) and 4
// (deflated). On return dlambda[0:k] and w[0:k] define the secular
// equation, q2 holds the columns of types 1-3 packed (then type 4), and the
// deflated eigenpairs are in d[k:n], q[:, k:n].
func laed2(n, n1 int, d, q []float64, ldq int, indxq []int, rho float64, z, dlambda, w, q2 []float64,
	indx, indxc, indxp, coltyp []int) (k int, ctot [4]int) {
	n2 := n - n1
	if rho < 0 {
		for i := n1; i < n; i++ {
			z[i] = -z[i]
		}
	}
	// Normalise z: it is the concatenation of two unit vectors.
	t := 1 / math.Sqrt2
	for i := range z[:n] {
		z[i] *= t
	}
	rho = math.Abs(2 * rho)

	for i := n1; i < n; i++ {
		indxq[i] += n1
	}
	for i := 0; i < n; i++ {
		dlambda[i] = d[indxq[i]]
	}
	lamrg(n1, n2, dlambda, 1, 1, indxc)
	for i := 0; i < n; i++ {
		indx[i] = indxq[indxc[i]]
	}

	// LAPACK's long-standing deflation tolerance (Reference-LAPACK tried
	// 64 eps in 2026, PR 1317, and reverted it, PR 1372: it deflates close
	// but distinct eigenvalues and costs accuracy).
	imax := idamax(z[:n])
	jmax := idamax(d[:n])
	tol := 8 * eps * math.Max(math.Abs(d[jmax]), math.Abs(z[imax]))

	if rho*math.Abs(z[imax]) <= tol {
		// Everything deflates: just reorder.
		for j := 0; j < n; j++ {
			i := indx[j]
			copy(q2[j*n:j*n+n], q[i*ldq:i*ldq+n])
			dlambda[j] = d[i]
		}
		for j := 0; j < n; j++ {
			copy(q[j*ldq:j*ldq+n], q2[j*n:j*n+n])
		}
		copy(d[:n], dlambda[:n])
		return 0, ctot
	}

	for i := 0; i < n1; i++ {
		coltyp[i] = 1
	}
	for i := n1; i < n; i++ {
		coltyp[i] = 3
	}
	k = 0
	k2 := n
	pj := -1
	j := 0
	for ; j < n; j++ {
		nj := indx[j]
		if rho*math.Abs(z[nj]) <= tol {
			// Deflate due to a small z component.
			k2--
			coltyp[nj] = 4
			indxp[k2] = nj
		} else {
			pj = nj
			break
		}
	}
	for j++; j < n; j++ {
		nj := indx[j]
		if rho*math.Abs(z[nj]) <= tol {
			k2--
			coltyp[nj] = 4
			indxp[k2] = nj
			continue
		}
		// Check whether the eigenvalues are close enough to deflate.
		s := z[pj]
		c := z[nj]
		tau := math.Hypot(c, s)
		t := d[nj] - d[pj]
		c /= tau
		s = -s / tau
		if math.Abs(t*c*s) <= tol {
			z[nj] = tau
			z[pj] = 0
			if coltyp[nj] != coltyp[pj] {
				coltyp[nj] = 2
			}
			coltyp[pj] = 4
			drot(q[pj*ldq:pj*ldq+n], q[nj*ldq:nj*ldq+n], c, s)
			t = d[pj]*c*c + d[nj]*s*s
			d[nj] = d[pj]*s*s + d[nj]*c*c
			d[pj] = t
			k2--
			i := 1
			for {
				if k2+i < n && d[pj] < d[indxp[k2+i]] {
					indxp[k2+i-1] = indxp[k2+i]
					indxp[k2+i] = pj
					i++
					continue
				}
				indxp[k2+i-1] = pj
				break
			}
			pj = nj
		} else {
			dlambda[k] = d[pj]
			w[k] = z[pj]
			indxp[k] = pj
			k++
			pj = nj
		}
	}
	// Record the last eigenvalue.
	dlambda[k] = d[pj]
	w[k] = z[pj]
	indxp[k] = pj
	k++

	// Group the columns by type: 1, 2, 3, then 4.
	for j := 0; j < n; j++ {
		ctot[coltyp[j]-1]++
	}
	var psm [4]int
	psm[1] = ctot[0]
	psm[2] = psm[1] + ctot[1]
	psm[3] = psm[2] + ctot[2]
	k = n - ctot[3]
	for j := 0; j < n; j++ {
		js := indxp[j]
		ct := coltyp[js] - 1
		indx[psm[ct]] = js
		indxc[psm[ct]] = j
		psm[ct]++
	}

	// Pack the eigenvectors into q2 and the eigenvalues into z.
	i := 0
	iq1 := 0
	iq2 := (ctot[0] + ctot[1]) * n1
	for j := 0; j < ctot[0]; j++ {
		js := indx[i]
		copy(q2[iq1:iq1+n1], q[js*ldq:js*ldq+n1])
		z[i] = d[js]
		i++
		iq1 += n1
	}
	for j := 0; j < ctot[1]; j++ {
		js := indx[i]
		copy(q2[iq1:iq1+n1], q[js*ldq:js*ldq+n1])
		copy(q2[iq2:iq2+n2], q[n1+js*ldq:n1+js*ldq+n2])
		z[i] = d[js]
		i++
		iq1 += n1
		iq2 += n2
	}
	for j := 0; j < ctot[2]; j++ {
		js := indx[i]
		copy(q2[iq2:iq2+n2], q[n1+js*ldq:n1+js*ldq+n2])
		z[i] = d[js]
		i++
		iq2 += n2
	}
	iq1 = iq2
	for j := 0; j < ctot[3]; j++ {
		js := indx[i]
		copy(q2[iq2:iq2+n], q[js*ldq:js*ldq+n])
		iq2 += n
		z[i] = d[js]
		i++
	}
	// The deflated eigenpairs go to the last n-k slots of d and q.
	if k < n {
		for j := 0; j < ctot[3]; j++ {
			copy(q[(k+j)*ldq:(k+j)*ldq+n], q2[iq1+j*n:iq1+j*n+n])
		}
		copy(d[k:n], z[k:n])
	}
	return k, ctot
}

// laed3 solves the secular equation of the deflated problem (dlaed3) and
// forms the merged eigenvectors: the first k columns of q become
// [Q1 0; 0 Q2]·U, U being the eigenvectors of diag(dlambda) + rho w wᵀ,
// computed from a recomputed w (Gu and Eisenstat) so that they are
// orthogonal to working precision.
func laed3(k, n, n1 int, d, q []float64, ldq int, rho float64, dlambda, q2 []float64, indx []int,
	ctot [4]int, w []float64, workers int) error {
	// The roots, in parallel: column j of q receives d - lambda_j.
	chunk := max(1, min(64, k/(4*workers)))
	nch := (k + chunk - 1) / chunk
	failed := make([]bool, nch)
	parallelFor(workers, nch, func(c int) {
		for j := c * chunk; j < min(k, (c+1)*chunk); j++ {
			var ok bool
			d[j], ok = laed4(k, j, dlambda, w, q[j*ldq:j*ldq+k], rho)
			if !ok {
				failed[c] = true
			}
		}
	})
	for _, f := range failed {
		if f {
			return fmt.Errorf("symeig: the secular equation solver did not converge (order %d)", k)
		}
	}

	n2 := n - n1
	n12 := ctot[0] + ctot[1]
	n23 := ctot[1] + ctot[2]
	// s is the workspace that follows the packed vectors in q2, as in
	// LAPACK; it holds k rows of length max(n12, n23).
	off := n1*n12 + n2*n23
	var s []float64
	if need := off + max(n12, n23, k)*k; need <= len(q2) {
		s = q2[off:need]
	} else {
		s = make([]float64, max(n12, n23, k)*k)
	}

	switch {
	case k == 1:
	case k == 2:
		for j := 0; j < 2; j++ {
			w0, w1 := q[j*ldq], q[1+j*ldq]
			v := [2]float64{w0, w1}
			q[j*ldq] = v[indx[0]]
			q[1+j*ldq] = v[indx[1]]
		}
	default:
		// Recompute w: w_i² = prod_j (lambda_j - dlambda_i) / prod_{j≠i} (dlambda_j - dlambda_i),
		// the products being taken in the order of j for every i.
		sgn := s[:k]
		copy(sgn, w[:k])
		rchunk := max(16, (k+4*workers-1)/(4*workers))
		parallelFor(workers, (k+rchunk-1)/rchunk, func(c int) {
			i0, i1 := c*rchunk, min(k, (c+1)*rchunk)
			wi := w[i0:i1]
			dl := dlambda[i0:i1]
			for i := i0; i < i1; i++ {
				w[i] = q[i+i*ldq]
			}
			for j := 0; j < k; j++ {
				qj := q[j*ldq+i0 : j*ldq+i1]
				dj := dlambda[j]
				for t := range wi {
					if i0+t != j {
						wi[t] *= qj[t] / (dl[t] - dj)
					}
				}
			}
			for t := range wi {
				wi[t] = math.Copysign(math.Sqrt(-wi[t]), sgn[i0+t])
			}
		})
		// The eigenvectors of the rank-one modification.
		cchunk := max(8, (k+4*workers-1)/(4*workers))
		parallelFor(workers, (k+cchunk-1)/cchunk, func(c int) {
			v := make([]float64, k)
			for j := c * cchunk; j < min(k, (c+1)*cchunk); j++ {
				qj := q[j*ldq : j*ldq+k]
				ss := 0.0
				for i := range v {
					t := w[i] / qj[i]
					v[i] = t
					ss += t * t
				}
				temp := math.Sqrt(ss)
				if !(ss > 0x1p-900 && ss < 0x1p900) {
					temp = nrm2(v) // guard against overflow and underflow
				}
				for i := range qj {
					qj[i] = v[indx[i]] / temp
				}
			}
		})
	}

	// Back-transform: rows 0..n1 of the first k columns from the types 1
	// and 2 vectors, rows n1..n from the types 2 and 3 vectors.
	if n23 != 0 {
		lacpy(n23, k, q[ctot[0]:], ldq, s, n23)
		gemmCM(n2, k, n23, q2[n1*n12:], n2, s, n23, q[n1:], ldq, workers)
	} else {
		for j := 0; j < k; j++ {
			clear(q[n1+j*ldq : n+j*ldq])
		}
	}
	if n12 != 0 {
		lacpy(n12, k, q, ldq, s, n12)
		gemmCM(n1, k, n12, q2, n1, s, n12, q, ldq, workers)
	} else {
		for j := 0; j < k; j++ {
			clear(q[j*ldq : n1+j*ldq])
		}
	}
	return nil
}

// lamrg writes to index the permutation that merges the sorted runs
// a[0:n1] and a[n1:n1+n2] (each ascending for stride 1, descending for
// stride -1) into one ascending list (dlamrg).
func lamrg(n1, n2 int, a []float64, dtrd1, dtrd2 int, index []int) {
	ind1 := 0
	if dtrd1 < 0 {
		ind1 = n1 - 1
	}
	ind2 := n1
	if dtrd2 < 0 {
		ind2 = n1 + n2 - 1
	}
	i := 0
	for n1 > 0 && n2 > 0 {
		if a[ind1] <= a[ind2] {
			index[i] = ind1
			ind1 += dtrd1
			n1--
		} else {
			index[i] = ind2
			ind2 += dtrd2
			n2--
		}
		i++
	}
	for ; n2 > 0; n2-- {
		index[i] = ind2
		ind2 += dtrd2
		i++
	}
	for ; n1 > 0; n1-- {
		index[i] = ind1
		ind1 += dtrd1
		i++
	}
}

func idamax(x []float64) int {
	imax, vmax := 0, -1.0
	for i, v := range x {
		if a := math.Abs(v); a > vmax {
			imax, vmax = i, a
		}
	}
	return imax
}

// drot applies the plane rotation (c, s) to the vectors x and y.
func drot(x, y []float64, c, s float64) {
	y = y[:len(x)]
	for i, xv := range x {
		yv := y[i]
		x[i] = c*xv + s*yv
		y[i] = c*yv - s*xv
	}
}

// nrm2 returns the Euclidean norm of x without undue overflow.
func nrm2(x []float64) float64 {
	scale := 0.0
	for _, v := range x {
		if a := math.Abs(v); a > scale {
			scale = a
		}
	}
	if scale == 0 || math.IsInf(scale, 0) {
		return scale
	}
	sum := 0.0
	inv := 1 / scale
	for _, v := range x {
		t := v * inv
		sum += t * t
	}
	return scale * math.Sqrt(sum)
}

// lacpy copies the m×n column-major matrix a (lda) to b (ldb).
func lacpy(m, n int, a []float64, lda int, b []float64, ldb int) {
	for j := 0; j < n; j++ {
		copy(b[j*ldb:j*ldb+m], a[j*lda:j*lda+m])
	}
}
