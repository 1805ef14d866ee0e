#!/usr/bin/env bash
# Runs clang-tidy-14 (the checks of .clang-tidy) over the given files, or over the files changed
# against origin/main (or HEAD~1), using build/compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || { echo "run make build first" >&2; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  base=$(git rev-parse --verify -q origin/main || git rev-parse HEAD~1)
  mapfile -t files < <(git diff --name-only "$base" -- '*.cc')
fi
[ ${#files[@]} -gt 0 ] || { echo "tidy: nothing to check"; exit 0; }
clang-tidy-14 -p build --quiet "${files[@]}"
