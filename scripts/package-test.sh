#!/usr/bin/env bash
# The package test: installs the built .deb into this machine with apt (as
# root: it changes the system), checks what the package declares and puts
# where, then runs exactly e2e/tests/installed.rs: the *installed* binary,
# launched from an empty temporary folder under a private Xvfb through
# tauri-driver, through first launch and one sale, checked in the store file
# on disk. Removes (purges) the package again, also when a step fails.
# The .rpm cannot be installed here; its declared requirements are checked
# with Debian's rpm tool.
#
#   scripts/package.sh && scripts/package-test.sh   (scripts/test.sh does this)
#
# Refuses to run when a ShopSync package is already installed: it would
# remove it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

ensure_apt "${E2E_PACKAGES[@]}" rpm
ensure_tauri_driver

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' tauri.conf.json)
bundle="$CARGO_TARGET_DIR/release/bundle"
deb=$(ls -t "$bundle"/deb/*_"${version}"_*.deb 2>/dev/null | head -n1 || true)
rpm_file=$(ls -t "$bundle"/rpm/*-"${version}"-*.rpm 2>/dev/null | head -n1 || true)
[[ -n "$deb" && -n "$rpm_file" ]] || { echo "no .deb/.rpm of $version under $bundle: run scripts/package.sh" >&2; exit 1; }

fail() { echo "package test: $*" >&2; exit 1; }

pkg=$(dpkg-deb -f "$deb" Package)
# apt waits for another apt's lock instead of failing at once; sudo drops
# the environment, hence `env`.
apt_get() { as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; }
status() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true; }

# A package this test installed and could not remove (the run was killed)
# is recognised by the marker and removed; any other install of the
# package is the user's, and is left alone.
marker=/var/lib/shopsync-package-test/installed
if [[ -f "$marker" ]]; then
  say "removing the $pkg package a killed package test left behind"
  apt_get purge -y -qq "$pkg" >/dev/null
  as_root rm -f "$marker"
fi
case "$(status)" in
  "" | "unknown ok not-installed" | "deinstall ok config-files") ;;
  *) fail "the $pkg package is on this machine ($(status)); this test would replace and remove it (apt-get purge $pkg first)" ;;
esac

# What the packages declare.
depends=$(dpkg-deb -f "$deb" Depends)
for d in libwebkit2gtk-4.1-0 libgtk-3-0; do
  [[ "$depends" == *"$d"* ]] || fail "$deb does not depend on $d (Depends: $depends)"
done
requires=$(rpm -qp --requires "$rpm_file" 2>/dev/null)
for r in 'libwebkit2gtk-4.1.so.0()(64bit)' 'libgtk-3.so.0()(64bit)'; do
  grep -qxF "$r" <<<"$requires" || fail "$rpm_file does not require $r"
done
# Lists read whole first: `grep -q` stops early, and under pipefail the
# writer's broken pipe would fail the check.
rpm_files=$(rpm -qpl "$rpm_file" 2>/dev/null)
grep -qx /usr/bin/shopsync-app <<<"$rpm_files" || fail "$rpm_file has no /usr/bin/shopsync-app"

# The e2e test binary first, so no build runs while the package is installed.
cargo build --locked -p shopsync-e2e --release --test installed

tmp=$(mktemp -d)
XVFB_PID=
installed=0
cleanup() {
  local rc=$?
  [[ -n "$XVFB_PID" ]] && kill -TERM "$XVFB_PID" 2>/dev/null || true
  if ((rc != 0)) && [[ -s "$tmp/xvfb.log" ]]; then
    echo "--- Xvfb's log ---" >&2
    cat "$tmp/xvfb.log" >&2
  fi
  if ((installed)); then
    say "removing the $pkg package"
    if apt_get purge -y -qq "$pkg" >/dev/null; then
      as_root rm -f "$marker"
    else
      echo "package test: could not remove $pkg; the next run removes it (or: apt-get purge $pkg)" >&2
      rc=1
    fi
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

say "installing $deb"
installed=1
as_root mkdir -p "$(dirname "$marker")"
as_root touch "$marker"
apt_get install -y -qq "$deb" >/dev/null

deb_files=$(dpkg -L "$pkg")
bin=$(grep -x '/usr/bin/[^/]*' <<<"$deb_files" | head -n1 || true)
[[ -n "$bin" && -x "$bin" ]] || fail "the package installed no program in /usr/bin"
# The package holds this checkout's build, not an older bundle.
built=$("$CARGO_TARGET_DIR/release/shopsync-app" --version)
[[ "$("$bin" --version)" == "$built" ]] || fail "$bin is not this build ($("$bin" --version), built: $built): run scripts/package.sh"
desktop=$(grep '^/usr/share/applications/.*\.desktop$' <<<"$deb_files" | head -n1 || true)
[[ -n "$desktop" ]] || fail "the package installed no desktop entry"
grep -q '^Categories=.*Office' "$desktop" || fail "$desktop has no Office category"
grep -q '^Comment=.' "$desktop" || fail "$desktop has no Comment"
icon=$(sed -n 's/^Icon=//p' "$desktop")
grep -q "^/usr/share/icons/hicolor/.*/apps/$icon\.png$" <<<"$deb_files" || fail "no $icon icon installed"

start_xvfb "$tmp"
say "the installed $bin under Xvfb ($DISPLAY): first launch and a sale"
SHOPSYNC_APP_BIN="$bin" cargo test --locked -p shopsync-e2e --release --test installed -- --ignored --test-threads=1
