#!/bin/sh
# `audit export` of 1,000 deployment records on the local forge: time and
# size of the JSON and CSV documents. Usage: bash benches/audit.sh [BINARY]
# (default target/debug/stagegate; a release build is faster).
set -eu
BIN=$(realpath "${1:-target/debug/stagegate}")
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
printf 'version: 1\nenvironments:\n  dev: { branches: [main] }\n  prod: { branches: [main] }\n' > c.yml
i=0
while [ $i -lt 500 ]; do
  for env in dev prod; do
    STAGEGATE_NOW=$(date -u -d "2026-09-01 + $i hours" +%Y-%m-%dT%H:%M:%SZ) \
      "$BIN" -c c.yml deploy --env $env --ref main --release "r$i" > /dev/null
  done
  i=$((i + 1))
done
for fmt in json csv; do
  "$BIN" -c c.yml audit export --format $fmt > export.$fmt
  echo "$fmt: $(wc -c < export.$fmt) bytes, $(wc -l < export.$fmt) lines"
done
if command -v hyperfine > /dev/null; then
  hyperfine -w 2 -r 10 "$BIN -c c.yml audit export --format json" "$BIN -c c.yml audit export --format csv" \
    "$BIN -c c.yml metrics --since 120d"
else
  for cmd in "audit export --format json" "audit export --format csv" "metrics --since 120d"; do
    /usr/bin/time -f "$cmd: %e s, %M KB max RSS" "$BIN" -c c.yml $cmd > /dev/null
  done
fi
