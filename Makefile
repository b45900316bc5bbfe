# edgechat: `make dev` serves the product locally, `make test` runs every test.
# Each target below does one thing and says what; `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 8787
# Scenarios for `make bench` / `make bench-quick`, e.g. ONLY=S4 or ONLY=S1,S4 (default: all).
ONLY ?=
CARGO_BIN := $(HOME)/.cargo/bin
WORKER_BUILD_VERSION := 0.8.7
CARGO_DENY_VERSION := 0.20.2
CARGO_FUZZ_VERSION := 0.13.2
# Seconds each fuzz target runs in `make fuzz` (and so in `make test`).
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := client_frame validators cursor_and_limits mentions tokens
VENV := .venv
# The CLI must match the wasm-bindgen crate exactly; read it from the lockfile.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p}' Cargo.lock)

# worker-build downloads its tools unless told where local ones are.
export WASM_BINDGEN_BIN := $(CARGO_BIN)/wasm-bindgen
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
# wrangler: no telemetry, no wait for Request.cf data, no prompts.
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
export CI := true
WRANGLER := $(CURDIR)/node_modules/.bin/wrangler
comma := ,
# Local builds carry the development switches (fault injection, timings);
# the deploy workflow builds with FEATURES empty.
FEATURES ?= dev-faults

.PHONY: help setup tools npm chromium build floor migrate dev test lint fmt-check clippy unit it browser screenshot web-size \
	bench bench-quick chaos clean venv audit deny ci-lint api-fuzz fuzz fuzz-long

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: tools npm .dev.vars ## install everything missing (idempotent, registries only)

tools: ## the wasm target, worker-build and the wasm-bindgen CLI, at pinned versions
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@if [ "$$($(CARGO_BIN)/worker-build --version 2>/dev/null)" != "$(WORKER_BUILD_VERSION)" ]; then \
	  echo "installing worker-build $(WORKER_BUILD_VERSION) (about a minute, once)"; \
	  cargo install worker-build --version $(WORKER_BUILD_VERSION); fi
	@if [ "$$($(CARGO_BIN)/wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about four minutes, once)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi

npm: node_modules/.package-lock.json ## wrangler (with workerd and esbuild) and binaryen from npm

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

chromium: ## Debian's Chromium for the browser tests, only when it is missing
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests (once)"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium \
	  || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update \
	       && $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium; }; fi

.dev.vars: ## a local secret, created once and never overwritten
	@umask 077; { \
	  echo "# Local secrets and overrides of the [vars] in wrangler.toml. Not committed."; \
	  echo "JWT_SECRET=$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')"; \
	} > $@
	@echo "created .dev.vars with a fresh JWT_SECRET"

build: tools npm ## compile the Worker to wasm once (build/); FEATURES= (empty) for a production build
	$(CARGO_BIN)/worker-build --release $(if $(FEATURES),-- --features $(FEATURES))

migrate: npm ## apply D1 migrations to the local database (.wrangler/state)
	$(WRANGLER) d1 migrations apply DB --local

dev: setup build migrate ## serve the whole product at http://127.0.0.1:$(PORT)
	$(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) \
	  $(if $(filter-out 8787,$(PORT)),--var ALLOWED_ORIGINS:http://127.0.0.1:$(PORT)$(comma)http://localhost:$(PORT))

test: lint unit audit fuzz it ## everything: format, lint, supply-chain and workflow checks, unit, fuzz and integration tests

lint: fmt-check clippy ## format and lint checks

fmt-check: ## rustfmt, check only
	cargo fmt --all -- --check

clippy: ## clippy with pedantic lints, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

unit: ## host unit and property tests of every crate (seconds)
	cargo test -p edgechat-core -p edgechat-durable
	cargo test -p edgechat --lib

fuzz: ## each fuzz target of core/ for FUZZ_SECONDS (10) s on nightly; any crash fails
	@# The machine's nightly toolchain; rustup would fetch one from outside the registries.
	@rustup toolchain list | grep -q '^nightly' \
	  || { echo "make fuzz needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; }
	@if [ "$$($(CARGO_BIN)/cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $(CARGO_FUZZ_VERSION)" ]; then \
	  echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION) (about a minute, once)"; \
	  cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION); fi
	cargo +nightly fuzz build
	@# New inputs go to fuzz/target/corpus (ignored, kept between runs); the
	@# seeds in fuzz/corpus are only read. A crashing input lands in fuzz/artifacts.
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/target/corpus/$$t; \
	  printf '  %-18s ' "$$t"; \
	  if ! cargo +nightly fuzz run $$t fuzz/target/corpus/$$t fuzz/corpus/$$t -- \
	      -max_total_time=$(FUZZ_SECONDS) -timeout=10 > fuzz/target/$$t.log 2>&1; then \
	    echo FAILED; grep -E -A3 'panicked at|ERROR:|SUMMARY:|^error' fuzz/target/$$t.log | head -n 30 \
	      || tail -n 30 fuzz/target/$$t.log; \
	    grep -A2 '^Reproduce with:' fuzz/target/$$t.log || true; \
	    echo "fuzz target $$t failed: full log in fuzz/target/$$t.log, input in fuzz/artifacts/$$t/"; \
	    exit 1; fi; \
	  grep -E '^Done [0-9]+ runs' fuzz/target/$$t.log; done

fuzz-long: FUZZ_SECONDS = 600
fuzz-long: fuzz ## `make fuzz` for 10 minutes per target (or FUZZ_SECONDS)

it: build venv chromium ## integration tests against a real `wrangler dev` (API fuzzing, the guide's example and browser tests included)
	cargo test --test it

browser: build chromium ## only the web client's tests (headers, then Chromium driving two people)
	cargo test --test it -- browser::

screenshot: browser ## refresh docs/screenshot.png from the browser tests
	cp target/browser/chat-desktop.png docs/screenshot.png

web-size: ## bytes of the shipped JS and CSS, raw and gzipped file by file
	@raw=0; gz=0; for f in web/js/*.js web/app.css; do \
	  r=$$(wc -c < "$$f"); g=$$(gzip -9 -c "$$f" | wc -c); raw=$$((raw + r)); gz=$$((gz + g)); \
	  printf '  %-22s %6d B  %5d B gzip\n' "$$f" "$$r" "$$g"; done; \
	  printf '  %-22s %6d B  %5d B gzip\n' total "$$raw" "$$gz"

floor: tools npm ## build the benchmark floor (bench/floor/build)
	cd bench/floor && $(CARGO_BIN)/worker-build --release

bench: build floor ## benchmarks → docs/benchmarks.md (minutes; not part of test); ONLY=S4 runs and rewrites only S4's section
	cargo build --release -p edgechat-bench
	ulimit -n 65536 2>/dev/null || ulimit -n "$$(ulimit -Hn)"; taskset -c 1 target/release/edgechat-bench $(if $(ONLY),--only $(ONLY))

chaos: build ## the long crash run: kill -9 mid-stream CHAOS_CRASHES times over CHAOS_MESSAGES messages
	CHAOS_CRASHES=$${CHAOS_CRASHES:-10} CHAOS_MESSAGES=$${CHAOS_MESSAGES:-10000} \
	  cargo test --test it -- --exact crash::kill_9_mid_stream_loses_nothing --nocapture

bench-quick: build floor ## one small run of each benchmark (or of ONLY=S1,S4), as a smoke test
	cargo build --release -p edgechat-bench
	ulimit -n 65536 2>/dev/null || ulimit -n "$$(ulimit -Hn)"; taskset -c 1 target/release/edgechat-bench --quick $(if $(ONLY),--only $(ONLY))

venv: $(VENV)/.installed ## Python tools from PyPI wheels, pinned: schemathesis, websockets, zizmor, actionlint

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: \
	  --requirement requirements-dev.txt
	@touch $@

audit: deny ci-lint ## the offline supply-chain and workflow checks

deny: ## cargo deny: licenses, bans and sources of every crate (advisories run in CI)
	@if [ "$$($(CARGO_BIN)/cargo-deny --version 2>/dev/null)" != "cargo-deny $(CARGO_DENY_VERSION)" ]; then \
	  echo "installing cargo-deny $(CARGO_DENY_VERSION) (once)"; \
	  cargo install --locked cargo-deny --version $(CARGO_DENY_VERSION); fi
	$(CARGO_BIN)/cargo-deny check licenses bans sources

ci-lint: venv ## actionlint (with shellcheck) and zizmor over .github/
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" actionlint
	$(VENV)/bin/zizmor --offline .github

api-fuzz: venv ## schemathesis against the server that `make dev` serves at PORT
	$(VENV)/bin/python tests/api-fuzz/run.py http://127.0.0.1:$(PORT)

clean: ## remove build output (fuzzing's included), local state and the Python tools
	rm -rf build target fuzz/target .wrangler $(VENV)
