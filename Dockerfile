# DiskDB image (see README.md, "Docker").
#   docker build -t diskdb .
#   docker run -d --name diskdb --ulimit memlock=-1 -p 6380:6380 -v diskdb-data:/data diskdb
# io_uring registers locked memory: without --ulimit memlock=-1 (or a limit
# of several MiB per shard) the server may refuse to start.

FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libclang-dev clang \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps target/, data/, dist/, tests/, clients/ out of the context.
# .cargo/config.toml builds x86_64 for x86-64-v2 (+PCLMUL); the image then
# needs a CPU from the last decade, like the release tarball.
COPY . .
RUN cargo build --release --locked --bin diskdb \
 && strip --strip-debug -o /usr/local/bin/diskdb target/release/diskdb

FROM debian:bookworm-slim
# redis-tools: redis-cli for the healthcheck (and for `docker exec`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin diskdb \
 && mkdir /data \
 && chown diskdb:diskdb /data
COPY --from=builder /usr/local/bin/diskdb /usr/local/bin/diskdb
USER diskdb
WORKDIR /data
VOLUME /data
EXPOSE 6380
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD redis-cli -p 6380 ping | grep -q PONG
# SIGTERM (docker stop) syncs the WAL and exits cleanly.
# Clients reach the container from outside its loopback, so protected mode
# would refuse them: set a password (--requirepass) for anything exposed.
CMD ["diskdb", "--bind", "0.0.0.0", "--dir", "/data", "--protected-mode", "no"]
