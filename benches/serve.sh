#!/usr/bin/env bash
# `stagegate serve` benchmark (not a test): webhook → verdict latency, p50/p99,
# on the test suite's GitHub server behind Prism. Usage:
#   bash benches/serve.sh [--rounds 200]
# Needs what the serve tests need: Prism (npm ci in tests/prism), node, openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tests/prism/node_modules/.bin/prism ]; then
  npm ci --prefix tests/prism --no-audit --no-fund --loglevel=error
fi
cargo bench --locked --bench serve -- "$@"
