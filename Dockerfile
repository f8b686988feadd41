# syntax=docker/dockerfile:1
# Build: a static binary (test.sh checks that these flags give one).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/reportbot ./cmd/reportbot \
 && mkdir -p /out/data \
 && echo "reportbot:x:10001:10001:reportbot:/data:/sbin/nologin" > /out/passwd

# Run: nothing but the binary, CA certificates, time zone data and a
# non-root user. (The binary also embeds the zone data it needs.)
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/passwd /etc/passwd
COPY --from=build --chown=10001:10001 /out/data /data
COPY --from=build /out/reportbot /reportbot
ENV DATA_DIR=/data HTTP_ADDR=:8080 TZ=Asia/Shanghai
EXPOSE 8080
VOLUME ["/data"]
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["/reportbot", "healthcheck"]
ENTRYPOINT ["/reportbot"]
