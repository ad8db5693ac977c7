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
nohup python3 "$(dirname "$0")/demo-server.py" 47811 "$dir/www" > "$dir/server.log" 2>&1 &
echo $! > "$pidfile"
echo "started the demo web server on 127.0.0.1:47811 (pid $!)"
