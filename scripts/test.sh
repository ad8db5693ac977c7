#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the tests need,
# then: format check, clippy with warnings as errors, the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --locked
