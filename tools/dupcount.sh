#!/usr/bin/env bash
# Counts the repeated blocks (pairs reported by the `duplicates` command) in the repository's
# hand-written Go: tracked .go files outside gen/ and tools/, tests excluded. Usage:
#   tools/dupcount.sh [DIR...]        e.g. tools/dupcount.sh internal/platform gateway e2e
# With no DIR, the whole repository. Prints the pair count line; set DUP_MOST=N for the rows.
set -euo pipefail
root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
git ls-files -- "${@:-.}" | grep '\.go$' | grep -v '_test\.go$' | grep -v '^gen/' | grep -v '^tools/' |
	while read -r f; do mkdir -p "$tmp/$(dirname "$f")" && cp "$f" "$tmp/$f"; done
duplicates --repo "$tmp" --most "${DUP_MOST:-200}" --seconds 120 | sed "s#$tmp/##g"
