# kvmlab: plain Makefile, C11.  `make` builds ./kvmlab; `make test` runs the
# suite; `make asan|ubsan|tsan` build into build/<san> and run the suite there;
# `make bench` runs the benchmarks; `make run` is the README's main command;
# `make fuzz` runs the libFuzzer harnesses (clang; docs/fuzzing.md).

CC       ?= gcc
OPT      ?= -O2
SAN      ?=
BUILD    ?= build/release
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes -g -I. $(OPT) $(SAN)
LDFLAGS  += $(SAN)
# The sanitizers SAN turns on, whether spelled -fsanitize=address
# -fsanitize=undefined or -fsanitize=address,undefined.
comma    := ,
SANITIZERS := $(subst $(comma), ,$(patsubst -fsanitize=%,%,$(filter -fsanitize=%,$(SAN))))
# Not position-independent (except under TSan, whose runtime wants PIE): code
# addresses saved on the checker's fiber stacks are then the same in every
# process, and so are state fingerprints (see CHK_HEAP_ADDR in check/sched.c).
ifeq ($(filter thread,$(SANITIZERS)),)
CFLAGS   += -fno-pie
LDFLAGS  += -no-pie
endif
# Bound at load time (-z now), never lazily: the dynamic linker's lazy-binding
# trampoline saves the whole vector register file on the stack it runs on, so
# the first call of a library function from a checker fiber (under ASan,
# __sanitizer_finish_switch_fiber() in fiber_entered()) would leave in its stack
# whatever unrelated code last had in those registers (MPI_Init's string
# functions), in slots that ASan's stack redzones never overwrite: model state
# that differs between processes.
LDFLAGS  += -Wl,-z,now
LDLIBS   += -lpthread -lm

LIB_SRCS  := $(sort $(wildcard kernel/*.c runtime/*.c model/*.c guest/*.c oracle/*.c check/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)

# Write tracking for the checker's state store (check/track.c): the model is
# compiled with GCC's ThreadSanitizer instrumentation, whose hooks kvmlab
# implements itself (libtsan is not linked).  Not under ASan (the two do not
# mix) or TSan (the real runtime owns the hooks): there the store compares.
# The same instrumentation feeds the race detector (check/race.c);
# tests/test_race.c is built with it to give the detector races to find.
# GCC only: clang 14 spells the entry/exit switch differently, and the
# memset/memcpy it emits for struct copies and initializers reach no hook
# (KVMLAB_VALIDATE: "heap line changed without a tracked write"), so a clang
# build compares, as ASan builds do.
TRACK_SRCS := $(sort $(wildcard kernel/*.c model/*.c))
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo yes)
ifeq ($(filter address thread,$(SANITIZERS))$(CC_IS_CLANG),)
TRACK_CFLAGS := -fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -DKVMLAB_TRACK_WRITES
$(TRACK_SRCS:%.c=$(BUILD)/%.o): CFLAGS += $(TRACK_CFLAGS)
endif
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/%.o)
# kvmlab-mpi: kvmlab plus the distributed search's MPI backend (mpi/), built
# when an MPI compiler wrapper is installed (tools/install-deps.sh installs MPICH).
MPICC    ?= mpicc
HAVE_MPI := $(shell command -v $(MPICC) >/dev/null 2>&1 && echo yes)
MPI_OBJS := $(BUILD)/mpi/dist_mpi.o
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
# Developer tools linked with the checker (tools/*.c): build/<build>/NAME.
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c))
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/%,$(wildcard fuzz/fuzz_*.c))
DEPS      := $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(MPI_OBJS:.o=.d) $(TEST_BINS:=.d) $(BUILD)/tests-obj/test_race.d \
             $(FUZZ_BINS:=.d) $(patsubst $(BUILD)/%,$(BUILD)/tools/%.d,$(TOOL_BINS))

.PHONY: FORCE all test check-tests asan ubsan tsan bench run deps clean debug kvmlab-mpi soak \
	fuzz fuzz-build fuzz-bins install uninstall
all: kvmlab $(TOOL_BINS) $(if $(HAVE_MPI),kvmlab-mpi)

kvmlab: $(BUILD)/kvmlab
	@if [ "$(BUILD)" = build/release ]; then cp $(BUILD)/kvmlab kvmlab.new && mv -f kvmlab.new kvmlab; fi

$(BUILD)/kvmlab: $(CMD_OBJS) $(BUILD)/libkvmlab.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libkvmlab.a $(LDLIBS)

# Objects depend on the flags they were built with (the state counts in
# tests/check.t depend on code generation): a changed flag rebuilds.
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS) $(TRACK_CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(TRACK_CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@
FORCE:

# kvmlab list --functions: the model's functions and the kernel release each
# one's comment names, extracted at build time (tools/gen-functions.awk).
MODEL_SRCS := $(sort $(wildcard model/*.c))
$(BUILD)/gen/functions.inc: tools/gen-functions.awk $(MODEL_SRCS)
	@mkdir -p $(dir $@)
	awk -f tools/gen-functions.awk $(MODEL_SRCS) > $@.tmp && mv -f $@.tmp $@
$(BUILD)/cmd/cmd_list.o: $(BUILD)/gen/functions.inc
$(BUILD)/cmd/cmd_list.o: CFLAGS += -I$(BUILD)/gen

# kvmlab --version: git describe at build time; main.o is rebuilt when it changes.
VERSION := $(shell git describe --always --dirty --tags 2>/dev/null)
VERSION_STAMP := $(BUILD)/.version
$(VERSION_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(BUILD)/cmd/main.o: $(VERSION_STAMP)
$(BUILD)/cmd/main.o: CFLAGS += $(if $(VERSION),-DKVMLAB_VERSION='"$(VERSION)"')

kvmlab-mpi: $(BUILD)/kvmlab-mpi
	@if [ "$(BUILD)" = build/release ]; then cp $(BUILD)/kvmlab-mpi kvmlab-mpi.new && mv -f kvmlab-mpi.new kvmlab-mpi; fi

$(BUILD)/mpi/%.o: mpi/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	MPICH_CC=$(CC) OMPI_CC=$(CC) $(MPICC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/kvmlab-mpi: $(CMD_OBJS) $(MPI_OBJS) $(BUILD)/libkvmlab.a
	MPICH_CC=$(CC) OMPI_CC=$(CC) $(MPICC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(MPI_OBJS) $(BUILD)/libkvmlab.a $(LDLIBS)

# tools/por-oracle.c: the persistent-set oracle (docs/design.md), with kvmlab's option helpers.
$(BUILD)/por-oracle: $(BUILD)/tools/por-oracle.o $(BUILD)/cmd/common.o $(BUILD)/libkvmlab.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libkvmlab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libkvmlab.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libkvmlab.a $(LDFLAGS) $(LDLIBS)

# Built with the model's instrumentation (above) but linked without libtsan.
$(BUILD)/tests-obj/test_race.o: tests/test_race.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TRACK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/test_race: $(BUILD)/tests-obj/test_race.o $(BUILD)/libkvmlab.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libkvmlab.a $(LDLIBS)

check-tests: $(BUILD)/kvmlab $(TEST_BINS) $(TOOL_BINS) $(if $(HAVE_MPI),$(BUILD)/kvmlab-mpi)

test: check-tests kvmlab
	@sh tests/run.sh $(BUILD)

# debug and asan also check the state store's assumptions (-DKVMLAB_VALIDATE).
debug:
	$(MAKE) BUILD=build/debug OPT="-O0 -DKVMLAB_VALIDATE" test

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -DKVMLAB_VALIDATE" SAN="-fsanitize=address -fno-omit-frame-pointer" test
ubsan:
	$(MAKE) BUILD=build/ubsan OPT=-O1 SAN="-fsanitize=undefined -fno-sanitize-recover=all" test
tsan:
	$(MAKE) BUILD=build/tsan OPT=-O1 SAN="-fsanitize=thread" test

# libFuzzer harnesses (fuzz/, docs/fuzzing.md), built by clang with ASan and
# UBSan into build/fuzz.  `make fuzz` runs each for FUZZ_SECONDS from its seed
# corpus (fuzz/corpus/NAME) and regression inputs (tests/fuzz-regressions/NAME),
# keeping the inputs it finds in build/fuzz/scratch/NAME (a crash's under
# build/fuzz/scratch/crashes), and fails on a crash.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) OPT=-O1 SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" fuzz-bins

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-build
	@sh fuzz/run.sh build/fuzz $(FUZZ_SECONDS) build/fuzz/scratch

$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(BUILD)/libkvmlab.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(BUILD)/libkvmlab.a $(LDFLAGS) $(LDLIBS)

bench: kvmlab
	@KVMLAB=$(BUILD)/kvmlab sh bench/run.sh

# Long runs outside CI: stress per vendor and policy on busy cores, and the
# corpus under KVMLAB_VALIDATE (tools/soak.sh; SOAK_SECONDS, default 600).
soak: kvmlab
	@KVMLAB=$(BUILD)/kvmlab sh tools/soak.sh

# The README's main command: the built-in default scenario.
run: kvmlab
	@sh tools/run-default.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary (and kvmlab-mpi
# when it was built), the man page and the bash completion; make uninstall
# removes exactly those files.
PREFIX  ?= /usr/local
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MAN1DIR := $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
install: kvmlab
	install -d $(BINDIR) $(MAN1DIR) $(COMPDIR)
	install -m 755 $(BUILD)/kvmlab $(BINDIR)/kvmlab
	if [ -x $(BUILD)/kvmlab-mpi ]; then install -m 755 $(BUILD)/kvmlab-mpi $(BINDIR)/kvmlab-mpi; fi
	install -m 644 kvmlab.1 $(MAN1DIR)/kvmlab.1
	install -m 644 completion/kvmlab.bash $(COMPDIR)/kvmlab

uninstall:
	rm -f $(BINDIR)/kvmlab $(BINDIR)/kvmlab-mpi $(MAN1DIR)/kvmlab.1 $(COMPDIR)/kvmlab

# Installs what a fresh Debian 12 machine lacks (needs root or sudo).
deps:
	@sh tools/install-deps.sh

clean:
	rm -rf build kvmlab kvmlab-mpi

-include $(DEPS)
