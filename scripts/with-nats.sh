#!/usr/bin/env bash
# with-nats.sh CMD [ARG...]: runs CMD with SHOPSYNC_TEST_NATS set to a
# nats-server binary, so the server's events tests run (docs/TESTING.md).
#
# - Installs Debian's `nats-server` package if no nats-server is found.
# - Starts nothing itself: each events test starts its own nats-server with
#   JetStream on a free port of 127.0.0.1, its store in a temporary folder,
#   because the test stops and restarts it (sync-server/tests/common/nats.rs);
#   the test kills it when it ends. Exits with CMD's status.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ $# -eq 0 ]; then
  echo "usage: scripts/with-nats.sh CMD [ARG...]" >&2
  exit 2
fi

find_nats() {
  command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true
}
if [ -z "$(find_nats)" ]; then
  ensure_apt nats-server
fi
NATS="$(find_nats)"
if [ -z "$NATS" ]; then
  echo "with-nats.sh: no nats-server after installing the nats-server package" >&2
  exit 1
fi

export SHOPSYNC_TEST_NATS="$NATS"
say "nats-server $("$NATS" --version | awk '{print $2}') ($NATS); the events tests start it on free ports"
exec "$@"
