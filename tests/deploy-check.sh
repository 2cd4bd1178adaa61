#!/usr/bin/env bash
# Runs `make deploy` against a stand-in AWS CLI that records its arguments, and checks the
# commands it ran and the errors it gives, without an AWS account. `make deploy-check` runs it
# after `make zip`, from the repository root.
set -euo pipefail

make=(${MAKE:-make} --no-print-directory)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The stand-in: knows one function, alarm-to-slack, like an account where only it exists.
cat >"$work/aws" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$FAKE_AWS_LOG"
args=" $* "
if [[ $args == *" --function-name missing "* ]]; then
  echo "An error occurred (ResourceNotFoundException) when calling the GetFunctionConfiguration operation: Function not found" >&2
  exit 254
fi
if [[ $args == *" update-function-code "* ]]; then
  zip=${args#* --zip-file fileb://}; zip=${zip%% *}
  [[ $(head -c 2 "$zip") == PK ]] || { echo "stand-in: $zip is not a zip archive" >&2; exit 255; }
  echo "alarm-to-slack	x86_64	$(stat -c %s "$zip")	InProgress"
fi
EOF
chmod +x "$work/aws"
export FAKE_AWS_LOG="$work/calls"

fail() { echo "deploy-check: $*" >&2; exit 1; }

# expect_failure NAME NEEDLE ARGS...: `make deploy ARGS` fails and says NEEDLE on stderr.
expect_failure() {
  local name=$1 needle=$2; shift 2
  : >"$FAKE_AWS_LOG"
  if "${make[@]}" deploy "$@" >"$work/out" 2>"$work/err"; then
    fail "$name: make deploy $* succeeded"
  fi
  grep -qF -- "$needle" "$work/err" || fail "$name: expected \"$needle\" in: $(cat "$work/err")"
  ! grep -q update-function-code "$FAKE_AWS_LOG" || fail "$name: code was uploaded anyway"
}

expect_failure "no FUNCTION" "set FUNCTION to the name or ARN" AWS="$work/aws"
expect_failure "no AWS CLI" "the AWS CLI ($work/no-such-aws) is not installed" \
  FUNCTION=alarm-to-slack AWS="$work/no-such-aws"
expect_failure "unknown function" "cannot find the function missing" FUNCTION=missing AWS="$work/aws"

: >"$FAKE_AWS_LOG"
"${make[@]}" deploy FUNCTION=alarm-to-slack REGION=eu-west-1 AWS="$work/aws" >"$work/out" 2>&1 ||
  fail "deploy failed: $(cat "$work/out")"
expected="--region eu-west-1 lambda get-function-configuration --function-name alarm-to-slack --query FunctionName --output text
--region eu-west-1 lambda update-function-code --function-name alarm-to-slack --zip-file fileb://bootstrap.zip --architectures x86_64 --query [FunctionName, Architectures[0], CodeSize, LastUpdateStatus] --output text
--region eu-west-1 lambda wait function-updated --function-name alarm-to-slack"
[[ $(cat "$FAKE_AWS_LOG") == "$expected" ]] ||
  fail "unexpected AWS CLI calls:
$(cat "$FAKE_AWS_LOG")
expected:
$expected"
grep -q "deployed: alarm-to-slack" "$work/out" || fail "no confirmation in: $(cat "$work/out")"
echo "deploy-check: make deploy runs update-function-code with --architectures, then waits; 3 error cases refuse cleanly"
