#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/*.png) from the
# end-to-end tests in the real window. Test runs never write there; this
# script is the one explicit way to change them.
#
#   scripts/screenshots.sh [test-name-filter]
#
# Each test saves its pictures under the names the README uses, e.g.
# sell.png, pay.png, receipt.png (scanned_sale_with_split_tender_shows_change),
# stock-levels.png, sales.png, settings.png (first_launch_and_screens), and
# orders.png, the Orders screen with an order accepted and one line
# unavailable (a_pickup_order_is_accepted_made_ready_and_collected), and
# sell-de.png, the Sell screen in German
# (the_till_speaks_german_when_chosen_and_keeps_it), and settings-about.png
# (about_shows_the_build_and_diagnostics_name_it_and_the_store), and
# sign-in.png, the PIN pad after a wrong PIN
# (a_cashier_signs_in_with_a_pin_sells_and_locks_with_the_cart_kept), and
# reorder-list.png, the reorder list with a low product
# (a_low_product_is_reordered_and_received_in_two_deliveries), and
# drawer-close.png, the Drawer screen's count 1.00 short before the close
# (drawer_session_from_float_to_a_short_close). The
# customer's web app's pictures (phone and desktop sizes) come from the
# browser tests (scripts/e2e-web.sh) into web/: customer-catalog-phone.png,
# customer-list-phone.png, customer-orders-phone.png, customer-list-desktop.png.
#
#   scripts/screenshots.sh a_pickup_order   refreshes orders.png alone
set -euo pipefail
cd "$(dirname "$0")/.."
export SHOPSYNC_SCREENSHOTS_DIR="$PWD/docs/screenshots"
mkdir -p "$SHOPSYNC_SCREENSHOTS_DIR"
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
scripts/e2e.sh "$@"
scripts/e2e-web.sh "$@"
# Every picture the README shows must exist; list those this run refreshed.
missing=0
for png in $(grep -o 'docs/screenshots/[a-z0-9/-]*\.png' README.md | sort -u); do
  if [[ ! -f "$png" ]]; then
    echo "missing: $png (README.md shows it; no test wrote it)" >&2
    missing=1
  elif [[ "$png" -nt "$stamp" ]]; then
    echo "refreshed: $png"
  fi
done
exit "$missing"
