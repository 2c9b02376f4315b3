#!/usr/bin/env python3
"""Builds a git repository with a long first-parent history over a tree from gen-live-repo.py,
for benchmarking `baton history`.

    scripts/gen-history.py --tree /tmp/baton-bench/live-x1 --out /tmp/baton-bench/history-x1 \
        [--commits 5000] [--seed 7]

The first commit holds the whole tree. Each later commit moves one dependency to another
version in some of the files of one environment that pin it (`?ref=vX.Y.0` after the module's
address), as updates, promotions and rollbacks do:

- a third are merge commits of a branch whose commit carries Baton's trailers
  ("Merge pull request #N from acme/baton-<env>-updates-<dependency>"),
- a third are squash merges ("Update <dependency> to <version> (#N)", trailers in the body),
- a third are edits by hand, straight on main;

and one commit in twenty changes a file outside the environments only. Commit times start on
2024-01-02 and advance 1 to 4 hours per commit. Commits are streamed to `git fast-import`, so
5,000 commits over 9,000 files take seconds. Deterministic for a given set of arguments.
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys

ENVS = ["dev", "stage", "prod"]
KINDS = ["update", "promotion", "rollback"]
REF = re.compile(r"(terraform-aws-[a-z0-9-]+)(?:\.git)?//modules/([a-z]+)\?ref=v(\d+)\.(\d+)\.0")


def read_tree(root):
    files = {}
    for base, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith(".bench"):
                continue
            full = os.path.join(base, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = f.read()
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tree", required=True, help="a tree written by gen-live-repo.py")
    p.add_argument("--out", required=True, help="the repository to create")
    p.add_argument("--commits", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--max-files",
        type=int,
        default=0,
        help="change at most this many files per commit (default 0: a third of the commits move every usage in the environment)",
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    a = p.parse_args()
    rng = random.Random(a.seed)
    if os.path.exists(a.out):
        if not a.force:
            sys.exit(f"{a.out} exists; pass --force to replace it")
        shutil.rmtree(a.out)
    files = read_tree(a.tree)
    # dependency (repo/module) -> environment -> files that pin it directly
    index = {}
    for path, data in files.items():
        env = path.split("/", 1)[0]
        if env not in ENVS:
            continue
        for m in REF.finditer(data.decode()):
            dep = f"{m.group(1)}/{m.group(2)}"
            index.setdefault(dep, {}).setdefault(env, set()).add(path)
    deps = sorted(index)
    weights = [sum(len(v) for v in index[d].values()) for d in deps]

    subprocess.run(["git", "init", "-q", "-b", "main", a.out], check=True)
    fi = subprocess.Popen(
        ["git", "-c", "core.bigFileThreshold=16m", "fast-import", "--quiet"],
        cwd=a.out,
        stdin=subprocess.PIPE,
    )
    out = fi.stdin
    mark = [0]

    def new_mark():
        mark[0] += 1
        return mark[0]

    def data(b):
        out.write(b"data %d\n" % len(b))
        out.write(b)
        out.write(b"\n")

    def commit(ref, who, when, message, changes, parent=None, merge=None):
        m = new_mark()
        out.write(f"commit {ref}\nmark :{m}\n".encode())
        out.write(f"author {who} {when} +0000\ncommitter {who} {when} +0000\n".encode())
        data(message.encode())
        if parent is not None:
            out.write(f"from :{parent}\n".encode())
        if merge is not None:
            out.write(f"merge :{merge}\n".encode())
        for path, content in changes:
            out.write(f"M 100644 inline {path}\n".encode())
            data(content)
        return m

    when = 1704153600  # 2024-01-02T00:00:00Z
    bot = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    people = ["Alice Admin <alice@example.com>", "Bob Builder <bob@example.com>", "Carol Coder <carol@example.com>"]
    head = commit("refs/heads/main", people[0], when, "Initial live repository\n", sorted(files.items()))
    pr = 0
    env_files = 0
    made = 1
    i = 0
    while made < a.commits:
        i += 1
        when += rng.randrange(3600, 4 * 3600)
        who = rng.choice(people)
        if rng.random() < 0.05:
            readme = files.get("README.md", b"") + f"note {i}\n".encode()
            files["README.md"] = readme
            head = commit("refs/heads/main", who, when, f"Notes {i}\n", [("README.md", readme)], head)
            made += 1
            continue
        dep = rng.choices(deps, weights)[0]
        env = rng.choice([e for e in ENVS if e in index[dep]])
        pool = sorted(index[dep][env])
        if a.max_files:
            chosen = rng.sample(pool, rng.randint(1, min(a.max_files, len(pool))))
        else:
            chosen = pool if rng.random() < 0.3 else rng.sample(pool, rng.randint(1, min(20, len(pool))))
        major, minor = rng.randint(1, 3), rng.randint(0, 8)
        version = f"{major}.{minor}.0"
        repo, module = dep.split("/")
        pattern = re.compile(
            r"(" + re.escape(repo) + r"(?:\.git)?//modules/" + re.escape(module) + r"\?ref=)v\d+\.\d+\.0"
        )
        changes = []
        for path in chosen:
            text = files[path].decode()
            new = pattern.sub(lambda m: m.group(1) + "v" + version, text)
            if new != text:
                files[path] = new.encode()
                changes.append((path, files[path]))
        if not changes:
            continue
        made += 1
        env_files += len(changes)
        style = i % 3
        kind = rng.choice(KINDS)
        trailers = f"Baton-Kind: {kind}\nBaton-Environment: {env}\n"
        if kind == "promotion" and env != "dev":
            trailers += f"Baton-Promoted-From: {ENVS[ENVS.index(env) - 1]}\n"
        title = f"Update acme-infra/{dep} to {version}"
        lines = "".join(f"- {p}: v{version}\n" for p, _ in changes[:20])
        if style == 0:
            pr += 1
            branch = f"baton-{env}-updates-acme-infra/{dep}"
            tip = commit(f"refs/heads/{branch}", bot, when - 600, f"{title}\n\n{lines}\n{trailers}", changes, head)
            head = commit(
                "refs/heads/main",
                who,
                when,
                f"Merge pull request #{pr} from acme/{branch}\n\n{title}\n",
                changes,
                head,
                tip,
            )
        elif style == 1:
            pr += 1
            head = commit("refs/heads/main", who, when, f"{title} (#{pr})\n\n* {title}\n\n{trailers}", changes, head)
        else:
            head = commit("refs/heads/main", who, when, f"Bump {dep} in {env} by hand\n", changes, head)
    out.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=a.out, check=True)
    count = subprocess.run(
        ["git", "rev-list", "--first-parent", "--count", "HEAD"], cwd=a.out, check=True, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"{a.out}: {len(files)} files, {count} first-parent commits, {env_files} environment files changed",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
