#!/usr/bin/env bash
# Builds the action image as a release does (the `release` stage of the Dockerfile) and runs
# `baton action` inside it the way the GitHub runner runs a container action: INPUT_* and
# GITHUB_* variables, the workspace mounted at /github/workspace and owned by another user,
# GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. Then checks what `report` and `update` (dry run)
# wrote. Prints the time taken, the image size and the binary's start-up time.
#
#   sudo scripts/test-image.sh
#
# Needs root, buildah and debootstrap (installed from Debian when missing), and Debian's package
# archive: no image is pulled. The base is a Debian 12 (bookworm) minbase root file system made by
# debootstrap from Debian's own packages: the same release and packages as debian:bookworm-slim,
# which a release uses. The binary is a release build of this tree for the machine's glibc
# (bookworm's), standing in for the static one release.yml builds. About 10 minutes the first
# time on two cores (debootstrap, the release build); CI does not run it (root tools, time).
#
# Settings (environment): WORK (default /var/tmp/baton-image: the root file system and the
# stand-in's files are kept there between runs), CARGO_TARGET_DIR, BATON (a prebuilt binary:
# skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD
start=$(date +%s)
WORK=${WORK:-/var/tmp/baton-image}
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
storage=(--storage-driver=vfs)
base=localhost/baton-test-base:bookworm-slim
image=localhost/baton:test

log() { printf '\n== %s\n' "$*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (buildah with chroot isolation and debootstrap need it)"
missing=()
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- the base: Debian bookworm from its own packages ---------------------------------------------
if ! buildah "${storage[@]}" images --quiet "$base" >/dev/null 2>&1; then
  if [ ! -x "$WORK/rootfs/bin/sh" ]; then
    log "debootstrap --variant=minbase bookworm (Debian's packages)"
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
  fi
  log "making $base from the root file system"
  ctr=$(buildah "${storage[@]}" from scratch)
  mnt=$(buildah "${storage[@]}" mount "$ctr")
  cp -a "$WORK/rootfs/." "$mnt/"
  # What debian:bookworm-slim does to the same packages (debuerreotype's slimify and docker
  # configuration): no documentation, manuals or translations, and apt keeps no archives or lists.
  cat >"$mnt/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
CFG
  cat >"$mnt/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  find "$mnt/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$mnt/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$mnt"/usr/share/man/* "$mnt"/usr/share/info/* "$mnt"/usr/share/lintian/overrides/*
  find "$mnt/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/cache/apt/archives/*.deb "$mnt"/var/cache/apt/*.bin
  buildah "${storage[@]}" umount "$ctr" >/dev/null
  buildah "${storage[@]}" config --cmd /bin/bash "$ctr"
  buildah "${storage[@]}" commit --quiet "$ctr" "$base" >/dev/null
  buildah "${storage[@]}" rm "$ctr" >/dev/null
fi

# --- the binary, where the release stage takes it --------------------------------------------------
if [ -z "${BATON:-}" ]; then
  log "cargo build --release --locked"
  build_start=$(date +%s)
  cargo build --release --locked --quiet
  BATON="${CARGO_TARGET_DIR:-target}/release/baton"
  echo "release build: $(( $(date +%s) - build_start )) s" >&2
fi
mkdir -p dist
install -m 0755 "$BATON" dist/baton-linux-amd64

# --- the image ---------------------------------------------------------------------------------------
log "buildah build --target release (vfs, chroot isolation, --pull=never)"
image_start=$(date +%s)
buildah "${storage[@]}" build --quiet --isolation=chroot --pull=never --layers=false \
  --target release --build-arg "BASE_IMAGE=$base" --build-arg TARGETARCH=amd64 \
  --tag "$image" . >/dev/null
echo "image build: $(( $(date +%s) - image_start )) s" >&2
entrypoint=$(buildah "${storage[@]}" inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$image")
[ "$entrypoint" = '[/usr/local/bin/baton action]' ] || fail "ENTRYPOINT is $entrypoint"
size=$(buildah "${storage[@]}" images --noheading --format '{{.Size}}' "$image")

# --- a GitHub API stand-in and a fixture repository owned by another user ---------------------------
run_dir=$(mktemp -d "$WORK/run.XXXXXX")
trap 'kill "${standin_pid:-0}" 2>/dev/null || true; rm -rf "$run_dir"' EXIT
python3 scripts/github-standin.py --latency-ms 0 --port-file "$run_dir/port" >/dev/null &
standin_pid=$!
for _ in $(seq 100); do [ -s "$run_dir/port" ] && break; sleep 0.05; done
api="http://127.0.0.1:$(cat "$run_dir/port")"

ws="$run_dir/workspace"
mkdir -p "$ws"
git -C "$ws" init -q -b main
for env in dev stage prod; do
  mkdir -p "$ws/$env/vpc"
  printf 'terraform {\n  source = "github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0"\n}\n' \
    >"$ws/$env/vpc/terragrunt.hcl"
done
mkdir -p "$ws/.github"
printf '[[environments]]\nname = "dev"\ninclude = ["{*dev*}/**"]\n\n[[environments]]\nname = "stage"\ninclude = ["{*stage*}/**"]\n\n[[environments]]\nname = "prod"\ninclude = ["{*prod*}/**"]\n' \
  >"$ws/.github/baton.toml"
git -C "$ws" -c user.name=t -c user.email=t@t.invalid add -A
git -C "$ws" -c user.name=t -c user.email=t@t.invalid -c commit.gpgsign=false commit -q -m live
# The runner's user owns the workspace; the container runs as root.
chown -R 1001:1001 "$ws"
mkdir -p "$run_dir/files" "$run_dir/home"
echo '{"inputs": {}}' >"$run_dir/files/event.json"

# Runs `baton action` in the image with the runner's variables and the given INPUT_*=… pairs;
# stdout to $run_dir/<name>.out, stderr to $run_dir/<name>.err.
act() {
  local name=$1; shift
  : >"$run_dir/files/output"; : >"$run_dir/files/summary.md"
  local envs=(
    GITHUB_ACTIONS=true CI=true HOME=/github/home
    GITHUB_WORKSPACE=/github/workspace GITHUB_REPOSITORY=acme/live
    GITHUB_EVENT_NAME=workflow_dispatch GITHUB_EVENT_PATH=/github/workflow/event.json
    GITHUB_OUTPUT=/github/file_commands/output GITHUB_STEP_SUMMARY=/github/file_commands/summary.md
    GITHUB_API_URL="$api" INPUT_GITHUB_BASE_URL="$api" INPUT_GITHUB_TOKEN=ghs_IMAGETESTTOKEN
    "$@"
  )
  local args=()
  for e in "${envs[@]}"; do args+=(--env "$e"); done
  local ctr
  ctr=$(buildah "${storage[@]}" from --pull=never "$image")
  local rc=0
  buildah "${storage[@]}" run --isolation=chroot "${args[@]}" \
    -v "$ws:/github/workspace" -v "$run_dir/files:/github/file_commands" \
    -v "$run_dir/files:/github/workflow" -v "$run_dir/home:/github/home" \
    --workingdir /github/workspace "$ctr" -- /usr/local/bin/baton action \
    >"$run_dir/$name.out" 2>"$run_dir/$name.err" || rc=$?
  buildah "${storage[@]}" rm "$ctr" >/dev/null
  cp "$run_dir/files/output" "$run_dir/$name.output"
  cp "$run_dir/files/summary.md" "$run_dir/$name.summary"
  [ "$rc" -eq 0 ] || { cat "$run_dir/$name.err" >&2; fail "$name exited $rc"; }
}

# The value of one output from a GITHUB_OUTPUT file (name<<DELIMITER form).
output() { awk -v n="$2" '$0 ~ "^"n"<<" { d=substr($0, length(n)+3); getline; while ($0 != d) { print; getline } }' "$1"; }

checked=()
log "report (environment dev from the config)"
act report INPUT_PATCHER_COMMAND=report INPUT_ENVIRONMENT=dev
spec=$(output "$run_dir/report.output" spec)
[ "$(output "$run_dir/report.output" has_dependencies)" = true ] || fail "has_dependencies is not true"
[ "$(output "$run_dir/report.output" dependencies)" = '["acme/terraform-aws-vpc/vpc"]' ] || fail "dependencies: $(output "$run_dir/report.output" dependencies)"
grep -q '"TargetBreakingVersion":"2.0.0"' <<<"$spec" || fail "spec: $spec"
grep -q 'Baton report' "$run_dir/report.summary" || fail "no job summary"
grep -q '^::add-mask::ghs_IMAGETESTTOKEN$' "$run_dir/report.out" || fail "the token is not masked first"
checked+=("report: spec, has_dependencies and dependencies outputs; job summary; token masked")

log "update, dry run"
act update INPUT_PATCHER_COMMAND=update INPUT_ENVIRONMENT=dev INPUT_DRY_RUN=true \
  "INPUT_SPEC=$spec" INPUT_DEPENDENCY=acme/terraform-aws-vpc/vpc INPUT_UPDATE_STRATEGY=next-safe
grep -q '^+  source = "github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.9.0"' "$run_dir/update.out" \
  || { cat "$run_dir/update.out" >&2; fail "no diff to v1.9.0"; }
[ "$(output "$run_dir/update.output" version)" = 1.9.0 ] || fail "version output"
[ "$(output "$run_dir/update.output" dependency)" = acme/terraform-aws-vpc/vpc ] || fail "dependency output"
[ -z "$(git -C "$ws" -c safe.directory='*' status --porcelain)" ] || fail "the dry run changed the workspace"
grep -q 'dev/vpc/terragrunt.hcl' "$run_dir/update.summary" || fail "no update summary"
checked+=("update (dry_run): diff to v1.9.0 (next-safe), dependency and version outputs, workspace unchanged, summary")

log "status (environments from .github/baton.toml; git marks the workspace safe)"
act status INPUT_PATCHER_COMMAND=status
grep -q '| Dependency | dev | stage | prod | Status |' "$run_dir/status.summary" || fail "status summary"
checked+=("status: the matrix of the three environments of .github/baton.toml in the job summary")

log "start-up time"
ctr=$(buildah "${storage[@]}" from --pull=never "$image")
t0=$(date +%s%N)
for _ in $(seq 20); do buildah "${storage[@]}" run --isolation=chroot "$ctr" -- /usr/local/bin/baton --version >/dev/null; done
t1=$(date +%s%N)
buildah "${storage[@]}" rm "$ctr" >/dev/null
t2=$(date +%s%N)
for _ in $(seq 100); do "$BATON" --version >/dev/null; done
t3=$(date +%s%N)
version=$("$BATON" --version)

echo
echo "scripts/test-image.sh: all checks passed"
echo "  $version, image $image, $size"
for c in "${checked[@]}"; do echo "  ok: $c"; done
host_ms=$(awk -v ns=$((t3 - t2)) 'BEGIN { printf "%.2f", ns / 100 / 1e6 }')
run_ms=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", ns / 20 / 1e6 }')
echo "  start-up: ${host_ms} ms per \`baton --version\` on the host; ${run_ms} ms per \`buildah run\`" \
  "of it (container set-up included)"
echo "  total time: $(( $(date +%s) - start )) s"
