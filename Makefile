# segtune: the two set-up commands are `make demo` and `make test` (each installs what is missing).
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# The shared torch precompiled header needs these to hit the cache.
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE ?= 5G
# Paths relative to the checkout, so a fresh clone elsewhere (CI) hits the same cache entries.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

# Everything the build, the tests and the demo need, from Debian's archive.
DEB_PACKAGES := build-essential cmake ninja-build ccache pkg-config \
  libtorch-dev libgloo-dev libdnnl-dev libopenblas0-pthread libopencv-dev libprotobuf-dev protobuf-compiler \
  libonnx-dev libcurl4-openssl-dev libcli11-dev nlohmann-json3-dev libsimdjson-dev libexpat1-dev libgtest-dev \
  python3 python3-torch python3-torchvision python3-onnx python3-protobuf python3-numpy python3-pil \
  nodejs

# Only for `make test`: headless Chromium opens the HTML report (tests/report/browser_test.cpp).
TEST_PACKAGES := chromium

# Only for `make fuzz` (libFuzzer needs clang; Debian's clang-14 and its fuzzer runtime).
# `make test-asan` uses g++ and needs nothing beyond DEB_PACKAGES.
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev libfuzzer-14-dev
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
ASAN_BUILD_DIR ?= build-asan

.PHONY: all build deps npm-deps test demo bench clean fuzz fuzz-deps test-asan

all: build

deps:
	@tools/install-deps.sh $(DEB_PACKAGES)
	@$(MAKE) --no-print-directory npm-deps

# Test-only: onnxruntime-node checks exported ONNX graphs. Never a runtime dependency.
npm-deps:
	@if [ -f tests/package.json ] && [ ! -d tests/node_modules/onnxruntime-node ]; then \
	  command -v npm >/dev/null || { echo "npm missing (it ships with the nodejs package)"; exit 1; }; \
	  echo "installing test-only npm packages (tests/package.json)"; \
	  (cd tests && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) || \
	    { [ "$$CI" = true ] && { echo "error: npm install failed; under CI=true the ONNX Runtime checks must run"; exit 1; }; \
	      echo "warning: npm install failed; ONNX Runtime checks will be skipped (they fail under CI=true)"; }; \
	fi

$(BUILD_DIR)/build.ninja $(BUILD_DIR)/Makefile:
	cmake -S . -B $(BUILD_DIR) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Release

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps
	@tools/install-deps.sh $(TEST_PACKAGES)
	@$(MAKE) --no-print-directory build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Only what the demo runs: the executable and its plugin (not the tests, a third of the build).
demo: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target segtune_cli
	$(BUILD_DIR)/segtune demo --workdir $(BUILD_DIR)/demo

bench: deps
	@$(MAKE) --no-print-directory build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_all
	bench/run_all.sh $(BUILD_DIR)

# libFuzzer + ASan + UBSan on every parser of user bytes (tests/fuzz), FUZZ_SECONDS each, one at a time;
# FUZZ_TARGETS="coco rle" runs only those. Crashes are copied into tests/fuzz/corpus/<harness>/ as
# regression inputs, which `make test` then runs (fuzz_corpus.* tests).
fuzz-deps:
	@tools/install-deps.sh $(FUZZ_PACKAGES)

# The pipeline config harness needs only the config layer (no LibTorch), built here with the sanitizers.
fuzz: deps fuzz-deps
	@[ -f $(FUZZ_BUILD_DIR)/build.ninja ] || [ -f $(FUZZ_BUILD_DIR)/Makefile ] || \
	  CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD_DIR) -G "$(GENERATOR)" \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEGTUNE_FUZZ=ON -DSEGTUNE_SANITIZE=address,undefined
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS)
	tools/run-fuzzers.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The LibTorch-free test binaries (core, formats, data, config, evaluation) and the torch-free fuzz corpus runs under
# AddressSanitizer + UndefinedBehaviorSanitizer. Tests that run the CLI use the default build's binary
# (not instrumented): the CLI links every layer, and an instrumented LibTorch build costs too much.
test-asan: deps
	@$(MAKE) --no-print-directory build
	@[ -f $(ASAN_BUILD_DIR)/build.ninja ] || [ -f $(ASAN_BUILD_DIR)/Makefile ] || \
	  cmake -S . -B $(ASAN_BUILD_DIR) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSEGTUNE_TORCH_FREE=ON -DSEGTUNE_SANITIZE=address,undefined -DSEGTUNE_CLI_BINARY=$(CURDIR)/$(BUILD_DIR)/segtune
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR) $(ASAN_BUILD_DIR)
