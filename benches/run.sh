#!/usr/bin/env bash
# Benchmarks (not tests): wall time and peak RSS of the commands that run on
# every workflow step. Usage: bash benches/run.sh [--before OLD_BINARY]
# (--before: the same check commands with an older build, in the same run).
# Needs hyperfine and GNU time (apt-get install -y hyperfine time).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || apt-get install -y -qq time

cargo build --release --locked
bin=target/release/stagegate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/gen_config.py 1000 5000 > "$work/big.yml"
printf 'version: 1\nenvironments:\n  dev: { auto_deploy: true }\n' > "$work/min.yml"

echo "== config: $(grep -c '^  env-' "$work/big.yml") environments, $(grep -c 'from:' "$work/big.yml") edges"
before=()
if [ "${1:-}" = --before ]; then
  before=(-n "check (1 environment), before" "$2 -c $work/min.yml check"
    -n "check (1,000 envs / 5,000 edges), before" "$2 -c $work/big.yml check")
fi
# Target: check of the large config within 4x the time of a minimal one (whole process).
hyperfine -N --warmup 3 --runs 40 "${before[@]}" \
  -n "check (1 environment)" "$bin -c $work/min.yml check" \
  -n "check (1,000 envs / 5,000 edges)" "$bin -c $work/big.yml check" \
  -n "plan (1,000 envs / 5,000 edges)" "$bin -c $work/big.yml plan --from env-0 --to env-10" \
  -n "plan (seed-002 example)" "$bin -c examples/seed-environments.yml plan --from staging --to prod"

for cmd in "check" "plan --from env-0 --to env-10"; do
  rss=$(/usr/bin/time -f %M "$bin" -c "$work/big.yml" $cmd 2>&1 >/dev/null | tail -1)
  echo "peak RSS of '$cmd' on the large config: ${rss} KiB"
done
