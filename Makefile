# alarm-to-slack: build, test and package the Lambda `bootstrap`.
# Every target installs what it needs (Rust target, C cross compiler for ring, zip).

ARCH ?= x86_64
ifeq ($(ARCH),x86_64)
TARGET := x86_64-unknown-linux-musl
TARGET_CC := musl-gcc
TARGET_CC_PKG := musl-tools
else
$(error ARCH=$(ARCH) is not supported yet; use ARCH=x86_64)
endif

TARGET_ENV := $(subst -,_,$(TARGET))
RELEASE := target/$(TARGET)/release/bootstrap
EVENT ?= events/cloudwatch-alarm.json

# ring compiles C: for musl that needs musl's compiler wrapper.
export CC_$(TARGET_ENV) := $(TARGET_CC)
# A non-PIE static executable is 62 KB smaller than static-pie and needs no
# start-up relocation; Lambda does not use ASLR of the executable for anything we rely on.
export CARGO_TARGET_$(shell echo $(TARGET_ENV) | tr a-z A-Z)_RUSTFLAGS := -C relocation-model=static

# Size budgets in bytes (sizes are deterministic): what the build reaches plus 1 %.
# Lower them whenever the binary shrinks; never raise them without a reason in the commit.
BOOTSTRAP_BUDGET := 1907400
ZIP_BUDGET := 1012000

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null; }

# `make deploy FUNCTION=name`: the AWS CLI to call (a stand-in in `make deploy-check`), and
# optionally the region, else the CLI's own configuration decides.
FUNCTION ?=
REGION ?=
AWS ?= aws
AWS_ARGS = $(if $(REGION),--region '$(REGION)')

# cfn-lint validates template.yaml; pinned so that a new release cannot break CI overnight.
CFN_LINT_VERSION := 1.58.0
CFN_LINT_VENV := target/cfn-lint-$(CFN_LINT_VERSION)
CFN_LINT := $(CFN_LINT_VENV)/bin/cfn-lint

.DEFAULT_GOAL := bootstrap
.PHONY: bootstrap zip test lint cfn-lint size size-check demo render golden fuzz clean toolchain deploy deploy-preflight deploy-check

toolchain:
	@rustup target list --installed | grep -qx '$(TARGET)' || rustup target add '$(TARGET)'
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v '$(TARGET_CC)' >/dev/null || $(call APT_INSTALL,$(TARGET_CC_PKG))
	@command -v zip >/dev/null || $(call APT_INSTALL,zip)

bootstrap: toolchain
	cargo build --release --locked --target $(TARGET) --bin bootstrap
	cp $(RELEASE) bootstrap

zip: bootstrap
	chmod 755 bootstrap
	rm -f bootstrap.zip
	zip -q -9 -X bootstrap.zip bootstrap
	@echo "bootstrap.zip: $$(stat -c %s bootstrap.zip) bytes (bootstrap $$(stat -c %s bootstrap) bytes)"

lint: toolchain
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

# The end-to-end tests run the one release `bootstrap` that `make zip` ships.
test: lint cfn-lint size-check deploy-check
	BOOTSTRAP_BIN='$(CURDIR)/bootstrap' cargo test --locked

# cfn-lint from PyPI in its own virtual environment under target/ (Debian's python3 needs python3-venv).
$(CFN_LINT):
	@command -v python3 >/dev/null || $(call APT_INSTALL,python3)
	@python3 -c 'import ensurepip, venv' 2>/dev/null || $(call APT_INSTALL,python3-venv)
	python3 -m venv '$(CFN_LINT_VENV)'
	'$(CFN_LINT_VENV)/bin/pip' install --quiet --disable-pip-version-check 'cfn-lint==$(CFN_LINT_VERSION)'

cfn-lint: $(CFN_LINT)
	'$(CFN_LINT)' template.yaml
	@echo "template.yaml: cfn-lint $(CFN_LINT_VERSION) found no problem"

size: zip
	@printf '%-14s %9s %9s\n' file bytes budget
	@printf '%-14s %9s %9s\n' bootstrap "$$(stat -c %s bootstrap)" $(BOOTSTRAP_BUDGET)
	@printf '%-14s %9s %9s\n' bootstrap.zip "$$(stat -c %s bootstrap.zip)" $(ZIP_BUDGET)

size-check: zip
	@size=$$(stat -c %s bootstrap); if [ $$size -gt $(BOOTSTRAP_BUDGET) ]; then \
	  echo "bootstrap is $$size bytes, over its budget of $(BOOTSTRAP_BUDGET)"; exit 1; fi
	@size=$$(stat -c %s bootstrap.zip); if [ $$size -gt $(ZIP_BUDGET) ]; then \
	  echo "bootstrap.zip is $$size bytes, over its budget of $(ZIP_BUDGET)"; exit 1; fi
	@echo "size budgets hold: bootstrap $$(stat -c %s bootstrap) <= $(BOOTSTRAP_BUDGET), bootstrap.zip $$(stat -c %s bootstrap.zip) <= $(ZIP_BUDGET)"

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
	  echo '  (no function yet? create one first: README.md, section Deploy)' >&2; exit 2; fi
	@command -v '$(AWS)' >/dev/null 2>&1 || { \
	  echo 'make deploy: the AWS CLI ($(AWS)) is not installed or not on PATH.' >&2; \
	  echo '  Install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), run `aws configure`, then retry.' >&2; \
	  exit 2; }
	@$(AWS) $(AWS_ARGS) lambda get-function-configuration --function-name '$(FUNCTION)' \
	  --query FunctionName --output text >/dev/null || { \
	  echo 'make deploy: cannot find the function $(FUNCTION) with these credentials and region (see the error above).' >&2; \
	  echo '  Create it first (README.md, section Deploy), or pass REGION=... if it lives in another region.' >&2; \
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

clean:
	cargo clean
	rm -f bootstrap bootstrap.zip
