#!/usr/bin/env bash
# The GitHub API budget of `baton report` on the benchmark trees: requests that count against the
# rate limit (GitHub does not count a `304 Not Modified`, nor downloads from codeload), for
#   - a cold run without a cache (as before --cache-dir),
#   - a cold run that fills a cache (--cache-dir),
#   - a second run within the hour with the same token (a personal or App token kept in a secret),
#   - a second run with a new token (GITHUB_TOKEN is new every run; GitHub's ETags belong to the
#     token), and the same with --cache-max-age 1h.
#
#   scripts/bench-api.sh [SCALE...]      (default: 1 16)
#
# Uses the trees scripts/bench.sh generates (generated here when missing) and the same stand-in
# (scripts/github-standin.py on 127.0.0.1). Settings: BENCH_DIR (default /tmp/baton-bench), BATON
# (a prebuilt binary; default: cargo build --release), ENVS, ACCOUNTS, UNITS as in bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ENVS=${ENVS:-3}
ACCOUNTS=${ACCOUNTS:-10}
UNITS=${UNITS:-300}
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1 16)
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

port_file="$BENCH_DIR/standin-api.port"
rm -f "$port_file"
python3 scripts/github-standin.py --latency-ms "${LATENCY_MS:-5}" --port-file "$port_file" >/dev/null &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 400); do [ -s "$port_file" ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat "$port_file")"

reset() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"))' "$api/__reset"; }
counted() { python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1])); print(s["counted"], s["not_modified"])' "$api/__stats"; }
# One report, timed; prints "seconds counted not_modified".
report() {
  local tree=$1 token=$2
  shift 2
  reset
  local start end
  start=$(date +%s.%N)
  GITHUB_TOKEN=$token "$BATON" report --working-dir "$tree" --github-api-url "$api" "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$(python3 -c "print(f'{$end - $start:.2f}')") $(counted)"
}

rows=()
for scale in "${scales[@]}"; do
  tree="$BENCH_DIR/live-x$scale"
  stamp="--envs $ENVS --accounts $ACCOUNTS --units $UNITS --scale $scale $(sha1sum scripts/gen-live-repo.py | cut -c1-12)"
  if [ "$(cat "$tree/.bench-args" 2>/dev/null)" != "$stamp" ]; then
    log "generating the ${scale}x tree in $tree"
    python3 scripts/gen-live-repo.py --out "$tree" --force --envs "$ENVS" --accounts "$ACCOUNTS" --units "$UNITS" --scale "$scale"
    echo "$stamp" >"$tree/.bench-args"
  fi
  cache="$BENCH_DIR/api-cache-x$scale"
  rm -rf "$cache"
  log "${scale}x: report without a cache, then with one: cold, warm (same token), warm (new token), warm (new token, max age 1h)"
  read -r t0 c0 n0 < <(report "$tree" ghs_bench_a)
  read -r t1 c1 n1 < <(report "$tree" ghs_bench_a --cache-dir "$cache")
  read -r t2 c2 n2 < <(report "$tree" ghs_bench_a --cache-dir "$cache")
  read -r t3 c3 n3 < <(report "$tree" ghs_bench_b --cache-dir "$cache")
  read -r t4 c4 n4 < <(report "$tree" ghs_bench_c --cache-dir "$cache" --cache-max-age 1h)
  rows+=("| ${scale}x | $c0 (${t0} s) | $c1 (${t1} s) | $c2 counted, $n2 answered 304 (${t2} s) | $c3 counted, $n3 answered 304 (${t3} s) | $c4 (${t4} s) | $(du -sh "$cache" | cut -f1) |")
done

{
  echo "| Scale | no cache | cold cache | warm, same token | warm, new token | warm, new token, \`--cache-max-age 1h\` | cache size |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Requests counted against the GitHub rate limit by one \`baton report\` (impact included), stand-in with ${LATENCY_MS:-5} ms per request; $("$BATON" --version)."
} | tee "$BENCH_DIR/results-api.md"
