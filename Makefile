# The two commands a newcomer needs: `make up` and `make test`.
# Everything else is a convenience over deploy/ and cargo.

SHELL := /bin/bash
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)

.PHONY: up down status test lint build bench-ping bench-authd bench-mass bench-compare bench-requirement clean-var fuzz fuzz-smoke fuzz-build fuzz-tools

## up: build in release, start private MariaDB and Redis under ./var, then the daemons
up:
	@deploy/stack.sh up

## down: stop exactly what `make up` started
down:
	@deploy/stack.sh down

## status: each daemon and store with pid, port and up/down
status:
	@deploy/stack.sh status

# The cluster stack (deploy/cluster.sh, DEPLOY.md): HAProxy, 3 webd, 3 authd,
# Galera, Redis Cluster, 3 massd nodes, Prometheus; never with `make up`.
.PHONY: cluster-up cluster-down cluster-status

## cluster-up: what three hosts run, on this one (HAProxy on 127.0.0.1:9090)
cluster-up:
	@deploy/cluster.sh up

## cluster-down: stop every process of the cluster stack
cluster-down:
	@deploy/cluster.sh down

## cluster-status: one line per process, Redis roles, Galera state
cluster-status:
	@deploy/cluster.sh status

## test: formatting, lints, every test (stores started if needed), then the
## short chaos run on the cluster stack built from the tests' binaries
test: lint
	@deploy/stack.sh with-stores $(CARGO) test --workspace --quiet
	@THRONG_BIN=$(CURDIR)/target/debug deploy/cluster.sh smoke

lint:
	@deploy/deps.sh stores browser
	@deploy/pyenv.sh >/dev/null
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

build:
	$(CARGO) build --release --workspace --bins

## bench-ping: the core ping server against redis-server PING, same client (see bench/README.md)
bench-ping: build
	@bench/ping-vs-redis.sh

## bench-authd: authd's sign-in, session and lookup rates over 10,000 seeded users (needs make up)
bench-authd: build
	@bench/authd-rpc.sh

## bench-mass: massd against redis-server INCR, same client, 50/1,000 connections (see bench/README.md)
bench-mass: build
	@bench/mass-vs-redis.sh

## bench-compare: every anchor side by side, rewrites bench/RESULTS.md's section and charts (needs make up)
bench-compare: build
	@deploy/deps.sh stores bench
	@target/release/bench compare

## bench-requirement: the original requirement end to end, PASS/FAIL (needs make up and bench seed)
bench-requirement: build
	@set -a && . var/stack.env && set +a && target/release/bench requirement

## clean-var: stop everything and delete ./var (data, logs, generated passwords)
clean-var: down
	rm -rf var

# Coverage-guided fuzzing (core/fuzz/README.md): one cargo-fuzz crate per
# daemon crate, each its own workspace, outside the main one. cargo-fuzz
# passes -Z flags to rustc, which the stable toolchain takes only with
# RUSTC_BOOTSTRAP=1: it is set here, for these commands only, never for the
# normal build.
#
# Sanitizer: none by default. The code fuzzed is safe Rust (the workspace's
# only `unsafe` is two libc calls in massd's client and launcher, on no
# fuzzed path), so a bug shows as a panic, which libFuzzer catches without
# AddressSanitizer, and without it a target runs several times faster (more
# inputs per second is what finds bugs). ASan would still see memory errors
# in dependencies' own unsafe code (httparse's SIMD, the image decoders):
# `make fuzz FUZZ_SANITIZER=address` for such a run.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_SANITIZER ?= none
FUZZ_MAX_LEN ?= 4096
# An input slower than this (seconds) is a finding: timeout-… in fuzz/artifacts
FUZZ_TIMEOUT ?= 30
# crate:target, every target of every fuzz crate
FUZZ_TARGETS := core:proto_frame massd:mass_frame massd:admin_line \
	webd:http_head webd:http_body webd:forms webd:cookies webd:multipart webd:avatar
# Each target starts from its committed corpus (fuzz/corpus/NAME, read
# only) and writes what it finds to fuzz/target/corpus/NAME (not kept), so
# a run never grows the repository. Crashes land in fuzz/artifacts/NAME,
# libFuzzer's whole output in fuzz/target/NAME.log; a target that found
# something fails the run, after the others have had their turn.
define fuzz_run
	@failed=""; for spec in $(FUZZ_TARGETS); do \
	  crate=$${spec%%:*}; name=$${spec#*:}; dict=""; \
	  if [ $$name = http_head ]; then dict=-dict=http.dict; fi; \
	  mkdir -p $$crate/fuzz/target/corpus/$$name $$crate/fuzz/corpus/$$name; log=$$crate/fuzz/target/$$name.log; \
	  echo "== $$crate/fuzz $$name, $(1) s"; \
	  if ! ( cd $$crate/fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s $(FUZZ_SANITIZER) $$name \
	      target/corpus/$$name corpus/$$name -- \
	      -max_total_time=$(1) -max_len=$(FUZZ_MAX_LEN) -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 $$dict ) >$$log 2>&1; then \
	    failed="$$failed $$crate:$$name"; \
	  fi; \
	  grep -E '^(Done|stat::average_exec_per_sec)|panicked|ERROR|Test unit' $$log || true; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings (see fuzz/artifacts, fuzz/target/NAME.log) in:$$failed"; exit 1; fi
endef

## fuzz-tools: cargo-fuzz, installed when missing
fuzz-tools:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

## fuzz-build: build every fuzz target (the first build takes a few minutes per crate)
fuzz-build: fuzz-tools
	@for crate in core massd webd; do \
	  (cd $$crate/fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build -s $(FUZZ_SANITIZER)) || exit 1; \
	done

## fuzz: every fuzz target for FUZZ_SECONDS (60) each; fails if any left a crash in fuzz/artifacts
fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

## fuzz-smoke: every fuzz target for FUZZ_SMOKE_SECONDS (4) each, under a minute once built
fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))
