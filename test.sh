#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine that has only Go:
# installs what the tests need (redis-server; chromium for the demo's
# browser test), then checks formatting, vet, staticcheck, the static
# build of the Dockerfile, the tests with -race, and a small fault run of
# the load tool on both stores.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
  echo "== installing ${need[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== static build (as in the Dockerfile)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$tmp/reportbot" ./cmd/reportbot
if ldd "$tmp/reportbot" >/dev/null 2>&1; then
  echo "the binary is not static"; exit 1
fi

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

if [ -f cmd/reportbot/loadtest.go ]; then
  echo "== load tool: small fault run on both stores"
  # The static binary built above, killed with SIGKILL about every second
  # while 20 contacts fill the form (think 100ms makes the form outlast a
  # few kills); then 2 s under Telegram's limits (no 429 allowed).
  for store in bolt redis; do
    "$tmp/reportbot" loadtest -store "$store" -contacts 20 -faults -kill-every 1s -think 100ms -limited 2s -timeout 2m
  done
fi
echo "== all checks passed"
