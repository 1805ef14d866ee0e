#!/usr/bin/env bash
# clang-tidy-14 with the checks of .clang-tidy over the given files, or over the .cc files changed
# since the merge base with main (origin/main when there is one; TIDY_BASE=<rev> to choose),
# plus the .cc beside each changed header. Uses build/compile_commands.json (make build first).
# Exits non-zero when a check listed in WarningsAsErrors fires.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
[ -f "$BUILD/compile_commands.json" ] || { echo "tidy: run make build first" >&2; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  if [ -n "${TIDY_BASE:-}" ]; then
    base=$(git merge-base HEAD "$TIDY_BASE")
  elif git rev-parse --verify -q origin/main >/dev/null; then
    base=$(git merge-base HEAD origin/main)
  elif git rev-parse --verify -q main >/dev/null; then
    base=$(git merge-base HEAD main)
  else
    base=$(git rev-parse HEAD~1)
  fi
  mapfile -t changed < <(git diff --name-only --diff-filter=d "$base" -- '*.cc' '*.h')
  declare -A seen=()
  files=()
  for f in "${changed[@]}"; do
    case $f in
      *.h) f="${f%.h}.cc" ;;
    esac
    # Only files the build compiles (fuzz targets and generated code have no entry here).
    if [ -f "$f" ] && [ -z "${seen[$f]:-}" ] && grep -q "\"file\": \"$PWD/$f\"" "$BUILD/compile_commands.json"; then
      seen[$f]=1
      files+=("$f")
    fi
  done
fi
[ ${#files[@]} -gt 0 ] || { echo "tidy: nothing to check"; exit 0; }
echo "tidy: ${#files[@]} files"
jobs=${JOBS:-$(nproc)}
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 clang-tidy-14 -p "$BUILD" --quiet
