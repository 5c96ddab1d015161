# The two commands of the README, and their parts.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 25
JOBS ?= $(shell nproc)
DATA_DIR ?= /var/lib/kpp
CTEST_FLAGS ?= --output-on-failure --timeout 600

.PHONY: all deps configure build run test test-fast test-asan test-fuzz bench format clean

all: build

deps:
	scripts/install-deps

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Installs what is missing, builds, and runs `kpp server` in the foreground.
run: deps build
	$(BUILD_DIR)/kpp server --data-dir $(DATA_DIR)

# Installs what is missing, builds, and runs the whole suite, then every fuzz target briefly.
test: deps build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)
	$(MAKE) test-fuzz

# The fuzz targets under fuzz/ (libFuzzer, ASan + UBSan), built with clang in their own build
# dir and run for FUZZ_SECONDS each; fails on any crash, leak, slow input or memory blow-up.
test-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DKPP_FUZZ=ON
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_targets
	fuzz/run $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

test-fast: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS) -L '^unit$$'

# Unit and integration layers under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKPP_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS) -L '^(unit|integration)$$'

# Installs what is missing, builds the benchmarks and runs them (not part of `make test`):
# bench/codec compares the typed API codec with a plain Boost.JSON parse + serialize, bench/store
# the SQLite store with a local etcd; bench/apiserver loads a kpp server, and its write_path_bench
# prints the CPU time per create, binding, status patch and Lease renewal; bench/scheduler runs
# the scheduler core alone, then SchedulingBasic and Density end to end (kpp server + hollow nodes).
bench: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target codec_bench store_bench apiserver_bench write_path_bench scheduler_core_bench scheduler_e2e_bench
	$(BUILD_DIR)/bench/codec/codec_bench
	$(BUILD_DIR)/bench/scheduler/scheduler_core_bench
	$(BUILD_DIR)/bench/store/store_bench
	$(BUILD_DIR)/bench/apiserver/apiserver_bench
	$(BUILD_DIR)/bench/apiserver/write_path_bench
	$(BUILD_DIR)/bench/scheduler/scheduler_e2e_bench

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(FUZZ_BUILD_DIR)
