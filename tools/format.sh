#!/usr/bin/env bash
# Formats every tracked C++ file in place with clang-format-14 (use `make format-check` to verify).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.h' '*.cc' | xargs clang-format-14 -i
