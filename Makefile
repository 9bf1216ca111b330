# SPDX-License-Identifier: GPL-2.0-only
#
# Convenience wrapper around CMake + Ninja + CTest. `make help` lists targets.
#
# Variables: BUILD_DIR (build), CMAKE_BUILD_TYPE (RelWithDebInfo),
# CMAKE_ARGS (extra cmake arguments, e.g. -DKSLUB_WERROR=ON), CTEST_ARGS.

BUILD_DIR ?= build
CMAKE_BUILD_TYPE ?= RelWithDebInfo
CMAKE ?= cmake
CTEST ?= ctest
CMAKE_ARGS ?=
CTEST_ARGS ?=
CLANG_FORMAT ?= clang-format-14
FREESTANDING_CXX ?= g++ clang++

# Reconfigure an existing build tree only if CMAKE_BUILD_TYPE was given
# explicitly (command line or environment) and differs from its cache.
ifeq ($(origin CMAKE_BUILD_TYPE),file)
KSLUB_CHECK_TYPE := 0
else
KSLUB_CHECK_TYPE := 1
endif

.DEFAULT_GOAL := all
.PHONY: all help deps configure build test check run freestanding format clean fuzz mutants bench

all: build

help:
	@echo "kslub make targets:"
	@echo "  all           configure $(BUILD_DIR)/ (CMake + Ninja, once) and build (default)"
	@echo "  deps          install missing Debian packages (scripts/install-deps.sh)"
	@echo "  test          deps, build, then run every test with CTest"
	@echo "  check         build, then run the quick unit-labelled tests"
	@echo "  run           deps, build, run kslub-demo and kslub-info --cpus 2, then the kslub.ko demo"
	@echo "                (insmod here if this kernel loads modules, else in QEMU)"
	@echo "  freestanding  check the core builds freestanding ($(FREESTANDING_CXX))"
	@echo "  fuzz          a fuzzing campaign on all cores, corpus merge, coverage of core/"
	@echo "                (FUZZ_TARGET=$(FUZZ_TARGET) FUZZ_SECONDS=$(FUZZ_SECONDS))"
	@echo "  mutants       build each seeded bug, fuzz it, report executions and seconds to detection"
	@echo "  bench         kslub against glibc, jemalloc, tcmalloc, mimalloc: times, threads, callgrind,"
	@echo "                memory; table, JSON and plots in $(BUILD_DIR)/bench (BENCH_ARGS=$(BENCH_ARGS))"
	@echo "  format        clang-format-14 -i every C/C++ source (scripts/format.sh; CTest's format test checks)"
	@echo "  clean         remove $(BUILD_DIR)/"
	@echo "  help          this text"
	@echo "Variables: BUILD_DIR=$(BUILD_DIR) CMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE)" \
		"CMAKE_ARGS=... CTEST_ARGS=..."
	@echo "Configuration: Kconfig defaults, .config, CONFIG_KSLUB_*=... in the environment"

deps:
	@./scripts/install-deps.sh

configure:
	@if [ ! -f "$(BUILD_DIR)/build.ninja" ] || { [ "$(KSLUB_CHECK_TYPE)" = 1 ] && \
	    ! grep -qx 'CMAKE_BUILD_TYPE:[A-Z]*=$(CMAKE_BUILD_TYPE)' "$(BUILD_DIR)/CMakeCache.txt"; }; then \
		echo "$(CMAKE) -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) $(CMAKE_ARGS)"; \
		$(CMAKE) -S . -B "$(BUILD_DIR)" -G Ninja -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) $(CMAKE_ARGS); \
	fi

build: configure
	$(CMAKE) --build "$(BUILD_DIR)"

# The CTest run is the last thing printed: it ends on CTest's summary and its
# exit status is make's.
test: deps
	@$(MAKE) --no-print-directory build
	$(CTEST) --test-dir "$(BUILD_DIR)" --output-on-failure --no-label-summary -j2 $(CTEST_ARGS)

check: build
	$(CTEST) --test-dir "$(BUILD_DIR)" --output-on-failure --no-label-summary -j2 -L unit $(CTEST_ARGS)

run: deps
	@$(MAKE) --no-print-directory build
	@if [ -x "$(BUILD_DIR)/kslub-demo" ]; then \
		echo "$(BUILD_DIR)/kslub-demo"; "$(BUILD_DIR)/kslub-demo" || exit $$?; \
	else \
		echo "run: $(BUILD_DIR)/kslub-demo not built (userspace/tools/kslub_demo.cpp missing)"; \
	fi
	"$(BUILD_DIR)/kslub-info" --cpus 2
	./module/demo/run.sh "$(BUILD_DIR)"

freestanding:
	./tests/freestanding/check.sh . $(FREESTANDING_CXX)

FUZZ_TARGET ?= races
FUZZ_SECONDS ?= 600
MUTANT_RUNS ?= 300000

fuzz: build
	FUZZ_TARGET=$(FUZZ_TARGET) FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/campaign.sh --build "$(BUILD_DIR)"

mutants: build
	./fuzz/mutants.sh --build-root "$(BUILD_DIR)/mutants" --runs $(MUTANT_RUNS) --clean-bin "$(BUILD_DIR)"

BENCH_ARGS ?=

bench: deps
	@$(MAKE) --no-print-directory build
	$(CMAKE) --build "$(BUILD_DIR)" --target kslub-gbench-nostats
	./userspace/bench/run.sh --build "$(BUILD_DIR)" --out "$(BUILD_DIR)/bench" $(BENCH_ARGS)

# The files are scripts/format.sh's, the same the CTest test `format` checks.
format:
	CLANG_FORMAT=$(CLANG_FORMAT) ./scripts/format.sh --fix

clean:
	rm -rf "$(BUILD_DIR)"
