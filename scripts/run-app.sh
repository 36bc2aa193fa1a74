#!/usr/bin/env bash
# Takes a fresh Debian/Ubuntu machine to a running till window:
# installs what is missing (Debian packages, the wasm32 target,
# wasm-bindgen-cli at the exact version in Cargo.lock, and with
# --install-only also what the e2e tests need), builds the UI and the app
# (release, exactly as the packages are built: `build_app` in lib.sh), and
# launches it. Arguments go to the app (e.g. --version, --db PATH).
#
#   scripts/run-app.sh                 build (release) and launch
#   scripts/run-app.sh --install-only  only install the prerequisites
#   SHOPSYNC_DB=/path/till.db scripts/run-app.sh   use that store file
#
# A cold build takes several minutes on 2 cores (UI ~5 min, app ~7 min).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it with rustup (see the README), then rerun." >&2
  exit 1
fi
ensure_apt build-essential "${DESKTOP_PACKAGES[@]}"
ensure_wasm_toolchain
if [[ "${1:-}" == "--install-only" ]]; then
  ensure_apt "${E2E_PACKAGES[@]}"
  ensure_tauri_driver
  echo "prerequisites installed"
  exit 0
fi

scripts/build-ui.sh
build_app
exec "$CARGO_TARGET_DIR/release/shopsync-app" "$@"
