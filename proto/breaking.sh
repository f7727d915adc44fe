#!/usr/bin/env bash
# Reports breaking changes of the contracts in proto/ against a git ref (offline).
# `buf breaking --against '.git#ref=…'` cannot work without the registry (the base snapshot lacks the
# staged third-party protos), so the base is checked out in a temporary worktree, its own deps
# script stages its third-party protos, and buf compares the two workspaces.
#
# Without a ref (make test), the base is chosen: on main (or detached at its tip), the previous
# commit HEAD~1; on any other branch, its merge base with main (origin/main when a clone has it,
# else main). A shallow clone without that commit is skipped with a message, not failed.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
buf="$root/tools/buf/node_modules/.bin/buf"
cd "$root"
base=${1:-}
if [ -z "$base" ]; then
  main=""
  for r in origin/main main; do
    if git rev-parse --verify --quiet "$r^{commit}" >/dev/null; then main=$r; break; fi
  done
  head=$(git rev-parse HEAD)
  if [ -n "$main" ] && [ "$(git rev-parse "$main")" != "$head" ] && mb=$(git merge-base HEAD "$main" 2>/dev/null) && [ "$mb" != "$head" ]; then
    base=$mb
    why="the merge base with $main"
  else
    base=HEAD~1
    why="the previous commit"
  fi
  if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
      echo "breaking: skipped: shallow clone without $why ($base); fetch more history (git fetch --unshallow) to check"
    else
      echo "breaking: skipped: $base does not exist (the first commit); nothing can break"
    fi
    exit 0
  fi
  echo "breaking: comparing against $why, $(git rev-parse --short "$base")"
fi
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
