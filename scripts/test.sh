#!/usr/bin/env bash
# Runs every ShopSync test: unit, property, crash-safety, CLI, server and
# end-to-end tests in the real desktop window. On a fresh Debian machine it
# first installs what is missing (Debian packages, the wasm target,
# wasm-bindgen-cli and tauri-driver from crates.io).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_apt build-essential "${DESKTOP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${CLOCK_TEST_PACKAGES[@]}"
ensure_wasm_toolchain
ensure_tauri_driver

say "unit, property, integration and server tests"
cargo test --workspace --locked

if [ -x scripts/e2e.sh ]; then
  say "end-to-end tests in the real window (Xvfb + WebDriver)"
  scripts/e2e.sh
fi
