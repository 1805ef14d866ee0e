#!/usr/bin/env bash
# clang-tidy-14 with the checks of .clang-tidy over the given files, or over the .cc files changed
# since the merge base with main (origin/main when there is one; TIDY_BASE=<rev> to choose),
# plus the .cc beside each changed header. Uses build/compile_commands.json (make build first).
# Exits non-zero when a check listed in WarningsAsErrors fires.
# TIDY_MAX_FILES=N (CI: .ci/run) checks only the N changed files with the most changed lines and
# names the ones it leaves out: clang-tidy costs about 60 CPU-s per file (docs/ARCHITECTURE.md, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
[ -f "$BUILD/compile_commands.json" ] || { echo "tidy: run make build first" >&2; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  if [ -n "${TIDY_BASE:-}" ]; then
    if ! git rev-parse --verify -q "$TIDY_BASE^{commit}" >/dev/null; then
      echo "tidy: TIDY_BASE $TIDY_BASE is not in this clone (a shallow clone?): fetch more history" >&2
      exit 1
    fi
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
max=${TIDY_MAX_FILES:-0}
if [ "$max" -gt 0 ] && [ ${#files[@]} -gt "$max" ] && [ -n "${base:-}" ]; then
  # Most changed lines first (added + deleted, from git's numstat).
  mapfile -t files < <(for f in "${files[@]}"; do
      n=$(git diff --numstat "$base" -- "$f" | awk '{s += $1 + $2} END {print s + 0}')
      echo "$n $f"
    done | sort -k1,1nr -k2 | awk '{print $2}')
  echo "tidy: ${#files[@]} changed files, checking the $max with the most changed lines; not checked:"
  printf '  %s\n' "${files[@]:$max}"
  files=("${files[@]:0:$max}")
fi
echo "tidy: ${#files[@]} files"
jobs=${JOBS:-$(nproc)}
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 clang-tidy-14 -p "$BUILD" --quiet
