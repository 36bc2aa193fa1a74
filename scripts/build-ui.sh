#!/usr/bin/env bash
# Builds the Leptos UI into ui/dist: cargo (wasm32) + wasm-bindgen --target web
# + the static files. No trunk, no wasm-opt (Debian's binaryen breaks the wasm).
# Usage: scripts/build-ui.sh [--debug]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
profile=release
[[ "${1:-}" == "--debug" ]] && profile=debug
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

require_wasm_bindgen

flags=()
[[ $profile == release ]] && flags+=(--release)
cargo build -p shopsync-ui --target wasm32-unknown-unknown "${flags[@]}"
# Build into a scratch folder and copy only files that changed: the app
# embeds ui/dist and recompiles whenever it changes.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$stage" --out-name shopsync_ui \
  "$target_dir/wasm32-unknown-unknown/$profile/shopsync-ui.wasm"
cp ui/static/* "$stage"/
mkdir -p ui/dist
for f in "$stage"/*; do
  cmp -s "$f" "ui/dist/$(basename "$f")" || cp "$f" ui/dist/
done
for f in ui/dist/*; do
  [[ -e "$stage/$(basename "$f")" ]] || rm -f "$f"
done
echo "UI built into ui/dist ($profile)"
