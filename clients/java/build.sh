#!/bin/sh
# Compiles the client and its example with the JDK alone (javac 17; no Maven, no jars) into
# ${1:-build}. Run: java -cp build sealedsearch.client.Main --help
set -eu
cd "$(dirname "$0")"
out=${1:-build}
mkdir -p "$out"
javac --release 17 -Xlint:all -Werror -d "$out" $(find src examples -name '*.java')
