# The two commands of the README, and their parts.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
DATA_DIR ?= /var/lib/kpp
CTEST_FLAGS ?= --output-on-failure --timeout 600

.PHONY: all deps configure build run test test-fast test-asan bench format clean

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

# Installs what is missing, builds, and runs the whole suite.
test: deps build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

test-fast: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS) -L '^unit$$'

# Unit and integration layers under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKPP_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS) -L '^(unit|integration)$$'

# Installs what is missing, builds the benchmarks and runs them (not part of `make test`):
# bench/store compares the SQLite store with a local etcd; bench/apiserver loads a kpp server.
bench: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target store_bench apiserver_bench
	$(BUILD_DIR)/bench/store/store_bench
	$(BUILD_DIR)/bench/apiserver/apiserver_bench

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
