#!/usr/bin/env python3
"""A local stand-in for the GitHub REST API, for Baton's benchmarks. Listens on 127.0.0.1 only.

    GET /repos/{owner}/{repo}/tags[?…]   30 tags (v1.0.0 … v3.9.0), newest first, after --latency
    GET /repos/{o}/{r}/compare/{a}...{b} the files that changed between two of those tags
    GET /repos/{o}/{r}/tarball/{tag}     a redirect to /_codeload/{o}/{r}/{tag}, the module files
    GET /orgs/fleet/repos, GET /repos/fleet/{r}, …/git/ref/heads/main, …/tarball/{sha},
    …/pulls, …/commits/{sha}/check-runs, …/status, …/pulls/{n}/reviews
                                         with --fleet-tarball: live repositories fleet/live-001 …
                                         for fleet status (see fleet_answer)
    GET /__stats                         {"total": N, "per_repo": {"owner/repo": N, …},
                                          "compare": N, "tarball": N, "download": N,
                                          "not_modified": N, "counted": N}

As GitHub does, tags and compare answers carry an ETag that belongs to the token (another
Authorization gets another tag), a request with `If-None-Match` of that tag is answered
`304 Not Modified`, and "counted" is what GitHub counts against the rate limit: API requests
(downloads from codeload are not API requests) less the 304s.
    POST /__reset                        zeroes the counters

For `baton notify` (scripts/bench-notify.sh), with --consumers N (default 100) repositories
acme/live-000 … each holding dev/vpc/terragrunt.hcl and prod/vpc/terragrunt.hcl that name
acme/terraform-aws-vpc:
    GET  /search/code?q=…&per_page=…&page=…   those files, paged with Link, with code search's own
                                              rate-limit headers (10 a minute)
    POST /repos/{owner}/{repo}/dispatches      204 (counted under "dispatch" and "search")

Every repository holds modules/{core,service,cluster,policy,monitoring,replica}. Each release
changes the code of core, service, cluster and policy; a major release also changes their
interface (core loses an input, service an output, cluster makes an input required); monitoring
and replica never change, so their major releases are empty bumps.

Every other path answers 404 (and is counted under "other"). Prints the chosen port on stdout
(the first line) and, with --port-file, also writes it to that file once listening.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAGS = [f"v{major}.{minor}.0" for major in (1, 2, 3) for minor in range(10)]


MODULES = ["core", "service", "cluster", "policy", "monitoring", "replica"]
CHANGING = MODULES[:4]


def major(tag):
    return int(tag.lstrip("v").split(".")[0])


def module_files(module, tag):
    """The files of one module at a tag: its interface depends on the major version."""
    if module not in CHANGING:
        tag = "v1.0.0"
    m = major(tag)
    variables = ['variable "name" {\n  type = string\n}\n']
    if not (module == "core" and m >= 2):
        variables.append('variable "legacy_flag" {\n  type    = bool\n  default = false\n}\n')
    required = module == "cluster" and m >= 2
    variables.append(
        'variable "setting_0" {\n  type = number\n%s}\n' % ("" if required else "  default = 1\n")
    )
    outputs = ['output "id" {\n  value = "x"\n}\n']
    if not (module == "service" and m >= 2):
        outputs.append('output "arn" {\n  value = "x"\n}\n')
    main = f"# {module} {tag}\nresource \"null_resource\" \"this\" {{}}\n"
    return {
        f"modules/{module}/variables.tf": "\n".join(variables),
        f"modules/{module}/outputs.tf": "\n".join(outputs),
        f"modules/{module}/main.tf": main,
    }


def tarball(repo, tag):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        files = {"README.md": f"# {repo} {tag}\n"}
        for module in MODULES:
            files.update(module_files(module, tag))
        top = repo.replace("/", "-") + "-" + f"{abs(hash(tag)):x}"[:7]
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def changed(base, head):
    if base == head:
        return []
    out = ["README.md"]
    for module in CHANGING:
        a, b = module_files(module, base), module_files(module, head)
        out += [p for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
    return out


class State:
    consumers = 100
    dispatch = 0
    search = 0
    search_window = (0, 0.0)
    lock = threading.Lock()
    per_repo = {}
    other = 0
    compare = 0
    tarball = 0
    download = 0
    not_modified = 0
    tarballs = {}
    latency = 0.05
    body = json.dumps(
        [
            {
                "name": t,
                "commit": {"sha": f"{i:040x}", "url": "http://127.0.0.1/"},
                "zipball_url": "http://127.0.0.1/",
                "tarball_url": "http://127.0.0.1/",
                "node_id": "x",
            }
            for i, t in enumerate(reversed(TAGS))
        ]
    ).encode()


class Fleet:
    """Live repositories for fleet status: --fleet-repos of them, all serving the tarball
    --fleet-tarball at one commit; every tenth has an update pull request open for 9 days whose
    check failed."""
    repos = 0
    tarball = b""
    api = 0
    downloads = 0


def fleet_name(i):
    return f"live-{i:03d}"


def fleet_repo(name):
    return {
        "id": 1, "node_id": "x", "name": name, "full_name": f"fleet/{name}",
        "owner": {"login": "fleet"}, "private": True, "fork": False, "archived": False,
        "disabled": False, "size": 108, "default_branch": "main", "topics": ["live"],
        "html_url": f"https://github.com/fleet/{name}",
    }


def fleet_answer(handler, parts, query):
    """The answer to a fleet status request as (status, JSON body or bytes, headers), or None."""
    if Fleet.repos == 0:
        return None
    names = [fleet_name(i) for i in range(1, Fleet.repos + 1)]
    if parts[:3] == ["orgs", "fleet", "repos"] and len(parts) == 3:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        chunk = names[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(names):
            headers["Link"] = f'<http://{handler.headers.get("Host")}/orgs/fleet/repos?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, [fleet_repo(n) for n in chunk], headers
    if len(parts) < 3 or parts[0] != "repos" or parts[1] != "fleet" or parts[2] not in names:
        return None
    name, rest = parts[2], parts[3:]
    index = int(name.split("-")[1])
    sha = f"{index:040x}"
    head = f"{index + 5000:040x}"
    if rest == []:
        return 200, fleet_repo(name), {}
    if rest[:3] == ["git", "ref", "heads"]:
        return 200, {"ref": "refs/heads/main", "node_id": "x", "url": "http://x",
                     "object": {"type": "commit", "sha": sha, "url": "http://x"}}, {}
    if rest == ["tarball", sha]:
        return 302, b"", {"Location": f"/_codeload/fleet/{name}/{sha}"}
    if rest == ["pulls"]:
        if query.get("state") != "open" or index % 10 != 0:
            return 200, [], {}
        branch = "baton-stage-updates-github.com/acme-infra/terraform-aws-network/modules/vpc"
        return 200, [{
            "number": 7, "html_url": f"https://github.com/fleet/{name}/pull/7",
            "title": "Update vpc in stage", "created_at": "2026-11-20T00:00:00Z",
            "merged_at": None, "draft": False, "head": {"ref": branch, "sha": head},
            "labels": [{"name": "updates-stage"}],
        }], {}
    if rest == ["commits", head, "check-runs"]:
        return 200, {"total_count": 1, "check_runs": [{
            "id": 1, "name": "plan", "status": "completed", "conclusion": "failure",
            "details_url": "http://x", "html_url": "http://x", "started_at": "2026-11-20T00:00:00Z"}]}, {}
    if rest == ["commits", head, "status"]:
        return 200, {"state": "pending", "statuses": [], "sha": head, "total_count": 0}, {}
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # Headers and body leave in one write, with Nagle off: two small writes on a keep-alive
    # connection would meet the client's delayed ACK and add ~40 ms to every response.
    disable_nagle_algorithm = True

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def conditional(self, body):
        """200 with a token-specific ETag, or 304 when the request already holds that tag."""
        auth = self.headers.get("Authorization") or ""
        etag = 'W/"%s"' % hashlib.sha256(body + auth.encode()).hexdigest()[:32]
        if self.headers.get("If-None-Match") == etag:
            with State.lock:
                State.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if path == "/__stats":
            with State.lock:
                api = sum(State.per_repo.values()) + State.other + State.compare + State.tarball
                api += Fleet.api
                api += State.dispatch + State.search
                stats = {
                    "fleet": Fleet.api,
                    "fleet_download": Fleet.downloads,
                    "total": api + State.download + Fleet.downloads,
                    "not_modified": State.not_modified,
                    "counted": api - State.not_modified,
                    "other": State.other,
                    "per_repo": dict(sorted(State.per_repo.items())),
                    "compare": State.compare,
                    "tarball": State.tarball,
                    "download": State.download,
                    "dispatch": State.dispatch,
                    "search": State.search,
                }
            return self.reply(200, json.dumps(stats).encode())
        if self.fleet_get(parts):
            return
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "tags":
            key = f"{parts[1]}/{parts[2]}"
            with State.lock:
                State.per_repo[key] = State.per_repo.get(key, 0) + 1
            time.sleep(State.latency)
            return self.conditional(State.body)
        if len(parts) >= 5 and parts[0] == "repos" and parts[3] == "compare":
            base, _, head = "/".join(parts[4:]).partition("...")
            if base in TAGS and head in TAGS:
                with State.lock:
                    State.compare += 1
                time.sleep(State.latency)
                files = [{"filename": f, "status": "modified"} for f in changed(base, head)]
                return self.conditional(json.dumps({"status": "ahead", "files": files}).encode())
        if len(parts) == 5 and parts[0] == "repos" and parts[3] == "tarball" and parts[4] in TAGS:
            with State.lock:
                State.tarball += 1
            time.sleep(State.latency)
            self.send_response(302)
            self.send_header("Location", f"/_codeload/{parts[1]}/{parts[2]}/{parts[4]}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if len(parts) == 4 and parts[0] == "_codeload" and parts[3] in TAGS:
            key = (f"{parts[1]}/{parts[2]}", parts[3])
            with State.lock:
                State.download += 1
                body = State.tarballs.get(key)
            if body is None:
                body = tarball(*key)
                with State.lock:
                    State.tarballs[key] = body
            time.sleep(State.latency)
            return self.reply(200, body, "application/x-gzip")
        if path == "/search/code":
            return fleet_search(self)
        with State.lock:
            State.other += 1
        time.sleep(State.latency)
        self.reply(404, b'{"message":"Not Found"}')

    def fleet_get(self, parts):
        """Answers a fleet status request (see fleet_answer); False when it is not one."""
        if len(parts) == 4 and parts[0] == "_codeload" and parts[1] == "fleet" and Fleet.repos:
            with State.lock:
                Fleet.downloads += 1
            time.sleep(State.latency)
            self.reply(200, Fleet.tarball, "application/x-gzip")
            return True
        query = dict(
            kv.split("=", 1) for kv in (self.path.split("?", 1)[1:] or [""])[0].split("&") if "=" in kv
        )
        answer = fleet_answer(self, parts, query)
        if answer is None:
            return False
        status, body, headers = answer
        with State.lock:
            Fleet.api += 1
        time.sleep(State.latency)
        if status != 200:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        data = json.dumps(body).encode()
        if not headers:
            self.conditional(data)
            return True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()
        return True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "dispatches":
            with State.lock:
                State.dispatch += 1
            time.sleep(State.latency)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/__reset":
            with State.lock:
                State.dispatch = State.search = 0
                State.per_repo.clear()
                State.other = 0
                State.compare = State.tarball = State.download = State.not_modified = 0
                Fleet.api = Fleet.downloads = 0
            return self.reply(200, b"{}")
        self.reply(404, b'{"message":"Not Found"}')


def fleet_search(handler):
    """GET /search/code: the consumers' files, a page of them, with code search's rate limit."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    query = parse_qs(urlsplit(handler.path).query)
    per_page = min(int(query.get("per_page", ["30"])[0]), 100)
    page = max(int(query.get("page", ["1"])[0]), 1)
    q = query.get("q", [""])[0]
    now = time.time()
    with State.lock:
        State.search += 1
        used, start = State.search_window
        if now - start >= 60:
            used, start = 0, now
        used += 1
        State.search_window = (used, start)
    time.sleep(State.latency)
    files = [
        (f"acme/live-{i:03d}", f"{env}/vpc/terragrunt.hcl")
        for i in range(State.consumers)
        for env in ("dev", "prod")
    ]
    chunk = files[(page - 1) * per_page : page * per_page]
    items = [
        {"name": "terragrunt.hcl", "path": path, "sha": "0" * 40, "url": "http://127.0.0.1/",
         "git_url": "http://127.0.0.1/", "html_url": "http://127.0.0.1/", "score": 1.0,
         "repository": {"full_name": repo, "name": repo.split("/")[1], "fork": False}}
        for repo, path in chunk
    ]
    body = json.dumps({"total_count": len(files), "incomplete_results": False, "items": items}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("x-ratelimit-limit", "10")
    handler.send_header("x-ratelimit-remaining", str(max(10 - used, 0)))
    handler.send_header("x-ratelimit-reset", str(int(start + 60)))
    handler.send_header("x-ratelimit-resource", "code_search")
    if page * per_page < len(files):
        host = handler.headers.get("Host")
        nxt = urlencode({"q": q, "per_page": per_page, "page": page + 1})
        handler.send_header("Link", f'<http://{host}/search/code?{nxt}>; rel="next"')
    handler._headers_buffer.append(b"\r\n" + body)
    handler.flush_headers()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    p.add_argument("--latency-ms", type=float, default=50.0, help="delay per request (default 50)")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--fleet-repos", type=int, default=0, help="serve this many live repositories")
    p.add_argument("--fleet-tarball", help="the .tar.gz every live repository serves")
    p.add_argument("--consumers", type=int, default=100, help="consumer repositories for notify")
    args = p.parse_args()
    if args.fleet_repos and args.fleet_tarball:
        Fleet.repos = args.fleet_repos
        with open(args.fleet_tarball, "rb") as f:
            Fleet.tarball = f.read()
    State.consumers = args.consumers
    State.latency = args.latency_ms / 1000.0
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(port, flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
