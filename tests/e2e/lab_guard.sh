# One calico-lab per machine (fixed namespace names calico-lab-*, state in /run/calico-lab).
# A test that needs the lab waits for another one (a test run by someone else on a shared
# machine) to go away, and FAILS if it does not within LAB_WAIT_SECONDS (default 120): a test
# that could not run must never pass or be counted as skipped (issue 19).
# Usage: source this file, then `wait_for_no_lab` before `calico-lab up`.
wait_for_no_lab() {
  local state=${CALICO_LAB_STATE_DIR:-/run/calico-lab} waited=0 limit=${LAB_WAIT_SECONDS:-120}
  while ip netns list | grep '^calico-lab-' >/dev/null || [ -e "$state" ]; do
    if [ "$waited" -ge "$limit" ]; then
      echo "FAIL: another calico-lab is up on this machine ($state or calico-lab-* namespaces)" \
        "and did not go away within ${limit}s; run \`calico-lab down\` if it is left over" >&2
      return 1
    fi
    [ "$waited" = 0 ] && echo "waiting for another calico-lab on this machine to go away" >&2
    sleep 2
    waited=$((waited + 2))
  done
}
