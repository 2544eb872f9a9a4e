# Assay: `make run` serves, `make test` checks everything. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := protobuf-c-compiler libprotobuf-c-dev libsqlite3-dev libpq-dev pkg-config \
	libtesseract-dev tesseract-ocr-eng libopencv-dev opencv-data
ASSAY_ADDR ?= 127.0.0.1:7400
ASSAY_DATA ?= ./assay-data
# Where `make models` keeps what it installs (machine-wide, outside the repo, by version).
export ASSAY_CACHE ?= /var/cache/assay

# The reference tools `make bench` times beside Assay's own metrics (PyPI, pinned), in a venv
# in the machine-wide cache keyed by their versions; Chromium (Debian) for the HTML report test.
BENCH_PY_PACKAGES := pycocotools==2.0.11 numpy==2.4.6
BENCH_VENV := $(ASSAY_CACHE)/bench/venv-pycocotools-2.0.11-numpy-2.4.6
TEST_APT_PACKAGES := chromium

.PHONY: all deps test-deps bench-deps models build release run test proto proto-check bench bench-coco fmt clean

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
## cluster (scripts/ci/postgres.sh), started here and stopped afterwards.
test: build models test-deps
	$(MAKE) --no-print-directory proto-check PROTOGEN=.build/debug/assay-protogen
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	ASSAY_TEST_POSTGRES="$$url" $(SWIFT) test --skip-build

## proto: regenerate the C and Swift sides of Protos/ into the tree.
proto: deps
	$(SWIFT) build -c release --product assay-protogen
	PROTOGEN=.build/release/assay-protogen bash scripts/gen-proto.sh

## proto-check: fail when the checked-in generated code differs from a fresh generation.
PROTOGEN ?= .build/release/assay-protogen
proto-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/Sources"; \
	PROTOGEN=$(abspath $(PROTOGEN)) bash scripts/gen-proto.sh "$$tmp" && \
	if diff -r Sources/CAssayProto "$$tmp/Sources/CAssayProto" >/dev/null && \
	   diff -r Sources/AssayWire/Generated "$$tmp/Sources/AssayWire/Generated" >/dev/null; then \
		echo "proto-check: generated code is fresh"; \
	else \
		diff -r Sources/CAssayProto "$$tmp/Sources/CAssayProto" | head -20; \
		diff -r Sources/AssayWire/Generated "$$tmp/Sources/AssayWire/Generated" | head -20; \
		echo "proto-check: generated code is stale: run 'make proto' and commit the result"; exit 1; \
	fi

## bench: the numbers (release build): unary latency, streaming throughput.
bench: deps models bench-deps
	$(SWIFT) build -c release --product assay
	$(SWIFT) build -c release --product assay-bench
	@pgdir=$$(mktemp -d /tmp/assay-pg.XXXXXX); \
	url=$$(bash scripts/ci/postgres.sh start "$$pgdir") || { rm -rf "$$pgdir"; exit 1; }; \
	trap 'bash scripts/ci/postgres.sh stop "$$pgdir"' EXIT; \
	.build/release/assay-bench --server .build/release/assay --python $(BENCH_VENV)/bin/python --postgres "$$url"

## bench-coco: only the COCO evaluation against pycocotools.
bench-coco: deps bench-deps
	$(SWIFT) build -c release --product assay-bench
	.build/release/assay-bench --coco-only --python $(BENCH_VENV)/bin/python

## fmt: format the Swift sources with the checked-in .swift-format.
fmt:
	$(SWIFT) format --in-place --recursive --configuration .swift-format Sources Tests Package.swift

clean:
	rm -rf .build
