#!/usr/bin/env bash
# Install the dependencies, build Kite and run every test suite.
# Prints a closing line "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-deps.sh
if [[ -f tests/peers/package.json ]]; then
  (cd tests/peers && npm ci --no-audit --no-fund --loglevel=error)
fi

builddir=${KITE_BUILD_DIR:-build}
werror=false
[[ ${CI:-} == true ]] && werror=true
if [[ -d $builddir ]]; then
  meson configure "$builddir" -Dwerror=$werror >/dev/null
else
  meson setup "$builddir" -Dwerror=$werror
fi
ninja -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@" || status=$?

log="$builddir/meson-logs/testlog.json"
if [[ -f $log ]]; then
  python3 - "$log" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        counts[r["result"]] = counts.get(r["result"], 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
fi
exit $status
