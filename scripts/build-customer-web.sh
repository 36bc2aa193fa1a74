#!/usr/bin/env bash
# Builds the customer's web app into customer-web/dist, which the sync
# server embeds when it is built next (sync-server/build.rs): cargo (wasm32,
# profile wasm-release: size-optimised, LTO) + wasm-bindgen --target web +
# the static files, with the service worker's cache named after a hash of
# the build. No trunk, no wasm-opt (Debian's binaryen breaks the wasm).
# Usage: scripts/build-customer-web.sh [--debug]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
profile=wasm-release
[[ "${1:-}" == "--debug" ]] && profile=debug
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

require_wasm_bindgen

flags=(--profile "$profile")
[[ $profile == debug ]] && flags=()
cargo build --locked -p shopsync-customer-web --target wasm32-unknown-unknown "${flags[@]}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# A phone downloads it: the release build drops the function names (about
# a third of the file).
strip=()
[[ $profile == debug ]] || strip=(--remove-name-section --remove-producers-section)
wasm-bindgen --target web --no-typescript "${strip[@]}" \
  --out-dir "$stage" --out-name customer_web \
  "$target_dir/wasm32-unknown-unknown/$profile/shopsync-customer-web.wasm"
cp -r customer-web/static/. "$stage"/
build=$(cd "$stage" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
sed -i "s/BUILD/$build/" "$stage/sw.js"
# Copy only what changed: the server re-embeds the folder when it changes.
mkdir -p customer-web/dist
(cd "$stage" && find . -type f) | while read -r f; do
  mkdir -p "customer-web/dist/$(dirname "$f")"
  cmp -s "$stage/$f" "customer-web/dist/$f" || cp "$stage/$f" "customer-web/dist/$f"
done
(cd customer-web/dist && find . -type f) | while read -r f; do
  [[ -e "$stage/$f" ]] || rm -f "customer-web/dist/$f"
done
wasm="customer-web/dist/customer_web_bg.wasm"
echo "customer web app built into customer-web/dist ($profile, build $build): wasm $(stat -c %s "$wasm") bytes, $(gzip -9 -c "$wasm" | wc -c) gzipped"
