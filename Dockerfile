# Baton's action image: a static (musl) release binary on Alpine, with only git, ssh and CA
# certificates beside it.
#
# Base images are pinned by digest; the tag is kept for readers. Names are fully qualified so
# podman and buildah resolve them without a registries.conf. To move to a newer patch release:
#   docker pull rust:1.95-alpine && docker inspect --format '{{index .RepoDigests 0}}' rust:1.95-alpine
#   docker pull alpine:3.22 && docker inspect --format '{{index .RepoDigests 0}}' alpine:3.22
# and replace the digests below.

FROM docker.io/library/rust:1.95-alpine@sha256:606fd313a0f49743ee2a7bd49a0914bab7deedb12791f3a846a34a4711db7ed2 AS build
# musl-dev: the C runtime that ring's and mimalloc's C code and the static link need. Package
# versions are not pinned: the base image is, and Alpine removes superseded package versions from
# its mirrors, so a pinned version would break the build at the next security fix.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked && cp target/release/baton /baton

# alpine:3.22 is 3.22.5 at this digest.
FROM docker.io/library/alpine:3.22@sha256:14358309a308569c32bdc37e2e0e9694be33a9d99e68afb0f5ff33cc1f695dce
LABEL org.opencontainers.image.title="baton" \
      org.opencontainers.image.description="Roll Terraform, OpenTofu and Terragrunt module upgrades through dev, stage and prod" \
      org.opencontainers.image.source="https://github.com/baton-dev/baton" \
      org.opencontainers.image.licenses="Apache-2.0"
# git (2.31 or newer: Baton hands it the token through GIT_CONFIG_* variables), ssh for git@ module
# sources, CA certificates for HTTPS. Unpinned for the reason given above.
# hadolint ignore=DL3018
RUN apk add --no-cache git openssh-client ca-certificates
COPY --from=build /baton /usr/local/bin/baton
# No USER: GitHub runs container actions as the image's default user and mounts the workspace,
# owned by the runner's uid, at GITHUB_WORKSPACE; a non-root user could not write to it. (The same
# ownership mismatch is why git must be told the workspace is a safe.directory.) No WORKDIR
# either: the runner sets the working directory to the workspace.
ENTRYPOINT ["/usr/local/bin/baton", "action"]
