#!/usr/bin/env bash
# Whole-process benchmarks of Baton on synthetic live repositories.
#
#   scripts/bench.sh [SCALE...]          (default scales: 1 4 16)
#
# For each scale, generates E x A*SCALE x U units (default 3 x 10 x 300, about 9,000 files at 1x)
# with scripts/gen-live-repo.py, then measures with hyperfine (warm page cache):
#   - `baton scan` of the whole tree, and `rg -l source` over the same tree (the reading floor);
#   - the peak RSS of `baton scan` (/usr/bin/time -v);
#   - `baton report` against a local GitHub API stand-in (scripts/github-standin.py, 127.0.0.1,
#     LATENCY_MS per request, 30 tags per repository, compare and tarballs of module files) and the
#     requests it received; the cost of the breaking-change impact (report - report with
#     BATON_IMPACT=off, paired runs);
#   - `baton update --spec … --dependency <dep>` on a fresh copy of the tree for every run, <dep>
#     being the dependency used in closest to 1,000 files per 1x of scale.
#   - the API budget of `baton report` with a cold and a warm cache (scripts/bench-api.sh);
#   - then `baton history` over a 5,000-commit history of the 1x tree (scripts/bench-history.sh;
#     HISTORY=0 skips it).
# Prints a markdown table (also written to $BENCH_DIR/results.md) and the machine.
#
# Settings (environment): BENCH_DIR (default /tmp/baton-bench), CARGO_TARGET_DIR (default
# /tmp/target-bench), LATENCY_MS (50), ENVS (3), ACCOUNTS (10), UNITS (300), RUNS (runs at 1x;
# fewer at larger scales; default 10), BATON (a prebuilt binary: skips the build).
#
# Only 127.0.0.1 is contacted: the generated trees hold github.com sources and local paths only,
# and `--github-api-url` points at the stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD

LATENCY_MS=${LATENCY_MS:-50}
ENVS=${ENVS:-3}
ACCOUNTS=${ACCOUNTS:-10}
UNITS=${UNITS:-300}
RUNS=${RUNS:-10}
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1 4 16)

log() { printf '\n== %s\n' "$*" >&2; }

# --- tools ----------------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed" >&2; exit 1; }

# --- build and environment ----------------------------------------------------------------------
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

# --- the GitHub API stand-in ----------------------------------------------------------------------
port_file="$BENCH_DIR/standin.port"
rm -f "$port_file"
python3 scripts/github-standin.py --latency-ms "$LATENCY_MS" --port-file "$port_file" >/dev/null &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 400); do [ -s "$port_file" ] && break; sleep 0.05; done
port=$(cat "$port_file")
api="http://127.0.0.1:$port"
log "GitHub API stand-in at $api ($LATENCY_MS ms per request, pid $standin_pid)"

# Prints a field of a hyperfine JSON export: mean, median, stddev, min (in seconds).
hf() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print(r[sys.argv[3]])' "$@"; }
# Evaluates a Python expression (for arithmetic and formatting).
calc() { python3 -c "print($1)"; }

rows=()
for scale in "${scales[@]}"; do
  tree="$BENCH_DIR/live-x$scale"
  work="$BENCH_DIR/work-x$scale"
  runs=$(calc "max(3, $RUNS // $scale)")
  gen_args=(--envs "$ENVS" --accounts "$ACCOUNTS" --units "$UNITS" --scale "$scale")
  stamp="${gen_args[*]} $(sha1sum scripts/gen-live-repo.py | cut -c1-12)"
  if [ "$(cat "$tree/.bench-args" 2>/dev/null)" != "$stamp" ]; then
    log "generating the ${scale}x tree in $tree"
    python3 scripts/gen-live-repo.py --out "$tree" --force "${gen_args[@]}"
    echo "$stamp" >"$tree/.bench-args"
  else
    log "reusing the ${scale}x tree in $tree"
  fi
  manifest="$tree/.bench-manifest.json"
  files=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$manifest")
  mbytes=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["bytes"]/1e6,1))' "$manifest")

  # Safety: every versioned source is on github.com (looked up at the stand-in) or local.
  "$BATON" scan --working-dir "$tree" >"$BENCH_DIR/scan-x$scale.json" 2>"$BENCH_DIR/scan-x$scale.err"
  python3 - "$BENCH_DIR/scan-x$scale.json" <<'EOF'
import json, sys
scan = json.load(open(sys.argv[1]))
for u in scan["usages"]:
    if u["skipped"] is None and "github.com" not in u["source"] and "${include." not in u["source"]:
        sys.exit(f"refusing to benchmark: {u['file']} has a non-GitHub source {u['source']}")
if scan["errors"]:
    sys.exit(f"the generated tree has unreadable files: {scan['errors'][:3]}")
EOF
  usages=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["usages"]))' "$BENCH_DIR/scan-x$scale.json")
  repos=$(python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
print(len({"/".join(u["dependency"].split("/")[:2]) for u in s["usages"] if u["skipped"] is None}))' "$BENCH_DIR/scan-x$scale.json")

  log "${scale}x: $files files, $usages usages, $repos repositories; scan vs rg ($runs runs)"
  hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$BENCH_DIR/scan-x$scale.hf.json" \
    -n "baton scan" "'$BATON' scan --working-dir '$tree'" \
    -n "rg -l source" "rg -l source '$tree'" >&2
  scan_s=$(hf "$BENCH_DIR/scan-x$scale.hf.json" 0 median)
  scan_sd=$(hf "$BENCH_DIR/scan-x$scale.hf.json" 0 stddev)
  rg_s=$(hf "$BENCH_DIR/scan-x$scale.hf.json" 1 median)
  scan_cpu=$(calc "$(hf "$BENCH_DIR/scan-x$scale.hf.json" 0 user) + $(hf "$BENCH_DIR/scan-x$scale.hf.json" 0 system)")

  log "${scale}x: peak RSS of baton scan"
  /usr/bin/time -v "$BATON" scan --working-dir "$tree" 2>"$BENCH_DIR/time-x$scale.txt" >/dev/null
  rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$BENCH_DIR/time-x$scale.txt")

  # Scan and report alternate, so that the lookup overhead (report minus scan, per pair) does
  # not drift with whatever else the machine is doing.
  log "${scale}x: baton report against the stand-in, paired with baton scan ($runs pairs)"
  # A third run without the breaking-change impact (BATON_IMPACT=off) prices it.
  read -r report_s report_sd lookup_s impact_s < <(python3 - "$runs" "$BATON" "$tree" "$api" <<'EOF'
import os, statistics, subprocess, sys, time
runs, baton, tree, api = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def timed(*args, impact=True):
    env = dict(os.environ, BATON_IMPACT="on" if impact else "off")
    t = time.perf_counter()
    subprocess.run([baton, *args, "--working-dir", tree], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t
timed("report", "--github-api-url", api)  # warm-up
reports, overheads, impacts = [], [], []
for _ in range(runs):
    scan = timed("scan")
    report = timed("report", "--github-api-url", api)
    without = timed("report", "--github-api-url", api, impact=False)
    reports.append(report)
    overheads.append(report - scan)
    impacts.append(report - without)
sd = statistics.stdev(reports) if len(reports) > 1 else 0.0
print(statistics.median(reports), sd, statistics.median(overheads), statistics.median(impacts))
print(f"  baton report: median {statistics.median(reports)*1000:.0f} ms; report - scan per pair: "
      f"median {statistics.median(overheads)*1000:.0f} ms; of which the impact: "
      f"{statistics.median(impacts)*1000:.0f} ms", file=sys.stderr)
EOF
)
  # One more run, alone, to count its requests.
  curl -fsS -X POST "$api/__reset" >/dev/null 2>&1 ||
    python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"))' "$api/__reset"
  "$BATON" report --working-dir "$tree" --github-api-url "$api" >"$BENCH_DIR/report-x$scale.json" \
    2>"$BENCH_DIR/report-x$scale.err"
  read -r requests per_repo_max per_repo_repos compares tarballs < <(python3 -c '
import json,sys,urllib.request
s=json.load(urllib.request.urlopen(sys.argv[1]))
print(s["total"], max(s["per_repo"].values() or [0]), len(s["per_repo"]), s["compare"], s["tarball"])' "$api/__stats")
  spec_deps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Dependencies"]))' "$BENCH_DIR/report-x$scale.json")
  read -r impacted impact_usages impact_needs < <(python3 -c '
import json,sys
deps=[d for d in json.load(open(sys.argv[1]))["Dependencies"] if "Impact" in d]
usages=[u for d in deps for u in d["Impact"].get("Usages", [])]
print(len(deps), len(usages), sum(u["Status"] == "needs-change" for u in usages))' "$BENCH_DIR/report-x$scale.json")

  # The dependency whose usages are in closest to 1,000 files per 1x of scale.
  top=$(python3 -c '
import json,sys
m=json.load(open(sys.argv[1])); want=1000*int(sys.argv[2])
print(min(m["files_per_dependency"].items(), key=lambda kv: (abs(kv[1]-want), kv[0]))[0])' "$manifest" "$scale")
  latest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latest_tag"].lstrip("v"))' "$manifest")
  spec="{\"Dependencies\":[{\"ID\":\"$top\",\"TargetBreakingVersion\":\"$latest\"}]}"
  update_cmd="'$BATON' update --working-dir '$work' --spec '$spec' --dependency '$top'"
  # `sync`: the copy's own writeback must not be billed to the first fsync of the update.
  prepare="rm -rf '$work' && cp -a '$tree' '$work' && sync"
  log "${scale}x: baton update of $top on a fresh copy ($runs runs)"
  eval "$prepare"
  # (Its stderr lists the usages left alone: branch refs the generator writes on purpose.)
  "$BATON" update --working-dir "$work" --spec "$spec" --dependency "$top" >"$BENCH_DIR/update-x$scale.json" \
    2>"$BENCH_DIR/update-x$scale.err"
  read -r changed changed_files < <(python3 -c '
import json,sys
o=json.load(open(sys.argv[1]))
assert not o["errors"], o["errors"][:3]
print(len(o["updated"]), len({c["file"] for c in o["updated"]}))' "$BENCH_DIR/update-x$scale.json")
  hyperfine --style basic --runs "$runs" --prepare "$prepare" --export-json "$BENCH_DIR/update-x$scale.hf.json" \
    -n "baton update" "$update_cmd" >&2
  update_s=$(hf "$BENCH_DIR/update-x$scale.hf.json" 0 median)
  update_sd=$(hf "$BENCH_DIR/update-x$scale.hf.json" 0 stddev)
  rm -rf "$work"

  rows+=("$(python3 - "$scale" "$files" "$mbytes" "$usages" "$scan_s" "$scan_sd" "$scan_cpu" "$rg_s" "$rss_kb" \
    "$report_s" "$report_sd" "$lookup_s" "$requests" "$per_repo_repos" "$per_repo_max" "$repos" "$spec_deps" \
    "$changed" "$changed_files" "$update_s" "$update_sd" "$impact_s" "$compares" "$tarballs" "$impacted" \
    "$impact_usages" "$impact_needs" <<'EOF'
import sys
(scale, files, mb, usages, scan, scan_sd, scan_cpu, rg, rss, rep, rep_sd, lookup, req, req_repos, req_max, repos,
 spec_deps, changed, changed_files, upd, upd_sd, impact, compares, tarballs, impacted, impact_usages,
 impact_needs) = sys.argv[1:]
f = int(files)
scan, scan_sd, scan_cpu, rg, rep, rep_sd, lookup, upd, upd_sd, impact = map(
    float, (scan, scan_sd, scan_cpu, rg, rep, rep_sd, lookup, upd, upd_sd, impact))
cells = [
    f"{scale}x",
    f"{f:,} ({mb} MB)",
    f"{int(usages):,}",
    f"{scan*1000:.0f} ± {scan_sd*1000:.0f} ms ({scan/f*1e6:.0f} µs/file; CPU {scan_cpu:.2f} s)",
    f"{rg*1000:.0f} ms",
    f"{scan/rg:.2f}×",
    f"{int(rss)/1024:.0f} MB",
    f"{rep*1000:.0f} ± {rep_sd*1000:.0f} ms",
    f"{lookup*1000:.0f} ms",
    f"{req} for {repos} repos ({req_repos} seen, max {req_max} tag pages/repo; {compares} compares, {tarballs} tarballs)",
    f"{impact*1000:.0f} ms ({impacted} dependencies, {int(impact_usages):,} usages checked, {impact_needs} need changes)",
    f"{int(changed):,} in {int(changed_files):,} files",
    f"{upd*1000:.0f} ± {upd_sd*1000:.0f} ms",
]
print("| " + " | ".join(cells) + " |")
EOF
)")
done

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "| Scale | Files | Usages | \`baton scan\` | \`rg -l source\` | scan / rg | Peak RSS (scan) | \`baton report\` ($LATENCY_MS ms API) | report − scan | API requests | impact (report − report with BATON_IMPACT=off) | \`baton update\` changes | \`baton update\` |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Machine: $(nproc) cores, $cpu, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }'); load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $("$BATON" --version); $(hyperfine --version); $(rg --version | head -1)."
  echo "Trees: ${ENVS} environments × ${ACCOUNTS}·scale accounts × ${UNITS} units (scripts/gen-live-repo.py), warm page cache."
  echo "Times: median ± standard deviation; report − scan: median over pairs of consecutive runs; CPU: user + system."
} | tee "$BENCH_DIR/results.md"

# The API budget: requests counted against the rate limit, cold and with a warm cache.
BATON="$BATON" BENCH_DIR="$BENCH_DIR" scripts/bench-api.sh "${scales[@]}"

# `baton history` over the 1x tree with a long git history (skipped with HISTORY=0).
if [ "${HISTORY:-1}" != 0 ]; then
  BATON="$BATON" BENCH_DIR="$BENCH_DIR" scripts/bench-history.sh
  BATON="$BATON" BENCH_DIR="$BENCH_DIR" MAX_FILES=5 scripts/bench-history.sh
fi
