# Headless Chromium helpers for tests of calico-flows' page (sourced).
#   chromium_dom URL OUT          the page's DOM after 8 s of virtual time (its polls and
#                                 fetches all complete; virtual time stops while a request is
#                                 open, so a page streaming must use streamTimeout=...).
#   chromium_shot URL PNG         a 1400x900 screenshot after 8 s of virtual time.
# Chromium gets its own profile directory under $WEB_TMP, nothing from the network but URL.
CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --disable-default-apps
  --disable-extensions --mute-audio)

chromium_run() {
  local profile
  profile=$(mktemp -d "$WEB_TMP/profile.XXXXXX")
  timeout 120 chromium "${CHROMIUM_FLAGS[@]}" --user-data-dir="$profile" "$@" 2>>"$WEB_TMP/chromium.log"
}

chromium_dom() {
  chromium_run --virtual-time-budget=8000 --dump-dom "$1" >"$2"
}

chromium_shot() {
  chromium_run --virtual-time-budget=8000 --window-size=1400,900 --screenshot="$2" "$1" >/dev/null
}
