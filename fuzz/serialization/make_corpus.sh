#!/bin/sh
# Seed corpus for fuzz_serialization_reader: the JDK oracle's catalogue
# (written by the real ObjectOutputStream) and, when the checkout has them,
# the recorded remoting commands. Usage: make_corpus.sh OUTDIR
set -eu
out=${1:?usage: make_corpus.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"

classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac -d "$classes" --release 17 $(find "$root/tests/oracle/src" -name '*.java')
java -cp "$classes" kite.oracle.Oracle write "$out"

vectors="$root/../shared/vectors/remoting"
if [ -d "$vectors" ]; then
  for f in "$vectors"/*.bin; do
    cp "$f" "$out/vector-$(basename "$f")"
  done
else
  echo "no recorded vectors at $vectors; corpus has the oracle cases only" >&2
fi
echo "$(ls "$out" | wc -l) seeds in $out"
