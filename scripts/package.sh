#!/usr/bin/env bash
# Builds the till's Linux packages, a .deb and an .rpm, with the Tauri CLI
# (`tauri build`, run in src-tauri/: see the root Cargo.toml), and prints
# where they are. Installs what is missing first: Debian packages, the wasm
# target and wasm-bindgen-cli (the UI), the Tauri CLI (prebuilt, from the
# npm registry: scripts/lib.sh). The packages go to the target directory
# ($CARGO_TARGET_DIR/release/bundle/{deb,rpm}/), never into the source tree.
#
# The app binary in them embeds the UI (tauri's `custom-protocol`, which
# `tauri build` turns on) and is the same build scripts/e2e.sh tests
# (`build_app` in scripts/lib.sh), so an installed till needs nothing else.
# No AppImage: the bundler downloads linuxdeploy and AppRun from outside
# the package registries (README, "Install").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

# The packages' version (tauri.conf.json) is the program's (--version,
# the workspace's Cargo.toml): one number, checked before a long build.
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' tauri.conf.json)
cargo_version=$(awk '/^\[workspace.package\]/{w=1} w && $1=="version" {gsub(/"/,"",$3); print $3; exit}' Cargo.toml)
if [[ -z "$version" || "$version" != "$cargo_version" ]]; then
  echo "tauri.conf.json's version ($version) differs from Cargo.toml's ($cargo_version)" >&2
  exit 1
fi

ensure_apt build-essential "${DESKTOP_PACKAGES[@]}"
ensure_wasm_toolchain
ensure_tauri_cli

# tauri.conf.json's beforeBuildCommand builds the UI (scripts/build-ui.sh);
# --ci: no prompts.
say "building the .deb and .rpm (release)"
(cd src-tauri && "$TAURI_CLI" build --ci --bundles deb,rpm -- --locked)

bundle="$CARGO_TARGET_DIR/release/bundle"
found=0
for f in "$bundle"/deb/*_"${version}"_*.deb "$bundle"/rpm/*-"${version}"-*.rpm; do
  [[ -f "$f" ]] || continue
  echo "$f"
  found=$((found + 1))
done
if ((found < 2)); then
  echo "expected a .deb and an .rpm of version $version under $bundle" >&2
  exit 1
fi
