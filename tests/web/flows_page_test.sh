#!/usr/bin/env bash
# calico-flows' web page in headless Chromium, hermetic: a calico-flows on loopback is fed
# recorded flow records (the ingest API, as nodes do) and the page's DOM is checked:
#   * the flows table: the denied flow with its deciding policy and rule (end of tier), the
#     staged policies' pending verdict (changed: "Allow (was Deny)"; unchanged: "no staged
#     change"), an allowed flow; the filters (action, namespace, policy, staged changes);
#   * the explain view of the selected denied flow (calicoctl's command when calico-flows has no
#     explain library);
#   * the policies view: hits per policy, and the flows a policy denied;
#   * the live stream (Server-Sent Events): a flow posted after the page loaded appears;
#   * a screenshot kept under the build directory (artefacts/flows_page.png).
# Usage: flows_page_test.sh BIN_DIR RECORDS_TEMPLATE ARTEFACT_DIR
set -euo pipefail
BIN=$1
RECORDS=$2
ARTEFACTS=$3
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (tools/deps.sh)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
WEB_TMP=$(mktemp -d /tmp/flows-web.XXXXXX)
FLOWS_PID=
cleanup() {
  [ -n "$FLOWS_PID" ] && kill "$FLOWS_PID" 2>/dev/null && wait "$FLOWS_PID" 2>/dev/null
  rm -rf "$WEB_TMP"
}
trap cleanup EXIT
source "$(dirname "$0")/web_lib.sh"
mkdir -p "$ARTEFACTS"

fail() {
  echo "FAIL: $*" >&2
  [ -f "$WEB_TMP/chromium.log" ] && tail -5 "$WEB_TMP/chromium.log" >&2
  exit 1
}
# expect FILE PATTERN WHAT: the extended regex is in the file.
expect() { grep -Eq "$2" "$1" || { sed -n '1,400p' "$1" | grep -Eo '<tbody>.*' | head -5 >&2; fail "$3"; }; }
expect_not() { ! grep -Eq "$2" "$1" || fail "$3"; }

"$BIN/calico-flows" --listen 127.0.0.1:0 >"$WEB_TMP/flows.out" 2>"$WEB_TMP/flows.err" &
FLOWS_PID=$!
for _ in $(seq 1 100); do
  grep -q "listening on port" "$WEB_TMP/flows.out" 2>/dev/null && break
  sleep 0.1
done
PORT=$(grep -o '[0-9]*$' "$WEB_TMP/flows.out") || fail "calico-flows did not start: $(cat "$WEB_TMP/flows.err")"
URL="http://127.0.0.1:$PORT"

now=$(date +%s)
sed "s/@START@/$((now - 20))/g; s/@END@/$((now - 10))/g" "$RECORDS" >"$WEB_TMP/records.ndjson"
curl -sf -XPOST --data-binary @"$WEB_TMP/records.ndjson" "$URL/api/v1/flows" >"$WEB_TMP/post.out" ||
  fail "POST /api/v1/flows"
expect "$WEB_TMP/post.out" '"accepted":4' "the ingest answer"

# 1. The table and the explain view of the denied wget (id 1: the first record posted).
chromium_dom "$URL/?live=poll&select=1" "$WEB_TMP/dom1.html"
expect "$WEB_TMP/dom1.html" 'id="status">polling<' "the page polled"
expect "$WEB_TMP/dom1.html" \
  '<tr class="Deny( selected)?" data-id="[0-9]+" data-action="Deny"><td>[^<]*</td><td class="source">default/client \(10.65.0.2\)</td><td class="dest">prod/web \(10.65.1.3\)</td><td>tcp/80</td><td class="action">Deny</td><td class="policy">prod/default.web-only-frontend \(default, end of tier\)</td><td class="pending changed">Allow \(was Deny\): prod/default.staged-allow-client' \
  "the denied wget with its deciding policy (end of tier) and the staged verdict"
expect "$WEB_TMP/dom1.html" '<td class="policy">default.deny-db \(default, rule 2\)</td>' \
  "the deny after a Pass names the deciding rule"
expect "$WEB_TMP/dom1.html" 'data-action="Allow"><td>[^<]*</td><td class="source">prod/frontend' "the allowed flow"
expect "$WEB_TMP/dom1.html" \
  'data-action="Allow"><td>[^<]*</td><td class="source">prod/frontend[^<]*</td>(<td[^>]*>[^<]*</td>){4}<td class="pending same">no staged change</td>' \
  "a flow the staged policies do not change says so"
expect "$WEB_TMP/dom1.html" '4 of 4 flows' "the count"
if grep -q 'class="explain-command"' "$WEB_TMP/dom1.html"; then
  expect "$WEB_TMP/dom1.html" \
    'class="explain-command">calicoctl policy explain --from 10.65.0.2 --to 10.65.1.3 --protocol TCP --port 80<' \
    "the explain view gives the command for the selected denied flow"
else
  expect "$WEB_TMP/dom1.html" 'class="verdict">Verdict: Deny' "the explain view's verdict"
fi

# 2. Filters from the URL (the same inputs a user types into).
chromium_dom "$URL/?live=poll&action=Allow" "$WEB_TMP/dom2.html"
expect "$WEB_TMP/dom2.html" '2 of 4 flows' "action=Allow keeps the two allowed flows"
expect_not "$WEB_TMP/dom2.html" 'data-action="Deny"' "no denied flow under action=Allow"
chromium_dom "$URL/?live=poll&namespace=kube-system" "$WEB_TMP/dom3.html"
expect "$WEB_TMP/dom3.html" '1 of 4 flows' "namespace=kube-system"
expect "$WEB_TMP/dom3.html" 'kube-system/kube-dns' "the DNS flow"
chromium_dom "$URL/?live=poll&pending=changed" "$WEB_TMP/dom4p.html"
expect "$WEB_TMP/dom4p.html" '1 of 4 flows' "pending=changed keeps the flow the staged policies would allow"
expect "$WEB_TMP/dom4p.html" 'class="pending changed">Allow \(was Deny\)' "that flow's pending verdict"
chromium_dom "$URL/?live=poll&policy=deny-db" "$WEB_TMP/dom4.html"
expect "$WEB_TMP/dom4.html" '1 of 4 flows' "policy=deny-db"

# 3. The policies view, and the flows one policy denied.
chromium_dom "$URL/?live=poll&tab=policies&policy=prod/default.web-only-frontend" "$WEB_TMP/dom5.html"
expect "$WEB_TMP/dom5.html" \
  '<td>default</td><td class="policy-name">prod/default.web-only-frontend</td><td>CalicoNetworkPolicy</td><td>1 flows, 11 pkts</td><td class="denied">1 flows, 3 pkts</td>' \
  "the policy's hits (allowed and denied)"
expect "$WEB_TMP/dom5.html" 'policy-name">prod/default.staged-allow-client \(staged\)' "the staged policy's hits"
expect "$WEB_TMP/dom5.html" 'Flows denied by prod/default.web-only-frontend' "the policy detail"
expect "$WEB_TMP/dom5.html" \
  '<tr><td>[^<]*</td><td>default/client \(10.65.0.2\)</td><td>prod/web \(10.65.1.3\)</td><td>tcp/80</td><td>prod/default.web-only-frontend \(default, end of tier\)</td>' \
  "the flow that policy denied"

# 4. Live (Server-Sent Events): a flow posted now reaches a page that streams.
# Each stream ends after 2 s (streamTimeout) so that the browser's virtual clock runs between
# them; the page reconnects and keeps what it was sent.
# The late flow is posted while the page streams (each stream lasts 2 s of real time).
chromium_dom "$URL/?namespace=default&streamTimeout=2s" "$WEB_TMP/dom6.html" &
browser=$!
sleep 1
sed -n 1p "$WEB_TMP/records.ndjson" | sed 's/"sourceName":"client"/"sourceName":"late-client"/' |
  curl -sf -XPOST --data-binary @- "$URL/api/v1/flows" >/dev/null || fail "POST the late flow"
wait "$browser" || fail "chromium failed"
expect "$WEB_TMP/dom6.html" '<td class="source">default/late-client \(10.65.0.2\)</td>' \
  "the streamed page shows the flow posted after the first ones"
expect "$WEB_TMP/dom6.html" '4 of 5 flows' "the streamed page has every flow (4 in namespace default)"

# 5. The screenshot (a test artefact).
chromium_shot "$URL/?live=poll&select=1" "$ARTEFACTS/flows_page.png"
[ -s "$ARTEFACTS/flows_page.png" ] || fail "no screenshot"
echo "PASS: calico-flows page (screenshot $ARTEFACTS/flows_page.png)"
