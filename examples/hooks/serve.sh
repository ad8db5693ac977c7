#!/bin/sh
# Starts the demo web server (127.0.0.1:47811, serving $STAGEGATE_STATE_DIR/demo/www)
# unless it already runs. It stops by itself after 10 idle minutes or when
# its directory is removed; `scripts/demo.sh` stops it at the end.
set -eu
. "$(dirname "$0")/statedir.sh"
dir="$(state_path demo)" || exit 1
state_path demo/server.pid > /dev/null || exit 1
state_path demo/server.log > /dev/null || exit 1
pidfile="$dir/server.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  exit 0
fi
# The server binds before it detaches: a port another demo holds fails here.
if ! python3 "$(dirname "$0")/demo-server.py" 47811 "$dir/www" "$pidfile" > "$dir/server.log" 2>&1; then
  echo "demo: $(cat "$dir/server.log")" >&2
  exit 1
fi
echo "started the demo web server on 127.0.0.1:47811 (pid $(cat "$pidfile"))"
