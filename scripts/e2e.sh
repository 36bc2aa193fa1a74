#!/usr/bin/env bash
# End-to-end tests of the till in its real window: builds the UI and the app,
# starts a private Xvfb display, runs the WebDriver tests (tauri-driver +
# WebKitWebDriver on free ports). Screenshots go to the target directory
# (e2e-screenshots/); scripts/screenshots.sh refreshes the README's pictures.
#
#   scripts/e2e.sh [filter]   the e2e tests (release build; optional test-name filter)
#   scripts/e2e.sh --bench    the app benchmark instead
#
# Needs: libwebkit2gtk-4.1-dev, xvfb, openbox, xdotool, webkit2gtk-driver,
# the wasm32 target, wasm-bindgen-cli at the Cargo.lock version, tauri-driver
# (scripts/run-app.sh --install-only installs all of them on Debian/Ubuntu).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mode=test
[[ "${1:-}" == "--bench" ]] && mode=bench
export PATH="$HOME/.cargo/bin:$PATH"

command -v tauri-driver >/dev/null || { echo "tauri-driver is missing: cargo install tauri-driver --locked" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver is missing: apt-get install webkit2gtk-driver" >&2; exit 1; }

# Release builds: what a shop runs, and the core's Automerge work is 10-50x
# slower unoptimised (a long CSV import would hold each write far longer).
scripts/build-ui.sh
build_app
if [[ $mode == bench ]]; then
  cargo build -p shopsync-e2e --release --examples
else
  cargo build -p shopsync-e2e --release --tests
  ensure_axe
fi

tmp=$(mktemp -d)
XVFB_PID=
WM_PID=
cleanup() {
  [[ -n "$WM_PID" ]] && kill -TERM "$WM_PID" 2>/dev/null || true
  [[ -n "$XVFB_PID" ]] && kill -TERM "$XVFB_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -z "${DISPLAY:-}" || "${E2E_OWN_DISPLAY:-1}" == 1 ]]; then
  start_xvfb "$tmp"
  # The till's file pickers need one (see start_window_manager).
  start_window_manager "$tmp"
fi
echo "display $DISPLAY"

if [[ $mode == bench ]]; then
  cargo run -p shopsync-e2e --release --example app_bench
else
  cargo test -p shopsync-e2e --release --test till --test app_shell --test staff -- --ignored --test-threads=1 "${@}"
fi
