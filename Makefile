# The two commands a newcomer needs: `make up` and `make test`.
# Everything else is a convenience over deploy/ and cargo.

SHELL := /bin/bash
CARGO ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)

.PHONY: up down status test lint build bench-ping bench-authd bench-mass bench-compare bench-requirement clean-var

## up: build in release, start private MariaDB and Redis under ./var, then the daemons
up:
	@deploy/stack.sh up

## down: stop exactly what `make up` started
down:
	@deploy/stack.sh down

## status: each daemon and store with pid, port and up/down
status:
	@deploy/stack.sh status

## test: formatting, lints, then every test (stores started if needed)
test: lint
	@deploy/stack.sh with-stores $(CARGO) test --workspace --quiet

lint:
	@deploy/deps.sh stores browser
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
