# Baton's action image: the release binary on Debian 12 (bookworm) slim, with only git, ssh and
# CA certificates beside it.
#
# Stages:
#   build    compiles Baton from source (`image: Dockerfile`, scripts/build-image.sh).
#   runtime  the base with git; ENTRYPOINT `baton action`.
#   release  runtime + the binary that .github/workflows/release.yml built for the platform and
#            attached to the release (dist/baton-linux-<arch>): what a release publishes, and what
#            scripts/test-image.sh builds and runs.
#   (last)   runtime + the binary of the build stage: the default target.
#
# The base images are arguments so that a release pins them: release.yml resolves each tag to its
# digest when it builds and passes `--build-arg BASE_IMAGE=…@sha256:…`; the provenance attached to
# the image records them. scripts/test-image.sh passes a base made by debootstrap from Debian's own
# packages of the same release, since no image can be pulled where it runs.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# benches/ only because Cargo.toml declares the benchmark target; nothing of it is built here.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked && install -D -m 0755 target/release/baton /out/baton

FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="baton" \
      org.opencontainers.image.description="Roll Terraform, OpenTofu and Terragrunt module upgrades through dev, stage and prod" \
      org.opencontainers.image.source="https://github.com/baton-dev/baton" \
      org.opencontainers.image.licenses="Apache-2.0"
# git (2.31 or newer: Baton hands it the token through GIT_CONFIG_* variables), ssh for git@ module
# sources, CA certificates for HTTPS. Package versions are not pinned: the base is, and Debian's
# security updates replace superseded versions in the archive, so a pinned version would break
# the build at the next fix.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
# No USER: GitHub runs container actions as the image's default user and mounts the workspace,
# owned by the runner's uid, at GITHUB_WORKSPACE; a non-root user could not write to it. (The same
# ownership mismatch is why Baton marks the workspace as a git safe.directory.) No WORKDIR either:
# the runner sets the working directory to the workspace.
ENTRYPOINT ["/usr/local/bin/baton", "action"]

FROM runtime AS release
ARG TARGETARCH
COPY dist/baton-linux-${TARGETARCH} /usr/local/bin/baton

FROM runtime
COPY --from=build /out/baton /usr/local/bin/baton
