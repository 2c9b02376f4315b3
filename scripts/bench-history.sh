#!/usr/bin/env bash
# Benchmark of `baton history` over a live repository with a long first-parent history.
#
#   scripts/bench-history.sh
#
# Generates the 1x tree of scripts/bench.sh (scripts/gen-live-repo.py: 3 environments x 10
# accounts x 300 units, about 9,000 files), turns it into a git repository of COMMITS
# first-parent commits with scripts/gen-history.py (updates, promotions and rollbacks as merge
# commits, squash merges and edits by hand, each moving one dependency in some files of one
# environment), then times, warm page cache, median of RUNS runs after one warm-up:
#   - `baton history` of the three environments, every change listed (--limit 0, JSON), cold
#     (the blobs read through one `git cat-file` per core), and warm with --cache-dir: kept at
#     the same HEAD, and kept one commit before HEAD (in a `git clone --shared`, so that the
#     repository is not written; the cache put back before each run);
#   - `git log` of the same first-parent history with the changed files, alone (the floor).
# Prints a markdown table (also written to $BENCH_DIR/history.md) and the machine.
#
# Settings (environment): BENCH_DIR (default /tmp/baton-bench), CARGO_TARGET_DIR (default
# /tmp/target-bench), COMMITS (5000), RUNS (5), BATON (a prebuilt binary: skips the build),
# MAX_FILES (0: a third of the commits move every usage of a dependency in an environment, as
# Baton's updates do; N: each commit changes at most N files).
set -euo pipefail
cd "$(dirname "$0")/.."

COMMITS=${COMMITS:-5000}
RUNS=${RUNS:-5}
MAX_FILES=${MAX_FILES:-0}
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

tree="$BENCH_DIR/live-x1"
gen_args=(--envs 3 --accounts 10 --units 300 --scale 1)
stamp="${gen_args[*]} $(sha1sum scripts/gen-live-repo.py | cut -c1-12)"
if [ "$(cat "$tree/.bench-args" 2>/dev/null)" != "$stamp" ]; then
  log "generating the 1x tree in $tree"
  python3 scripts/gen-live-repo.py --out "$tree" --force "${gen_args[@]}"
  echo "$stamp" >"$tree/.bench-args"
fi
repo="$BENCH_DIR/history-x1"
[ "$MAX_FILES" = 0 ] || repo="$repo-max$MAX_FILES"
hstamp="$stamp $COMMITS $MAX_FILES $(sha1sum scripts/gen-history.py | cut -c1-12)"
if [ "$(cat "$repo.args" 2>/dev/null)" != "$hstamp" ]; then
  log "generating a history of $COMMITS commits in $repo"
  python3 scripts/gen-history.py --tree "$tree" --out "$repo" --commits "$COMMITS" \
    --max-files "$MAX_FILES" --force
  echo "$hstamp" >"$repo.args"
fi

envs=(--env 'dev=dev/**' --env 'stage=stage/**' --env 'prod=prod/**')
"$BATON" history --working-dir "$repo" "${envs[@]}" --limit 0 --format json >"$BENCH_DIR/history.json"
read -r files commits changed listed < <(python3 - "$repo" "$BENCH_DIR/history.json" <<'EOF'
import json, subprocess, sys
repo, out = sys.argv[1], sys.argv[2]
files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.splitlines())
log = subprocess.run(["git", "log", "--first-parent", "--diff-merges=first-parent", "--format=", "--name-only", "HEAD"],
                     cwd=repo, capture_output=True, text=True, check=True).stdout
changed = sum(1 for line in log.splitlines() if line.split("/", 1)[0] in ("dev", "stage", "prod"))
h = json.load(open(out))
print(files, h["commits"], changed, len(h["changes"]))
EOF
)

# The warm runs read a clone sharing the repository's objects: the repository is not written.
clone="$BENCH_DIR/history-x1-warm"
rm -rf "$clone" "$BENCH_DIR/history-cache"
git clone -q --shared "$repo" "$clone"

log "timing baton history (cold, warm) and git log ($RUNS runs each)"
read -r baton_s baton_sd same_s next_s git_s < <(python3 - "$RUNS" "$BATON" "$repo" "$clone" "$BENCH_DIR" <<'EOF'
import shutil, statistics, subprocess, sys, time
runs, baton, repo, clone, bench = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def timed(cmd, cwd=repo, before=None):
    if before:
        before()
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
def history(where, cache=None):
    cmd = [baton, "history", "--working-dir", where, "--env", "dev=dev/**", "--env", "stage=stage/**",
           "--env", "prod=prod/**", "--limit", "0", "--format", "json"]
    return cmd + ["--cache-dir", cache] if cache else cmd
def out(cmd):
    return subprocess.run(cmd, capture_output=True, check=True).stdout
def git(*args):
    subprocess.run(["git", "-C", clone, *args], capture_output=True, check=True)
gitlog = ["git", "log", "--first-parent", "--diff-merges=first-parent", "--root", "--raw", "--no-renames",
          "--no-abbrev", "-z", "--format=%H%x1f%P%x1f%ct%x1f%an%x1f%ae%x1f%B", "HEAD"]
# Warm at the same HEAD: kept by the first run. Warm one commit later: kept at HEAD~1, put back
# before each run at HEAD.
same = f"{bench}/history-cache/same"
primed, later = f"{bench}/history-cache/primed", f"{bench}/history-cache/later"
git("checkout", "-q", "--detach", "HEAD~1")
out(history(clone, primed))
git("checkout", "-q", "-")
def put_back():
    shutil.rmtree(later, ignore_errors=True)
    shutil.copytree(primed, later)
cold = out(history(clone))
put_back()
if out(history(clone, same)) != cold or out(history(clone, later)) != cold:
    sys.exit("a warm run does not list what the cold run lists")
timed(history(repo)); timed(gitlog)
h = [timed(history(repo)) for _ in range(runs)]
s = [timed(history(clone, same), clone) for _ in range(runs)]
n = [timed(history(clone, later), clone, put_back) for _ in range(runs)]
g = [timed(gitlog) for _ in range(runs)]
print(statistics.median(h), statistics.stdev(h) if runs > 1 else 0.0, statistics.median(s),
      statistics.median(n), statistics.median(g))
EOF
)

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "| Files | First-parent commits | Environment files changed | Changes listed | \`baton history\` | warm, same HEAD | warm, one new commit | \`git log\` alone |"
  echo "|---|---|---|---|---|---|---|---|"
  python3 -c '
import sys
files, commits, changed, listed, b, sd, same, later, g = sys.argv[1:]
print(f"| {int(files):,} | {int(commits):,} | {int(changed):,} | {int(listed):,} | {float(b):.2f} ± {float(sd):.2f} s | {float(same):.2f} s | {float(later):.2f} s | {float(g):.2f} s |")' \
    "$files" "$commits" "$changed" "$listed" "$baton_s" "$baton_sd" "$same_s" "$next_s" "$git_s"
  echo
  echo "Machine: $(nproc) cores, $cpu; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); $("$BATON" --version); $(git --version)."
} | tee "$BENCH_DIR/history.md"
