#!/usr/bin/env bash
# Reports breaking changes of the contracts in proto/ against a git ref (offline).
# `buf breaking --against '.git#ref=…'` cannot work without the registry (the base snapshot lacks the
# staged third-party protos), so the base is checked out in a temporary worktree, its own deps
# script stages its third-party protos, and buf compares the two workspaces.
set -euo pipefail
base=${1:?usage: proto/breaking.sh <git ref>}
root=$(git rev-parse --show-toplevel)
buf="$root/tools/buf/node_modules/.bin/buf"
cd "$root"
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || { echo "breaking: unknown git ref $base (fetch it first)" >&2; exit 2; }
wt=$(mktemp -d)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git worktree add --detach --quiet "$wt" "$base"
if [ ! -f "$wt/buf.yaml" ] || [ ! -d "$wt/proto/accrue" ]; then
  echo "breaking: $base has no contracts to compare against; nothing can break"
  exit 0
fi
(cd "$wt" && proto/deps.sh >/dev/null)
if "$buf" breaking --against "$wt"; then
  echo "breaking: no breaking changes against $base"
else
  echo "breaking: the changes above break clients built against $base" >&2
  exit 1
fi
