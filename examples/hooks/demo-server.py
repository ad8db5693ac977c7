"""The demo's web server: serves DIR on 127.0.0.1:PORT, quietly.

Usage: demo-server.py PORT DIR PIDFILE. It binds the port first: when that
fails (another demo holds the port) it says so and exits 1, so no health
check of this demo is ever answered by another one. Then it detaches, writes
its pid to PIDFILE and serves. It stops by itself after ten idle minutes, or
as soon as DIR is removed, so a demo never leaves it behind for long.
"""

import functools
import http.server
import os
import sys
import time

IDLE_SECONDS = 600

port, root, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
last = time.monotonic()


class Handler(http.server.SimpleHTTPRequestHandler):
    def handle(self):
        global last
        last = time.monotonic()
        super().handle()

    def log_message(self, *args):
        pass


try:
    server = http.server.HTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root))
except OSError as e:
    print(f"cannot serve on 127.0.0.1:{port}: {e.strerror} (another demo running?)", file=sys.stderr)
    sys.exit(1)
child = os.fork()
if child:
    with open(pidfile, "w") as f:
        f.write(f"{child}\n")
    os._exit(0)
os.setsid()
server.timeout = 1
while os.path.isdir(root) and time.monotonic() - last < IDLE_SECONDS:
    server.handle_request()
