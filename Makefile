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
  libtorch-dev libgloo-dev libopenblas0-pthread libopencv-dev libprotobuf-dev protobuf-compiler \
  libonnx-dev libcurl4-openssl-dev libcli11-dev nlohmann-json3-dev libsimdjson-dev libgtest-dev \
  python3 python3-torch python3-torchvision python3-onnx python3-protobuf python3-numpy python3-pil \
  nodejs

.PHONY: all build deps npm-deps test demo bench clean

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
	    echo "warning: npm install failed; ONNX Runtime checks will be skipped"; \
	fi

$(BUILD_DIR)/build.ninja $(BUILD_DIR)/Makefile:
	cmake -S . -B $(BUILD_DIR) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Release

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

demo: deps
	@$(MAKE) --no-print-directory build
	$(BUILD_DIR)/segtune demo --workdir $(BUILD_DIR)/demo

bench: deps
	@$(MAKE) --no-print-directory build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_all
	bench/run_all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
