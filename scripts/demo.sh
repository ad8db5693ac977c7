#!/usr/bin/env bash
# The README's main command: a real promotion on the embedded default config,
# offline, in well under a minute (after the first build). It uses the local
# forge in a temporary state directory, the example hooks of examples/hooks/
# and a tiny web server on 127.0.0.1:47811 that the deploy hook starts; all
# of it is removed at the end.
#
# What you see: a direct deploy to active, a refused path (dev-int → prod,
# before any hook runs), a promotion held by the approval gate, the same
# promotion approved and done, a broken release rolled back automatically,
# `status`, `history` and `compare`.
#
# STAGEGATE_BIN=path/to/stagegate runs a built binary instead of building one
# (`cargo build`, whose progress is shown: the first build takes a few minutes).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

demo="$(mktemp -d)"
export STAGEGATE_STATE_DIR="$demo/.stagegate"
unset STAGEGATE_CONFIG GITHUB_ACTIONS GITHUB_RUN_ID GITHUB_ACTOR GITHUB_TRIGGERING_ACTOR GITHUB_REF GITHUB_SHA
export USER="${USER:-newcomer}"
[ "$USER" = alice ] && export USER=newcomer # alice approves below; nobody approves their own run

cleanup() {
  pid="$(cat "$STAGEGATE_STATE_DIR/demo/server.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$demo"
}
trap cleanup EXIT

# Prerequisites first, each reported as itself.
if ! command -v python3 >/dev/null; then
  echo "demo: python3 is not installed; the demo's web server (examples/hooks/demo-server.py) needs it (Debian: apt-get install python3)" >&2
  exit 1
fi
if ! python3 -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 47811))' 2>/dev/null; then
  echo "demo: port 47811 on 127.0.0.1 is taken (another demo running?); the demo's health checks need it" >&2
  exit 1
fi

if [ -z "${STAGEGATE_BIN:-}" ]; then
  command -v cargo >/dev/null || {
    echo "demo: cargo is not on PATH; install Rust (https://rustup.rs) or set STAGEGATE_BIN to a built stagegate" >&2
    exit 1
  }
  # cargo's own progress is shown: the first run compiles everything.
  echo "demo: building stagegate (cargo build --locked): the first run compiles the dependencies, a few minutes; later runs start at once"
  cargo build --locked --bin stagegate || { echo "demo: the build failed (see above)" >&2; exit 1; }
  STAGEGATE_BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/stagegate"
fi

sg() {
  "$STAGEGATE_BIN" "$@"
}

bold='' dim='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'; fi

# Prints the command, runs it, shows a non-zero exit code.
run() {
  printf '\n%s$ %sstagegate %s%s\n' "$bold" "${prefix:-}" "$*" "$plain"
  sg "$@"
  code=$?
  [ "$code" -ne 0 ] && printf '%s(exit %s)%s\n' "$dim" "$code" "$plain"
  return 0
}

echo "stagegate demo: embedded default config, local forge in $STAGEGATE_STATE_DIR"
run deploy --env active --ref release/v1 --release 26.11.21.1
run promote --from dev-int --to prod --release 26.11.21.1
run promote --from active --to staging --release 26.11.21.1
run team @acme/qa-leads --add alice
run approve --env staging --as alice
run promote --from active --to staging --release 26.11.21.1
run deploy --env active --ref release/v2 --release 26.11.21.2
run approve --env staging --as alice
export DEMO_BREAK=26.11.21.2 prefix="DEMO_BREAK=26.11.21.2 "
run promote --from active --to staging --release 26.11.21.2
unset DEMO_BREAK prefix
run status
run history
run compare active staging
