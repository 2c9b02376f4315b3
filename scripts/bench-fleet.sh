#!/usr/bin/env bash
# Fleet status of 100 live repositories against the GitHub stand-in: requests spent (those that
# count against the rate limit, and the 304s that do not), downloads and time, for
#   - `--org fleet` and `--repos FILE` without a cache,
#   - a cold cache (--cache-dir), then the same run again (warm, same token),
#   - warm with `--cache-max-age 1h` (answers younger than that are not asked again).
#
#   scripts/bench-fleet.sh [REPOS]      (default: 100)
#
# Every repository serves the same tarball: a tree of scripts/gen-live-repo.py (3 environments x
# 3 accounts x 20 units, 206 Terraform and Terragrunt files); every tenth has an update pull
# request open for 9 days whose check failed. Settings: BENCH_DIR, BATON, LATENCY_MS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-100}
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

tree="$BENCH_DIR/fleet-live"
python3 scripts/gen-live-repo.py --out "$tree" --force --envs 3 --accounts 3 --units 20 >/dev/null
tar czf "$BENCH_DIR/fleet-live.tar.gz" -C "$BENCH_DIR" fleet-live
files=$(find "$tree" -type f \( -name '*.hcl' -o -name '*.tf' \) | wc -l)

port_file="$BENCH_DIR/standin-fleet.port"
rm -f "$port_file"
python3 scripts/github-standin.py --latency-ms "${LATENCY_MS:-5}" --port-file "$port_file" \
  --fleet-repos "$repos" --fleet-tarball "$BENCH_DIR/fleet-live.tar.gz" >/dev/null &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 400); do [ -s "$port_file" ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat "$port_file")"

list="$BENCH_DIR/fleet.txt"
for i in $(seq 1 "$repos"); do printf 'fleet/live-%03d\n' "$i"; done >"$list"

reset() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"))' "$api/__reset"; }
stats() { python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1])); print(s["counted"], s["not_modified"], s["fleet_download"])' "$api/__stats"; }
# One fleet status, timed; prints "seconds counted not_modified downloads".
fleet() {
  reset
  local start end
  start=$(date +%s.%N)
  GITHUB_TOKEN=ghs_fleet BATON_NOW=2026-11-29T00:00:00Z "$BATON" status --github-api-url "$api" \
    --format json "$@" >"$BENCH_DIR/fleet-out.json" 2>/dev/null || true
  end=$(date +%s.%N)
  echo "$(python3 -c "print(f'{$end - $start:.2f}')") $(stats)"
}

cache="$BENCH_DIR/fleet-cache"
rm -rf "$cache"
log "fleet status of $repos repositories: org listing, file list; no cache, cold cache, warm cache"
rows=()
row() { rows+=("| $1 | $3 | $4 | $5 | $2 s |"); }
read -r t c n d < <(fleet --org fleet); row "\`--org\`, no cache" "$t" "$c" "$n" "$d"
read -r t c n d < <(fleet --repos "$list"); row "\`--repos\`, no cache" "$t" "$c" "$n" "$d"
read -r t c n d < <(fleet --org fleet --cache-dir "$cache"); row "\`--org\`, cold cache" "$t" "$c" "$n" "$d"
read -r t c n d < <(fleet --org fleet --cache-dir "$cache"); row "\`--org\`, warm cache" "$t" "$c" "$n" "$d"
read -r t c n d < <(fleet --org fleet --cache-dir "$cache" --cache-max-age 1h); row "\`--org\`, warm, \`--cache-max-age 1h\`" "$t" "$c" "$n" "$d"
read -r rows_read stuck < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["repositories"]), sum(p["stuck"] for x in r["repositories"] for p in x["pulls"]))' "$BENCH_DIR/fleet-out.json")

{
  echo "| Run | Requests counted | Answered 304 | Tarballs downloaded | Time |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Fleet status of $repos repositories ($files Terraform and Terragrunt files each; $rows_read read, $stuck stuck pull requests), stand-in with ${LATENCY_MS:-5} ms per request; $("$BATON" --version)."
} | tee "$BENCH_DIR/results-fleet.md"
