#!/usr/bin/env bash
# Runs the ShopSync till. On a fresh Debian machine it first installs what is
# missing (Debian packages, the wasm target, wasm-bindgen-cli), builds the UI
# and the app, then opens the window.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ -x scripts/run-app.sh ]; then
  exec scripts/run-app.sh "$@"
fi
# Until the desktop app lands: the CLI demo.
say "building the shopsync CLI"
cargo build --release --locked -p shopsync-cli
db="${SHOPSYNC_DB:-$HOME/.local/share/shopsync/demo.db}"
if [ ! -f "$db" ]; then
  say "creating a demo store in $db"
  "$CARGO_TARGET_DIR/release/shopsync" --db "$db" demo
fi
"$CARGO_TARGET_DIR/release/shopsync" --db "$db" report z
"$CARGO_TARGET_DIR/release/shopsync" --db "$db" stock --low
