#!/usr/bin/env bash
# Runs every ShopSync test: unit, property, crash-safety, CLI, server and
# end-to-end tests in the real desktop window (the built app, and the app
# installed from its .deb) and in headless Chromium. On a
# fresh Debian machine it first installs what is missing (Debian packages,
# the wasm and Windows targets, wasm-bindgen-cli and tauri-driver from the
# Rust crate registry, the Tauri CLI from the npm registry). The package
# test installs and removes a package: run as root or with sudo.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_apt build-essential "${DESKTOP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${WEB_E2E_PACKAGES[@]}" "${CLOCK_TEST_PACKAGES[@]}" "${DEMO_PACKAGES[@]}"
ensure_wasm_toolchain
ensure_tauri_driver
ensure_tauri_cli

# Under with-nats.sh (nats-server from Debian's packages if missing): the
# server's events tests run here on SQLite, and fail on CI without NATS.
say "unit, property, integration and server tests"
scripts/with-nats.sh cargo test --workspace --locked

# The server tests again on PostgreSQL (a throwaway cluster, installed from
# Debian's packages if missing), with the test binaries built above: every
# file, hostile bodies and the slow link included (~40 s on PostgreSQL).
say "the server tests on PostgreSQL"
pg_tests=()
for f in sync-server/tests/*.rs; do
  name=$(basename "$f" .rs)
  # events: below, with NATS.
  case "$name" in events) continue ;; esac
  pg_tests+=(--test "$name")
done
scripts/with-postgres.sh cargo test --locked -p shopsync-server --lib "${pg_tests[@]}"

# The server's events to NATS JetStream (nats-server from Debian's packages
# if missing; the test starts, stops and restarts its own on a free port),
# from SQLite and, with PostgreSQL there too, from PostgreSQL's outbox.
say "the server's events through NATS JetStream, across a NATS outage"
scripts/with-postgres.sh scripts/with-nats.sh cargo test --locked -p shopsync-server --test events

# A customer's whole way with the real binaries: server, two tills, two
# customer devices; exits non-zero on any mismatch.
say "the customer demo: server, two tills, a customer's two devices"
scripts/demo-customers.sh

# The shop simulator, optimised (Automerge is 10-50x slower unoptimised):
# seeded histories of tills, server and faults checked against the shelves.
# SIM_SEEDS=10000 for a long run (docs/TESTING.md).
say "the shop simulator: ${SIM_SEEDS:-300} seeded histories"
cargo run --release --locked -p shopsync-sim -- --seeds "${SIM_SEEDS:-300}"

if [ -x scripts/e2e.sh ]; then
  say "end-to-end tests in the real window (Xvfb + WebDriver)"
  scripts/e2e.sh
fi

# The till as a shop installs it: the .deb and .rpm built by the Tauri CLI,
# the .deb installed with apt (root: CI runs as root), the installed binary
# driven through first launch and a sale, the package removed again.
if [ -x scripts/package.sh ]; then
  say "the packages: build the .deb and .rpm, install the .deb, sell with the installed till"
  scripts/package.sh
  scripts/package-test.sh
fi

# The Windows bundles cannot be built here, but the app must compile for
# Windows: its Windows-only code (single instance, paths) is checked.
say "the app compiles for Windows (cargo check, $WINDOWS_TARGET)"
ensure_windows_target
cargo check --locked -p shopsync-app --target "$WINDOWS_TARGET"

if [ -x scripts/e2e-web.sh ]; then
  say "the customer's web app in headless Chromium (chromedriver), against the real server"
  scripts/e2e-web.sh
fi
