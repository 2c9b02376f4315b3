# syntax=docker/dockerfile:1
# Build a static (musl) release binary, then ship it with only git, ssh and CA certificates.
FROM rust:1.95-alpine3.22 AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked && cp target/release/baton /baton

FROM alpine:3.22
RUN apk add --no-cache git openssh-client ca-certificates
COPY --from=build /baton /usr/local/bin/baton
ENTRYPOINT ["/usr/local/bin/baton", "action"]
