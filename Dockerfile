# syntax=docker/dockerfile:1
# Build: a static binary (the same flags test.sh checks).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/reportbot ./cmd/reportbot \
 && mkdir -p /out/data

# Run: no shell, non-root, time zone data and CA certificates included.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY --from=build /out/reportbot /reportbot
ENV DATA_DIR=/data HTTP_ADDR=:8080 TZ=Asia/Shanghai
EXPOSE 8080
VOLUME ["/data"]
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["/reportbot", "healthcheck"]
ENTRYPOINT ["/reportbot"]
