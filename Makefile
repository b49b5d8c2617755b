# Herald — the two commands that matter: `make run` and `make test` (README.md).
# Everything else is a step they take, or a tool for developers.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS ?=

.PHONY: all deps configure build run test unit integration bench test-asan test-tsan node-deps clean format \
	fuzz fuzz-smoke fuzz-build test-faults faults-build soak sanitize-configure

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The embedded default: data in ./herald-data, listeners on loopback. Extra flags: make run ARGS="--threads 1".
# An example's configuration: make run EXAMPLE=orders (examples/README.md), or any file: make run CONFIG=path.
EXAMPLE ?=
CONFIG ?= $(if $(EXAMPLE),examples/$(EXAMPLE)/herald.yaml)
run: build
	@test -z "$(CONFIG)" -o -f "$(CONFIG)" || { echo "make run: no configuration file $(CONFIG)" >&2; exit 2; }
	./$(BUILD_DIR)/herald serve $(if $(CONFIG),--config $(CONFIG)) $(ARGS)

node-deps: deps
	@bash scripts/node-deps.sh

test: build node-deps
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j 2 $(CTEST_ARGS)

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

integration: build node-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

bench: build
	@bash bench/run.sh

# The sanitizer suites (docs/reliability.md). ASan + UBSan builds with clang in build-asan, the same directory and
# flags as the fuzz targets (which it builds too), so CI compiles the tree twice, not three times: once with GCC
# for `make test`, once with clang and the sanitizers for this suite and `make fuzz-smoke`. The fault-injection
# tests (label `faults`) stay in `make test`: their kill -9 cycles and timing figures are about the release build.
SANITIZE_BUILD_DIR ?= build-asan
SANITIZE_CXX ?= clang++-14
# -O0: with the sanitizers' instrumentation, clang takes twice as long at -O1 on the Beast-heavy files (44 s vs
# 21 s for src/sse/stream.cpp), and CI builds this tree from scratch. Assertions stay on (no NDEBUG).
# For long fuzzing campaigns, a faster tree: make fuzz SANITIZE_BUILD_DIR=build-fuzz SANITIZE_OPT="-O1 -gline-tables-only".
SANITIZE_OPT ?= -O0 -gline-tables-only
SANITIZE_CONFIGURE = cmake -S . -B $(SANITIZE_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	"-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(SANITIZE_OPT)" -DCMAKE_CXX_COMPILER=$(SANITIZE_CXX) \
	-DHERALD_SANITIZE=address -DHERALD_FUZZ=ON

sanitize-configure:
	@bash scripts/install-deps.sh fuzz
	@test -f $(SANITIZE_BUILD_DIR)/build.ninja || $(SANITIZE_CONFIGURE)

test-asan: sanitize-configure node-deps
	cmake --build $(SANITIZE_BUILD_DIR) -j $(JOBS)
	cd $(SANITIZE_BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 2 -L 'unit|integration' $(CTEST_ARGS)

# ThreadSanitizer with GCC in build-tsan: the unit and integration suites. Not in CI (a third build of the tree).
test-tsan: node-deps
	$(MAKE) build BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS=-DHERALD_SANITIZE=thread
	cd build-tsan && ctest --output-on-failure --timeout 900 -j 2 -L 'unit|integration' $(CTEST_ARGS)

# Fault injection (tests/faults, docs/reliability.md): kill -9 cycles, a full disk, misbehaving peers and
# overload on the real binary. `make test` runs the bounded CI form through ctest (label `faults`);
# `make test-faults` the full one, one file after the other (FAULT_CYCLES crash cycles, FAULT_REPORT collects
# the figures). `make soak` is a steady mixed load for SOAK_SECONDS that must keep RSS, descriptors and
# latency flat and lose nothing; it is not part of ctest.
FAULT_CYCLES ?= 20
FAULT_REPORT ?= $(CURDIR)/$(BUILD_DIR)/faults-report.jsonl
SOAK_SECONDS ?= 600

# Only the server is needed: build that target, not the whole tree.
faults-build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target herald -j $(JOBS)

test-faults: faults-build node-deps
	@rm -f $(FAULT_REPORT)
	@status=0; for f in tests/faults/*.test.js; do \
		HERALD_BIN=$(CURDIR)/$(BUILD_DIR)/herald FAULT_PROFILE=full FAULT_CYCLES=$(FAULT_CYCLES) \
		FAULT_REPORT=$(FAULT_REPORT) node --test --test-reporter=spec $$f || status=1; \
	done; echo "figures: $(FAULT_REPORT)"; exit $$status

soak: faults-build node-deps
	HERALD_BIN=$(CURDIR)/$(BUILD_DIR)/herald SOAK_SECONDS=$(SOAK_SECONDS) node tests/faults/soak.js

# Fuzzing (tests/fuzz, docs/reliability.md): every parser of untrusted bytes under libFuzzer with
# ASan + UBSan, in a clang build directory of its own. `make fuzz` runs each target for FUZZ_SECONDS
# on a scratch copy of its seed corpus; FUZZ_TARGETS="cursor ws_frame" picks some.
# The targets live in the sanitizer build directory (above).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

fuzz-build: sanitize-configure
	cmake --build $(SANITIZE_BUILD_DIR) --target herald_fuzzers -j $(JOBS)

fuzz: fuzz-build
	bash tests/fuzz/run.sh $(SANITIZE_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The CI form: 10 s per target.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'bench/*.cpp')

clean:
	rm -rf $(BUILD_DIR)
