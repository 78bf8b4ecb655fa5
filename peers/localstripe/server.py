"""localstripe (PyPI, pinned in requirements.txt) for the integration tests.

Binds 127.0.0.1 on a free port (localstripe's own entry point listens on every interface),
keeps its state in memory only (its default writes /tmp/localstripe.pickle, shared by every
instance), prints {"url": ...} on its first line, and exits when its stdin closes.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_announce import announce  # noqa: E402

import localstripe.resources as resources

# State in this process only: nothing read from or written to a shared file.
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

from aiohttp import web  # noqa: E402
from localstripe.server import app  # noqa: E402


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Listening before the URL is announced: a client's first request waits in the backlog
    # until the application starts, instead of being refused.
    sock.listen(128)

    announce(f"http://127.0.0.1:{port}")
    web.run_app(app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
