# Seed 000: "Calico networking with rkt" on two lab hosts (the lab plays rkt: `calico-lab run
# --net NET` networks a workload through the CNI plugins exactly as `rkt run --net=NET` does).
source "$(dirname "$0")/lib.sh"

section "1. Environment setup"
say "Two hosts, calico-01 and calico-02, on one network (198.18.0.0/24), with the $DATASTORE datastore."
lab up --hosts 2 --datastore "$DATASTORE" || fail_step "calico-lab up"

section "2. Starting Calico services"
say "calico-lab up started calico-node on each host with IP=autodetect$( [ "$DATASTORE" = etcd ] && echo " and ETCD_ENDPOINTS=http://198.18.0.1:2379"). Check that it is running:"
lab list | grep -E "^(NAME|node)" || fail_step "no calico-node in calico-lab list"
retry 30 sh -c "'$LAB' host calico-01 -- calicoctl node status --run-dir='$(state_dir)/calico-01' | grep -q Established" ||
  fail_step "calico-01 has no BGP session with calico-02"
on calico-01 calicoctl node status --run-dir="$(state_dir)/calico-01"
ok "calico-node runs on both hosts and they peer over BGP"

section "3. Create the networks"
say "Each network is a CNI configuration file in the host's net.d (the lab's /etc/rkt/net.d). Run on both hosts:"
for host in calico-01 calico-02; do
  for net in backend frontend; do
    file="$(netd "$host")/10-calico-$net.conflist"
    echo "${DIM}[$host]${OFF}\$ cat >$file <<EOF"
    conf=$(printf '{\n    "name": "%s",\n    "cniVersion": "0.4.0",\n    "plugins": [{\n        "type": "calico",\n        %s,\n        "ipam": {\n            "type": "calico-ipam"\n        }\n    }]\n}' "$net" "$(lab_conf_fields "$host")")
    echo "$conf"; echo "EOF"
    mkdir -p "$(netd "$host")"
    echo "$conf" > "$file"
  done
done

section "4. Create services"
WWW=$(www)
say "On calico-01, a busybox httpd in the frontend network; on calico-02, one in the backend network."
FRONT=$(lab run calico-01 --net frontend --name frontend-svc -- busybox httpd -f -h "$WWW" | tail -1) || fail_step "run frontend-svc"
BACK=$(lab run calico-02 --net backend --name backend-svc -- busybox httpd -f -h "$WWW" | tail -1) || fail_step "run backend-svc"
lab list
say "The frontend service is at $FRONT (calico-01), the backend service at $BACK (calico-02)."

section "5. Validate access to services"
say "From calico-02, a workload in the frontend network fetches /etc/passwd from the frontend service on calico-01:"
lab run calico-02 --net frontend --name frontend-client -- sleep 3600 >/dev/null || fail_step "run frontend-client"
echo "\$ calico-lab exec frontend-client -- wget -q -O - $FRONT/etc/passwd"
retry 30 "$LAB" exec frontend-client -- timeout 3 busybox wget -q -O - "$FRONT/etc/passwd" || fail_step "frontend-client cannot reach the frontend service"
"$LAB" exec frontend-client -- timeout 3 busybox wget -q -O - "$FRONT/etc/passwd"
ok "same network, across hosts: allowed"

section "5. Checking network isolation"
say "The same from a workload in the backend network: Calico has not allowed backend -> frontend, so it times out."
lab run calico-02 --net backend --name backend-client -- sleep 3600 >/dev/null || fail_step "run backend-client"
echo "\$ calico-lab exec backend-client -- wget -q -O - $FRONT/etc/passwd"
if "$LAB" exec backend-client -- timeout 3 busybox wget -q -O - "$FRONT/etc/passwd"; then
  fail_step "backend-client reached the frontend service: networks are not isolated"
fi
echo "wget: download timed out"
ok "other network: blocked"
say "And the backend client reaches its own network's service on calico-02:"
retry 30 "$LAB" exec backend-client -- timeout 3 busybox wget -q -O - "$BACK/etc/passwd" || fail_step "backend-client cannot reach the backend service"
ok "backend -> backend: allowed"
on calico-01 calicoctl get profiles | tee /dev/stderr | has frontend || fail_step "no frontend profile"

section "6. Resetting/Cleanup"
if [ "$KEEP" = 1 ]; then
  say "(--keep: the lab stays up as it is; 'calico-lab down' removes it)"
  exit 0
fi
if [ "$DATASTORE" = etcd ]; then
  say "Wipe Calico's data from etcd (the hosts' environment has ETCDCTL_ENDPOINTS):"
  on calico-01 etcdctl del --prefix /calico || fail_step "etcdctl del"
  [ -z "$("$LAB" host calico-01 -- etcdctl get --prefix /calico --keys-only)" ] || fail_step "keys left in etcd"
  ok "no /calico key left in etcd"
else
  say "The embedded equivalent of etcdctl rm --recursive /calico: remove the store file."
  echo "\$ rm -f $(state_dir)/datastore/calico.db*"
  rm -f "$(state_dir)"/datastore/calico.db*
  ! ls "$(state_dir)"/datastore/calico.db* >/dev/null 2>&1 || fail_step "the store file is still there"
  ok "the embedded store is gone"
fi
lab down
if ip netns list | has '^calico-lab-'; then fail_step "namespaces left after down"; fi
