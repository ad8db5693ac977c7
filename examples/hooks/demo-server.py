"""The demo's web server: serves DIR on 127.0.0.1:PORT, quietly.

Stops by itself after ten idle minutes, or as soon as DIR is removed, so a
demo never leaves it behind for long.
"""

import functools
import http.server
import os
import sys
import time

IDLE_SECONDS = 600

port, root = int(sys.argv[1]), sys.argv[2]
last = time.monotonic()


class Handler(http.server.SimpleHTTPRequestHandler):
    def handle(self):
        global last
        last = time.monotonic()
        super().handle()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root))
server.timeout = 1
while os.path.isdir(root) and time.monotonic() - last < IDLE_SECONDS:
    server.handle_request()
