#!/usr/bin/env bash
# Prints which of src/'s top-level modules each one imports (`crate::<module>` in its files),
# one line per module, in the order of the pipeline. tests/integration/layout.rs checks the same
# edges point one way.
set -euo pipefail
cd "$(dirname "$0")/../src"
for m in version exit diag find clients resolve spec output update promote app; do
  files=$( { [ -d "$m" ] && find "$m" -name '*.rs'; [ -f "$m.rs" ] && echo "$m.rs"; } || true)
  deps=$(grep -ohE 'crate::[a-z_]+' $files 2>/dev/null | sed 's/crate:://' | sort -u | grep -vx "$m" | tr '\n' ' ' || true)
  printf '%-8s -> %s\n' "$m" "${deps:-(nothing)}"
done
