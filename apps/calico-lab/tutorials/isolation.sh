# Seed 001: "Basic Network Isolation" with rkt: network1/network2 (cniVersion 0.1.0), a container
# with a fixed address (IP=), reachability within network1 and isolation from network2.
source "$(dirname "$0")/lib.sh"

section "1. Verify Calico service is running"
lab up --hosts 2 --datastore "$DATASTORE" >/dev/null || fail_step "calico-lab up"
lab list

section "2. Create the networks"
for host in calico-01 calico-02; do
  for net in network1 network2; do
    file="$(netd "$host")/10-calico-$net.conflist"
    conf=$(printf '{\n    "name": "%s",\n    "cniVersion": "0.1.0",\n    "plugins": [{\n        "type": "calico",\n        %s,\n        "ipam": {\n            "type": "calico-ipam"\n        }\n    }]\n}' "$net" "$(lab_conf_fields "$host")")
    echo "${DIM}[$host]${OFF}\$ cat >$file <<EOF"; echo "$conf"; echo "EOF"
    mkdir -p "$(netd "$host")"
    echo "$conf" > "$file"
  done
done

section "3. Create test container"
FIXED=198.19.7.7
WWW=$(www)
say "On calico-01, in network1, with the fixed address $FIXED (the seed's --net=network1:IP=...):"
IP=$(lab run calico-01 --net network1 --ip "$FIXED" --name web -- busybox httpd -f -h "$WWW" | tail -1) || fail_step "run web"
[ "$IP" = "$FIXED" ] || fail_step "web got $IP, not the requested $FIXED"
lab list
ok "the container has the address asked for"

section "4. Validate intra-network connectivity"
lab run calico-02 --net network1 --name client1 -- sleep 3600 >/dev/null || fail_step "run client1"
echo "\$ calico-lab exec client1 -- wget -q -O - $FIXED/etc/passwd"
retry 30 "$LAB" exec client1 -- timeout 3 busybox wget -q -O - "$FIXED/etc/passwd" || fail_step "network1 on calico-02 cannot reach $FIXED"
"$LAB" exec client1 -- timeout 3 busybox wget -q -O - "$FIXED/etc/passwd"
ok "network1 -> network1 across hosts: allowed"

section "5. Checking inter-network isolation"
lab run calico-02 --net network2 --name client2 -- sleep 3600 >/dev/null || fail_step "run client2"
echo "\$ calico-lab exec client2 -- wget -q -O - $FIXED/etc/passwd"
if "$LAB" exec client2 -- timeout 3 busybox wget -q -O - "$FIXED/etc/passwd"; then
  fail_step "network2 reached network1"
fi
echo "wget: download timed out"
ok "network2 -> network1: blocked"

section "6. Verify Calico profiles were created"
out=$(on calico-01 calicoctl get profiles) || fail_step "calicoctl get profiles"
echo "$out"
echo "$out" | has "^network1" && echo "$out" | has "^network2" || fail_step "profiles network1 and network2 missing"
ok "the CNI plugin created the profiles network1 and network2"

section "7. Resetting/Cleanup"
lab rm web >/dev/null && lab rm client1 >/dev/null && lab rm client2 >/dev/null || fail_step "rm"
out=$(on calico-01 calicoctl get workloadendpoints) || fail_step "get workloadendpoints"
[ "$(echo "$out" | wc -l)" -le 1 ] || fail_step "endpoints left: $out"
ok "no endpoint left"
