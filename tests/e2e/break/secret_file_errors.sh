#!/usr/bin/env bash
# kite -secret @FILE with files it must reject or accept. A directory and a
# file over 4 KiB end kite with status 2 and a message naming the cause. A
# file of exactly 4 KiB is accepted, so kite goes on to probe the controller
# (nothing listens on 127.0.0.1:1) until the time-out ends it.
# Usage: secret_file_errors.sh KITE
set -uo pipefail
kite=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

run_kite() {
  timeout 3 "$kite" -url http://127.0.0.1:1/ -name n1 -secret "@$1" -webSocket -noReconnect 2>&1
}

expect_rejected() {
  local what=$1 file=$2 pattern=$3 output status
  output=$(run_kite "$file")
  status=$?
  if [[ $status -ne 2 ]] || ! grep -q -- "$pattern" <<<"$output"; then
    echo "FAIL $what: status $status, expected 2 and '$pattern': $output"
    failures=$((failures + 1))
  else
    echo "PASS $what: $(tail -n 1 <<<"$output")"
  fi
}

mkdir "$work/dir"
expect_rejected "a directory" "$work/dir" "cannot read the secret file '$work/dir': it is a directory"
head -c 4097 /dev/zero | tr '\0' a > "$work/4097"
expect_rejected "a 4097-byte file" "$work/4097" "secret file '$work/4097' is larger than 4 KiB"

head -c 4096 /dev/zero | tr '\0' a > "$work/4096"
output=$(run_kite "$work/4096")
if grep -q 'secret file' <<<"$output"; then
  echo "FAIL a 4096-byte file: rejected: $output"
  failures=$((failures + 1))
else
  echo "PASS a 4096-byte file is accepted"
fi
exit $((failures > 0))
