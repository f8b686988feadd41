#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine that has only Go:
# installs what the tests need (redis-server; chromium for the demo's
# browser test), then checks formatting, vet, staticcheck, the static
# build of the Dockerfile, the tests with -race, and a small fault run and
# a small rush of the load tool on both stores.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The demo's browser test keeps screenshots: Chinese and emoji, not boxes.
fc-list 'Noto Sans CJK SC' 2>/dev/null | grep -q . || need+=(fonts-noto-cjk)
fc-list 'Noto Color Emoji' 2>/dev/null | grep -q . || need+=(fonts-noto-color-emoji)
# flows/sheet renders the export to PDF: LibreOffice, poppler (pdfinfo,
# pdftotext), a Chinese font and Carlito (metric-compatible with Calibri,
# the export's font).
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
command -v pdfinfo >/dev/null 2>&1 || need+=(poppler-utils)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
fc-list Carlito 2>/dev/null | grep -q . || need+=(fonts-crosextra-carlito)
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
  echo "== load tool: a small rush with kills on both stores"
  # 30 units press 确认提交 within a second under Telegram's limits, while
  # a bystander fills the form and a stranger floods the bot; the bot is
  # killed a second after the office group's first post, while the rest of
  # the backlog waits for the group's slots (a kill timed, not random: a
  # random one may land in the milliseconds between a post and its
  # acknowledgement, where a repeat is the price of at-least-once). Every
  # receipt must reach the group exactly once, no 429. About a minute a
  # store: a started bot waits ~30 s before its first group post (the
  # group's minute may be used up by the process before it).
  for store in bolt redis; do
    "$tmp/reportbot" loadtest -store "$store" -rush 30 -faults -kill-after-post 1s -max-kills 1 -timeout 3m
  done
fi
echo "== fuzz: every target a few seconds (FUZZTIME=10m ./fuzz.sh for a longer run)"
FUZZTIME=${FUZZTIME:-1s} ./fuzz.sh

echo "== all checks passed"
