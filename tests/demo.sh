#!/usr/bin/env bash
# Install the dependencies, build Kite, and run it against the bundled test
# controller on 127.0.0.1: Kite connects over WebSocket, goes online, answers
# the node monitors, and is stopped with SIGTERM after a few pings.
# Usage: tests/demo.sh [SECONDS_ONLINE]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds_online=${1:-5}
builddir=${KITE_BUILD_DIR:-build}

packaging/install-deps.sh
[[ -d $builddir ]] || meson setup "$builddir"
ninja -C "$builddir" -j2 runner/kite tests/controller/test-controller.jar

kite="$builddir/runner/kite"
controller_jar="$builddir/tests/controller/test-controller.jar"
work=$(mktemp -d /tmp/kite-demo.XXXXXX)
controller_pid="" kite_pid=""
cleanup() {
  [[ -n $kite_pid ]] && kill "$kite_pid" 2>/dev/null || true
  [[ -n $controller_pid ]] && kill "$controller_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A random secret, handed to Kite through a file so that it never shows in ps.
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$secret" > "$work/secret"
chmod 600 "$work/secret"

echo "== starting the test controller (a Java stand-in for Jenkins) on 127.0.0.1"
java -jar "$controller_jar" --scenario demo --port 0 --port-file "$work/port" \
  --node demo-agent --secret "$secret" --work-dir "$work/agent" --agent-cwd "$PWD" \
  --ping-interval 1 > >(sed -u 's/^/[controller] /') 2>&1 &
controller_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")

echo "== starting kite -url http://127.0.0.1:$port/ -name demo-agent -secret @FILE -webSocket"
"$kite" -url "http://127.0.0.1:$port/" -name demo-agent -secret "@$work/secret" \
  -webSocket -workDir "$work/agent" -noReconnect > >(sed -u 's/^/[kite] /') 2>&1 &
kite_pid=$!

sleep "$seconds_online"
echo "== stopping kite with SIGTERM"
kill -TERM "$kite_pid"
wait "$kite_pid" || true
kite_pid=""
echo "== done. Point Kite at a real controller as the README shows."
