"""What every Python peer does once it listens: announce its URL as JSON on the first line of
stdout (the test harness reads only that line), then exit the whole process when stdin closes —
so a harness that dies never leaves a peer running.

Each peer's server.py imports it from the folder above its own.
"""

import json
import os
import sys
import threading


def announce(url):
    """Prints {"url": url} and exits the process when stdin reaches its end."""

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(json.dumps({"url": url}), flush=True)
