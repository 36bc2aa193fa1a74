# Shared helpers for the scripts: install only what is missing, from the
# package registries (Debian's archive, the Rust crate registry) and nothing else.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Reuse one target directory across runs and clones on this machine: a cold
# build of everything takes many minutes on 2 cores.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopsync/target}"
mkdir -p "$CARGO_TARGET_DIR"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt PKG... : installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The version of a crate as pinned in Cargo.lock.
locked_version() {
  awk -v name="$1" '$1=="name" && $3=="\""name"\"" {getline; gsub(/"/,"",$3); print $3; exit}' "$ROOT/Cargo.lock"
}

ensure_wasm_toolchain() {
  if ! grep -qx wasm32-unknown-unknown <<<"$(rustup target list --installed)"; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local want
  want="$(locked_version wasm-bindgen)"
  if [ -n "$want" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    say "installing wasm-bindgen-cli $want (a few minutes, once)"
    # Not --locked: a locked dependency of 0.2.130 is missing from the registry.
    cargo install wasm-bindgen-cli --version "=$want"
  fi
}

# The app's Windows compile check (scripts/test.sh): the target's standard
# library from rustup, and Debian's MinGW C compiler for the C that build
# scripts compile (SQLite, among others).
WINDOWS_TARGET=x86_64-pc-windows-gnu
WINDOWS_CHECK_PACKAGES=(gcc-mingw-w64-x86-64-win32)
ensure_windows_target() {
  ensure_apt "${WINDOWS_CHECK_PACKAGES[@]}"
  if ! grep -qx "$WINDOWS_TARGET" <<<"$(rustup target list --installed)"; then
    say "adding the $WINDOWS_TARGET target"
    rustup target add "$WINDOWS_TARGET"
  fi
}

# Fails with the command to run unless wasm-bindgen-cli is at the version
# Cargo.lock pins (the UI builds call it; ensure_wasm_toolchain installs it).
require_wasm_bindgen() {
  local want have
  want="$(locked_version wasm-bindgen)"
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [[ "$have" != "$want" ]]; then
    echo "wasm-bindgen-cli $want is needed (found: ${have:-none}):" >&2
    echo "  cargo install wasm-bindgen-cli --version $want" >&2
    exit 1
  fi
}

# ensure_npm_package DIR NAME VERSION: the npm registry's NAME@VERSION in
# DIR/node_modules (a folder of the target directory, not the repository),
# installed only when that exact version is not there yet.
ensure_npm_package() {
  local dir=$1 name=$2 version=$3
  if [ ! -f "$dir/node_modules/$name/package.json" ] || \
     ! grep -q "\"version\": \"$version\"" "$dir/node_modules/$name/package.json"; then
    command -v npm >/dev/null 2>&1 || ensure_apt npm
    say "installing $name $version from the npm registry"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --no-save "$name@$version" >/dev/null)
  fi
}

# axe-core (pinned) checks every screen of the till and of the customer's
# app against WCAG 2.1 A and AA. Exports AXE_JS for the e2e tests.
AXE_VERSION=4.14.1
ensure_axe() {
  ensure_npm_package "$CARGO_TARGET_DIR/e2e-node" axe-core "$AXE_VERSION"
  export AXE_JS="$CARGO_TARGET_DIR/e2e-node/node_modules/axe-core/axe.min.js"
}

# binaryen's wasm-opt (pinned): it reads the wasm features this rustc
# emits, which Debian's older binaryen does not.
BINARYEN_VERSION=132.0.0
ensure_wasm_opt() {
  ensure_npm_package "$CARGO_TARGET_DIR/node-tools" binaryen "$BINARYEN_VERSION"
  WASM_OPT="$CARGO_TARGET_DIR/node-tools/node_modules/binaryen/bin/wasm-opt"
}

# wasm_opt_cached FILE: optimises FILE in place for size (-Oz). The result
# is kept by the input's hash, so an unchanged UI costs nothing the next time.
wasm_opt_cached() {
  ensure_wasm_opt
  local cache="$CARGO_TARGET_DIR/wasm-opt-cache"
  local key
  key=$(cat "$1" <(echo "$BINARYEN_VERSION -Oz") | sha256sum | cut -c1-32)
  mkdir -p "$cache"
  if [ ! -f "$cache/$key.wasm" ]; then
    say "wasm-opt -Oz $(basename "$1") (a few minutes on 2 cores; cached afterwards)"
    "$WASM_OPT" -Oz "$1" -o "$cache/$key.tmp"
    mv "$cache/$key.tmp" "$cache/$key.wasm"
    # Only the newest few builds are worth keeping.
    ls -t "$cache"/*.wasm | tail -n +6 | xargs -r rm -f
  fi
  cp "$cache/$key.wasm" "$1"
}

ensure_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1; then
    say "installing tauri-driver (once)"
    cargo install tauri-driver --locked
  fi
}

# The Tauri CLI (`tauri`, the same program as `cargo tauri`), pinned to the
# tauri crate's major.minor in Cargo.lock. It comes prebuilt from the npm
# registry (package @tauri-apps/cli): `cargo install tauri-cli` compiles
# ~600 crates, an hour on 2 cores under load. Sets TAURI_CLI.
TAURI_CLI_VERSION=2.12.4
ensure_tauri_cli() {
  ensure_npm_package "$CARGO_TARGET_DIR/tauri-cli" @tauri-apps/cli "$TAURI_CLI_VERSION"
  TAURI_CLI="$CARGO_TARGET_DIR/tauri-cli/node_modules/.bin/tauri"
  "$TAURI_CLI" --version >/dev/null || { echo "the Tauri CLI does not run: $TAURI_CLI" >&2; return 1; }
}

# build_app: the release app exactly as the Tauri CLI's `tauri build` builds
# it (`--bins --features tauri/custom-protocol`: the UI embedded, served from
# the app), so the tests and the packages share one build of one binary:
# $CARGO_TARGET_DIR/release/shopsync-app.
build_app() {
  (cd "$ROOT/src-tauri" && cargo build --locked --release --bins --features tauri/custom-protocol)
}

# start_xvfb DIR: starts a private Xvfb on a free display number (it writes
# the number to fd 3: no fixed display), exports DISPLAY and sets XVFB_PID
# (the caller stops it). DIR holds the display number and Xvfb's log.
start_xvfb() {
  local dir="$1"
  Xvfb -displayfd 3 -screen 0 1366x900x24 -nolisten tcp 3>"$dir/display" 2>"$dir/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 1 200); do
    [[ -s "$dir/display" ]] && break
    kill -0 "$XVFB_PID" 2>/dev/null || { cat "$dir/xvfb.log" >&2; return 1; }
    sleep 0.05
  done
  [[ -s "$dir/display" ]] || { echo "Xvfb did not start" >&2; return 1; }
  DISPLAY=":$(head -n1 "$dir/display")"
  export DISPLAY XVFB_PID
}

# Debian packages the desktop app needs to build and to be driven in tests.
DESKTOP_PACKAGES=(pkg-config libwebkit2gtk-4.1-dev libssl-dev)
# openbox: a window manager on the test display (start_window_manager).
E2E_PACKAGES=(xvfb webkit2gtk-driver imagemagick xdotool procps openbox)
# The customer's web app is tested in headless Chromium through chromedriver.
WEB_E2E_PACKAGES=(chromium chromium-driver)
# cli/tests/clocks.rs runs tills with wrong clocks under faketime.
CLOCK_TEST_PACKAGES=(faketime)
# scripts/demo-customers.sh checks the commands' --json output with jq.
DEMO_PACKAGES=(jq)

# Starts openbox on $DISPLAY in the background and waits until it manages
# the screen; its PID goes to WM_PID (the caller stops it). GTK's file
# chooser takes the keyboard only from a window manager: on a bare Xvfb it
# never gets the focus, and the tests cannot type into the till's pickers.
# $1: a scratch folder for openbox's readiness mark.
start_window_manager() {
  command -v openbox >/dev/null || { echo "openbox is missing: apt-get install openbox" >&2; return 1; }
  local ready="$1/wm-ready"
  # --startup runs once openbox manages the screen; --sm-disable: no
  # session manager to look for.
  openbox --sm-disable --startup "touch $ready" >"$1/openbox.log" 2>&1 &
  WM_PID=$!
  for _ in $(seq 1 200); do
    [[ -e "$ready" ]] && return 0
    kill -0 "$WM_PID" 2>/dev/null || { cat "$1/openbox.log" >&2; return 1; }
    sleep 0.05
  done
  echo "openbox did not start" >&2
  return 1
}
