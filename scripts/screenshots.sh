#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/*.png) from the
# end-to-end tests in the real window. Test runs never write there; this
# script is the one explicit way to change them.
#
#   scripts/screenshots.sh [test-name-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
export SHOPSYNC_SCREENSHOTS_DIR="$PWD/docs/screenshots"
mkdir -p "$SHOPSYNC_SCREENSHOTS_DIR"
exec scripts/e2e.sh "$@"
