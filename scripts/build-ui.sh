#!/usr/bin/env bash
# Builds the Leptos UI into ui/dist: cargo (wasm32) + wasm-bindgen --target web
# + wasm-opt + the static files. No trunk.
#
# The release build uses the size-optimised profile `wasm-release` (opt-level
# z, LTO, one codegen unit), drops the name section, and runs binaryen's
# wasm-opt -Oz from the npm registry (package `binaryen`, pinned; Debian's
# older binaryen cannot read what this rustc emits). wasm-opt takes minutes
# on 2 cores, so its output is kept in the target directory by the input's
# hash and reused while the UI does not change.
# Usage: scripts/build-ui.sh [--debug]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
profile=wasm-release
[[ "${1:-}" == "--debug" ]] && profile=debug
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

require_wasm_bindgen

flags=(--profile "$profile")
[[ $profile == debug ]] && flags=()
cargo build -p shopsync-ui --target wasm32-unknown-unknown "${flags[@]}"
# Build into a scratch folder and copy only files that changed: the app
# embeds ui/dist and recompiles whenever it changes.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
strip=()
[[ $profile == debug ]] || strip=(--remove-name-section --remove-producers-section)
wasm-bindgen --target web --no-typescript "${strip[@]}" --out-dir "$stage" --out-name shopsync_ui \
  "$target_dir/wasm32-unknown-unknown/$profile/shopsync-ui.wasm"
if [[ $profile != debug ]]; then
  wasm_opt_cached "$stage/shopsync_ui_bg.wasm"
fi
cp ui/static/* "$stage"/
mkdir -p ui/dist
for f in "$stage"/*; do
  cmp -s "$f" "ui/dist/$(basename "$f")" || cp "$f" ui/dist/
done
for f in ui/dist/*; do
  [[ -e "$stage/$(basename "$f")" ]] || rm -f "$f"
done
wasm=ui/dist/shopsync_ui_bg.wasm
echo "UI built into ui/dist ($profile): wasm $(stat -c %s "$wasm") bytes, $(gzip -9 -c "$wasm" | wc -c) gzipped"
