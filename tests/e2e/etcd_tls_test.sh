#!/usr/bin/env bash
# etcd requiring TLS client certificates (made here with openssl) and a user/password, end to
# end: calicoctl, calicoctl node run + calico-node (start-up and agent), the calico CNI plugin
# with the calico-ipam plugin, and calico-libnetwork all work against it; a client without a
# certificate, with a certificate of another CA, or with a wrong password is refused with a clear
# error. Every binary runs at debug level, and neither the etcd password nor the private key
# appears in any log, nor in `calicoctl node diags` (whose tarball is owner-only), even with a
# BGP password in bird.conf and an etcd password on a process's command line.
BIN=${1:?usage: etcd_tls_test.sh BUILD_BIN_DIR}
set -euo pipefail
has() { grep "$@" >/dev/null; }
T=$(mktemp -d /tmp/calico-tls-XXXXXX)
HOST=calico-tls-$$
WL=calico-tls-wl-$$
PIDS=()
cleanup() {
  local rc=$?
  ip netns exec "$HOST" "$BIN/calicoctl" node stop --run-dir="$T/run" >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  # Anything else still running in the test's own namespace was started by this test.
  for p in $(ip netns pids "$HOST" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$WL" 2>/dev/null || true
  ip netns del "$HOST" 2>/dev/null || true
  [ -n "${TARBALL:-}" ] && rm -f "$TARBALL"
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v etcd >/dev/null || fail "etcd is not installed: run make deps"
command -v openssl >/dev/null || fail "openssl is not installed: run make deps"
hx() { ip netns exec "$HOST" "$@"; }
mkdir -p "$T/pki" "$T/logs" "$T/run"

# A host namespace with an uplink (the node's address) and etcd on its loopback.
ip netns add "$HOST"
hx ip link set lo up
hx sysctl -qw net.ipv4.ip_forward=1
hx ip link add uplink0 type veth peer name uplink1
hx ip link set uplink0 up
hx ip link set uplink1 up
hx ip addr add 10.99.0.1/32 dev uplink0
hx ip route add default dev uplink0

# Certificates: a CA, etcd's server certificate, calico's client certificate, and a client
# certificate of another CA.
(
  cd "$T/pki"
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=calico-test-ca -keyout ca.key -out ca.pem
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rogue-ca.key -out rogue-ca.pem
  for c in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$c" -keyout $c.key -out $c.csr
    openssl x509 -req -in $c.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out $c.pem
  done
  openssl req -newkey rsa:2048 -nodes -subj /CN=rogue -keyout rogue.key -out rogue.csr
  openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key -CAcreateserial -days 2 -extfile ext.cnf -out rogue.pem
  chmod 600 ./*.key
) >"$T/openssl.log" 2>&1 || fail "openssl: $(tail -5 "$T/openssl.log")"
P=$T/pki
KEY_LINE=$(sed -n 2p "$P/client.key")   # a line of the private key's body
PASSWORD="etcd-pw-$RANDOM$RANDOM$RANDOM"
BGP_PASSWORD="bgp-pw-$RANDOM$RANDOM"

URL=https://127.0.0.1:23790
# Daemons are started with `ip netns exec` itself in the background (not through a shell
# function, whose $! would be a subshell), so cleanup ends them by their own PID.
ip netns exec "$HOST" etcd --name tls --data-dir "$T/etcd" --listen-client-urls "$URL" --advertise-client-urls "$URL" \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster tls=http://127.0.0.1:23800 --client-cert-auth --trusted-ca-file "$P/ca.pem" \
  --cert-file "$P/server.pem" --key-file "$P/server.key" >"$T/etcd.log" 2>&1 &
PIDS+=($!)
ctl_etcd() {
  hx env ETCDCTL_API=3 etcdctl --endpoints="$URL" --cacert="$P/ca.pem" --cert="$P/client.pem" \
    --key="$P/client.key" "$@"
}
for _ in $(seq 100); do ctl_etcd endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
ctl_etcd endpoint health >/dev/null 2>&1 || fail "etcd with TLS did not start: $(tail -5 "$T/etcd.log")"
# Authentication on too: the client needs its certificate and the password.
ctl_etcd user add "root:$PASSWORD" >/dev/null || fail "etcdctl user add"
ctl_etcd auth enable >/dev/null || fail "etcdctl auth enable"
echo "etcd on $URL: client certificates required, auth enabled"

ENV=(DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS="$URL" ETCD_CA_CERT_FILE="$P/ca.pem"
     ETCD_CERT_FILE="$P/client.pem" ETCD_KEY_FILE="$P/client.key" ETCD_USERNAME=root
     ETCD_PASSWORD="$PASSWORD")
calicoctl() { hx env -i PATH="$BIN:/usr/sbin:/usr/bin:/sbin:/bin" "${ENV[@]}" "$BIN/calicoctl" "$@"; }

# calicoctl.
calicoctl --log-level debug apply -f - >"$T/logs/calicoctl.log" 2>&1 <<YAML || fail "calicoctl apply over TLS: $(cat "$T/logs/calicoctl.log")"
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: tls-pool}
spec: {cidr: 10.70.0.0/24}
YAML
calicoctl get ippools 2>&1 | has tls-pool || fail "calicoctl get ippools over TLS"
echo "  ok: calicoctl apply/get over TLS with a client certificate and a password"

# Refusals, each with a clear error and a non-zero exit.
refused() {  # refused WHAT PATTERN ENV...
  local what=$1 pattern=$2 out; shift 2
  if out=$(hx env -i PATH="$BIN:/usr/bin:/bin" "$@" "$BIN/calicoctl" get ippools 2>&1); then
    fail "calicoctl $what succeeded: $out"
  fi
  echo "$out" | grep -Ei "$pattern" >/dev/null || fail "calicoctl $what: unclear error: $out"
  echo "  ok: $what refused: $(echo "$out" | head -c 160)"
}
# (The TLS refusals wait out the dial timeout: both at once.)
refused "without a client certificate" "etcd|certificate|handshake|unreachable" \
  DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS="$URL" ETCD_CA_CERT_FILE="$P/ca.pem" ETCD_USERNAME=root \
  ETCD_PASSWORD="$PASSWORD" &
r1=$!
refused "with another CA's certificate" "etcd|certificate|handshake|unreachable" \
  DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS="$URL" ETCD_CA_CERT_FILE="$P/ca.pem" \
  ETCD_CERT_FILE="$P/rogue.pem" ETCD_KEY_FILE="$P/rogue.key" ETCD_USERNAME=root ETCD_PASSWORD="$PASSWORD" &
r2=$!
wait "$r1" || exit 1
wait "$r2" || exit 1
refused "with a wrong password" "authentication failed|invalid|permission" \
  DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS="$URL" ETCD_CA_CERT_FILE="$P/ca.pem" \
  ETCD_CERT_FILE="$P/client.pem" ETCD_KEY_FILE="$P/client.key" ETCD_USERNAME=root ETCD_PASSWORD=wrong
refused "with a missing key file" "nope.key" \
  DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS="$URL" ETCD_CA_CERT_FILE="$P/ca.pem" \
  ETCD_CERT_FILE="$P/client.pem" ETCD_KEY_FILE="$P/nope.key" ETCD_USERNAME=root ETCD_PASSWORD="$PASSWORD"

# calicoctl node run: calico-node (start-up, then the agent) gets the TLS settings and password.
out=$(hx env -i PATH="$BIN:/usr/sbin:/usr/bin:/sbin:/bin" "${ENV[@]}" FELIX_LOGSEVERITYSCREEN=debug \
  "$BIN/calicoctl" node run --name=tls-node --ip=autodetect --backend=none \
  --log-dir="$T/logs" --run-dir="$T/run" 2>&1) || fail "node run over TLS: $out"
for _ in $(seq 100); do has "in sync at revision" "$T/logs/calico-node.log" && break; sleep 0.2; done
has "in sync at revision" "$T/logs/calico-node.log" ||
  fail "calico-node over TLS never got in sync: $(tail -5 "$T/logs/calico-node.log")"
calicoctl get nodes 2>&1 | has tls-node || fail "the Node resource of tls-node is missing"
echo "  ok: calicoctl node run: calico-node registered tls-node and its agent is in sync over TLS"

# The CNI plugins: certificates in the network config (as Calico's), the password from the
# environment; debug logging.
ip netns add "$WL"
ip netns exec "$WL" ip link set lo up
conf=$(printf '{"cniVersion":"0.4.0","name":"tlsnet","type":"calico","nodename":"tls-node","log_level":"debug","etcd_endpoints":"%s","etcd_ca_cert_file":"%s","etcd_cert_file":"%s","etcd_key_file":"%s","ipam_lock_file":"%s","ipam":{"type":"calico-ipam"}}' \
  "$URL" "$P/ca.pem" "$P/client.pem" "$P/client.key" "$T/ipam.lock")
cni() {  # cni PLUGIN COMMAND CONTAINER
  echo "$conf" | hx env -i CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS=/run/netns/"$WL" \
    CNI_IFNAME=eth0 CNI_PATH="$BIN" PATH=/usr/sbin:/usr/bin:/sbin:/bin ETCD_USERNAME=root \
    ETCD_PASSWORD="$PASSWORD" "$BIN/$1" 2>>"$T/logs/cni.stderr"
}
out=$(cni calico ADD tls1) || fail "CNI ADD over TLS: $out $(tail -3 "$T/logs/cni.stderr")"
IP=$(echo "$out" | grep -o '"address": *"[^"/]*' | head -1 | sed 's/.*"//')
[ -n "$IP" ] || fail "CNI ADD over TLS gave no address: $out"
calicoctl get workloadendpoints 2>&1 | has tls1 || fail "no WorkloadEndpoint for tls1"
for _ in $(seq 50); do hx ip route show | has "^$IP dev cali" && break; sleep 0.2; done
hx ip route show | has "^$IP dev cali" || fail "the agent did not program the route to $IP"
out=$(cni calico-ipam ADD tls2) || fail "calico-ipam ADD over TLS: $out"
cni calico-ipam DEL tls2 >/dev/null || fail "calico-ipam DEL over TLS"
echo "  ok: CNI ADD over TLS: workload $IP, its endpoint stored and its route programmed"

# calico-libnetwork at debug level: a pool, an address, its release.
SOCK=$T/libnetwork.sock
ip netns exec "$HOST" env -i PATH="$BIN:/usr/bin:/bin" "${ENV[@]}" NODENAME=tls-node "$BIN/calico-libnetwork" \
  --socket "$SOCK" --log-level debug --docker-host unix://"$T/no-docker.sock" \
  --ipam-lock-file "$T/ipam.lock" >"$T/logs/libnetwork.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
post() { curl -s --unix-socket "$SOCK" -X POST "http://localhost/$1" -d "$2"; }
post Plugin.Activate '{}' | has IpamDriver || fail "libnetwork Activate"
addr=$(post IpamDriver.RequestAddress '{"PoolID":"CalicoPoolIPv4","Address":"","Options":{}}')
echo "$addr" | has '"Address":"10.70.0.' || fail "libnetwork RequestAddress over TLS: $addr"
a=$(echo "$addr" | grep -o '10\.70\.0\.[0-9]*')
post IpamDriver.ReleaseAddress "{\"PoolID\":\"CalicoPoolIPv4\",\"Address\":\"$a\"}" | has -v Err ||
  fail "libnetwork ReleaseAddress"
echo "  ok: calico-libnetwork assigned and released $a over TLS"

out=$(cni calico DEL tls1) || fail "CNI DEL over TLS: $out"

# Secrets: a BGP password in bird.conf and an etcd password on a command line, for diags to find.
printf 'protocol bgp peer1 {\n  neighbor 10.99.0.9 as 64512;\n  password "%s";\n}\n' "$BGP_PASSWORD" >"$T/run/bird.conf"
ip netns exec "$HOST" bash -c 'exec -a "etcdctl --password='"$PASSWORD"' get /" sleep 60' &
PIDS+=($!)
out=$(hx "$BIN/calicoctl" node diags --log-dir="$T/logs" --run-dir="$T/run" 2>&1) || fail "diags: $out"
TARBALL=$(echo "$out" | sed -n 's/^Diags saved to //p')
[ -f "$TARBALL" ] || fail "no diags tarball: $out"
[ "$(stat -c %a "$TARBALL")" = 600 ] || fail "diags tarball mode $(stat -c %a "$TARBALL"), not 600"
mkdir "$T/diags"
tar -xzf "$TARBALL" -C "$T/diags"
has -r 'password "<redacted>"' "$T/diags" || fail "diags lacks the (redacted) bird.conf"
has -r "etcdctl --password=<redacted>" "$T/diags" || fail "diags lacks the (redacted) process list"
has -r "in sync at revision" "$T/diags" || fail "diags lacks calico-node's log"
for secret in "$PASSWORD" "$BGP_PASSWORD" "$KEY_LINE"; do
  if grep -rlF -- "$secret" "$T/diags" "$T/logs" >"$T/found"; then
    fail "a secret (${secret:0:12}...) is in: $(tr '\n' ' ' <"$T/found")"
  fi
done
lines=$(cat "$T"/logs/* | wc -l)
debug=$(cat "$T"/logs/* | grep -c '\[D\]' || true)
echo "  ok: no password or key in $lines log lines ($debug at debug level) nor in the diags tarball (mode 600)"
echo "FIGURES: security=etcd-tls refusals=4 log_lines=$lines debug_lines=$debug secrets_found=0 diags_mode=600"
echo "PASS: etcd TLS end to end"
