#!/usr/bin/env bash
# Stages the third-party .proto files Accrue's contracts import into proto/.deps (gitignored).
# buf's remote registry is unreachable from our machines, so the files come from Go modules on the
# module proxy instead (see ../docs or TOOLCHAIN notes in the README). Nothing here is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/.deps"

stage() { # module@version  dir-inside-module  target-subdir
  local modver=$1 src=$2 target=$3 dir
  dir=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "$modver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [ -d "$dir/$src" ] || { echo "deps.sh: $modver has no $src" >&2; exit 1; }
  mkdir -p "$dest/$target"
  cp -R "$dir/$src/." "$dest/$target/"
  chmod -R u+w "$dest/$target"
}

rm -rf "$dest"
# google/api (annotations, http) and google/rpc (status, error_details) with canonical go_package.
stage github.com/grpc-ecosystem/grpc-gateway@v1.16.0 third_party/googleapis googleapis
# buf/validate/validate.proto, the descriptor buf.build/go/protovalidate v1.4.0 is built from.
stage github.com/bufbuild/protovalidate@v1.2.2 proto/protovalidate protovalidate
# protoc-gen-openapiv2/options for OpenAPI annotations.
stage github.com/grpc-ecosystem/grpc-gateway/v2@v2.33.0 protoc-gen-openapiv2/options openapiv2/protoc-gen-openapiv2/options
find "$dest" -type f ! -name '*.proto' -delete
echo "staged third-party protos in $dest"
