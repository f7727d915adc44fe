#!/usr/bin/env bash
# Stops what `make run` started, by the pid files in .run/pids: SIGTERM (graceful shutdown), up to
# 10 s to exit, then SIGKILL. A pid is signalled only while it still runs our binary (the pid may
# have been reused since); nothing is ever killed by name.
# --quiet: say nothing when there is nothing to stop.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

quiet=0
[ "${1:-}" = --quiet ] && quiet=1
dir=$ACCRUE_RUN_DIR/pids
grace=${ACCRUE_STOP_GRACE:-10}

# The pid files, the known processes first in stop order (gateway before the services).
names=()
for n in "${ACCRUE_PROCESSES[@]}"; do
  [ -f "$dir/$n.pid" ] && names+=("$n")
done
for f in "$dir"/*.pid; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .pid)
  [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
done
if [ "${#names[@]}" -eq 0 ]; then
  [ "$quiet" -eq 1 ] || echo "stop: nothing to stop (no pid files in .run/pids)"
  exit 0
fi

# ours pid name: the process runs bin/<name> of this checkout.
ours() {
  local args
  if [ -r "/proc/$1/cmdline" ]; then
    args=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  else
    args=$(ps -o args= -p "$1" 2>/dev/null) || return 1
  fi
  [[ "$args" == "$ACCRUE_BIN_DIR/$2" || "$args" == "$ACCRUE_BIN_DIR/$2 "* ]]
}

declare -A pid_of=()
for n in "${names[@]}"; do
  pid=$(tr -dc '0-9' <"$dir/$n.pid")
  if [ -n "$pid" ] && ours "$pid" "$n"; then
    kill -TERM "$pid" 2>/dev/null || true
    pid_of[$n]=$pid
  else
    echo "stop: $n was not running (stale pid file removed)"
    rm -f "$dir/$n.pid"
  fi
done

# Wait for all of them together, then kill what is left.
deadline=$((SECONDS + grace))
for n in "${!pid_of[@]}"; do
  pid=${pid_of[$n]}
  while kill -0 "$pid" 2>/dev/null && ours "$pid" "$n" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2
  done
done
for n in "${names[@]}"; do
  [ -n "${pid_of[$n]:-}" ] || continue
  pid=${pid_of[$n]}
  if kill -0 "$pid" 2>/dev/null && ours "$pid" "$n"; then
    kill -KILL "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "stop: killed $n (pid $pid): still running ${grace} s after SIGTERM"
  else
    echo "stop: stopped $n (pid $pid)"
  fi
  rm -f "$dir/$n.pid"
done
