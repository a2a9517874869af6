# syntax=docker/dockerfile:1
# hookgate container image: build with `docker build -t hookgate .`, or `docker compose up`.

# ---- build -------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# BuildKit cache mounts keep the registry and compiled dependencies between builds; the
# binary is copied out of the cached target directory within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin hookgate \
 && cp target/release/hookgate /usr/local/bin/hookgate

# ---- runtime -----------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home hookgate
WORKDIR /app
COPY --from=builder /usr/local/bin/hookgate /app/hookgate
COPY --from=builder /src/migrations /app/migrations
ENV PATH="/app:${PATH}"
USER hookgate
# 8080: ingest (public); 8081: admin API and /metrics (keep it private).
EXPOSE 8080 8081
# Mount a config at /app/hookgate.toml, or set HOOKGATE_CONFIG.
ENTRYPOINT ["hookgate"]
CMD ["serve"]
