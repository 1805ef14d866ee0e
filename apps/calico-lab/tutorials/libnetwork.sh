# Seed 003: "Calico as a libnetwork plugin" with a real dockerd on each of two lab hosts, the
# calico network and IPAM drivers, networks net1-net3 and workloads A-E.
source "$(dirname "$0")/lib.sh"
command -v dockerd >/dev/null || fail_step "dockerd is not installed (Debian docker.io; make deps installs it)"
DOCKER_CLI=$(command -v docker) || fail_step "no docker client"
S=$(state_dir)
# Each host's Docker daemon keeps its files outside /run (it mounts a private /run of its own).
DOCKER_DIR=$(mktemp -d /tmp/calico-lab-docker-XXXXXX)
ddir() { echo "$DOCKER_DIR/$1"; }
dk() {  # dk HOST ARGS...: the docker client of HOST's daemon
  local host=$1; shift
  "$DOCKER_CLI" -H "unix://$(ddir "$host")/docker.sock" "$@"
}
show_dk() { local host=$1; shift; echo "${DIM}[$host]${OFF}\$ docker $*" >&2; dk "$host" "$@"; }
before_down() {
  for host in calico-01 calico-02; do
    [ -S "$(ddir "$host")/docker.sock" ] || continue
    ids=$(dk "$host" ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk "$host" rm -f $ids
    for n in net1 net2 net3; do dk "$host" network rm "$n"; done
    pid=$(cat "$(ddir "$host")/dockerd.pid" 2>/dev/null) && kill "$pid"
    for _ in $(seq 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    for f in $(find "$(ddir "$host")/exec" -name "*.pid" 2>/dev/null); do kill -9 "$(cat "$f")"; done
  done
  rm -rf "$DOCKER_DIR"
}

section "Environment"
say "Two hosts, calico-01 and calico-02, each with its own Docker daemon, and the $DATASTORE datastore."
lab up --hosts 2 --datastore "$DATASTORE" >/dev/null || fail_step "calico-lab up"

section "Starting Calico services"
for host in calico-01 calico-02; do
  D=$(ddir "$host")
  mkdir -p "$D/plugins" "$D/data" "$D/exec"
  on "$host" env DOCKER_HOST="unix://$D/docker.sock" \
    calicoctl node --libnetwork --run-dir="$S/$host" --log-dir="$S/$host/log" \
    --libnetwork-socket="$D/plugins/calico.sock" || fail_step "calicoctl node --libnetwork on $host"
  # The host's Docker daemon: its plugin directory is the one holding this host's driver socket.
  "$LAB" host "$host" -- unshare --mount --propagation private sh -c '
    mount -t tmpfs tmpfs /run && mkdir -p /run/docker/plugins &&
    mount --bind "$0/plugins" /run/docker/plugins &&
    exec dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
      --data-root "$0/data" --exec-root "$0/exec" -H "unix://$0/docker.sock" --pidfile "$0/dockerd.pid"' \
    "$D" >"$D/dockerd.log" 2>&1 &
done
for host in calico-01 calico-02; do
  retry 30 dk "$host" version || fail_step "dockerd on $host did not start: $(tail -5 "$(ddir "$host")/dockerd.log")"
done
ok "calico-node, the libnetwork plugin and dockerd run on both hosts"
# An offline busybox image for both daemons.
ROOTFS="$S/busybox-rootfs"
mkdir -p "$ROOTFS/bin"
cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
for a in sh ping ip wget httpd sleep cat; do ln -sf busybox "$ROOTFS/bin/$a"; done
tar -C "$ROOTFS" -cf "$S/busybox.tar" .
for host in calico-01 calico-02; do dk "$host" import "$S/busybox.tar" busybox >/dev/null || fail_step "docker import on $host"; done

section "Create the networks (Calico IPAM)"
say "A Calico pool first (the lab's 198.19.0.0/16 stands in for the seed's 192.168.0.0/16):"
on calico-01 calicoctl pool add 198.19.0.0/16 || fail_step "calicoctl pool add"
on calico-01 calicoctl pool show
say "Each host's daemon has its own networks here (Docker no longer shares them through a cluster store); networks with the same name on both hosts share one Calico profile."
for host in calico-01 calico-02; do
  for n in net1 net2 net3; do
    show_dk "$host" network create --driver calico --ipam-driver calico "$n" >/dev/null || fail_step "docker network create $n on $host"
  done
done

section "Create the workloads in the networks"
show_dk calico-01 run --net net1 --name workload-A -tid busybox sh >/dev/null || fail_step "run workload-A"
show_dk calico-01 run --net net2 --name workload-B -tid busybox sh >/dev/null || fail_step "run workload-B"
show_dk calico-01 run --net net1 --name workload-C -tid busybox sh >/dev/null || fail_step "run workload-C"
show_dk calico-02 run --net net3 --name workload-D -tid busybox sh >/dev/null || fail_step "run workload-D"
show_dk calico-02 run --net net1 --name workload-E -tid busybox sh >/dev/null || fail_step "run workload-E"
ip_of() { dk "$1" inspect --format "{{ .NetworkSettings.Networks.$3.IPAddress }}" "$2"; }
B=$(ip_of calico-01 workload-B net2); C=$(ip_of calico-01 workload-C net1)
D=$(ip_of calico-02 workload-D net3); E=$(ip_of calico-02 workload-E net1)
say "B=$B C=$C (calico-01), D=$D E=$E (calico-02)"

section "Validation"
echo "${DIM}[calico-01]${OFF}\$ docker exec workload-A ping -c 4 $C   # workload-C.net1"
retry 30 dk calico-01 exec workload-A ping -c 1 -W 1 "$C" || fail_step "A cannot ping C (same network, same host)"
dk calico-01 exec workload-A ping -c 4 -W 1 "$C" || fail_step "A cannot ping C"
echo "${DIM}[calico-01]${OFF}\$ docker exec workload-A ping -c 4 $E   # workload-E.net1 on calico-02"
retry 30 dk calico-01 exec workload-A ping -c 1 -W 1 "$E" || fail_step "A cannot ping E (same network, other host)"
dk calico-01 exec workload-A ping -c 4 -W 1 "$E" || fail_step "A cannot ping E"
ok "A, C and E (net1) reach each other across hosts"
echo "${DIM}[calico-01]${OFF}\$ docker exec workload-A ping -c 4 \`docker inspect --format \"{{ .NetworkSettings.Networks.net2.IPAddress }}\" workload-B\`"
if dk calico-01 exec workload-A ping -c 2 -W 1 "$B"; then fail_step "A reached B (net2)"; fi
echo "${DIM}[calico-01]${OFF}\$ docker exec workload-A ping -c 4 $D   # workload-D (net3) on calico-02"
if dk calico-01 exec workload-A ping -c 2 -W 1 "$D"; then fail_step "A reached D (net3)"; fi
ok "B (net2) and D (net3) cannot be reached from net1"
show_dk calico-01 network ls

section "Accessing Calico policy with libnetwork"
NET1=$(dk calico-01 network inspect --format '{{ .Id }}' net1)
EID=$(dk calico-01 inspect --format '{{ .NetworkSettings.Networks.net1.EndpointID }}' workload-A)
out=$(on calico-01 calicoctl endpoint "$EID" profile show) || fail_step "calicoctl endpoint profile show"
echo "$out"
echo "$out" | has "$NET1" || fail_step "the endpoint's profile is not the network ID $NET1"
out=$(on calico-01 calicoctl profile "$NET1" rule show) || fail_step "calicoctl profile rule show"
echo "$out"
echo "$out" | has "1 allow from tag $NET1" || fail_step "profile rules differ from the seed's"
ok "the profile is the network ID, with the seed's rules"
on calico-01 calicoctl endpoint show --detailed
