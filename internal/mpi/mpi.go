//go:build mpi

// Package mpi is the thin cgo binding to MPI that eqens-mpi needs: start and
// end, the rank and size of MPI_COMM_WORLD, a few collectives on float64 and
// int values, and abort. It is built only with the mpi build tag (make mpi),
// against the MPI library that pkg-config names ompi-c (Open MPI).
//
// Every call must come from the goroutine that called Init: Init locks it to
// its OS thread and asks MPI for MPI_THREAD_FUNNELED (only that thread talks
// to MPI). Goroutines may compute in between.
package mpi

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

static int eq_init(int *provided) {
	// Open MPI's own handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL would
	// replace the Go runtime's (which turns nil dereferences into panics);
	// keep Go's unless the user configured opal_signal.
	setenv("OMPI_MCA_opal_signal", "", 0);
	int argc = 0;
	char **argv = NULL;
	return MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, provided);
}
static int eq_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int eq_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int eq_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int eq_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int eq_allreduce_f64(double *buf, int n, int op) {
	MPI_Op o = op == 0 ? MPI_SUM : op == 1 ? MPI_MAX : MPI_MIN;
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, o, MPI_COMM_WORLD);
}
static int eq_allreduce_i64(long long *buf, int n, int op) {
	MPI_Op o = op == 0 ? MPI_SUM : op == 1 ? MPI_MAX : MPI_MIN;
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_LONG_LONG, o, MPI_COMM_WORLD);
}
static int eq_bcast_bytes(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int eq_bcast_f64(double *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_DOUBLE, root, MPI_COMM_WORLD);
}
static int eq_gatherv_f64(double *send, int n, double *recv, int *counts, int *displs, int root) {
	return MPI_Gatherv(send, n, MPI_DOUBLE, recv, counts, displs, MPI_DOUBLE, root, MPI_COMM_WORLD);
}
static int eq_gather_i64(long long *send, int n, long long *recv, int root) {
	return MPI_Gather(send, n, MPI_LONG_LONG, recv, n, MPI_LONG_LONG, root, MPI_COMM_WORLD);
}
static int eq_local_size(int *s) {
	MPI_Comm node;
	int rank, err;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
	if (err != MPI_SUCCESS) return err;
	err = MPI_Comm_size(node, s);
	MPI_Comm_free(&node);
	return err;
}
static int eq_processor_name(char *name, int *len) { return MPI_Get_processor_name(name, len); }
static int eq_library_version(char *v, int *len) { return MPI_Get_library_version(v, len); }
static int eq_max_library_version(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static int eq_finalize(void) { return MPI_Finalize(); }
static int eq_initialized(void) { int f = 0; MPI_Initialized(&f); return f; }
static int eq_finalized(void) { int f = 0; MPI_Finalized(&f); return f; }
static int eq_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Op is a reduction operation.
type Op int

// The reductions Allreduce supports.
const (
	Sum Op = iota
	Max
	Min
)

func check(what string, rc C.int) {
	if rc != 0 {
		// The default error handler (MPI_ERRORS_ARE_FATAL) aborts the job
		// before MPI returns an error; this is for handlers set otherwise.
		panic(fmt.Sprintf("mpi: %s failed with error code %d", what, int(rc)))
	}
}

// Init starts MPI (MPI_Init_thread with MPI_THREAD_FUNNELED) and locks the
// calling goroutine to its OS thread; all later calls must come from it.
func Init() error {
	runtime.LockOSThread()
	var provided C.int
	if rc := C.eq_init(&provided); rc != 0 {
		return fmt.Errorf("mpi: MPI_Init_thread failed with error code %d", int(rc))
	}
	if provided < C.MPI_THREAD_FUNNELED {
		return fmt.Errorf("mpi: the MPI library provides thread level %d, below MPI_THREAD_FUNNELED", int(provided))
	}
	return nil
}

// Initialized reports whether Init has run (and Finalize not yet).
func Initialized() bool { return C.eq_initialized() != 0 && C.eq_finalized() == 0 }

// Finalize ends MPI. Every rank must call it before exiting normally.
func Finalize() { check("MPI_Finalize", C.eq_finalize()) }

// Rank returns the rank of this process in MPI_COMM_WORLD.
func Rank() int {
	var r C.int
	check("MPI_Comm_rank", C.eq_rank(&r))
	return int(r)
}

// Size returns the number of processes in MPI_COMM_WORLD.
func Size() int {
	var s C.int
	check("MPI_Comm_size", C.eq_size(&s))
	return int(s)
}

// LocalSize returns the number of ranks on this node (sharing its memory).
func LocalSize() int {
	var s C.int
	check("MPI_Comm_split_type", C.eq_local_size(&s))
	return int(s)
}

// ProcessorName returns MPI's name of this node.
func ProcessorName() string {
	buf := make([]byte, int(C.eq_max_processor_name())+1)
	var n C.int
	check("MPI_Get_processor_name", C.eq_processor_name((*C.char)(unsafe.Pointer(&buf[0])), &n))
	return string(buf[:int(n)])
}

// LibraryVersion returns the first line of MPI's library version.
func LibraryVersion() string {
	buf := make([]byte, int(C.eq_max_library_version())+1)
	var n C.int
	check("MPI_Get_library_version", C.eq_library_version((*C.char)(unsafe.Pointer(&buf[0])), &n))
	s := string(buf[:int(n)])
	for i, c := range s {
		if c == '\n' || c == ',' {
			return s[:i]
		}
	}
	return s
}

// Barrier waits for every rank.
func Barrier() { check("MPI_Barrier", C.eq_barrier()) }

// Abort ends every process of the job with the given status. It does not
// return.
func Abort(code int) {
	C.eq_abort(C.int(code))
	select {}
}

// AllreduceFloat64 reduces buf elementwise over all ranks, in place.
func AllreduceFloat64(buf []float64, op Op) {
	for len(buf) > 0 {
		n := min(len(buf), 1<<30)
		check("MPI_Allreduce", C.eq_allreduce_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(n), C.int(op)))
		buf = buf[n:]
	}
}

// AllreduceInt reduces buf elementwise over all ranks, in place.
func AllreduceInt(buf []int64, op Op) {
	if len(buf) == 0 {
		return
	}
	check("MPI_Allreduce", C.eq_allreduce_i64((*C.longlong)(unsafe.Pointer(&buf[0])), C.int(len(buf)), C.int(op)))
}

// BcastBytes broadcasts buf from root to every rank (every rank passes a
// buffer of the same length).
func BcastBytes(buf []byte, root int) {
	if len(buf) == 0 {
		return
	}
	check("MPI_Bcast", C.eq_bcast_bytes(unsafe.Pointer(&buf[0]), C.int(len(buf)), C.int(root)))
}

// BcastFloat64 broadcasts buf from root to every rank.
func BcastFloat64(buf []float64, root int) {
	for len(buf) > 0 {
		n := min(len(buf), 1<<30)
		check("MPI_Bcast", C.eq_bcast_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(n), C.int(root)))
		buf = buf[n:]
	}
}

// GatherInt gathers len(send) values from every rank into a slice of
// Size()·len(send) values on root (rank r's at r·len(send)); other ranks
// get nil.
func GatherInt(send []int64, root int) []int64 {
	var recv []int64
	p := (*C.longlong)(nil)
	if Rank() == root {
		recv = make([]int64, Size()*len(send))
		if len(recv) > 0 {
			p = (*C.longlong)(unsafe.Pointer(&recv[0]))
		}
	}
	if len(send) == 0 {
		return recv
	}
	check("MPI_Gather", C.eq_gather_i64((*C.longlong)(unsafe.Pointer(&send[0])), C.int(len(send)), p, C.int(root)))
	return recv
}

// GathervFloat64 gathers send from every rank into recv on root, rank r's
// values at displs[r] with counts[r] values (counts and displs matter on
// root only). Each count must be below 2³¹.
func GathervFloat64(send []float64, recv []float64, counts, displs []int, root int) {
	var sp, rp *C.double
	if len(send) > 0 {
		sp = (*C.double)(unsafe.Pointer(&send[0]))
	}
	var cp, dp *C.int
	if Rank() == root {
		cc := make([]C.int, len(counts))
		dd := make([]C.int, len(displs))
		for i := range counts {
			if counts[i] >= 1<<31 || displs[i] >= 1<<31 {
				panic("mpi: GathervFloat64: more than 2³¹ values")
			}
			cc[i], dd[i] = C.int(counts[i]), C.int(displs[i])
		}
		if len(recv) > 0 {
			rp = (*C.double)(unsafe.Pointer(&recv[0]))
		}
		cp, dp = &cc[0], &dd[0]
		check("MPI_Gatherv", C.eq_gatherv_f64(sp, C.int(len(send)), rp, cp, dp, C.int(root)))
		return
	}
	check("MPI_Gatherv", C.eq_gatherv_f64(sp, C.int(len(send)), rp, cp, dp, C.int(root)))
}
