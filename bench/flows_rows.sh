#!/usr/bin/env bash
# The calico-flows row of make bench: a calico-flows on loopback is sent 100k distinct flow
# records (10 POSTs of 10k NDJSON records each, as nodes flush them, with a one-step policy trace
# and labels), then the same 100k again (every record merges into its flow). Measured: records
# ingested per second (each pass, wall clock of the POSTs), and calico-flows' RSS holding 100k
# aggregated flows (VmRSS), against the size of the records as NDJSON.
# Usage: bench/flows_rows.sh BIN_DIR RESULTS_JSON [FLOWS]
set -euo pipefail
BIN=$1
OUT=$2
N=${3:-100000}
BATCH=10000
TMP=$(mktemp -d /tmp/flows-bench.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
"$BIN/calico-flows" --listen 127.0.0.1:0 --max-flows $((N * 2)) --log-level warning \
  >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$TMP/out" 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$(grep -o '[0-9]*$' "$TMP/out")"
now=$(date +%s)
# Batches of distinct flows: client-I in namespace ns-(I%50) to web-(I%500):80.
for ((b = 0; b < N / BATCH; b++)); do
  awk -v from=$((b * BATCH)) -v n=$BATCH -v t=$((now - 30)) 'BEGIN {
    for (i = from; i < from + n; i++) {
      printf "{\"Key\":{\"sourceName\":\"client-%d\",\"sourceNamespace\":\"ns-%d\",\"sourceType\":\"WorkloadEndpoint\",\"destName\":\"web-%d\",\"destNamespace\":\"prod\",\"destType\":\"WorkloadEndpoint\",\"destPort\":80,\"proto\":\"tcp\",\"reporter\":\"Dst\",\"action\":\"%s\",\"policies\":{\"enforcedPolicies\":[{\"kind\":\"CalicoNetworkPolicy\",\"namespace\":\"prod\",\"name\":\"default.policy-%d\",\"tier\":\"default\",\"action\":\"%s\",\"ruleIndex\":%d}]},\"sourceIp\":\"10.%d.%d.%d\",\"destIp\":\"10.200.%d.%d\"},\"startTime\":%d,\"endTime\":%d,\"sourceLabels\":[\"app=client\",\"idx=%d\"],\"destLabels\":[\"app=web\"],\"packetsOut\":3,\"bytesOut\":180,\"numConnectionsStarted\":1}\n",
        i, i % 50, i % 500, (i % 10 == 0 ? "Deny" : "Allow"), i % 100, (i % 10 == 0 ? "Deny" : "Allow"), i % 3,
        int(i / 65536) % 256, int(i / 256) % 256, i % 256, int((i % 500) / 256), (i % 500) % 256, t, t + 5, i
    }
  }' >"$TMP/batch-$b.ndjson"
done
bytes=$(cat "$TMP"/batch-*.ndjson | wc -c)
post_all() {
  local start end
  start=$(date +%s.%N)
  for f in "$TMP"/batch-*.ndjson; do
    curl -sf -XPOST -H 'Content-Type: application/x-ndjson' --data-binary @"$f" "$URL/api/v1/flows" >/dev/null
  done
  end=$(date +%s.%N)
  awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }'
}
distinct=$(post_all)
merged=$(post_all)
flows=$(curl -sf "$URL/api/v1/status" | grep -o '"flows":[0-9]*' | cut -d: -f2)
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
[ "$flows" = "$N" ] || { echo "flows-bench: expected $N flows in the window, have $flows" >&2; exit 1; }
rec() { "$BIN/calico-bench" record --out "$OUT" "$@"; }
params="{\"flows\":$N,\"batch\":$BATCH,\"peer\":\"none\"}"
rec --row flows --metric ingest_per_s_new --ours "$distinct" --peer 0 --unit records/s --samples "$N" --params "$params"
rec --row flows --metric ingest_per_s_merge --ours "$merged" --peer 0 --unit records/s --samples "$N" --params "$params"
mb() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.1f", x / d }'; }
rec --row flows --metric rss_mb --ours "$(mb "$rss_kb" 1024)" \
  --peer "$(mb "$bytes" 1048576)" --unit MB --samples 1 \
  --params "{\"flows\":$N,\"peer\":\"the records as NDJSON\"}"
echo "flows: $distinct records/s new, $merged records/s merged, RSS $(mb "$rss_kb" 1024) MB for $N flows ($(mb "$bytes" 1048576) MB of NDJSON)"
