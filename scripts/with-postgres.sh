#!/usr/bin/env bash
# with-postgres.sh CMD [ARG...]: runs CMD with a throwaway PostgreSQL cluster
# and SHOPSYNC_TEST_POSTGRES set to its URL (the sync server's tests then run
# against PostgreSQL: docs/TESTING.md).
#
# - Installs Debian's `postgresql` package if no initdb is found.
# - The cluster lives in a new temporary folder (data, socket, log), owned by
#   the unprivileged `postgres` user when run as root (initdb refuses root),
#   and listens on 127.0.0.1 on a free port only.
# - Tuned for tests, not for keeping data: fsync and synchronous commits off
#   (the cluster is deleted afterwards anyway).
# - Stopped and deleted when CMD ends, fails, or on Ctrl-C: nothing is left
#   running. Exits with CMD's status.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ $# -eq 0 ]; then
  echo "usage: scripts/with-postgres.sh CMD [ARG...]" >&2
  exit 2
fi

find_initdb() {
  ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}
if [ -z "$(find_initdb)" ]; then
  ensure_apt postgresql
fi
INITDB="$(find_initdb)"
if [ -z "$INITDB" ]; then
  echo "with-postgres.sh: no initdb after installing postgresql" >&2
  exit 1
fi
PGBIN="$(dirname "$INITDB")"

# Who runs the cluster: ourselves, or `postgres` (made by the Debian package)
# when we are root.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

PGTMP="$(mktemp -d "${TMPDIR:-/tmp}/shopsync-pg.XXXXXX")"
STARTED=0
CHILD=""
cleanup() {
  local status=$?
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  if [ "$STARTED" -eq 1 ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PGTMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$PGTMP/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$PGTMP"
as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U shopsync --auth=trust --encoding=UTF8 --no-locale >"$PGTMP/initdb.log" 2>&1 || {
  cat "$PGTMP/initdb.log" >&2
  exit 1
}

# A free port: try random ones until the server starts on one (another
# process may take a port between a check and the start, so just try).
PORT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  candidate=$((20000 + RANDOM % 40000))
  if as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 30 \
    -o "-p $candidate -k $PGTMP/sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1; then
    PORT=$candidate
    STARTED=1
    break
  fi
done
if [ -z "$PORT" ]; then
  echo "with-postgres.sh: PostgreSQL did not start; its log:" >&2
  cat "$PGTMP/server.log" >&2 || true
  exit 1
fi

export SHOPSYNC_TEST_POSTGRES="postgres://shopsync@127.0.0.1:$PORT/postgres"
say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (throwaway cluster in $PGTMP)"
# In the background and waited for, so a signal to this script runs the
# cleanup at once (it stops CMD first) instead of after CMD ends.
set +e
"$@" &
CHILD=$!
wait "$CHILD"
status=$?
CHILD=""
set -e
exit "$status"
