#!/usr/bin/env bash
# Run every libFuzzer target built in BUILD_DIR for SECONDS each (default 60),
# keeping each target's growing corpus in fuzz/corpus-work/<target>/.
# Build first: CXX=clang++-19 meson setup BUILD_DIR -Dfuzz=true -Dtests=false -Dbench=false
set -euo pipefail
builddir=${1:?usage: fuzz/run-all.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
corpus_root="$(dirname "$0")/corpus-work"
status=0
while IFS= read -r target; do
  name=$(basename "$target")
  mkdir -p "$corpus_root/$name"
  echo "== $name: $seconds s"
  "$target" -max_total_time="$seconds" -rss_limit_mb=2048 "$corpus_root/$name" 2>&1 | tail -n 2 || status=1
done < <(find "$builddir/fuzz" -type f -executable \( -name 'fuzz_*' -o -name '*_fuzz' \) | sort)
exit $status
