#!/usr/bin/env bash
# Journal benchmarks (not tests): 1 GiB (and 256 MiB) upload + download with the
# release binary vs the AWS CLI on one s3s-fs server, and watch reaction
# latency on the Consul test server and the file KV. Usage:
#   bash benches/journal.sh [--sizes 256,1024] [--runs 3] [--changes 200] [--only transfer|watch]
# Needs: the AWS CLI from PyPI (installed into target/bench-venv if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/aws" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check awscli
fi
cargo build --release --locked
"$venv/bin/aws" --version
# The peers (s3s-fs, the Consul test server) are built with release optimisations here.
cargo bench --locked --bench journal -- --bin target/release/stagegate --aws "$venv/bin/aws" "$@"
