#!/usr/bin/env bash
# Takes a fresh Debian/Ubuntu machine to a running till window:
# installs what is missing (system packages, the wasm32 target,
# wasm-bindgen-cli at the exact version in Cargo.lock, and for the e2e tests
# tauri-driver), builds the UI and the app, and launches it.
#
#   scripts/run-app.sh                 build (release) and launch
#   scripts/run-app.sh --install-only  only install the prerequisites
#   SHOPSYNC_DB=/path/till.db scripts/run-app.sh   use that store file
#
# A cold build takes several minutes on 2 cores (UI ~3 min, app ~7 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

pkgs=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev xvfb webkit2gtk-driver curl file)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it from https://rustup.rs, then rerun." >&2
  exit 1
fi
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  # Not --locked: a locked dependency of 0.2.130's CLI is gone from the registry.
  cargo install wasm-bindgen-cli --version "$want"
fi
if [[ "${1:-}" == "--install-only" ]]; then
  # Only the end-to-end tests need tauri-driver.
  command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
  echo "prerequisites installed"
  exit 0
fi

scripts/build-ui.sh
build_app
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
exec "$target_dir/release/shopsync-app" "$@"
