#!/bin/sh
# Compile the test controller and its mirror classes into one runnable jar.
# usage: build-jar.sh OUTPUT.jar JAVAC JAR SOURCE...
set -eu
out=$1 javac=$2 jar=$3
shift 3
classes="$out.classes"
rm -rf "$classes"
mkdir -p "$classes"
"$javac" -encoding UTF-8 -Xlint:all -Xlint:-serial -Werror --release 17 -d "$classes" "$@"
"$jar" --create --file "$out" --main-class kite.controller.Main -C "$classes" .
rm -rf "$classes"
