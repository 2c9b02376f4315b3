#!/usr/bin/env bash
# What `baton notify` spends to hand one module release to N consumer repositories (default 100):
# requests sent to the GitHub API and wall-clock time, for consumers
#   - listed in the module repository's [[consumers]],
#   - discovered with code search (--discover: two Terraform files per consumer, 100 per page).
#
#   scripts/bench-notify.sh [CONSUMERS]
#
# Against the local stand-in (scripts/github-standin.py on 127.0.0.1, LATENCY_MS per request,
# default 5). Settings: BENCH_DIR (default /tmp/baton-bench), BATON (a prebuilt binary; default:
# cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
consumers=${1:-100}
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

port_file="$BENCH_DIR/standin-notify.port"
rm -f "$port_file"
python3 scripts/github-standin.py --latency-ms "${LATENCY_MS:-5}" --consumers "$consumers" \
  --port-file "$port_file" >/dev/null &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 400); do [ -s "$port_file" ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat "$port_file")"

module="$BENCH_DIR/module-repo"
rm -rf "$module"
mkdir -p "$module/modules/vpc" "$module/.github"
printf 'variable "cidr" {\n  type = string\n}\n' >"$module/modules/vpc/main.tf"
for i in $(seq 0 $((consumers - 1))); do
  printf '[[consumers]]\nrepository = "acme/live-%03d"\n\n' "$i"
done >"$module/.github/baton.toml"
empty="$BENCH_DIR/module-repo-unlisted"
rm -rf "$empty"
mkdir -p "$empty/modules/vpc"
cp "$module/modules/vpc/main.tf" "$empty/modules/vpc/"

reset() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"))' "$api/__reset"; }
stats() { python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1])); print(s["counted"], s["dispatch"], s["search"])' "$api/__stats"; }
# One notify, timed; prints "seconds counted dispatches searches sent".
notify() {
  local dir=$1
  shift
  reset
  local start end out
  start=$(date +%s.%N)
  out=$(GITHUB_TOKEN=ghs_bench GITHUB_REPOSITORY=acme/terraform-aws-vpc \
    "$BATON" notify --working-dir "$dir" --tag v1.3.0 --github-api-url "$api" "$@")
  end=$(date +%s.%N)
  sent=$(printf '%s' "$out" | python3 -c 'import json,sys; print(sum(c["result"] == "sent" for c in json.load(sys.stdin)["consumers"]))')
  echo "$(python3 -c "print(f'{$end - $start:.2f}')") $(stats) $sent"
}

log "notify: $consumers consumers listed, then discovered by code search"
read -r t1 c1 d1 s1 n1 < <(notify "$module")
read -r t2 c2 d2 s2 n2 < <(notify "$empty" --discover)
{
  echo "| Consumers | found by | requests | of which dispatches | of which code search | sent | time |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $consumers | \`[[consumers]]\` | $c1 | $d1 | $s1 | $n1 | ${t1} s |"
  echo "| $consumers | \`--discover\` | $c2 | $d2 | $s2 | $n2 | ${t2} s |"
  echo
  echo "One \`baton notify\`, stand-in with ${LATENCY_MS:-5} ms per request; $("$BATON" --version)."
} | tee "$BENCH_DIR/results-notify.md"
