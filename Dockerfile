# Multi-stage build: the toolchain stays in the builder, the runtime image
# holds only the `gateway` binary.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release -p api --bin gateway

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/gateway --create-home gateway
COPY --from=builder /src/target/release/gateway /usr/local/bin/gateway
USER gateway
WORKDIR /var/lib/gateway
ENV GATEWAY_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["gateway"]
CMD ["serve"]
