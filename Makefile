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
BOOTSTRAP_BUDGET := 1882268
ZIP_BUDGET := 1000723

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null; }

.DEFAULT_GOAL := bootstrap
.PHONY: bootstrap zip test lint size size-check demo render golden clean toolchain

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
test: lint size-check
	BOOTSTRAP_BIN='$(CURDIR)/bootstrap' cargo test --locked

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

# Runs ./bootstrap against the local emulator with one event and shows what Slack received.
# SLACK_HOOK_URL=https://hooks.slack.com/... sends it to your own Slack instead.
demo: bootstrap
	cargo run --quiet --locked --example demo -- '$(CURDIR)/bootstrap' '$(EVENT)'

# Prints the Slack payload for one event, with no AWS settings and no network.
render: bootstrap
	@./bootstrap render '$(EVENT)'

# Rewrites tests/golden/ from events/ after an intended change to the messages; review the diff.
golden: bootstrap
	UPDATE_GOLDEN=1 BOOTSTRAP_BIN='$(CURDIR)/bootstrap' cargo test --locked --test golden

clean:
	cargo clean
	rm -f bootstrap bootstrap.zip
