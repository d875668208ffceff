# Thin aliases over cargo and cargo xtask. See README.md.
CARGO ?= cargo
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)
# xtask built with optimisations: seeding and benchmarks at scale (`cargo xtask` is the
# dev build, shared with the tests).
XTASK_RELEASE := $(CARGO) run --quiet --release --package xtask --

.PHONY: run test contract lint fmt bench bench-postgres migrate seed reset

## Serve on 127.0.0.1:8080 over ./data/agentpowers.db, seeded with the demo marketplace on first start.
run:
	$(XTASK_RELEASE) seed --if-empty
	$(CARGO) run --release --package api-server -- serve

## The whole test suite (PostgreSQL, Redis and S3 stories too when AP_TEST_DATABASE_URL,
## AP_TEST_REDIS_URL and AP_TEST_S3_URL are set, as .ci/run does).
test:
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --all-targets --no-fail-fast
else
	$(CARGO) test --workspace --all-targets --no-fail-fast
endif

## Schemathesis against a running server and its /openapi.json (needs `pip install schemathesis`).
contract:
	.ci/schemathesis

## Formatting, clippy and the workspace invariants (cargo xtask tidy), as CI runs them.
## Tidy runs from the workspace build the tests use (one build with one feature set,
## instead of a separate one for xtask alone).
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --quiet --workspace --all-targets
	target/debug/xtask tidy

fmt:
	$(CARGO) fmt --all

## Benchmarks (release build): catalog reads over 100k listings, then downloads and the
## scan, seller figures, the storefront's pages; figures go to docs/PERFORMANCE.md.
bench:
	$(XTASK_RELEASE) bench catalog
	$(XTASK_RELEASE) bench files
	$(XTASK_RELEASE) bench sellers
	$(XTASK_RELEASE) bench pages

# The catalog suite on PostgreSQL (a scratch database on the server of AP_BENCH_POSTGRES).
AP_BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres
bench-postgres:
	$(XTASK_RELEASE) bench catalog --postgres $(AP_BENCH_POSTGRES)

migrate:
	$(CARGO) xtask migrate

seed:
	$(XTASK_RELEASE) seed

reset:
	$(CARGO) xtask reset
