#!/usr/bin/env python3
"""Measures what `baton scan` finds in checkouts of real live repositories.

    scripts/measure-live.py DIR [--baton BIN] [--commits FILE] [--json OUT] [--compare BEFORE.json]
                                [--reasons]

DIR holds one folder per repository (a git checkout, or files extracted from one). For each, runs
`baton scan --working-dir DIR/<name>` and prints:

  - usages: every module source found;
  - id+version: usages with a dependency ID and a version (what `report` can look up and compare);
  - managed: usages Baton would update (no skip reason);
  - skipped, by reason (reasons are grouped: quoted values, paths and hashes are elided).

The commit of each repository is `git rev-parse HEAD` for a checkout, else the line
`<name> <commit>` of --commits. --json writes the figures; --compare reads figures written earlier
(by another build) and prints before -> after per repository. --reasons lists every distinct
unresolvable-interpolation reason with its count, to see what is left.

Nothing is sent anywhere: `scan` reads files only.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys


def category(reason):
    """A reason without the parts that differ from usage to usage."""
    r = reason
    if r.startswith("unresolvable interpolation"):
        return "unresolvable interpolation"
    r = re.sub(r'"[^"]*"', '"…"', r)
    r = re.sub(r"`[^`]*`", "`…`", r)
    r = re.sub(r"\b[0-9a-f]{7,40}\b", "<sha>", r)
    r = re.sub(r"(written in) \S+", r"\1 <file>", r)
    return r


def commit_of(path, commits):
    name = os.path.basename(path)
    if name in commits:
        return commits[name]
    try:
        out = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "?"


def measure(baton, path):
    out = subprocess.run(
        [baton, "scan", "--working-dir", path, "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "BATON_LOG": "error"},
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip()[:300]}
    scan = json.loads(out.stdout)
    usages = scan.get("usages", [])
    reasons = collections.Counter()
    details = collections.Counter()
    for u in usages:
        if u.get("skipped"):
            reasons[category(u["skipped"])] += 1
            if u["skipped"].startswith("unresolvable interpolation"):
                details[u["skipped"]] += 1
    return {
        "usages": len(usages),
        "id_and_version": sum(
            1 for u in usages if u.get("dependency") and u.get("current") is not None
        ),
        "with_id": sum(1 for u in usages if u.get("dependency")),
        "managed": sum(1 for u in usages if not u.get("skipped")),
        "file_errors": len(scan.get("errors", [])),
        "skipped": dict(reasons.most_common()),
        "unresolvable": dict(details.most_common()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("dir")
    ap.add_argument("--baton", default=os.environ.get("BATON", "baton"))
    ap.add_argument("--commits", help="file of `<name> <commit>` lines")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--compare", help="figures written earlier with --json")
    ap.add_argument("--reasons", action="store_true", help="list unresolvable reasons")
    args = ap.parse_args()

    commits = {}
    if args.commits:
        with open(args.commits) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    commits[parts[0]] = parts[1]
    before = {}
    if args.compare:
        with open(args.compare) as f:
            before = json.load(f)

    results = {}
    for name in sorted(os.listdir(args.dir)):
        path = os.path.join(args.dir, name)
        if not os.path.isdir(path):
            continue
        m = measure(args.baton, path)
        m["commit"] = commit_of(path, commits)
        results[name] = m

    for name, m in results.items():
        print(f"## {name} @ {m['commit'][:12]}")
        if "error" in m:
            print(f"   scan failed: {m['error']}")
            continue
        b = before.get(name, {})

        def fig(key):
            return f"{b[key]} -> {m[key]}" if key in b and b[key] != m[key] else f"{m[key]}"

        print(
            f"   usages {fig('usages')}, id+version {fig('id_and_version')}, "
            f"with id {fig('with_id')}, managed {fig('managed')}, file errors {fig('file_errors')}"
        )
        keys = list(m["skipped"]) + [k for k in b.get("skipped", {}) if k not in m["skipped"]]
        for k in keys:
            old, new = b.get("skipped", {}).get(k), m["skipped"].get(k, 0)
            shown = f"{old} -> {new}" if b and old != new else f"{new}"
            print(f"   skipped {shown:>10}  {k}")
        if args.reasons:
            for reason, n in m["unresolvable"].items():
                print(f"      {n:>5}  {reason[:200]}")

    if results:
        total = collections.Counter()
        total_before = collections.Counter()
        for name, m in results.items():
            for key in ("usages", "id_and_version", "managed"):
                total[key] += m.get(key, 0)
                total_before[key] += before.get(name, {}).get(key, 0)
        line = ", ".join(
            f"{k} {total_before[k]} -> {total[k]}" if before else f"{k} {total[k]}"
            for k in ("usages", "id_and_version", "managed")
        )
        print(f"## total: {line}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
