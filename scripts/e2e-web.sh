#!/usr/bin/env bash
# End-to-end tests of the customer's web app in headless Chromium: builds
# the web app (scripts/build-customer-web.sh), the server,
# the CLI and the tests (release), then runs e2e/tests/customer_web.rs. Each
# test starts its own server on a free port, makes its shops with the CLI
# and drives Chromium through chromedriver (no display needed).
# Screenshots go to the target directory (release/e2e-screenshots/web/).
#
#   scripts/e2e-web.sh [filter] [more test-harness args]
#   scripts/e2e-web.sh --bench   the browser benchmark instead (docs/PERFORMANCE.md)
#
# Needs Debian's chromium and chromium-driver (installed here if missing);
# CHROMIUM and CHROMEDRIVER point at others.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_apt "${WEB_E2E_PACKAGES[@]}"

# The app first: the server may embed what it serves at `/`.
# axe-core (from the npm registry, pinned) checks every screen against
# WCAG 2.1 A and AA; kept in the target directory, not in the repository.
AXE_VERSION=4.14.1
axe_dir="$CARGO_TARGET_DIR/e2e-node"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ] || \
   ! grep -q "\"version\": \"$AXE_VERSION\"" "$axe_dir/node_modules/axe-core/package.json"; then
  command -v npm >/dev/null 2>&1 || ensure_apt npm
  say "installing axe-core $AXE_VERSION from the npm registry"
  mkdir -p "$axe_dir"
  (cd "$axe_dir" && npm install --no-audit --no-fund --no-save "axe-core@$AXE_VERSION" >/dev/null)
fi
export AXE_JS="$axe_dir/node_modules/axe-core/axe.min.js"

say "building the customer's web app"
scripts/build-customer-web.sh

# Release builds: a shop of thousands of products is made with the CLI in
# seconds (the core's Automerge work is 10-50x slower unoptimised).
say "building shopsync-server, shopsync and the browser tests (release)"
cargo build --release --locked -p shopsync-server --bin shopsync-server -p shopsync-cli --bin shopsync
if [[ "${1:-}" == "--bench" ]]; then
  say "the customer's web app's benchmark in headless Chromium"
  cargo run --release --locked -p shopsync-e2e --example customer_web_bench
  exit
fi
cargo build --release --locked -p shopsync-e2e --test customer_web

say "the customer's web app in headless Chromium"
cargo test -p shopsync-e2e --release --locked --test customer_web -- --ignored --test-threads=1 "$@"
