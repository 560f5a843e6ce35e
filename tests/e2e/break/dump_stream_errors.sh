#!/usr/bin/env bash
# kite dump-stream on unreadable input: a directory, a missing file and a
# truncated stream each end with status 1 and one error line naming the
# cause, never with an uncaught exception.
# Usage: dump_stream_errors.sh KITE
set -uo pipefail
kite=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

expect() {
  local what=$1 pattern=$2
  shift 2
  local output status
  output=$("$kite" dump-stream "$@" 2>&1)
  status=$?
  if [[ $status -ne 1 ]]; then
    echo "FAIL $what: exit status $status, expected 1: $output"
    failures=$((failures + 1))
  elif ! grep -q -- "$pattern" <<<"$output"; then
    echo "FAIL $what: output does not match '$pattern': $output"
    failures=$((failures + 1))
  else
    echo "PASS $what: $output"
  fi
}

expect "a directory" "cannot read '$work': Is a directory" "$work"
expect "a missing file" "cannot read '$work/missing': No such file or directory" "$work/missing"
printf '\xac\xed\x00\x05\x73\x72\xff\xff' > "$work/truncated.bin"
expect "a truncated stream" "truncated input at offset 8" "$work/truncated.bin"
exit $((failures > 0))
