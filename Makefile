# Herald — the two commands that matter: `make run` and `make test` (README.md).
# Everything else is a step they take, or a tool for developers.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS ?=

.PHONY: all deps configure build run test unit integration bench test-asan test-tsan node-deps clean format

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
run: build
	./$(BUILD_DIR)/herald serve $(ARGS)

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

test-asan:
	$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS=-DHERALD_SANITIZE=address

test-tsan:
	$(MAKE) test BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS=-DHERALD_SANITIZE=thread

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'bench/*.cpp')

clean:
	rm -rf $(BUILD_DIR)
