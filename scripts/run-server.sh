#!/usr/bin/env bash
# Builds and runs the sync server with the customer's web app inside it.
# On a fresh Debian machine it first installs what is missing (the wasm
# target and wasm-bindgen-cli from the Rust crate registry).
#
#   scripts/run-server.sh [--db FILE] [--listen ADDR] [serve options…]
#
# Defaults: --db server.db --listen 127.0.0.1:8787. Open http://ADDR/ for
# the customer's app; tills enrol as the README shows.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

db=server.db
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
printf '%s\n' "${args[@]}" | grep -q -- '^--listen' || args+=(--listen 127.0.0.1:8787)

ensure_apt build-essential pkg-config
ensure_wasm_toolchain
say "building the customer's web app"
scripts/build-customer-web.sh
say "building shopsync-server (release)"
cargo build --release --locked -p shopsync-server
exec "$CARGO_TARGET_DIR/release/shopsync-server" --db "$db" serve "${args[@]}"
