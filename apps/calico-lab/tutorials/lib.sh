# Shared by the tutorials: narration, showing each command as the user would type it, running it,
# and checking what the seed says should happen. Any failed expectation names the step and exits
# non-zero. Env: CALICO_LAB (the binary), CALICO_LAB_BIN, TUTORIAL_DATASTORE, TUTORIAL_KEEP.
set -uo pipefail
# `grep -q` in a pipeline under pipefail can fail when it stops reading early (SIGPIPE for the
# writer): `has` reads everything.
has() { grep "$@" >/dev/null; }
LAB=${CALICO_LAB:?run through calico-lab tutorial}
export PATH="$CALICO_LAB_BIN:$PATH"
DATASTORE=${TUTORIAL_DATASTORE:-local}
KEEP=${TUTORIAL_KEEP:-0}
STEP=""
BOLD=$'\e[1m'; DIM=$'\e[2m'; RED=$'\e[31m'; GREEN=$'\e[32m'; OFF=$'\e[0m'
[ -t 1 ] || { BOLD=""; DIM=""; RED=""; GREEN=""; OFF=""; }

# A tutorial may define before_down() for what `calico-lab down` cannot see (Docker's containers).
before_down() { :; }
finish() {
  local rc=$?
  if [ "$rc" -ne 0 ] || [ "$KEEP" != 1 ]; then
    before_down >/dev/null 2>&1 || true
    "$LAB" down >/dev/null 2>&1 || true
  fi
  if [ "$rc" -eq 0 ]; then
    if [ "$KEEP" = 1 ]; then
      echo "${GREEN}The lab is still up:${OFF} calico-lab list | calico-lab exec NAME -- CMD | calico-lab host calico-01 -- calicoctl get profiles | calico-lab down"
    fi
    echo "${GREEN}${BOLD}Tutorial complete: every step behaved as the seed describes.${OFF}"
  else
    echo "${RED}${BOLD}Tutorial failed at step: ${STEP}${OFF}" >&2
  fi
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

section() { echo; echo "${BOLD}## $*${OFF}"; STEP="$*"; }
say() { echo "$*" | fold -s -w 100; }
# on HOST CMD...: show and run a command on a lab host.
on() {
  local host=$1; shift
  echo "${DIM}[$host]${OFF}\$ $*" >&2
  "$LAB" host "$host" -- "$@"
}
# lab CMD...: show and run a calico-lab command.
lab() {
  echo "\$ calico-lab $*" >&2
  "$LAB" "$@"
}
fail_step() { echo "${RED}FAILED: $*${OFF}" >&2; exit 1; }
ok() { echo "${GREEN}  ✓ $*${OFF}"; }
# retry SECONDS CMD...: routes and policy are programmed asynchronously.
retry() {
  local secs=$1; shift
  for _ in $(seq $((secs * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
# Where the lab keeps a host's files (its "/etc/rkt/net.d").
state_dir() { echo "${CALICO_LAB_STATE_DIR:-/run/calico-lab}"; }
netd() { echo "$(state_dir)/$1/net.d"; }
# The settings a lab host's CNI config needs beyond the seed's (the hosts share this machine's
# filesystem, so each has its own nodename file and the datastore is named explicitly).
lab_conf_fields() {
  local host=$1
  if [ "$DATASTORE" = etcd ]; then
    printf '"etcd_endpoints": "http://198.18.0.1:2379", "nodename_file": "%s/%s/nodename"' "$(state_dir)" "$host"
  else
    printf '"datastore_path": "%s/datastore/calico.db", "nodename_file": "%s/%s/nodename"' "$(state_dir)" "$(state_dir)" "$host"
  fi
}
# A directory a workload's httpd serves, with the seed's /etc/passwd in it.
www() {
  local dir
  dir="$(state_dir)/www"
  mkdir -p "$dir/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n' > "$dir/etc/passwd"
  echo "$dir"
}
if ip netns list | has '^calico-lab-'; then
  echo "A calico-lab is already up; run 'calico-lab down' first." >&2
  trap - EXIT
  exit 1
fi
