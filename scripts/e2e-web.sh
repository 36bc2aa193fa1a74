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
ensure_axe

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
