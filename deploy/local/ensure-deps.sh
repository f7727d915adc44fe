#!/usr/bin/env bash
# Makes sure Postgres answers on ACCRUE_PG_HOST:ACCRUE_PG_PORT (127.0.0.1:5432) with trust auth for
# the postgres user, Redis on ACCRUE_REDIS_ADDR (127.0.0.1:6379), and Chromium (the console's
# browser test) is installed. Idempotent:
#   - reachable                 → nothing to do;
#   - installed but stopped     → start it;
#   - missing (Debian/Ubuntu)   → apt-get install it, then start it.
# Only a local address (127.0.0.1/localhost) is ever started or installed; a remote one is only
# checked. Development and CI machines only: it sets trust authentication for 127.0.0.1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { echo "ensure-deps: $*"; }
die() { echo "ensure-deps: ERROR: $*" >&2; exit 1; }

# as_root runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*' (not root and no sudo); start or install it by hand"
  fi
}

is_local() { [ "$1" = 127.0.0.1 ] || [ "$1" = localhost ] || [ "$1" = ::1 ]; }

# tcp_open host port: true when something accepts TCP connections there.
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "$* not installed and this is not a Debian/Ubuntu machine (no apt-get): install $* by hand"
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install -y $*"
  # policy-rc.d in containers may forbid the packages' own start; we start them below anyway.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Postgres

pg_answers() { pg_isready -q -h "$ACCRUE_PG_HOST" -p "$ACCRUE_PG_PORT" -t 2 >/dev/null 2>&1; }
pg_login() { psql -h "$ACCRUE_PG_HOST" -p "$ACCRUE_PG_PORT" -U "$ACCRUE_PG_USER" -d postgres -w -tAc 'SELECT 1' 2>&1; }

# pg_versions lists the installed Postgres server versions, oldest first.
pg_versions() {
  local b
  for b in /usr/lib/postgresql/*/bin/postgres; do
    if [ -x "$b" ]; then basename "$(dirname "$(dirname "$b")")"; fi
  done | sort -V
}

pg_server_installed() { [ -n "$(pg_versions)" ]; }

pg_start() {
  local v
  v=$(pg_versions | tail -n 1)
  [ -n "$v" ] || die "no Postgres server under /usr/lib/postgresql"
  local c=$ACCRUE_PG_CLUSTER conf=/etc/postgresql/$v/$ACCRUE_PG_CLUSTER/postgresql.conf
  if [ ! -f "$conf" ]; then
    log "creating Postgres $v cluster '$c' on port $ACCRUE_PG_PORT"
    as_root pg_createcluster --port "$ACCRUE_PG_PORT" "$v" "$c" >/dev/null
  fi
  # Directories a container image or a reboot (tmpfs /run) may have lost.
  [ -d /var/run/postgresql ] || as_root install -d -m 2775 -o postgres -g postgres /var/run/postgresql
  [ -d /var/log/postgresql ] || as_root install -d -m 1775 -o root -g postgres /var/log/postgresql
  local port
  port=$(sed -n "s/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p" "$conf" | sed -n 1p)
  if [ -n "$port" ] && [ "$port" != "$ACCRUE_PG_PORT" ]; then
    die "the Postgres $v cluster '$c' listens on port $port, not $ACCRUE_PG_PORT: set ACCRUE_PG_PORT=$port or change $conf"
  fi
  log "starting Postgres $v (cluster $c)"
  # A failure here may be "already running" (a package start racing us): the caller waits and checks.
  as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$c" start ||
    log "pg_ctlcluster start failed; see /var/log/postgresql/postgresql-$v-$c.log"
}

# pg_trust lets every local TCP client in without a password (fresh Debian installs ask for one).
pg_trust() {
  local v hba
  v=$(pg_versions | tail -n 1)
  hba=/etc/postgresql/$v/$ACCRUE_PG_CLUSTER/pg_hba.conf
  [ -f "$hba" ] || die "cannot log in to Postgres as $ACCRUE_PG_USER and $hba does not exist"
  if as_root grep -qE '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    return 1 # already trusted: the login problem is something else
  fi
  log "configuring trust authentication for 127.0.0.1 and ::1 in $hba (development machine)"
  local tmp
  tmp=$(mktemp)
  {
    echo "# added by Accrue deploy/local/ensure-deps.sh: local development and CI only"
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    as_root cat "$hba"
  } >"$tmp"
  as_root cp "$tmp" "$hba"
  rm -f "$tmp"
  as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$ACCRUE_PG_CLUSTER" reload
  sleep 1
}

ensure_postgres() {
  local where="$ACCRUE_PG_HOST:$ACCRUE_PG_PORT"
  if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    if is_local "$ACCRUE_PG_HOST" && ! tcp_open "$ACCRUE_PG_HOST" "$ACCRUE_PG_PORT"; then
      apt_install postgresql
    else
      apt_install postgresql-client
    fi
  fi
  if ! pg_answers; then
    is_local "$ACCRUE_PG_HOST" || die "Postgres at $where does not answer (remote: start it there)"
    # Something on the port may be a Postgres still starting up: then only wait for it.
    if ! tcp_open "$ACCRUE_PG_HOST" "$ACCRUE_PG_PORT"; then
      pg_server_installed || apt_install postgresql
      pg_answers || pg_start
    fi
    for _ in $(seq 1 30); do
      pg_answers && break
      sleep 1
    done
    pg_answers || die "Postgres does not accept connections on $where after 30 s (another program on the port? see /var/log/postgresql/)"
  fi
  local out
  if ! out=$(pg_login); then
    if is_local "$ACCRUE_PG_HOST" && pg_server_installed && pg_trust; then
      out=$(pg_login) || die "cannot log in to Postgres at $where as $ACCRUE_PG_USER: $out"
    else
      die "cannot log in to Postgres at $where as $ACCRUE_PG_USER without a password: $out
  (the local scripts and tests expect trust authentication for 127.0.0.1 in pg_hba.conf)"
    fi
  fi
  log "Postgres OK at $where ($(psql -h "$ACCRUE_PG_HOST" -p "$ACCRUE_PG_PORT" -U "$ACCRUE_PG_USER" -d postgres -w -tAc 'SHOW server_version'))"
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$ACCRUE_REDIS_HOST" -p "$ACCRUE_REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    # No client: speak the inline protocol over bash's /dev/tcp.
    [[ "$(timeout 2 bash -c "exec 3<>/dev/tcp/$ACCRUE_REDIS_HOST/$ACCRUE_REDIS_PORT && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null)" == *PONG* ]]
  fi
}

ensure_redis() {
  local where="$ACCRUE_REDIS_HOST:$ACCRUE_REDIS_PORT"
  if redis_ping; then
    log "Redis OK at $where"
    return
  fi
  is_local "$ACCRUE_REDIS_HOST" || die "Redis at $where does not answer (remote: start it there)"
  if tcp_open "$ACCRUE_REDIS_HOST" "$ACCRUE_REDIS_PORT"; then
    die "something listens on $where but does not answer PING like Redis"
  fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  # The package's own service may have started it in the meantime.
  if ! redis_ping; then
    log "starting Redis on $where (no persistence)"
    redis-server --daemonize yes --bind "$ACCRUE_REDIS_HOST" --port "$ACCRUE_REDIS_PORT" \
      --save "" --appendonly no >/dev/null ||
      die "redis-server failed to start on $where"
  fi

  for _ in $(seq 1 20); do
    redis_ping && break
    sleep 0.5
  done
  redis_ping || die "Redis does not answer PING on $where after starting it"
  log "Redis OK at $where"
}

# ---------------------------------------------------------------------------------------------
# Chromium: the operations console's browser test (e2e/console_browser_test.go) drives Debian's
# headless chromium. Installed when missing (ACCRUE_NO_CHROMIUM=1 skips it; the test then skips
# too, except under CI=true, where it fails).

ensure_chromium() {
  if [ "${ACCRUE_NO_CHROMIUM:-0}" = 1 ]; then
    log "Chromium not checked (ACCRUE_NO_CHROMIUM=1)"
    return
  fi
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    log "Chromium OK"
    return
  fi
  apt_install chromium
  command -v chromium >/dev/null 2>&1 || die "chromium was installed but is not on PATH"
  log "Chromium OK"
}

ensure_postgres
ensure_redis
ensure_chromium
