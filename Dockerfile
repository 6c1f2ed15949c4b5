# The leaderboard service: built in the official Rust image, run on a slim Debian.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin leaderboard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/leaderboard /usr/local/bin/leaderboard
COPY deploy/leaderboard.toml deploy/org.csv /etc/leaderboard/
VOLUME /var/lib/leaderboard
EXPOSE 8080
ENTRYPOINT ["leaderboard"]
CMD ["serve", "--config", "/etc/leaderboard/leaderboard.toml"]
