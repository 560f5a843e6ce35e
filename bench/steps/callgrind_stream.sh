#!/bin/sh
# Counts kite's instructions per streamed MiB with callgrind: runs the
# steps-bench scenario with one launch of `true` and one 20 MiB stream while
# kite runs under valgrind --tool=callgrind, then prints the top functions.
# Unlike wall-clock figures, instruction counts do not depend on the load.
# usage: callgrind_stream.sh BUILD_DIR [OUTPUT_FILE]
set -eu
build=$(cd "$1" && pwd)
out=${2:-/tmp/kite-stream.callgrind}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
marker=KITE_BENCH_MARKER=callgrind-$$
java -Dkite.steps.streamMiB=20 -Dkite.steps.streamRounds=1 -jar "$build/tests/controller/test-controller.jar" \
  --scenario steps-bench --port 0 --port-file "$tmp/port" --work-dir "$tmp" --env-marker "$marker" \
  --rounds 1 --accept-timeout 120 --quiet > "$tmp/controller.out" 2>&1 &
controller=$!
while [ ! -e "$tmp/port" ]; do sleep 0.05; done
env "$marker" valgrind --tool=callgrind --callgrind-out-file="$out" "$build/runner/kite" \
  -url "http://127.0.0.1:$(cat "$tmp/port")/" -name n1 -secret S -webSocket -workDir "$tmp" \
  -log-level warn > "$tmp/kite.out" 2>&1 &
kite=$!
wait "$controller" || true
grep -E '^(BENCH|FAIL)' "$tmp/controller.out" || true
kill -TERM "$kite"
wait "$kite" || true
callgrind_annotate "$out" 2>/dev/null | head -40
