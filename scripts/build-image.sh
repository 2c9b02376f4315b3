#!/usr/bin/env bash
# Builds Baton's action image from the Dockerfile and prints its size.
#
#   scripts/build-image.sh [TAG]        (default tag: baton:dev)
#
# Uses docker when its daemon answers, else podman, else buildah. Podman and buildah run with the
# vfs storage driver and chroot isolation, so they also work unprivileged and inside containers.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-baton:dev}"

human() {
  awk -v b="$1" 'BEGIN { split("B KB MB GB", u); i = 1; while (b >= 1000 && i < 4) { b /= 1000; i++ } printf "%.1f %s\n", b, u[i] }'
}

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker build --tag "$tag" .
  size=$(docker image inspect --format '{{.Size}}' "$tag")
elif command -v podman >/dev/null 2>&1; then
  podman --storage-driver=vfs build --isolation=chroot --tag "$tag" .
  size=$(podman --storage-driver=vfs image inspect --format '{{.Size}}' "$tag")
elif command -v buildah >/dev/null 2>&1; then
  buildah --storage-driver=vfs build --isolation=chroot --tag "$tag" .
  size=$(buildah --storage-driver=vfs images --noheading --format '{{.Size}}' "$tag")
else
  echo "error: no docker daemon, podman or buildah found" >&2
  exit 3
fi

case "$size" in
  *[!0-9]*) echo "$tag: $size" ;;
  *) echo "$tag: $(human "$size") ($size bytes)" ;;
esac
