# eqens build entry points. The fast path (OpenBLAS + LAPACKE through cgo) is
# picked automatically when the libraries and a C compiler are installed;
# otherwise everything builds and runs in pure Go.
#
#   make demo    build bin/eqens and run the main experiment (eqens demo)
#   make test    run the test suite in the automatically chosen build
#   make build   build bin/eqens
#   make puretest / make blastest   force one build for the suite
#   make slurm-test  run deploy/*.sbatch on a local one-node Slurm (root;
#                    apt-get install slurm-wlm munge; docs/sharding.md)
#   make mpi         build bin/eqens-mpi, eqens predict over MPI/ScaLAPACK
#                    (build tags openblas mpi; apt-get install openmpi-bin
#                    libopenmpi-dev libscalapack-openmpi-dev; docs/sharding.md)
#   make mpi-test    check eqens-mpi under mpirun against eqens predict

GO      ?= go
HAVE_BLAS := $(shell (command -v pkg-config >/dev/null && pkg-config --exists openblas lapacke && command -v gcc >/dev/null && [ "$${CGO_ENABLED:-1}" != 0 ]) >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_BLAS),yes)
TAGS    ?= openblas
else
TAGS    ?=
endif
TAGFLAG := $(if $(strip $(TAGS)),-tags $(TAGS),)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.version=$(VERSION)
TESTFLAGS ?= -timeout 20m
# eqens-mpi needs cgo, OpenBLAS/LAPACKE, Open MPI and ScaLAPACK (for Open MPI).
MPI_PKGS := openblas lapacke ompi-c scalapack-openmpi
HAVE_MPI := $(shell (command -v pkg-config && pkg-config --exists $(MPI_PKGS) && command -v gcc && command -v mpirun && [ "$${CGO_ENABLED:-1}" != 0 ]) >/dev/null 2>&1 && echo yes)

.PHONY: all build demo test puretest blastest bench vet fmt clean backend slurm-test mpi mpi-test

all: build

backend:
	@echo "build tags: $(if $(strip $(TAGS)),$(TAGS),none (pure Go))"

build:
	$(GO) build $(TAGFLAG) -ldflags '$(LDFLAGS)' -o bin/eqens ./cmd/eqens

demo: build
	./bin/eqens demo $(DEMOFLAGS)

test:
	$(GO) test $(TAGFLAG) $(TESTFLAGS) ./...

puretest:
	CGO_ENABLED=0 $(GO) test $(TESTFLAGS) ./...

blastest:
	$(GO) test -tags openblas $(TESTFLAGS) ./...

slurm-test: build
	scripts/slurm-test

mpi:
ifeq ($(HAVE_MPI),yes)
	$(GO) build -tags 'openblas mpi' -ldflags '$(LDFLAGS)' -o bin/eqens-mpi ./cmd/eqens-mpi
else
	@echo "make mpi: eqens-mpi needs cgo (gcc), pkg-config, OpenBLAS/LAPACKE, Open MPI and ScaLAPACK:" >&2
	@echo "  pkg-config must find $(MPI_PKGS) and mpirun must be on PATH;" >&2
	@echo "  on Debian/Ubuntu: apt-get install gcc pkg-config libopenblas-dev liblapacke-dev openmpi-bin libopenmpi-dev libscalapack-openmpi-dev" >&2
	@exit 1
endif

mpi-test: build mpi
	scripts/mpi-test

bench:
	$(GO) test $(TAGFLAG) -run '^$$' -bench . -benchtime 3x ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags openblas ./...
ifeq ($(HAVE_MPI),yes)
	$(GO) vet -tags 'openblas mpi' ./...
endif

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
