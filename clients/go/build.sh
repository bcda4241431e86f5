#!/bin/sh
# Builds the command and the example with Debian's golang-go and go-jose v2
# (golang-gopkg-square-go-jose.v2-dev, in /usr/share/gocode) in GOPATH mode: no module
# download, no network. The package is linked into a GOPATH under ${1:-build} as
# sealedsearch/client; binaries go to ${1:-build}/bin.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
mkdir -p "$out/gopath/src/sealedsearch" "$out/bin"
ln -sfn "$here" "$out/gopath/src/sealedsearch/client"
export GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$out/gopath:/usr/share/gocode"
# The user's build cache when there is one (fast rebuilds), else one under the output.
[ -n "$(go env GOCACHE 2>/dev/null)" ] || export GOCACHE="$out/cache"
go vet sealedsearch/client sealedsearch/client/cmd/sealed-search sealedsearch/client/examples/search
go build -o "$out/bin/sealed-search" sealedsearch/client/cmd/sealed-search
go build -o "$out/bin/search-example" sealedsearch/client/examples/search
