#!/usr/bin/env bash
# Every function declared in a header that returns Result<...> or Status must be [[nodiscard]]
# (STYLE.md section 3: an alias cannot carry the attribute, and g++ does not warn for virtual calls).
# Prints offending declarations and exits 1 when there are any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
bad=$(find "$root/src" -name '*.h' -print0 | xargs -0 awk '
  FNR == 1 { prev = "" }
  {
    line = $0
    # A declaration starts a line with (virtual|static)? Result<...>|Status followed by a name and "(".
    if (line ~ /^[ \t]*(virtual[ \t]+|static[ \t]+|inline[ \t]+)*(Result<.*>|Status)[ \t]+[A-Za-z_][A-Za-z0-9_]*\(/ &&
        line !~ /\[\[nodiscard\]\]/ && prev !~ /\[\[nodiscard\]\][ \t]*$/ && line !~ /using /) {
      printf "%s:%d: %s\n", FILENAME, FNR, line
    }
    prev = line
  }')
if [ -n "$bad" ]; then
  echo "Functions returning Result/Status without [[nodiscard]]:"
  echo "$bad"
  exit 1
fi
echo "nodiscard check: ok"
