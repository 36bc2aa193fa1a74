#!/usr/bin/env bash
# A customer's way through ShopSync, end to end, with the real binaries: a
# sync server on a free port, a shop with two tills, and a customer with two
# devices (a phone and a laptop) in a temporary folder removed on exit.
#
# Each step prints a line ("== …") and checks its outcome from the
# commands' --json output; any mismatch stops the script with a non-zero
# exit. scripts/test.sh runs it after the unit, CLI and server tests.
#
#   scripts/demo-customers.sh          # build (debug) and run
#   KEEP=1 scripts/demo-customers.sh   # keep the folder to look at the files
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_apt "${DEMO_PACKAGES[@]}"
say "building shopsync and shopsync-server"
cargo build --locked -q -p shopsync-cli -p shopsync-server
BIN="$CARGO_TARGET_DIR/debug"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${KEEP:-}" ]; then
    echo "kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

export SHOPSYNC_LOG=warn
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
  printf '\033[31mMISMATCH: %s\033[0m\n' "$*" >&2
  exit 1
}
# check WHAT JSON FILTER: FILTER (jq, given JSON) must be true.
check() {
  if ! jq -e "$3" >/dev/null <<<"$2"; then
    printf '%s\n' "$2" | head -c 4000 >&2
    echo >&2
    fail "$1 (jq: $3)"
  fi
}
# poll WHAT CMD...: runs CMD until it succeeds, for at most 5 s.
poll() {
  local what="$1" deadline=$((SECONDS + 5))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "not within 5 s: $what"
    sleep 0.2
  done
}

admin() { "$BIN/shopsync-server" --db "$work/server.db" --json "$@"; }
till1() { "$BIN/shopsync" --db "$work/till1.db" --json "$@"; }
till2() { "$BIN/shopsync" --db "$work/till2.db" --json "$@"; }
phone() { "$BIN/shopsync" --db "$work/phone.db" --json customer "$@"; }
laptop() { "$BIN/shopsync" --db "$work/laptop.db" --json customer "$@"; }
# The same, printed for a person.
show() { "$BIN/shopsync" --db "$work/$1.db" "${@:2}" | sed 's/^/   | /'; }

step "the sync server starts on a free port"
# The server prints "listening on URL" first; it is read from a pipe (no
# fixed port, no sleep).
coproc SERVER { exec "$BIN/shopsync-server" --db "$work/server.db" serve --listen 127.0.0.1:0 --heartbeat-secs 1; }
server_pid="$SERVER_PID"
read -r -t 30 line <&"${SERVER[0]}" || fail "the server printed no address"
url="${line#listening on }"
[[ "$url" == http://127.0.0.1:* ]] || fail "unexpected first line: $line"
echo "   $url"

step "a store and its manager code on the server"
created="$(admin store create --name "Corner Shop")"
manager_code="$(jq -r .enrol_code <<<"$created")"
check "store created" "$created" '.name == "Corner Shop"'

step "till 1: products with stock, the catalog published, enrolled with the manager code"
till1 init --store-name "Corner Shop" --till "Till 1" >/dev/null
till1 product add --sku MILK --name "Whole milk 1L" --price 1.99 --reorder-point 3 >/dev/null
till1 product add --sku BREAD --name "Sourdough loaf" --price 3.50 --reorder-point 2 >/dev/null
till1 product add --sku BUTTER --name "Butter 250g" --price 3.49 --reorder-point 2 >/dev/null
till1 receive MILKx10 BREADx5 BUTTERx3 >/dev/null
till1 setting set publish true >/dev/null
enrolled="$(till1 enrol --server "$url" --code "$manager_code")"
check "till 1 enrolled, its store uploaded" "$enrolled" \
  '.role == "manager" and .uploaded and .store_name == "Corner Shop"'
# The server adopts the store of the first till that brings one.
store="$(jq -r .store_id <<<"$enrolled")"
till1 sync >/dev/null
check "till 1 stock" "$(till1 stock)" \
  'map({(.sku): .on_hand}) | add == {"MILK": 10, "BREAD": 5, "BUTTER": 3}'

step "till 2: enrolled with a till code, downloads the store"
till_code="$(admin enrol-code create --store "$store" --role till | jq -r .enrol_code)"
till2 enrol --server "$url" --code "$till_code" --till "Till 2" >/dev/null
till2 sync >/dev/null
check "till 2 has the stock" "$(till2 stock)" \
  'map({(.sku): .on_hand}) | add == {"MILK": 10, "BREAD": 5, "BUTTER": 3}'

step "the customer signs up on the phone and links the laptop"
ana="$(phone signup --server "$url" --name Ana)"
check "signed up" "$ana" '.signed_up == true'
code="$(phone link-code | jq -r .code)"
linked="$(laptop link --server "$url" --code "$code")"
check "one account, two devices" "$linked" \
  ".customer_id == $(jq .customer_id <<<"$ana") and .device_id != $(jq .device_id <<<"$ana")"

step "both devices edit one list offline, then sync (twice)"
phone list new Weekly >/dev/null
phone list add Weekly apples --qty 4 >/dev/null
phone sync >/dev/null
laptop sync >/dev/null
phone list add Weekly tea >/dev/null          # offline on the phone
phone list qty Weekly apples 6 >/dev/null
laptop list add Weekly "oat biscuits" >/dev/null  # offline on the laptop
laptop list tick Weekly apples >/dev/null
for _ in 1 2; do
  phone sync >/dev/null
  laptop sync >/dev/null
done
on_phone="$(phone list show Weekly)"
on_laptop="$(laptop list show Weekly)"
[ "$on_phone" = "$on_laptop" ] || fail "the list differs: $on_phone vs $on_laptop"
check "the merged list" "$on_phone" \
  '[.items[] | {t: .what.text, q: .qty, c: .checked}] | sort_by(.t) ==
   [{t: "apples", q: 6, c: true}, {t: "oat biscuits", q: 1, c: false}, {t: "tea", q: 1, c: false}]'
show phone customer list show Weekly

step "shops: the customer finds the Corner Shop and makes it a favourite"
# The server lists a shop once it has derived its public catalog.
listed() { phone shops --search corner | jq -e "any(.store_id == \"$store\")" >/dev/null; }
poll "the shop is listed" listed
phone favourite add "Corner Shop" >/dev/null

step "catalog: the shop's products and how many it has"
catalog_has() {
  phone sync >/dev/null
  phone catalog "Corner Shop" | jq -e "$1" >/dev/null
}
poll "the catalog with three products" catalog_has \
  '.synced and ([.catalog.products[] | {(.sku): .availability}] | add ==
   {"MILK": "in_stock", "BREAD": "in_stock", "BUTTER": "in_stock"})'
show phone customer catalog "Corner Shop"

step "a sale at till 2: the customer's catalog shows butter running low (within 5 s)"
till2 sell BUTTERx2 --pay cash:10 >/dev/null
till2 sync >/dev/null
poll "butter low in the catalog" catalog_has \
  '.catalog.products[] | select(.sku == "BUTTER") | .availability == "low"'
show phone customer catalog "Corner Shop" --search butter

step "the customer sends the list as a pickup order"
phone list add Weekly --product "Corner Shop:MILK" --qty 2 >/dev/null
phone list add Weekly --product "Corner Shop:BREAD" >/dev/null
sent="$(phone order send Weekly --shop "Corner Shop" --note "after 5pm")"
order="$(jq -r '.order.id' <<<"$sent")"
check "order sent" "$sent" \
  '.order.status == "sent" and ([.order.lines[] | .sku // empty] | sort == ["BREAD", "MILK"])'
phone sync >/dev/null

step "till 1 sees the order and accepts it, one line unavailable (BREAD)"
till1 sync >/dev/null
check "till 1 lists the order" "$(till1 orders)" "any(.id == \"$order\" and .status == \"sent\")"
accepted="$(till1 order accept "$order" --unavailable BREAD)"
check "accepted, bread unavailable" "$accepted" \
  '.status == "accepted" and ([.lines[] | select(.unavailable) | .sku] == ["BREAD"])'
till1 sync >/dev/null

step "till 2 syncs: the milk is reserved"
till2 sync >/dev/null
check "till 2 reserves 2 milk" "$(till2 stock MILK)" \
  '.[0] | .on_hand == 10 and .reserved == 2 and .available == 8'

step "till 1 has the order ready; the customer sees it ready"
till1 order ready "$order" >/dev/null
till1 sync >/dev/null
phone sync >/dev/null
check "ready on the phone" "$(phone orders)" "any(.id == \"$order\" and .status == \"ready\")"
laptop sync >/dev/null
check "ready on the laptop" "$(laptop orders)" "any(.id == \"$order\" and .status == \"ready\")"
show phone customer orders

step "the customer collects at till 2 and pays for the milk"
till2 sync >/dev/null
collected="$(till2 order collect "$order" --pay cash:5)"
check "collected: 2 milk paid (bread unavailable)" "$collected" \
  '.order.status == "collected" and .receipt.total == "3.98" and .receipt.change == "1.02"'
till2 sync >/dev/null
till1 sync >/dev/null
phone sync >/dev/null
check "collected on the phone" "$(phone orders)" "any(.id == \"$order\" and .status == \"collected\")"

step "stock and the Z report agree on both tills"
stock_of() { "$@" stock | jq -S 'map({sku, on_hand, reserved, available}) | sort_by(.sku)'; }
s1="$(stock_of till1)"
s2="$(stock_of till2)"
[ "$s1" = "$s2" ] || fail "stock differs: $s1 vs $s2"
check "stock after the day" "$s1" \
  'map({(.sku): [.on_hand, .reserved]}) | add == {"BREAD": [5, 0], "BUTTER": [1, 0], "MILK": [8, 0]}'
z1="$(till1 report z | jq -S .)"
z2="$(till2 report z | jq -S .)"
[ "$z1" = "$z2" ] || fail "the Z reports differ: $z1 vs $z2"
check "two sales in the Z report" "$z1" '.sales_count == 2'
show till1 report z

printf '\n\033[1mall checks passed\033[0m\n'
